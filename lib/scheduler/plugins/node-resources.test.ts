/** NodeResourcesFit (filter and LeastAllocated score), NodeResourcesBalancedAllocation, ImageLocality. */
import { describe, expect, test } from 'vitest';
import { newPodInfo } from '../pod-info.js';
import { clusterOf, filterResults, makeNode, makePod, podInfo, scoreResults } from '../testing.js';
import { BalancedAllocation, balancedScore } from './balanced-allocation.js';
import { ImageLocality, imageLocalityScore, normalizedImageName } from './image-locality.js';
import { NodeResourcesFit } from './node-resources-fit.js';

describe('NodeResourcesFit filter', () => {
  // 4 CPUs and 8Gi, with 3 CPUs and 6Gi taken by one pod, and a node that takes 1 pod only.
  const cluster = clusterOf(
    [makeNode('busy', { cpu: '4', memory: '8Gi' }), makeNode('free', { cpu: '4', memory: '8Gi' }), makeNode('full', { pods: 1 }), makeNode('gpu', { extra: { 'example.com/gpu': '1' } })],
    [makePod('a', { nodeName: 'busy', cpu: '3', memory: '6Gi' }), makePod('b', { nodeName: 'full' })],
  );
  test.each<[string, { cpu?: string; memory?: string }, Record<string, string>]>([
    ['fits where requests leave room', { cpu: '1', memory: '2Gi' }, { busy: 'ok', free: 'ok', full: 'Unschedulable: Too many pods', gpu: 'ok' }],
    ['one reason per missing resource', { cpu: '2', memory: '3Gi' }, { busy: 'Unschedulable: Insufficient cpu, Insufficient memory', free: 'ok', full: 'Unschedulable: Too many pods', gpu: 'ok' }],
    ['more than any node has', { cpu: '5' }, { busy: 'Unschedulable: Insufficient cpu', free: 'Unschedulable: Insufficient cpu', full: 'Unschedulable: Too many pods, Insufficient cpu', gpu: 'Unschedulable: Insufficient cpu' }],
    ['a pod without requests is only counted', {}, { busy: 'ok', free: 'ok', full: 'Unschedulable: Too many pods', gpu: 'ok' }],
  ])('%s', (_n, req, want) => expect(filterResults(new NodeResourcesFit(), podInfo('p', req), cluster)).toEqual(want));

  test('extended resources must be offered', () => {
    const raw = makePod('p');
    raw.spec!.containers[0]!.resources = { requests: { 'example.com/gpu': '1' } };
    const pod = newPodInfo(raw);
    const r = filterResults(new NodeResourcesFit(), pod, cluster);
    expect(r.gpu).toBe('ok');
    expect(r.free).toBe('Unschedulable: Insufficient example.com/gpu');
  });
});

describe('NodeResourcesFit score (least allocated)', () => {
  test('the node left emptiest scores highest; cpu and memory weigh the same', () => {
    // Upstream's example: a pod asking 3000m/5000 on nodes of 4000m/10000 and 6000m/10000.
    const cluster = clusterOf([makeNode('small', { cpu: '4', memory: '10000' }), makeNode('large', { cpu: '6', memory: '10000' })]);
    expect(scoreResults(new NodeResourcesFit(), podInfo('p', { cpu: '3', memory: '5000' }), cluster)).toEqual({ small: 37, large: 50 });
  });
  test('pods without requests count as 100m and 200Mi, so they still spread', () => {
    const cluster = clusterOf([makeNode('a', { cpu: '1', memory: '1000Mi' }), makeNode('b', { cpu: '1', memory: '1000Mi' })], [makePod('x', { nodeName: 'a' })]);
    // a: cpu (1000-200)/1000 = 80, memory (1000-400)/1000 = 60 → 70; b: 90 and 80 → 85
    expect(scoreResults(new NodeResourcesFit(), podInfo('p'), cluster)).toEqual({ a: 70, b: 85 });
  });
});

describe('NodeResourcesBalancedAllocation', () => {
  test('balancedScore is (1 - std of the used fractions) * 100', () => {
    expect(balancedScore([3000, 5000], [4000, 10000])).toBe(87);
    expect(balancedScore([3000, 5000], [6000, 10000])).toBe(100);
    expect(balancedScore([6000, 0], [4000, 10000])).toBe(50); // fractions capped at 1
    expect(balancedScore([1, 1], [0, 0])).toBe(100); // no capacity: not counted
  });
  test('prefers the node where cpu and memory end up equally used', () => {
    const cluster = clusterOf([makeNode('small', { cpu: '4', memory: '10000' }), makeNode('large', { cpu: '6', memory: '10000' })]);
    expect(scoreResults(new BalancedAllocation(), podInfo('p', { cpu: '3', memory: '5000' }), cluster)).toEqual({ small: 87, large: 100 });
  });
  test('best-effort pods are not scored', () => {
    const cluster = clusterOf([makeNode('a'), makeNode('b', { cpu: '1' })]);
    expect(scoreResults(new BalancedAllocation(), podInfo('p'), cluster)).toEqual({ a: 0, b: 0 });
  });
});

describe('ImageLocality', () => {
  const mb = 1024 * 1024;
  test('normalizes image names', () => {
    expect(normalizedImageName('nginx')).toBe('docker.io/library/nginx:latest');
    expect(normalizedImageName('nginx:1.25')).toBe('docker.io/library/nginx:1.25');
    expect(normalizedImageName('library/nginx')).toBe('docker.io/library/nginx:latest');
    expect(normalizedImageName('registry.local:5000/team/app')).toBe('registry.local:5000/team/app:latest');
    expect(normalizedImageName('busybox@sha256:abc')).toBe('docker.io/library/busybox@sha256:abc');
  });
  test('clamps between 23MB and 1000MB per container', () => {
    expect(imageLocalityScore(10 * mb, 1)).toBe(0);
    expect(imageLocalityScore(2000 * mb, 1)).toBe(100);
    expect(imageLocalityScore(511.5 * mb, 1)).toBe(50);
  });
  test('nodes with a large image score higher, scaled by how widespread it is', () => {
    const big = { names: ['docker.io/library/big:1'], sizeBytes: 800 * mb };
    const cluster = clusterOf([makeNode('has', { images: [big] }), makeNode('hasnt'), makeNode('also', { images: [big] }), makeNode('none')]);
    const s = scoreResults(new ImageLocality(cluster), podInfo('p', { image: 'big:1' }), cluster);
    // 800MB on 2 of 4 nodes counts 400MB: (400-23)/(1000-23)*100 = 38
    expect(s).toEqual({ has: 38, also: 38, hasnt: 0, none: 0 });
  });
});
