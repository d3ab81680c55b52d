import { describe, expect, test } from 'vitest';
import type { Node, Pod, PodDisruptionBudget } from '../api/index.js';
import { ScheduleAlgorithm } from './algorithm.js';
import { CycleState } from './framework.js';
import { newPodInfo, type PodInfo } from './pod-info.js';
import { Preemptor, filterPodsWithPDBViolation, pickOneNodeForPreemption, type Candidate } from './preemption.js';
import { defaultFramework } from './plugins/index.js';
import { clusterOf, makeNode, makePod, type PodSpecInput } from './testing.js';

function pod(name: string, o: PodSpecInput): Pod {
  return makePod(name, o);
}

/** Runs a scheduling attempt for `incoming` and, since it fails, preemption. */
function preempt(nodes: Node[], placed: Pod[], incoming: PodInfo, o: { pdbs?: PodDisruptionBudget[]; nominated?: PodInfo[] } = {}) {
  const cluster = clusterOf(nodes, placed);
  const framework = defaultFramework(cluster);
  const nominatedPodsOn = (n: string) => (o.nominated ?? []).filter((p) => p.pod.status?.nominatedNodeName === n);
  const nominatedPodsFor = (n: string, p: PodInfo) => nominatedPodsOn(n).filter((x) => x.key !== p.key && x.priority >= p.priority);
  const algo = new ScheduleAlgorithm({ framework, snapshot: cluster.snapshot, nominatedPodsFor });
  const state = new CycleState();
  const { feasible, diagnosis } = algo.findNodesThatFitPod(state, incoming);
  expect(feasible).toEqual([]);
  const p = new Preemptor({ framework, snapshot: cluster.snapshot, pdbs: () => o.pdbs ?? [], nominatedPodsFor, nominatedPodsOn, random: () => 0 });
  const r = p.preempt(state, incoming, diagnosis.nodeToStatus);
  return { ...r, victimNames: r.victims.map((v) => v.pod.metadata.name) };
}

const high = (name = 'high', o: PodSpecInput = {}) => newPodInfo(makePod(name, { cpu: '1', priority: 100, ...o }));

describe('victim selection', () => {
  test('evicts a lower-priority pod to make room', () => {
    const r = preempt([makeNode('n', { cpu: '1' })], [pod('low', { nodeName: 'n', cpu: '1', priority: 0 })], high());
    expect(r.nominatedNodeName).toBe('n');
    expect(r.victimNames).toEqual(['low']);
  });

  test('the smallest set: lower-priority pods that can stay, stay', () => {
    const placed = [pod('p0', { nodeName: 'n', cpu: '1', priority: 0 }), pod('p10', { nodeName: 'n', cpu: '1', priority: 10 }), pod('p20', { nodeName: 'n', cpu: '1', priority: 20 })];
    const r = preempt([makeNode('n', { cpu: '3' })], placed, high());
    expect(r.victimNames).toEqual(['p0']);
  });

  test('pods of equal or higher priority are never victims', () => {
    const r = preempt([makeNode('n', { cpu: '1' })], [pod('peer', { nodeName: 'n', cpu: '1', priority: 100 })], high());
    expect(r.nominatedNodeName).toBeUndefined();
    expect(r.message).toBe('preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.');
  });

  test('a node where even removing every lower pod is not enough is no candidate', () => {
    const r = preempt([makeNode('n', { cpu: '2' })], [pod('peer', { nodeName: 'n', cpu: '1500m', priority: 200 }), pod('low', { nodeName: 'n', cpu: '500m', priority: 0 })], high());
    expect(r.message).toBe('preemption: 0/1 nodes are available: 1 Insufficient cpu.');
  });

  test('removing a pod whose anti-affinity rejects the incoming pod', () => {
    const anti = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'web' } }, topologyKey: 'kubernetes.io/hostname' }] } };
    const r = preempt([makeNode('n')], [pod('grumpy', { nodeName: 'n', priority: 0, affinity: anti })], high('web', { labels: { app: 'web' } }));
    expect(r.victimNames).toEqual(['grumpy']);
  });

  test('nodes that fail for reasons preemption cannot fix are left alone', () => {
    const nodes = [makeNode('tainted', { taints: [{ key: 'k', effect: 'NoSchedule' }] }), makeNode('labelled', { labels: { disk: 'hdd' } })];
    const r = preempt(nodes, [pod('low', { nodeName: 'tainted', priority: 0 })], high('h', { nodeSelector: { disk: 'ssd' } }));
    expect(r.message).toBe('preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.');
    expect(r.clearNomination).toBe(true);
  });
});

describe('eligibility', () => {
  test('preemptionPolicy Never', () => {
    const r = preempt([makeNode('n', { cpu: '1' })], [pod('low', { nodeName: 'n', cpu: '1', priority: 0 })], newPodInfo(makePod('h', { cpu: '1', priority: 100 }), { priority: 100, preemptionPolicy: 'Never' }));
    expect(r.message).toBe('preemption: not eligible due to preemptionPolicy=Never.');
  });

  test('not again while a lower-priority victim on the nominated node is still terminating', () => {
    const r = preempt([makeNode('n', { cpu: '1' })], [pod('victim', { nodeName: 'n', cpu: '1', priority: 0, deleting: true })], high('h', { nominatedNodeName: 'n' }));
    expect(r.message).toBe('preemption: not eligible due to a terminating pod on the nominated node.');
  });
});

describe('PodDisruptionBudgets', () => {
  const pdb = (app: string, allowed: number, disrupted: Record<string, string> = {}): PodDisruptionBudget => ({
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: app, namespace: 'default' },
    spec: { selector: { matchLabels: { app } } },
    status: { disruptionsAllowed: allowed, currentHealthy: 1, desiredHealthy: 1, expectedPods: 1, disruptedPods: disrupted },
  });

  test('prefers a node whose victims no budget protects', () => {
    const nodes = [makeNode('a', { cpu: '1' }), makeNode('b', { cpu: '1' })];
    const placed = [pod('guarded', { nodeName: 'a', cpu: '1', priority: 0, labels: { app: 'db' } }), pod('free', { nodeName: 'b', cpu: '1', priority: 5, labels: { app: 'web' } })];
    const r = preempt(nodes, placed, high(), { pdbs: [pdb('db', 0)] });
    expect(r.nominatedNodeName).toBe('b');
    expect(r.victimNames).toEqual(['free']);
  });

  test('violates a budget when there is no other way', () => {
    const r = preempt([makeNode('a', { cpu: '1' })], [pod('guarded', { nodeName: 'a', cpu: '1', priority: 0, labels: { app: 'db' } })], high(), { pdbs: [pdb('db', 0)] });
    expect(r.victimNames).toEqual(['guarded']);
  });

  test('budgets are spent pod by pod; pods already being disrupted do not count', () => {
    const pods = ['a', 'b', 'c'].map((n) => newPodInfo(makePod(n, { labels: { app: 'db' } })));
    const { violating, nonViolating } = filterPodsWithPDBViolation(pods, [pdb('db', 1, { c: '2024-01-01T00:00:00Z' })]);
    expect(nonViolating.map((p) => p.pod.metadata.name)).toEqual(['a', 'c']);
    expect(violating.map((p) => p.pod.metadata.name)).toEqual(['b']);
  });
});

describe('pickOneNodeForPreemption', () => {
  const v = (prio: number, start = '2024-01-01T00:00:00Z') => newPodInfo(makePod(`v${prio}-${start}`, { priority: prio, startTime: start }), { priority: prio });
  const c = (nodeName: string, victims: PodInfo[], numPDBViolations = 0): Candidate => ({ nodeName, victims, numPDBViolations });
  test.each<[string, Candidate[], string]>([
    ['fewest PDB violations', [c('a', [v(1)], 1), c('b', [v(9), v(8)], 0)], 'b'],
    ['lowest highest-priority victim', [c('a', [v(10)]), c('b', [v(5), v(4)])], 'b'],
    ['smallest sum of priorities', [c('a', [v(5), v(4)]), c('b', [v(5), v(1)])], 'b'],
    ['negative priorities still add up', [c('a', [v(-5), v(-5)]), c('b', [v(-5)])], 'b'],
    ['fewest victims', [c('a', [v(5), v(0), v(0)]), c('b', [v(5), v(0)])], 'b'],
    ['the youngest most important victims', [c('a', [v(5, '2024-01-01T00:00:00Z')]), c('b', [v(5, '2024-06-01T00:00:00Z')])], 'b'],
    ['otherwise the first', [c('a', [v(5)]), c('b', [v(5)])], 'a'],
  ])('%s', (_n, candidates, want) => expect(pickOneNodeForPreemption(candidates)!.nodeName).toBe(want));
});

describe('nominations', () => {
  test('lower-priority pods nominated to the chosen node lose their nomination', () => {
    const waiting = newPodInfo(makePod('waiting', { cpu: '1', priority: 10, nominatedNodeName: 'n' }), { priority: 10 });
    const r = preempt([makeNode('n', { cpu: '1' })], [pod('low', { nodeName: 'n', cpu: '1', priority: 0 })], high(), { nominated: [waiting] });
    expect(r.nominatedNodeName).toBe('n');
    expect(r.lowerPriorityNominated.map((p) => p.key)).toEqual(['default/waiting']);
  });
});

