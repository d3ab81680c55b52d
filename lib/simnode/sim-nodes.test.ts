import { afterEach, describe, expect, test } from 'vitest';
import type { Pod } from '../api/index.js';
import { FakeClient, Resources } from '../client/index.js';
import { eventually, makePod } from '../../test/support/controllers.js';
import { outcomeAnnotation, runDurationAnnotation, simulatedStatus } from './pod-status.js';
import { SimNodes } from './sim-nodes.js';

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0)) await s();
});

function startSim(client: FakeClient, o: Partial<ConstructorParameters<typeof SimNodes>[0]> = {}): SimNodes {
  const sim = new SimNodes({ client, nodes: [{ name: 'sim-0', labels: { zone: 'a' } }, { name: 'sim-1', taints: [{ key: 'dedicated', value: 'x', effect: 'NoSchedule' }] }], leaseRenewIntervalMs: 100, ...o });
  const ctl = new AbortController();
  const running = sim.start(ctl.signal);
  stops.push(async () => {
    ctl.abort();
    await running;
  });
  return sim;
}

const condition = (p: Pod, t: string) => p.status?.conditions?.find((c) => c.type === t)?.status;

describe('SimNodes', () => {
  test('registers nodes with capacity, conditions, addresses, kubelet version and a lease it keeps renewing', async () => {
    const client = new FakeClient();
    const sim = startSim(client);
    await sim.ready();
    const node = await client.resource(Resources.nodes).get('sim-0');
    expect(node.metadata.labels).toMatchObject({ zone: 'a', 'kubernetes.io/hostname': 'sim-0' });
    expect(node.status!.allocatable).toMatchObject({ cpu: '8', memory: '32Gi', pods: '110' });
    expect(node.status!.conditions!.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True', reason: 'KubeletReady' });
    expect(node.status!.addresses!.map((a) => a.type)).toEqual(['InternalIP', 'Hostname']);
    expect(node.status!.nodeInfo!.kubeletVersion).toBe('v1.31.0');
    expect((await client.resource(Resources.nodes).get('sim-1')).spec!.taints).toEqual([{ key: 'dedicated', value: 'x', effect: 'NoSchedule' }]);
    const leases = client.resource(Resources.leases, 'kube-node-lease');
    const first = (await leases.get('sim-0')).spec!.renewTime;
    expect((await leases.get('sim-0')).metadata.ownerReferences![0]).toMatchObject({ kind: 'Node', name: 'sim-0', uid: node.metadata.uid });
    await eventually(async () => (await leases.get('sim-0')).spec!.renewTime !== first);

    // A silenced node stops renewing; resumed, it renews again.
    sim.stopHeartbeat('sim-0');
    await new Promise((r) => setTimeout(r, 250));
    const frozen = (await leases.get('sim-0')).spec!.renewTime;
    await new Promise((r) => setTimeout(r, 300));
    expect((await leases.get('sim-0')).spec!.renewTime).toBe(frozen);
    sim.resumeHeartbeat('sim-0');
    await eventually(async () => (await leases.get('sim-0')).spec!.renewTime !== frozen);
  });

  test('runs bound pods to Running and Ready with an IP from the podCIDR, plays the annotated outcomes, confirms deletions', async () => {
    const client = new FakeClient();
    await client.resource(Resources.nodes).create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'sim-0' }, spec: { podCIDR: '10.244.7.0/24', podCIDRs: ['10.244.7.0/24'] } });
    const sim = startSim(client, { podStartDelayMs: 50 });
    await sim.ready();
    const pods = client.resource(Resources.pods, 'default');
    const annotated = (name: string, annotations: Record<string, string>, restartPolicy?: 'Never') => {
      const p = makePod(name, { nodeName: 'sim-0' });
      p.metadata.annotations = annotations;
      if (restartPolicy) p.spec!.restartPolicy = restartPolicy;
      return p;
    };
    await pods.create(makePod('web', { nodeName: 'sim-0' }));
    await pods.create(annotated('stuck', { [outcomeAnnotation]: 'never-ready' }));
    await pods.create(annotated('job', { [outcomeAnnotation]: 'succeed', [runDurationAnnotation]: '200ms' }, 'Never'));
    await pods.create(annotated('crash', { [outcomeAnnotation]: 'fail' }, 'Never'));
    await pods.create(makePod('elsewhere', { nodeName: 'real-node' }));

    const web = await eventually(async () => {
      const p = await pods.get('web');
      return p.status?.phase === 'Running' && p;
    });
    expect(web.status!.podIP).toMatch(/^10\.244\.7\.\d+$/);
    expect(['PodScheduled', 'Initialized', 'ContainersReady', 'Ready'].map((t) => condition(web, t))).toEqual(['True', 'True', 'True', 'True']);
    expect(web.status!.containerStatuses![0]).toMatchObject({ name: 'c', ready: true, started: true, state: { running: {} } });
    const stuck = await eventually(async () => {
      const p = await pods.get('stuck');
      return p.status?.phase === 'Running' && p;
    });
    expect(condition(stuck, 'Ready')).toBe('False');
    expect(stuck.status!.podIP).not.toBe(web.status!.podIP);
    const job = await eventually(async () => {
      const p = await pods.get('job');
      return p.status?.phase === 'Succeeded' && p;
    });
    expect(job.status!.containerStatuses![0]!.state!.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
    const crash = await eventually(async () => {
      const p = await pods.get('crash');
      return p.status?.phase === 'Failed' && p;
    });
    expect(crash.status!.containerStatuses![0]!.state!.terminated).toMatchObject({ exitCode: 1, reason: 'Error' });
    expect((await pods.get('elsewhere')).status!.phase).toBe('Pending');

    // A graceful delete (the fake marks it with a finalizer hold) is confirmed with grace 0.
    const deletes: unknown[] = [];
    client.prependReactor((a) => {
      if (a.verb === 'delete') deletes.push(a.object);
    });
    const w = await pods.get('web');
    await pods.update({ ...w, metadata: { ...w.metadata, finalizers: ['test/graceful'] } });
    await pods.delete('web');
    await eventually(() => deletes.some((d) => (d as { gracePeriodSeconds?: number }).gracePeriodSeconds === 0));
  });

  test('a pod whose node does not heartbeat is left alone until the node is back', async () => {
    const client = new FakeClient();
    const sim = startSim(client);
    await sim.ready();
    sim.stopHeartbeat('sim-1');
    const pods = client.resource(Resources.pods, 'default');
    await pods.create(makePod('p', { nodeName: 'sim-1' }));
    await new Promise((r) => setTimeout(r, 300));
    expect((await pods.get('p')).status!.phase).toBe('Pending');
    sim.resumeHeartbeat('sim-1');
    await eventually(async () => (await pods.get('p')).status?.phase === 'Running');
  });

  test('fail under restartPolicy Always is a crash loop, not a failed pod', () => {
    const pod = makePod('x', { nodeName: 'n' });
    const s = simulatedStatus(pod, 'terminated', 'fail', { now: 0, hostIP: '1.2.3.4', podIP: '10.0.0.2', startedAt: 0 });
    expect(s.phase).toBe('Running');
    expect(s.containerStatuses![0]).toMatchObject({ restartCount: 1, state: { waiting: { reason: 'CrashLoopBackOff' } } });
  });
});
