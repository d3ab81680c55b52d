import { afterEach, describe, expect, test } from 'vitest';
import type { DaemonSet, Node, Pod, PodTemplateSpec, Taint } from '../../api/index.js';
import { rfc3339 } from '../../base/index.js';
import { Resources } from '../../client/index.js';
import { eventually, newHarness, settle, type Harness } from '../replicaset/testing.js';
import { DaemonSetController } from './daemonset-controller.js';
import { nodeShouldRunDaemonPod, targetNodeName } from './node-eligibility.js';

let h: Harness;
afterEach(async () => {
  await h?.stop();
});

const node = (name: string, labels: Record<string, string> = {}, taints: Taint[] = []): Node => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name, labels: { 'kubernetes.io/hostname': name, ...labels } },
  spec: { taints },
});

function template(spec: Partial<NonNullable<PodTemplateSpec['spec']>> = {}, image = 'agent:1'): PodTemplateSpec {
  return { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'agent', image }], ...spec } };
}

function daemonSet(spec: Partial<NonNullable<DaemonSet['spec']>> = {}): DaemonSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'agent', namespace: 'kube-system' },
    spec: { selector: { matchLabels: { app: 'agent' } }, template: template(), updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } }, revisionHistoryLimit: 10, ...spec },
  };
}

const nodes = () => h.client.resource(Resources.nodes);
const pods = () => h.client.resource(Resources.pods, 'kube-system');
const daemonSets = () => h.client.resource(Resources.daemonSets, 'kube-system');
const revisions = () => h.client.resource(Resources.controllerRevisions, 'kube-system');

async function start(...ns: Node[]): Promise<void> {
  h = newHarness();
  for (const n of ns) await nodes().create(n);
  await h.run(new DaemonSetController({ client: h.client, informers: h.factory, recorder: h.recorder, clock: h.clock }));
}

/** What the scheduler and kubelet would do: bind each daemon pod to the node its affinity names, and make it ready. */
async function runPods(filter: (p: Pod) => boolean = () => true): Promise<void> {
  for (const p of (await pods().list()).items) {
    if (!filter(p) || p.metadata.deletionTimestamp || p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) continue;
    const bound = p.spec?.nodeName ? p : await pods().update({ ...p, spec: { ...p.spec!, nodeName: targetNodeName(p.spec)! } });
    await pods().updateStatus({ ...bound, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: rfc3339(h.clock.now()) }] } });
  }
}

const podNodes = async () => (await pods().list()).items.filter((p) => !p.metadata.deletionTimestamp).map((p) => targetNodeName(p.spec)).sort();

describe('which nodes run a daemon pod', () => {
  const NoSchedule = (key: string, value = ''): Taint => ({ key, value, effect: 'NoSchedule' });
  const NoExecute = (key: string): Taint => ({ key, effect: 'NoExecute' });
  test.each([
    ['any node, without constraints', node('n'), template(), true, true],
    ['a node with the selected label', node('n', { disk: 'ssd' }), template({ nodeSelector: { disk: 'ssd' } }), true, true],
    ['a node without the selected label', node('n'), template({ nodeSelector: { disk: 'ssd' } }), false, false],
    [
      'node affinity In',
      node('n', { zone: 'a' }),
      template({ affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a', 'b'] }] }] } } } }),
      true,
      true,
    ],
    [
      'node affinity NotIn',
      node('n', { zone: 'a' }),
      template({ affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }] } } } }),
      false,
      false,
    ],
    [
      'node affinity Gt',
      node('n', { cores: '16' }),
      template({ affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'cores', operator: 'Gt', values: ['8'] }] }] } } } }),
      true,
      true,
    ],
    ['an untolerated NoSchedule taint: no new pod, but a running one stays', node('n', {}, [NoSchedule('dedicated', 'db')]), template(), false, true],
    ['a tolerated NoSchedule taint', node('n', {}, [NoSchedule('dedicated', 'db')]), template({ tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'db', effect: 'NoSchedule' }] }), true, true],
    ['an untolerated NoExecute taint: not even a running one', node('n', {}, [NoExecute('evict')]), template(), false, false],
    ['not-ready and unreachable are tolerated by every daemon pod', node('n', {}, [NoExecute('node.kubernetes.io/not-ready'), NoExecute('node.kubernetes.io/unreachable')]), template(), true, true],
    ['cordoned (unschedulable) nodes still get daemon pods', node('n', {}, [NoSchedule('node.kubernetes.io/unschedulable')]), template(), true, true],
    ['memory, disk and pid pressure are tolerated', node('n', {}, ['memory', 'disk', 'pid'].map((x) => NoSchedule(`node.kubernetes.io/${x}-pressure`))), template(), true, true],
    ['network-unavailable only for host-network pods', node('n', {}, [NoSchedule('node.kubernetes.io/network-unavailable')]), template(), false, true],
    ['network-unavailable with hostNetwork', node('n', {}, [NoSchedule('node.kubernetes.io/network-unavailable')]), template({ hostNetwork: true }), true, true],
  ] as const)('%s', (_what, n, t, shouldRun, shouldContinueRunning) => {
    expect(nodeShouldRunDaemonPod(n as Node, t as PodTemplateSpec)).toEqual({ shouldRun, shouldContinueRunning });
  });
});

describe('DaemonSet controller', () => {
  test('creates one pod per eligible node, pinned by node affinity for the scheduler, with the daemon tolerations', async () => {
    await start(node('a', { role: 'worker' }), node('b', { role: 'worker' }), node('c', { role: 'edge' }), node('d', { role: 'worker' }, [{ key: 'gpu', effect: 'NoSchedule' }]));
    await daemonSets().create(daemonSet({ template: template({ nodeSelector: { role: 'worker' } }) }));
    await eventually(async () => (await pods().list()).items.length === 2, '2 pods');
    await settle(h);
    expect(await podNodes()).toEqual(['a', 'b']);
    const p = (await pods().list()).items[0]!;
    expect(p.spec!.nodeName).toBeUndefined(); // the scheduler binds it
    expect(p.spec!.affinity!.nodeAffinity!.requiredDuringSchedulingIgnoredDuringExecution!.nodeSelectorTerms).toEqual([
      { matchFields: [{ key: 'metadata.name', operator: 'In', values: [targetNodeName(p.spec)] }] },
    ]);
    expect(p.spec!.tolerations!.map((t) => `${t.key}:${t.effect}`)).toEqual([
      'node.kubernetes.io/not-ready:NoExecute',
      'node.kubernetes.io/unreachable:NoExecute',
      'node.kubernetes.io/disk-pressure:NoSchedule',
      'node.kubernetes.io/memory-pressure:NoSchedule',
      'node.kubernetes.io/pid-pressure:NoSchedule',
      'node.kubernetes.io/unschedulable:NoSchedule',
    ]);
    const rev = (await revisions().list()).items;
    expect(rev.length).toBe(1);
    expect(p.metadata.labels).toEqual({ app: 'agent', 'controller-revision-hash': rev[0]!.metadata.labels!['controller-revision-hash'] });
    expect(rev[0]!.metadata.name).toBe(`agent-${rev[0]!.metadata.labels!['controller-revision-hash']}`);
    expect(rev[0]!.revision).toBe(1);

    await runPods();
    await eventually(async () => (await daemonSets().get('agent')).status?.numberReady === 2, 'ready');
    expect((await daemonSets().get('agent')).status).toMatchObject({ desiredNumberScheduled: 2, currentNumberScheduled: 2, numberReady: 2, numberAvailable: 2, updatedNumberScheduled: 2, numberMisscheduled: 0, numberUnavailable: 0, observedGeneration: 1 });
  });

  test('follows the nodes: a new node gets a pod, a node that stops matching loses it', async () => {
    await start(node('a', { role: 'worker' }));
    await daemonSets().create(daemonSet({ template: template({ nodeSelector: { role: 'worker' } }) }));
    await eventually(async () => (await podNodes()).join() === 'a', 'pod on a');
    await nodes().create(node('b', { role: 'worker' }));
    await eventually(async () => (await podNodes()).join() === 'a,b', 'pod on b');
    await nodes().patch('a', 'merge', { metadata: { labels: { role: 'edge' } } });
    await eventually(async () => (await podNodes()).join() === 'b', 'pod on a deleted');
    expect(h.recorder.lines((e) => e.reason === 'SuccessfulDelete').length).toBe(1);
  });

  test('replaces a failed pod, with an event', async () => {
    await start(node('a'));
    await daemonSets().create(daemonSet());
    await eventually(async () => (await pods().list()).items.length === 1, 'pod');
    await runPods();
    const p = (await pods().list()).items[0]!;
    await pods().updateStatus({ ...p, status: { phase: 'Failed' } });
    await eventually(async () => (await pods().list()).items.some((x) => x.metadata.name !== p.metadata.name), 'replacement');
    expect(h.recorder.lines((e) => e.reason === 'FailedDaemonPod')).toEqual([`FailedDaemonPod: Found failed daemon pod kube-system/${p.metadata.name} on node a, will try to kill it`]);
  });

  test('a rolling update replaces one node at a time (maxUnavailable 1) and records a new revision', async () => {
    await start(node('a'), node('b'), node('c'));
    await daemonSets().create(daemonSet());
    await eventually(async () => (await pods().list()).items.length === 3, '3 pods');
    await runPods();
    await settle(h);
    const ds = await daemonSets().get('agent');
    ds.spec!.template.spec!.containers[0]!.image = 'agent:2';
    await daemonSets().update(ds);
    await eventually(async () => (await revisions().list()).items.length === 2, 'revision 2');
    const revs = (await revisions().list()).items.sort((x, y) => x.revision - y.revision);
    const newHash = revs[1]!.metadata.labels!['controller-revision-hash'];
    expect(revs.map((r) => r.revision)).toEqual([1, 2]);
    const imagesSeen: string[] = [];
    for (let i = 0; i < 10; i++) {
      await settle(h);
      const live = (await pods().list()).items.filter((p) => !p.metadata.deletionTimestamp);
      // Never more than one node without an available pod.
      const ready = live.filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
      expect(ready.length).toBeGreaterThanOrEqual(2);
      imagesSeen.push(live.map((p) => p.spec!.containers[0]!.image).sort().join());
      if (live.length === 3 && live.every((p) => p.metadata.labels!['controller-revision-hash'] === newHash)) break;
      await runPods();
    }
    // Each step: one old pod deleted and its replacement created; the next waits for it to be ready.
    expect(imagesSeen).toEqual(['agent:1,agent:1,agent:2', 'agent:1,agent:2,agent:2', 'agent:2,agent:2,agent:2']);
    await runPods();
    await eventually(async () => (await daemonSets().get('agent')).status?.updatedNumberScheduled === 3, 'updated');

    // Back to the first template: its revision is reused and becomes revision 3.
    const back = await daemonSets().get('agent');
    back.spec!.template.spec!.containers[0]!.image = 'agent:1';
    await daemonSets().update(back);
    await eventually(async () => (await revisions().get(revs[0]!.metadata.name!)).revision === 3, 'revision 3');
  });

  test('with maxSurge the new pod starts next to the old one, which goes once the new one is available', async () => {
    await start(node('a'));
    await daemonSets().create(daemonSet({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } } }));
    await eventually(async () => (await pods().list()).items.length === 1, 'pod');
    await runPods();
    await settle(h);
    const old = (await pods().list()).items[0]!.metadata.name;
    const ds = await daemonSets().get('agent');
    ds.spec!.template.spec!.containers[0]!.image = 'agent:2';
    await daemonSets().update(ds);
    await eventually(async () => (await pods().list()).items.length === 2, 'surge pod');
    await settle(h);
    expect((await pods().list()).items.map((p) => p.metadata.name)).toContain(old);
    await runPods();
    await eventually(async () => !(await pods().list()).items.some((p) => p.metadata.name === old), 'old pod gone');
  });

  test('OnDelete leaves old pods alone until someone deletes them', async () => {
    await start(node('a'));
    await daemonSets().create(daemonSet({ updateStrategy: { type: 'OnDelete' } }));
    await eventually(async () => (await pods().list()).items.length === 1, 'pod');
    await runPods();
    const ds = await daemonSets().get('agent');
    ds.spec!.template.spec!.containers[0]!.image = 'agent:2';
    await daemonSets().update(ds);
    await eventually(async () => (await revisions().list()).items.length === 2, 'revision 2');
    await settle(h);
    const [p] = (await pods().list()).items;
    expect(p!.spec!.containers[0]!.image).toBe('agent:1');
    await pods().delete(p!.metadata.name!);
    await eventually(async () => (await pods().list()).items[0]?.spec?.containers[0]?.image === 'agent:2', 'new pod');
  });
});
