/** NodeUnschedulable, NodeName, NodeReady, TaintToleration, NodeAffinity, NodePorts. */
import { describe, expect, test } from 'vitest';
import type { Taint } from '../../api/index.js';
import { clusterOf, filterResults, makeNode, podInfo, scoreResults, type PodSpecInput } from '../testing.js';
import { NodeAffinity } from './node-affinity.js';
import { NodeName } from './node-name.js';
import { NodePorts } from './node-ports.js';
import { NodeReady } from './node-ready.js';
import { NodeUnschedulable } from './node-unschedulable.js';
import { TaintToleration } from './taint-toleration.js';

const cp: Taint = { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' };

describe('NodeUnschedulable', () => {
  const cluster = clusterOf([makeNode('open'), makeNode('cordoned', { unschedulable: true })]);
  test.each<[string, PodSpecInput, Record<string, string>]>([
    ['a cordoned node takes no new pods', {}, { open: 'ok', cordoned: 'UnschedulableAndUnresolvable: node(s) were unschedulable' }],
    ['unless the pod tolerates the unschedulable taint', { tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }] }, { open: 'ok', cordoned: 'ok' }],
  ])('%s', (_n, spec, want) => expect(filterResults(new NodeUnschedulable(), podInfo('p', spec), cluster)).toEqual(want));
});

describe('NodeName', () => {
  test('a pod naming a node fits only there', () => {
    const cluster = clusterOf([makeNode('a'), makeNode('b')]);
    expect(filterResults(new NodeName(), podInfo('p', { nodeName: 'b' }), cluster)).toEqual({ a: "UnschedulableAndUnresolvable: node(s) didn't match the requested node name", b: 'ok' });
    expect(filterResults(new NodeName(), podInfo('p'), cluster)).toEqual({ a: 'ok', b: 'ok' });
  });
});

describe('NodeReady', () => {
  const cluster = clusterOf([
    makeNode('ready'),
    makeNode('down', { ready: 'False' }),
    makeNode('unknown', { ready: 'Unknown' }),
    makeNode('new', { ready: 'missing' }),
    makeNode('tainted', { ready: 'False', taints: [{ key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' }] }),
  ]);
  test('only Ready nodes take pods; a node already tainted is left to TaintToleration', () => {
    const notReady = 'UnschedulableAndUnresolvable: node(s) were not ready';
    expect(filterResults(new NodeReady(), podInfo('p'), cluster)).toEqual({ ready: 'ok', down: notReady, unknown: notReady, new: notReady, tainted: 'ok' });
  });
  test('pods tolerating the not-ready taint (DaemonSet pods) fit on a node that is not ready', () => {
    const spec = { tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists' as const, effect: 'NoSchedule' as const }] };
    const r = filterResults(new NodeReady(), podInfo('p', spec), cluster);
    expect(r.down).toBe('ok');
    expect(r.unknown).toMatch(/not ready/); // Ready=Unknown maps to the unreachable taint
  });
});

describe('TaintToleration filter', () => {
  const cluster = clusterOf([
    makeNode('plain'),
    makeNode('cp', { taints: [cp] }),
    makeNode('gpu', { taints: [{ key: 'gpu', value: 'true', effect: 'NoExecute' }] }),
    makeNode('soft', { taints: [{ key: 'spot', value: 'yes', effect: 'PreferNoSchedule' }] }),
  ]);
  test.each<[string, PodSpecInput, Record<string, string>]>([
    [
      'untolerated NoSchedule and NoExecute taints reject, with the taint named',
      {},
      { plain: 'ok', cp: 'UnschedulableAndUnresolvable: node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }', gpu: 'UnschedulableAndUnresolvable: node(s) had untolerated taint {gpu: true}', soft: 'ok' },
    ],
    ['Exists tolerates any value', { tolerations: [{ key: 'gpu', operator: 'Exists' }] }, { plain: 'ok', cp: expect.stringMatching(/control-plane/) as unknown as string, gpu: 'ok', soft: 'ok' }],
    ['Equal needs the same value', { tolerations: [{ key: 'gpu', operator: 'Equal', value: 'false' }] }, { plain: 'ok', cp: expect.stringMatching(/control-plane/) as unknown as string, gpu: expect.stringMatching(/gpu: true/) as unknown as string, soft: 'ok' }],
    ['a toleration for another effect does not count', { tolerations: [{ key: 'gpu', operator: 'Exists', effect: 'NoSchedule' }] }, { plain: 'ok', cp: expect.stringMatching(/control-plane/) as unknown as string, gpu: expect.stringMatching(/gpu/) as unknown as string, soft: 'ok' }],
    ['an empty key with Exists tolerates everything', { tolerations: [{ operator: 'Exists' }] }, { plain: 'ok', cp: 'ok', gpu: 'ok', soft: 'ok' }],
  ])('%s', (_n, spec, want) => expect(filterResults(new TaintToleration(), podInfo('p', spec), cluster)).toEqual(want));
});

describe('TaintToleration score', () => {
  test('fewer untolerated PreferNoSchedule taints score higher', () => {
    const soft = (k: string): Taint => ({ key: k, effect: 'PreferNoSchedule' });
    const cluster = clusterOf([makeNode('none'), makeNode('one', { taints: [soft('a')] }), makeNode('two', { taints: [soft('a'), soft('b')] })]);
    expect(scoreResults(new TaintToleration(), podInfo('p'), cluster)).toEqual({ none: 100, one: 50, two: 0 });
    expect(scoreResults(new TaintToleration(), podInfo('p', { tolerations: [{ key: 'a', operator: 'Exists', effect: 'PreferNoSchedule' }] }), cluster)).toEqual({ none: 100, one: 100, two: 0 });
  });
});

describe('NodeAffinity filter', () => {
  const cluster = clusterOf([
    makeNode('a', { labels: { zone: 'z1', disk: 'ssd', cores: '8' } }),
    makeNode('b', { labels: { zone: 'z2', cores: '2' } }),
    makeNode('c', { labels: { zone: 'z3' } }),
  ]);
  const term = (exprs: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | 'Gt' | 'Lt'; values?: string[] }[]) => ({ matchExpressions: exprs });
  const required = (...terms: ReturnType<typeof term>[]): PodSpecInput => ({ affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } } } });
  const no = "UnschedulableAndUnresolvable: node(s) didn't match Pod's node affinity/selector";
  test.each<[string, PodSpecInput, string[]]>([
    ['nodeSelector must match exactly', { nodeSelector: { disk: 'ssd' } }, ['a']],
    ['In', required(term([{ key: 'zone', operator: 'In', values: ['z1', 'z2'] }])), ['a', 'b']],
    ['NotIn also matches nodes without the key', required(term([{ key: 'disk', operator: 'NotIn', values: ['ssd'] }])), ['b', 'c']],
    ['Exists', required(term([{ key: 'cores', operator: 'Exists' }])), ['a', 'b']],
    ['DoesNotExist', required(term([{ key: 'cores', operator: 'DoesNotExist' }])), ['c']],
    ['Gt compares integers', required(term([{ key: 'cores', operator: 'Gt', values: ['4'] }])), ['a']],
    ['Lt compares integers', required(term([{ key: 'cores', operator: 'Lt', values: ['4'] }])), ['b']],
    ['terms are ORed', required(term([{ key: 'zone', operator: 'In', values: ['z1'] }]), term([{ key: 'zone', operator: 'In', values: ['z3'] }])), ['a', 'c']],
    ['an empty term matches nothing', required({ matchExpressions: [] }), []],
    ['matchFields on metadata.name', required({ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['b'] }] } as never), ['b']],
    ['nodeSelector and affinity must both hold', { nodeSelector: { zone: 'z2' }, ...required(term([{ key: 'zone', operator: 'In', values: ['z1'] }])) }, []],
  ])('%s', (_n, spec, fits) => {
    const r = filterResults(new NodeAffinity(), podInfo('p', spec), cluster);
    expect(r).toEqual(Object.fromEntries(['a', 'b', 'c'].map((n) => [n, fits.includes(n) ? 'ok' : no])));
  });
});

describe('NodeAffinity score', () => {
  test('sums matched preference weights, the best node scoring 100', () => {
    const cluster = clusterOf([makeNode('a', { labels: { zone: 'z1', disk: 'ssd' } }), makeNode('b', { labels: { zone: 'z1' } }), makeNode('c')]);
    const pref = (weight: number, key: string, value: string) => ({ weight, preference: { matchExpressions: [{ key, operator: 'In' as const, values: [value] }] } });
    const pod = podInfo('p', { affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [pref(20, 'zone', 'z1'), pref(60, 'disk', 'ssd')] } } });
    expect(scoreResults(new NodeAffinity(), pod, cluster)).toEqual({ a: 100, b: 25, c: 0 });
  });
});

describe('NodePorts', () => {
  const cluster = clusterOf(
    [makeNode('a'), makeNode('b'), makeNode('c')],
    [
      { ...podInfo('web', { nodeName: 'a', hostPorts: [{ port: 80 }] }).pod },
      { ...podInfo('dns', { nodeName: 'b', hostPorts: [{ port: 53, protocol: 'UDP', hostIP: '10.0.0.1' }] }).pod },
    ],
  );
  const busy = "Unschedulable: node(s) didn't have free ports for the requested pod ports";
  test.each<[string, PodSpecInput, Record<string, string>]>([
    ['the same port and protocol conflict', { hostPorts: [{ port: 80 }] }, { a: busy, b: 'ok', c: 'ok' }],
    ['another protocol does not', { hostPorts: [{ port: 80, protocol: 'UDP' }] }, { a: 'ok', b: 'ok', c: 'ok' }],
    ['0.0.0.0 conflicts with a specific address', { hostPorts: [{ port: 53, protocol: 'UDP' }] }, { a: 'ok', b: busy, c: 'ok' }],
    ['two different addresses do not conflict', { hostPorts: [{ port: 53, protocol: 'UDP', hostIP: '10.0.0.2' }] }, { a: 'ok', b: 'ok', c: 'ok' }],
  ])('%s', (_n, spec, want) => expect(filterResults(new NodePorts(), podInfo('p', spec), cluster)).toEqual(want));
});
