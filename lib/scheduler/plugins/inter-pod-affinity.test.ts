import { describe, expect, test } from 'vitest';
import type { Pod } from '../../api/index.js';
import { clusterOf, filterResults, listerOf, makeNode, makePod, podInfo, scoreResults, type PodSpecInput } from '../testing.js';
import { InterPodAffinity } from './inter-pod-affinity.js';

type Affinity = NonNullable<PodSpecInput['affinity']>;
const term = (labels: Record<string, string>, topologyKey: string, extra: object = {}) => ({ labelSelector: { matchLabels: labels }, topologyKey, ...extra });
const required = (kind: 'podAffinity' | 'podAntiAffinity', ...terms: ReturnType<typeof term>[]): Affinity => ({ [kind]: { requiredDuringSchedulingIgnoredDuringExecution: terms } });
const preferred = (kind: 'podAffinity' | 'podAntiAffinity', weight: number, t: ReturnType<typeof term>): Affinity => ({ [kind]: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight, podAffinityTerm: t }] } });

const zone = 'topology.kubernetes.io/zone';
const host = 'kubernetes.io/hostname';
// Two zones: a1, a2 in zone a; b1 in zone b; x has no zone label.
const nodes = () => [makeNode('a1', { labels: { [zone]: 'a' } }), makeNode('a2', { labels: { [zone]: 'a' } }), makeNode('b1', { labels: { [zone]: 'b' } }), makeNode('x')];

describe('InterPodAffinity filter', () => {
  const noAff = "UnschedulableAndUnresolvable: node(s) didn't match pod affinity rules";
  const noAnti = "Unschedulable: node(s) didn't match pod anti-affinity rules";
  const existingAnti = "Unschedulable: node(s) didn't satisfy existing pods anti-affinity rules";
  const cases: [string, Pod[], PodSpecInput, Record<string, string>][] = [
    ['required affinity: only the domain of a matching pod', [makePod('db', { nodeName: 'a2', labels: { app: 'db' } })], { affinity: required('podAffinity', term({ app: 'db' }, zone)) }, { a1: 'ok', a2: 'ok', b1: noAff, x: noAff }],
    ['required affinity on hostname: the very node', [makePod('db', { nodeName: 'a2', labels: { app: 'db' } })], { affinity: required('podAffinity', term({ app: 'db' }, host)) }, { a1: noAff, a2: 'ok', b1: noAff, x: noAff }],
    ['the first pod of a group with affinity to itself may go anywhere with the key', [], { labels: { app: 'web' }, affinity: required('podAffinity', term({ app: 'web' }, zone)) }, { a1: 'ok', a2: 'ok', b1: 'ok', x: noAff }],
    ['but not when it does not match its own terms', [], { labels: { app: 'other' }, affinity: required('podAffinity', term({ app: 'web' }, zone)) }, { a1: noAff, a2: noAff, b1: noAff, x: noAff }],
    ['pods in another namespace do not count', [makePod('db', { namespace: 'prod', nodeName: 'a2', labels: { app: 'db' } })], { affinity: required('podAffinity', term({ app: 'db' }, zone)) }, { a1: noAff, a2: noAff, b1: noAff, x: noAff }],
    ['unless the term names that namespace', [makePod('db', { namespace: 'prod', nodeName: 'a2', labels: { app: 'db' } })], { affinity: required('podAffinity', term({ app: 'db' }, zone, { namespaces: ['prod'] })) }, { a1: 'ok', a2: 'ok', b1: noAff, x: noAff }],
    ['required anti-affinity: not in a domain with a matching pod', [makePod('w', { nodeName: 'a1', labels: { app: 'web' } })], { affinity: required('podAntiAffinity', term({ app: 'web' }, zone)) }, { a1: noAnti, a2: noAnti, b1: 'ok', x: 'ok' }],
    [
      "placed pods' anti-affinity keeps the pod out of their domain",
      [makePod('lonely', { nodeName: 'b1', labels: { app: 'lonely' }, affinity: required('podAntiAffinity', term({ app: 'web' }, zone)) })],
      { labels: { app: 'web' } },
      { a1: 'ok', a2: 'ok', b1: existingAnti, x: 'ok' },
    ],
  ];
  test.each(cases)('%s', (_n, placed, spec, want) => {
    const cluster = clusterOf(nodes(), placed);
    expect(filterResults(new InterPodAffinity(cluster), podInfo('p', spec), cluster)).toEqual(want);
  });

  test('namespaceSelector picks namespaces by label', () => {
    const ns = (name: string, labels: Record<string, string>) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
    const cluster = clusterOf(nodes(), [makePod('db', { namespace: 'prod', nodeName: 'b1', labels: { app: 'db' } })], { namespaces: listerOf([ns('prod', { env: 'prod' }), ns('default', {})]) });
    const spec = { affinity: required('podAffinity', term({ app: 'db' }, zone, { namespaceSelector: { matchLabels: { env: 'prod' } } })) };
    expect(filterResults(new InterPodAffinity(cluster), podInfo('p', spec), cluster)).toMatchObject({ b1: 'ok', a1: noAff });
  });
});

describe('InterPodAffinity score', () => {
  test('preferred affinity pulls toward the domain of matching pods, anti-affinity pushes away', () => {
    const cluster = clusterOf(nodes(), [makePod('cache', { nodeName: 'a1', labels: { app: 'cache' } })]);
    const near = podInfo('p', { affinity: preferred('podAffinity', 50, term({ app: 'cache' }, zone)) });
    expect(scoreResults(new InterPodAffinity(cluster), near, cluster)).toEqual({ a1: 100, a2: 100, b1: 0, x: 0 });
    const away = podInfo('p', { affinity: preferred('podAntiAffinity', 50, term({ app: 'cache' }, zone)) });
    expect(scoreResults(new InterPodAffinity(cluster), away, cluster)).toEqual({ a1: 0, a2: 0, b1: 100, x: 100 });
  });
  test("placed pods' terms count for a pod they select (required affinity with weight 1)", () => {
    const cluster = clusterOf(nodes(), [
      makePod('likes', { nodeName: 'b1', labels: { app: 'x' }, affinity: required('podAffinity', term({ app: 'web' }, zone)) }),
      makePod('likes2', { nodeName: 'a1', labels: { app: 'y' }, affinity: preferred('podAffinity', 10, term({ app: 'web' }, zone)) }),
    ]);
    expect(scoreResults(new InterPodAffinity(cluster), podInfo('p', { labels: { app: 'web' } }), cluster)).toEqual({ a1: 100, a2: 100, b1: 10, x: 0 });
  });
  test('nothing to score: all zero', () => {
    const cluster = clusterOf(nodes(), [makePod('c', { nodeName: 'a1', labels: { app: 'cache' } })]);
    expect(scoreResults(new InterPodAffinity(cluster), podInfo('p'), cluster)).toEqual({ a1: 0, a2: 0, b1: 0, x: 0 });
  });
});
