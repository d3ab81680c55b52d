import { describe, expect, test } from 'vitest';
import type { PodSpec } from '../api/index.js';
import { defaultMemoryRequest, defaultMilliCPURequest, nodeAllocatable, podRequests, resourceFromList } from './resources.js';
import { makeNode } from './testing.js';

const c = (name: string, requests: Record<string, string> = {}, restartPolicy?: 'Always') => ({ name, image: 'x', resources: { requests }, ...(restartPolicy ? { restartPolicy } : {}) });

describe('podRequests', () => {
  const cases: { name: string; spec: PodSpec; cpu: number; memory: number; scalar?: Record<string, number> }[] = [
    { name: 'sum of containers', spec: { containers: [c('a', { cpu: '250m', memory: '64Mi' }), c('b', { cpu: '1', memory: '1Gi' })] }, cpu: 1250, memory: 64 * 2 ** 20 + 2 ** 30 },
    { name: 'an init container larger than the sum wins', spec: { initContainers: [c('i', { cpu: '2' })], containers: [c('a', { cpu: '500m' })] }, cpu: 2000, memory: 0 },
    { name: 'sidecars add to the app containers', spec: { initContainers: [c('s', { cpu: '100m' }, 'Always')], containers: [c('a', { cpu: '500m' })] }, cpu: 600, memory: 0 },
    {
      name: 'an init container after a sidecar runs beside it',
      spec: { initContainers: [c('s', { cpu: '300m' }, 'Always'), c('i', { cpu: '1' })], containers: [c('a', { cpu: '100m' })] },
      cpu: 1300,
      memory: 0,
    },
    { name: 'overhead is added', spec: { containers: [c('a', { cpu: '100m' })], overhead: { cpu: '50m', memory: '10Mi' } }, cpu: 150, memory: 10 * 2 ** 20 },
    { name: 'extended resources', spec: { containers: [c('a', { 'example.com/gpu': '2' })] }, cpu: 0, memory: 0, scalar: { 'example.com/gpu': 2 } },
    { name: 'decimal CPU rounds up to whole millicores', spec: { containers: [c('a', { cpu: '1.1' })] }, cpu: 1100, memory: 0 },
  ];
  test.each(cases)('$name', ({ spec, cpu, memory, scalar }) => {
    const r = podRequests(spec);
    expect(r.milliCPU).toBe(cpu);
    expect(r.memory).toBe(memory);
    expect(r.scalar).toEqual(scalar ?? {});
  });

  test('non-zero requests count unset CPU and memory as 100m and 200Mi, per container', () => {
    const spec: PodSpec = { containers: [c('a'), c('b', { cpu: '1' }), c('z', { cpu: '0', memory: '0' })] };
    const r = podRequests(spec, true);
    expect(r.milliCPU).toBe(defaultMilliCPURequest + 1000 + 0);
    expect(r.memory).toBe(2 * defaultMemoryRequest + 0);
    expect(podRequests(spec).milliCPU).toBe(1000);
  });
});

describe('nodeAllocatable', () => {
  test('reads allocatable, falling back to capacity', () => {
    expect(nodeAllocatable(makeNode('n', { cpu: '3500m', memory: '2Gi', pods: 20 }))).toMatchObject({ milliCPU: 3500, memory: 2 ** 31, allowedPodNumber: 20 });
    const n = makeNode('n');
    delete n.status!.allocatable;
    n.status!.capacity = { cpu: '2', pods: '5' };
    expect(nodeAllocatable(n)).toMatchObject({ milliCPU: 2000, allowedPodNumber: 5 });
  });
  test('hugepages and extended resources are scalar', () => {
    expect(resourceFromList({ 'hugepages-2Mi': '4Mi', 'nvidia.com/gpu': '1' }).scalar).toEqual({ 'hugepages-2Mi': 4 * 2 ** 20, 'nvidia.com/gpu': 1 });
  });
});
