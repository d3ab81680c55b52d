/**
 * Priority and preemption through the real API server: PriorityClasses resolve to priorities,
 * the queue serves higher priorities first, and a pod that fits nowhere evicts the fewest,
 * least important pods (respecting PodDisruptionBudgets where it can) and then takes the room.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import type { PodDisruptionBudget, PriorityClass } from '../../lib/api/index.js';
import { Resources, findDescriptor, type RESTClient, type ResourceDescriptor } from '../../lib/client/index.js';
import { startAPIServer, type TestAPIServer } from '../support/apiserver.js';
import { clientFor, createNode, createPod, eventsFor, finishTerminatingPods, nodeOf, startScheduler, until, type RunningScheduler } from './scheduler-support.js';

let s: TestAPIServer;
let client: RESTClient;
let sched: RunningScheduler;
const priorityClasses = () => client.resource(findDescriptor('priorityclasses.scheduling.k8s.io') as ResourceDescriptor<PriorityClass>);

beforeAll(async () => {
  s = await startAPIServer();
  const c = clientFor(s);
  client = c.client;
  for (const [name, value, preemptionPolicy] of [
    ['low', 10, undefined],
    ['mid', 100, undefined],
    ['high', 1000, undefined],
    // The Priority admission takes preemptionPolicy from the class; a pod may not set another.
    ['high-polite', 1000, 'Never'],
  ] as const) {
    await priorityClasses().create({ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name }, value, ...(preemptionPolicy ? { preemptionPolicy } : {}) });
  }
  sched = await startScheduler(c.config);
  await until('the priority classes in the scheduler', () => sched.server.scheduler!.listers.priorityClasses?.get('high'));
});
afterAll(async () => {
  await sched?.stop();
  await s?.stop();
});

const stops: AbortController[] = [];
afterEach(async () => {
  for (const c of stops.splice(0)) c.abort();
  const pods = client.resource(Resources.pods);
  for (const p of (await pods.list()).items) await pods.inNamespace(p.metadata.namespace).delete(p.metadata.name!, { gracePeriodSeconds: 0 });
  const pdbs = client.resource(Resources.podDisruptionBudgets, 'default');
  for (const p of (await pdbs.list()).items) await pdbs.delete(p.metadata.name!);
  const nodes = client.resource(Resources.nodes);
  for (const n of (await nodes.list()).items) await nodes.delete(n.metadata.name!);
  await until('the scheduler cache to empty', () => {
    const st = sched.server.scheduler!.cache.stats();
    return st.nodes === 0 && st.pods === 0;
  });
});

function kubelet(): void {
  const c = new AbortController();
  stops.push(c);
  void finishTerminatingPods(client, c.signal);
}

const pods = () => client.resource(Resources.pods, 'default');

describe('priority', () => {
  test('when room appears, the highest-priority pending pod gets it', async () => {
    await createNode(client, 'n', { cpu: '1' });
    // A blocker above everything: no one can preempt it.
    await createPod(client, 'blocker', { cpu: '1', spec: { priorityClassName: 'system-cluster-critical' } });
    expect(await nodeOf(client, 'blocker')).toBe('n');
    await createPod(client, 'low', { cpu: '1', spec: { priorityClassName: 'low' } });
    await createPod(client, 'mid', { cpu: '1', spec: { priorityClassName: 'mid' } });
    for (const name of ['low', 'mid']) await until(`FailedScheduling for ${name}`, async () => (await eventsFor(client, name, 'FailedScheduling'))[0]);
    await new Promise((r) => setTimeout(r, 1200)); // both past their backoff
    await pods().delete('blocker', { gracePeriodSeconds: 0 });
    expect(await nodeOf(client, 'mid')).toBe('n');
    expect((await pods().get('low')).spec?.nodeName).toBeUndefined();
  });
});

describe('preemption', () => {
  test('evicts the fewest lower-priority pods, nominates the node, then binds there', async () => {
    await createNode(client, 'n', { cpu: '2' });
    await createPod(client, 'low-1', { cpu: '1', spec: { priorityClassName: 'low' } });
    await createPod(client, 'low-2', { cpu: '1', spec: { priorityClassName: 'low' } });
    await nodeOf(client, 'low-1');
    await nodeOf(client, 'low-2');

    const high = await createPod(client, 'important', { cpu: '1', spec: { priorityClassName: 'high' } });
    // No kubelet yet: the victim stays terminating, and the preemptor waits, nominated.
    const nominated = await until('the nomination', async () => (await pods().get('important')).status?.nominatedNodeName);
    expect(nominated).toBe('n');
    const failed = await until('FailedScheduling for the preemptor', async () => (await eventsFor(client, 'important', 'FailedScheduling'))[0]);
    expect(failed.message).toBe('0/1 nodes are available: 1 Insufficient cpu.');
    const terminating = (await pods().list()).items.filter((p) => p.metadata.deletionTimestamp).map((p) => p.metadata.name);
    expect(terminating.length).toBe(1);
    const victim = terminating[0]!;
    const ev = await until('the Preempted event', async () => (await eventsFor(client, victim, 'Preempted'))[0]);
    expect(ev.message).toBe(`Preempted by pod ${high.metadata.uid} on node n`);
    const disruption = (await pods().get(victim)).status?.conditions?.find((c) => c.type === 'DisruptionTarget');
    expect(disruption).toMatchObject({ status: 'True', reason: 'PreemptionByScheduler' });

    kubelet();
    expect(await nodeOf(client, 'important')).toBe('n');
    const survivors = (await pods().list()).items.map((p) => p.metadata.name).sort();
    expect(survivors).toEqual(['important', victim === 'low-1' ? 'low-2' : 'low-1'].sort());
  });

  test('prefers victims no PodDisruptionBudget protects', async () => {
    kubelet();
    await createNode(client, 'guarded', { cpu: '1' });
    await createNode(client, 'free', { cpu: '1' });
    await createPod(client, 'db', { cpu: '1', labels: { app: 'db' }, spec: { priorityClassName: 'low', nodeName: 'guarded' } });
    await createPod(client, 'batch', { cpu: '1', labels: { app: 'batch' }, spec: { priorityClassName: 'mid', nodeName: 'free' } });
    const pdbs = client.resource(Resources.podDisruptionBudgets, 'default');
    const pdb = await pdbs.create({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'db', namespace: 'default' }, spec: { minAvailable: 1, selector: { matchLabels: { app: 'db' } } } } as PodDisruptionBudget);
    await pdbs.updateStatus({ ...pdb, status: { disruptionsAllowed: 0, currentHealthy: 1, desiredHealthy: 1, expectedPods: 1, observedGeneration: pdb.metadata.generation } });
    await until('the budget in the scheduler', () => sched.server.scheduler!.listers.podDisruptionBudgets?.namespace('default').get('db')?.status);
    await createPod(client, 'important', { cpu: '1', spec: { priorityClassName: 'high' } });
    // The db pod is the cheaper victim by priority, but its budget allows no disruption.
    expect(await nodeOf(client, 'important')).toBe('free');
    expect((await pods().get('db')).metadata.deletionTimestamp).toBeUndefined();
  });

  test('pods with preemptionPolicy Never wait instead', async () => {
    await createNode(client, 'n', { cpu: '1' });
    await createPod(client, 'low', { cpu: '1', spec: { priorityClassName: 'low' } });
    await nodeOf(client, 'low');
    await createPod(client, 'polite', { cpu: '1', spec: { priorityClassName: 'high-polite' } });
    expect((await pods().get('polite')).spec?.preemptionPolicy).toBe('Never');
    const ev = await until('FailedScheduling for polite', async () => (await eventsFor(client, 'polite', 'FailedScheduling'))[0]);
    expect(ev.message).toBe('0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never.');
    expect((await pods().get('low')).metadata.deletionTimestamp).toBeUndefined();
  });
});
