import { describe, expect, test } from 'vitest';
import type { Pod, ReplicaSet } from '../../api/index.js';
import { clusterOf, filterResults, listerOf, makeNode, makePod, podInfo, scoreResults, type PodSpecInput } from '../testing.js';
import { PodTopologySpread } from './pod-topology-spread.js';

const zone = 'topology.kubernetes.io/zone';
const host = 'kubernetes.io/hostname';
type C = NonNullable<PodSpecInput['topologySpreadConstraints']>[number];
const spread = (topologyKey: string, maxSkew: number, extra: Partial<C> = {}, when: C['whenUnsatisfiable'] = 'DoNotSchedule'): C => ({
  maxSkew,
  topologyKey,
  whenUnsatisfiable: when,
  labelSelector: { matchLabels: { app: 'foo' } },
  ...extra,
});
const nodes = () => [makeNode('a1', { labels: { [zone]: 'a' } }), makeNode('a2', { labels: { [zone]: 'a' } }), makeNode('b1', { labels: { [zone]: 'b' } }), makeNode('b2', { labels: { [zone]: 'b' } }), makeNode('x')];
const foo = (name: string, nodeName: string, extra: PodSpecInput = {}) => makePod(name, { nodeName, labels: { app: 'foo' }, ...extra });
// zone a holds 1 matching pod, zone b 2; one more in b is being deleted and does not count.
const placed = (): Pod[] => [foo('p1', 'a1'), foo('p2', 'b1'), foo('p3', 'b2'), foo('gone', 'b2', { deleting: true }), makePod('other', { nodeName: 'a2', labels: { app: 'bar' } })];

describe('PodTopologySpread filter', () => {
  const over = "Unschedulable: node(s) didn't match pod topology spread constraints";
  const missing = "UnschedulableAndUnresolvable: node(s) didn't match pod topology spread constraints (missing required label)";
  test.each<[string, PodSpecInput, Record<string, string>]>([
    ['zones: only where the skew stays within maxSkew', { labels: { app: 'foo' }, topologySpreadConstraints: [spread(zone, 1)] }, { a1: 'ok', a2: 'ok', b1: over, b2: over, x: missing }],
    ['hostnames: the node without matching pods', { labels: { app: 'foo' }, topologySpreadConstraints: [spread(host, 1)] }, { a1: over, a2: 'ok', b1: over, b2: over, x: 'ok' }],
    ['a pod the selector does not match adds nothing to the skew', { labels: { app: 'zzz' }, topologySpreadConstraints: [spread(zone, 1)] }, { a1: 'ok', a2: 'ok', b1: 'ok', b2: 'ok', x: missing }],
    ['minDomains above the domains there are counts the minimum as 0', { labels: { app: 'foo' }, topologySpreadConstraints: [spread(zone, 2, { minDomains: 3 })] }, { a1: 'ok', a2: 'ok', b1: over, b2: over, x: missing }],
    ['constraints are ANDed', { labels: { app: 'foo' }, topologySpreadConstraints: [spread(zone, 1), spread(host, 1)] }, { a1: over, a2: 'ok', b1: over, b2: over, x: missing }],
    ['ScheduleAnyway constraints never filter', { labels: { app: 'foo' }, topologySpreadConstraints: [spread(zone, 1, {}, 'ScheduleAnyway')] }, { a1: 'ok', a2: 'ok', b1: 'ok', b2: 'ok', x: 'ok' }],
  ])('%s', (_n, spec, want) => {
    const cluster = clusterOf(nodes(), placed());
    expect(filterResults(new PodTopologySpread(cluster), podInfo('p', spec), cluster)).toEqual(want);
  });

  test('nodeAffinityPolicy Honor: domains the pod cannot use do not set the minimum', () => {
    const cluster = clusterOf(nodes(), placed());
    const spec = { labels: { app: 'foo' }, nodeSelector: { [zone]: 'b' }, topologySpreadConstraints: [spread(zone, 1)] };
    expect(filterResults(new PodTopologySpread(cluster), podInfo('p', spec), cluster)).toMatchObject({ b1: 'ok', b2: 'ok' });
    const ignore = { ...spec, topologySpreadConstraints: [spread(zone, 1, { nodeAffinityPolicy: 'Ignore' })] };
    expect(filterResults(new PodTopologySpread(cluster), podInfo('p', ignore), cluster)).toMatchObject({ b1: expect.stringMatching(/didn't match/), b2: expect.stringMatching(/didn't match/) });
  });
});

describe('PodTopologySpread score', () => {
  test('fewer matching pods in the domain scores higher', () => {
    const cluster = clusterOf([makeNode('a1'), makeNode('a2'), makeNode('b1')], [foo('p1', 'a1'), foo('p2', 'a1'), foo('p3', 'a2')]);
    const pod = podInfo('p', { labels: { app: 'foo' }, topologySpreadConstraints: [spread(host, 1, {}, 'ScheduleAnyway')] });
    // counts 2, 1, 0 weighted by log(3 + 2): 3, 2, 0 → normalized 0, 33, 100
    expect(scoreResults(new PodTopologySpread(cluster), pod, cluster)).toEqual({ a1: 0, a2: 33, b1: 100 });
  });

  test('without constraints, pods of one ReplicaSet spread by default', () => {
    const rs: ReplicaSet = { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web', namespace: 'default' }, spec: { selector: { matchLabels: { app: 'web' } }, template: {} } } as ReplicaSet;
    const owned = (name: string, nodeName?: string) => makePod(name, { nodeName, labels: { app: 'web' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: 'rs', controller: true }] });
    const cluster = clusterOf([makeNode('a1'), makeNode('a2'), makeNode('b1')], [owned('w1', 'a1'), owned('w2', 'a1'), owned('w3', 'a2')], { replicaSets: listerOf([rs]) });
    // hostname, maxSkew 3: 2*1.61+2 = 5, 1.61+2 = 4, 2 → 40, 60, 100
    expect(scoreResults(new PodTopologySpread(cluster, true), { ...podInfo('x'), pod: owned('new') }, cluster)).toEqual({ a1: 40, a2: 60, b1: 100 });
    // A pod nobody selects is not spread.
    expect(scoreResults(new PodTopologySpread(cluster, true), podInfo('lone'), cluster)).toEqual({ a1: 0, a2: 0, b1: 0 });
  });
});
