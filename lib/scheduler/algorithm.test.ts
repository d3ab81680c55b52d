import { describe, expect, test } from 'vitest';
import { CycleState, Framework, unresolvable, unschedulable, type Status } from './framework.js';
import { FitError, NoNodesAvailableError, ScheduleAlgorithm, fitErrorMessage, numFeasibleNodesToFind } from './algorithm.js';
import { defaultFramework } from './plugins/index.js';
import { clusterOf, makeNode, makePod, podInfo } from './testing.js';

describe('fitErrorMessage', () => {
  test("counts reasons over the nodes and sorts them as upstream's message", () => {
    const m = new Map<string, Status>([
      ['cp', unresolvable('TaintToleration', 'node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }')],
      ['w1', unschedulable('NodeResourcesFit', 'Insufficient cpu')],
      ['w2', unschedulable('NodeResourcesFit', 'Insufficient cpu', 'Insufficient memory')],
    ]);
    expect(fitErrorMessage(3, { nodeToStatus: m })).toBe('0/3 nodes are available: 1 Insufficient memory, 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu.');
    expect(fitErrorMessage(3, { nodeToStatus: m, postFilterMsg: 'preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling' })).toMatch(
      /2 Insufficient cpu\. preemption: 0\/3 nodes are available: 3 Preemption is not helpful for scheduling\.$/,
    );
  });
  test('a PreFilter rejection is told once, not per node', () => {
    expect(fitErrorMessage(2, { nodeToStatus: new Map(), preFilterMsg: 'persistentvolumeclaim "x" not found' })).toBe('0/2 nodes are available: persistentvolumeclaim "x" not found.');
  });
});

describe('numFeasibleNodesToFind', () => {
  test.each([
    [50, 0, 50],
    [100, 0, 100],
    [1000, 0, 420], // 50 - 1000/125 = 42%
    [5000, 0, 500], // 10%
    [6000, 0, 300], // floor of 5%
    [150, 0, 100], // never fewer than 100
    [1000, 100, 1000],
    [1000, 20, 200],
  ])('%i nodes, %i%% → %i', (n, pct, want) => expect(numFeasibleNodesToFind(n, pct)).toBe(want));
});

describe('ScheduleAlgorithm', () => {
  test('filters, scores and picks the best node', () => {
    const cluster = clusterOf([makeNode('small', { cpu: '2' }), makeNode('big', { cpu: '16' }), makeNode('tainted', { cpu: '64', taints: [{ key: 'k', effect: 'NoSchedule' }] })]);
    const algo = new ScheduleAlgorithm({ framework: defaultFramework(cluster), snapshot: cluster.snapshot });
    expect(algo.schedulePod(new CycleState(), podInfo('p', { cpu: '1', memory: '1Gi' })).suggestedHost).toBe('big');
  });

  test('no fit: a FitError with the reason per node', () => {
    const cluster = clusterOf([makeNode('a', { cpu: '1' }), makeNode('b', { cpu: '1', taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] })]);
    const algo = new ScheduleAlgorithm({ framework: defaultFramework(cluster), snapshot: cluster.snapshot });
    let err: unknown;
    try {
      algo.schedulePod(new CycleState(), podInfo('p', { cpu: '2' }));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FitError);
    expect((err as FitError).message).toBe('0/2 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }.');
    expect([...(err as FitError).diagnosis.unschedulablePlugins].sort()).toEqual(['NodeResourcesFit', 'TaintToleration']);
  });

  test('no nodes at all', () => {
    const cluster = clusterOf([]);
    const algo = new ScheduleAlgorithm({ framework: defaultFramework(cluster), snapshot: cluster.snapshot });
    expect(() => algo.schedulePod(new CycleState(), podInfo('p'))).toThrow(NoNodesAvailableError);
  });

  test('ties are broken at random among the best nodes', () => {
    const cluster = clusterOf([makeNode('a'), makeNode('b'), makeNode('c'), makeNode('d', { cpu: '1' })]);
    const seen = new Set<string>();
    for (let i = 0; i < 60; i++) {
      const algo = new ScheduleAlgorithm({ framework: defaultFramework(cluster), snapshot: cluster.snapshot });
      seen.add(algo.schedulePod(new CycleState(), podInfo('p', { cpu: '100m', memory: '100Mi' })).suggestedHost);
    }
    expect([...seen].sort()).toEqual(['a', 'b', 'c']);
  });

  test('in a large cluster, only part of the nodes is examined, and the next cycle starts where this one stopped', () => {
    const cluster = clusterOf(Array.from({ length: 300 }, (_, i) => makeNode(`n${i}`)));
    const algo = new ScheduleAlgorithm({ framework: defaultFramework(cluster), snapshot: cluster.snapshot, percentageOfNodesToScore: 40 });
    const first = algo.findNodesThatFitPod(new CycleState(), podInfo('p'));
    expect(first.feasible.length).toBe(120);
    const second = algo.findNodesThatFitPod(new CycleState(), podInfo('q'));
    expect(second.feasible[0]!.name).toBe('n120');
  });

  test('a nominated node that fits is taken without looking further', () => {
    const cluster = clusterOf([makeNode('a', { cpu: '32' }), makeNode('b', { cpu: '1' })]);
    const algo = new ScheduleAlgorithm({ framework: defaultFramework(cluster), snapshot: cluster.snapshot });
    expect(algo.schedulePod(new CycleState(), podInfo('p', { cpu: '500m', nominatedNodeName: 'b' })).suggestedHost).toBe('b');
  });

  test('pods nominated to a node (higher priority) count there', () => {
    const cluster = clusterOf([makeNode('a', { cpu: '2' }), makeNode('b', { cpu: '2' })]);
    const waiting = podInfo('waiting', { cpu: '2', priority: 100 }, { priority: 100 });
    const algo = new ScheduleAlgorithm({
      framework: defaultFramework(cluster),
      snapshot: cluster.snapshot,
      nominatedPodsFor: (node, pod) => (node === 'a' && waiting.priority >= pod.priority && pod.key !== waiting.key ? [waiting] : []),
    });
    for (let i = 0; i < 10; i++) expect(algo.schedulePod(new CycleState(), podInfo(`low${i}`, { cpu: '1' })).suggestedHost).toBe('b');
  });

  test('weights multiply normalized scores', () => {
    // TaintToleration (weight 3) outweighs NodeResourcesFit (weight 1): the emptier node has a soft taint.
    const cluster = clusterOf([makeNode('empty', { cpu: '64', memory: '64Gi', taints: [{ key: 'spot', effect: 'PreferNoSchedule' }] }), makeNode('used', { cpu: '4' })], [makePod('x', { nodeName: 'used', cpu: '1' })]);
    const algo = new ScheduleAlgorithm({ framework: defaultFramework(cluster), snapshot: cluster.snapshot });
    expect(algo.schedulePod(new CycleState(), podInfo('p', { cpu: '100m' })).suggestedHost).toBe('used');
    const fw = new Framework({ plugins: defaultFramework(cluster).plugins as never, scoreWeights: { TaintToleration: 0 } });
    const algo2 = new ScheduleAlgorithm({ framework: fw, snapshot: cluster.snapshot });
    expect(algo2.schedulePod(new CycleState(), podInfo('p', { cpu: '100m' })).suggestedHost).toBe('empty');
  });
});
