import { describe, expect, test } from 'vitest';
import type { Pod } from '../../api/index.js';
import { FakeClock } from '../../base/index.js';
import { parseLabelSelector } from '../../machinery/index.js';
import { MetricsClient } from './metrics-client.js';
import { ReplicaCalculator, calculatePodRequests } from './replica-calculator.js';
import { FakeMetricsSource, podMetrics, testPod, type TestPodOptions } from './testing.js';

const now = Date.UTC(2025, 0, 1, 12, 0, 0);
/** Started an hour ago: past the cpu initialization period. */
const longAgo = now - 3600_000;
const selector = parseLabelSelector('app=web');

interface Case {
  /** Per pod: its options and its usage (undefined: no metrics for it). */
  pods: { o?: TestPodOptions; cpu?: string }[];
  current: number;
  target: number;
}

function setup(pods: Pod[], metrics: ReturnType<typeof podMetrics>[], tolerance = 0.1) {
  const source = new FakeMetricsSource();
  source.set('default', metrics);
  return new ReplicaCalculator({
    metrics: new MetricsClient(source),
    listPods: (_ns, sel) => pods.filter((p) => sel.matches(p.metadata.labels)),
    tolerance,
    cpuInitializationPeriodMs: 5 * 60_000,
    delayOfInitialReadinessStatusMs: 30_000,
    clock: new FakeClock(now),
  });
}

function cpuCase(c: Case) {
  const pods = c.pods.map((p, i) => testPod(`web-${i}`, { startTime: longAgo, ...p.o }));
  const metrics = c.pods.flatMap((p, i) => (p.cpu === undefined ? [] : [podMetrics(`web-${i}`, { c: { cpu: p.cpu } }, { at: now })]));
  return setup(pods, metrics).getResourceReplicas(c.current, c.target, 'cpu', 'default', selector, '');
}

describe('replica calculator: cpu utilization', () => {
  test.each([
    // Upstream's TestReplicaCalcScaleUp: 50% against 30% → ceil(1.67 × 3).
    ['scale up', { pods: [{ cpu: '300m' }, { cpu: '500m' }, { cpu: '700m' }], current: 3, target: 30 }, { replicas: 5, utilization: 50, rawUtilization: 500 }],
    // TestReplicaCalcScaleDown: 28% against 50% → ceil(0.56 × 5).
    ['scale down', { pods: [{ cpu: '100m' }, { cpu: '300m' }, { cpu: '500m' }, { cpu: '250m' }, { cpu: '250m' }], current: 5, target: 50 }, { replicas: 3, utilization: 28, rawUtilization: 280 }],
    // 105% against 100%: within the 0.1 tolerance, nothing moves.
    ['within tolerance', { pods: [{ cpu: '1050m' }, { cpu: '1050m' }, { cpu: '1050m' }], current: 3, target: 100 }, { replicas: 3, utilization: 105 }],
    ['just outside tolerance', { pods: [{ cpu: '1110m' }, { cpu: '1110m' }, { cpu: '1110m' }], current: 3, target: 100 }, { replicas: 4, utilization: 111 }],
    // TestReplicaCalcScaleUpUnreadyLessScale: the unready pod counts as 0% on the way up: 40% → 4, not 6.
    ['unready pods count 0% on a scale-up', { pods: [{ o: { ready: false }, cpu: '300m' }, { cpu: '500m' }, { cpu: '700m' }], current: 3, target: 30 }, { replicas: 4, utilization: 60 }],
    // TestReplicaCalcScaleUpUnreadyNoScale: with them at 0% the ratio turns below 1: no change.
    ['unready pods that flip the direction keep the count', { pods: [{ cpu: '400m' }, { o: { ready: false }, cpu: '500m' }, { o: { ready: false }, cpu: '700m' }], current: 3, target: 30 }, { replicas: 3, utilization: 40 }],
    // Pending pods are unready whatever the resource; on a scale-down they are simply left out.
    ['pending pods are left out of a scale-down', { pods: [{ cpu: '100m' }, { cpu: '100m' }, { o: { phase: 'Pending' } }], current: 3, target: 50 }, { replicas: 1, utilization: 10 }],
    // Missing pods on a scale-down count at 100% of their request: 10% becomes 40%, 0.8 × 3.
    ['missing pods count 100% on a scale-down', { pods: [{ cpu: '100m' }, { cpu: '100m' }, {}], current: 3, target: 80 }, { replicas: 2, utilization: 10 }],
    // ... which here turns the direction (55% against 50%): no change.
    ['missing pods that flip a scale-down keep the count', { pods: [{ cpu: '100m' }, { cpu: '100m' }, {}, {}], current: 4, target: 50 }, { replicas: 4, utilization: 10 }],
    // Missing pods on a scale-up count 0%: 90% becomes 60%, 1.2 × 3.
    ['missing pods count 0% on a scale-up', { pods: [{ cpu: '900m' }, { cpu: '900m' }, {}], current: 3, target: 50 }, { replicas: 4, utilization: 90 }],
    // A pod being deleted or failed is not counted at all.
    ['deleted and failed pods are ignored', { pods: [{ cpu: '500m' }, { o: { deleting: true }, cpu: '2' }, { o: { phase: 'Failed' }, cpu: '2' }], current: 1, target: 50 }, { replicas: 1, utilization: 50 }],
    // Requests summed over the containers: 300m of 2 cpu = 15%.
  ] as const)('%s', async (_what, c, want) => {
    expect(await cpuCase(c as unknown as Case)).toMatchObject(want);
  });

  test('utilization is summed usage over summed requests, across different requests', async () => {
    const pods = [testPod('web-0', { startTime: longAgo, requests: { a: { cpu: '500m' }, b: { cpu: '1500m' } } }), testPod('web-1', { startTime: longAgo, requests: { a: { cpu: '1' } } })];
    const metrics = [podMetrics('web-0', { a: { cpu: '400m' }, b: { cpu: '1' } }, { at: now }), podMetrics('web-1', { a: { cpu: '200m' } }, { at: now })];
    // (1400 + 200) / (2000 + 1000) = 53%; against 50%: within tolerance.
    expect(await setup(pods, metrics).getResourceReplicas(2, 50, 'cpu', 'default', selector, '')).toMatchObject({ replicas: 2, utilization: 53, rawUtilization: 800 });
  });

  test('a container without a request for the resource is an error naming it', async () => {
    const pods = [testPod('web-0', { startTime: longAgo }), testPod('web-1', { startTime: longAgo, requests: { c: { cpu: '1' }, sidecar: {} } })];
    const metrics = [podMetrics('web-0', { c: { cpu: '1' } }, { at: now }), podMetrics('web-1', { c: { cpu: '1' }, sidecar: { cpu: '1m' } }, { at: now })];
    await expect(setup(pods, metrics).getResourceReplicas(2, 50, 'cpu', 'default', selector, '')).rejects.toThrow('missing request for cpu in container sidecar of Pod web-1');
  });

  test('no metrics at all, and none for ready pods, are errors', async () => {
    const pods = [testPod('web-0', { startTime: longAgo })];
    await expect(setup(pods, []).getResourceReplicas(1, 50, 'cpu', 'default', selector, '')).rejects.toThrow('unable to get metrics for resource cpu: no metrics returned from resource metrics API');
    const pending = [testPod('web-0', { startTime: longAgo, phase: 'Pending' })];
    await expect(setup(pending, [podMetrics('web-0', { c: { cpu: '1' } }, { at: now })]).getResourceReplicas(1, 50, 'cpu', 'default', selector, '')).rejects.toThrow(
      'did not receive metrics for targeted pods (pods might be unready)',
    );
  });

  test('within the cpu initialization period a sample counts only if taken a full window after the pod turned ready', async () => {
    const started = now - 60_000;
    const pods = [testPod('web-0', { startTime: longAgo }), testPod('web-1', { startTime: started, readySince: now - 10_000 }), testPod('web-2', { startTime: started, readySince: now - 50_000 })];
    // Window 30s: web-1 turned ready 10s ago, its sample still covers its start-up; web-2's does not.
    const metrics = ['web-0', 'web-1', 'web-2'].map((n) => podMetrics(n, { c: { cpu: '900m' } }, { at: now, window: '30s' }));
    // web-1 is unready: 900m × 2 of 2 cpu = 90% against 50% → ratio 1.8 with an unready pod →
    // it counts 0%: 1800 / 3000 = 60% → ceil(1.2 × 3) = 4.
    expect(await setup(pods, metrics).getResourceReplicas(3, 50, 'cpu', 'default', selector, '')).toMatchObject({ replicas: 4, utilization: 90 });
    // The same samples for memory: readiness does not matter, all three count.
    const mem = [testPod('m-0', { startTime: started, readySince: now - 10_000, requests: { c: { memory: '100Mi' } } })];
    const memMetrics = [podMetrics('m-0', { c: { memory: '180Mi' } }, { at: now, window: '30s' })];
    expect(await setup(mem, memMetrics).getResourceReplicas(1, 50, 'memory', 'default', selector, '')).toMatchObject({ replicas: 4, utilization: 180 });
  });

  test('after the initialization period an unready pod is left out only if it never was ready', async () => {
    const neverReady = testPod('web-1', { startTime: longAgo, ready: false, readySince: longAgo + 10_000 });
    const wasReady = testPod('web-1', { startTime: longAgo, ready: false, readySince: now - 60_000 });
    const metrics = [podMetrics('web-0', { c: { cpu: '100m' } }, { at: now }), podMetrics('web-1', { c: { cpu: '100m' } }, { at: now })];
    // Never ready: left out, and the lone sample (10% of 50%) scales to ceil(0.2 × 1) = 1.
    expect(await setup([testPod('web-0', { startTime: longAgo }), neverReady], metrics).getResourceReplicas(2, 50, 'cpu', 'default', selector, '')).toMatchObject({ replicas: 1 });
    // Was ready once: its sample counts like any other: ceil(0.2 × 2) = 1, from two ready pods.
    expect(await setup([testPod('web-0', { startTime: longAgo }), wasReady], metrics).getResourceReplicas(2, 50, 'cpu', 'default', selector, '')).toMatchObject({ replicas: 1, utilization: 10 });
  });

  test('a container resource counts that container only', async () => {
    const pods = [0, 1].map((i) => testPod(`web-${i}`, { startTime: longAgo, requests: { app: { cpu: '1' }, proxy: { cpu: '100m' } } }));
    // The app is at 80% of its request; the proxy's 100% would not count.
    const metrics = [0, 1].map((i) => podMetrics(`web-${i}`, { app: { cpu: '800m' }, proxy: { cpu: '100m' } }, { at: now }));
    expect(await setup(pods, metrics).getResourceReplicas(2, 40, 'cpu', 'default', selector, 'app')).toMatchObject({ replicas: 4, utilization: 80, rawUtilization: 800 });
    await expect(setup(pods, metrics).getResourceReplicas(2, 40, 'cpu', 'default', selector, 'db')).rejects.toThrow('container db not present in metrics for pod default/web-0');
  });
});

describe('replica calculator: average values', () => {
  test('desired = total usage / target average, with the same tolerance', async () => {
    const pods = [0, 1, 2].map((i) => testPod(`web-${i}`, { startTime: longAgo, requests: { c: { memory: '64Mi' } } }));
    const metrics = [0, 1, 2].map((i) => podMetrics(`web-${i}`, { c: { memory: '200Mi' } }, { at: now }));
    // 600Mi over a 100Mi average target: 6 replicas; usage reported as the average per pod.
    const r = await setup(pods, metrics).getRawResourceReplicas(3, 100 * 1024 * 1024 * 1000, 'memory', 'default', selector, '');
    expect(r).toMatchObject({ replicas: 6, usage: 200 * 1024 * 1024 * 1000 });
    // 205Mi against 200Mi: within tolerance.
    expect((await setup(pods, metrics.map((m) => ({ ...m, containers: [{ name: 'c', usage: { memory: '205Mi' } }] }))).getRawResourceReplicas(3, 200 * 1024 * 1024 * 1000, 'memory', 'default', selector, '')).replicas).toBe(3);
  });

  test('missing pods count at the target on a scale-down and 0 on a scale-up', async () => {
    const pods = [0, 1, 2].map((i) => testPod(`web-${i}`, { startTime: longAgo }));
    const two = (cpu: string) => [0, 1].map((i) => podMetrics(`web-${i}`, { c: { cpu } }, { at: now }));
    // Down: (100 + 100 + 500) / 3 = 233m against 500m → ceil(0.467 × 3) = 2.
    expect((await setup(pods, two('100m')).getRawResourceReplicas(3, 500, 'cpu', 'default', selector, '')).replicas).toBe(2);
    // Up: (1000 + 1000 + 0) / 3 = 667m against 500m → ceil(1.33 × 3) = 4.
    expect((await setup(pods, two('1')).getRawResourceReplicas(3, 500, 'cpu', 'default', selector, '')).replicas).toBe(4);
  });
});

describe('pod requests', () => {
  test('sidecars (init containers that keep running) count; plain init containers do not', () => {
    const pod = testPod('web-0', { requests: { c: { cpu: '250m' } } });
    pod.spec!.initContainers = [
      { name: 'sidecar', image: 'x', restartPolicy: 'Always', resources: { requests: { cpu: '50m' } } },
      { name: 'setup', image: 'x' },
    ];
    expect(calculatePodRequests([pod], '', 'cpu').get('web-0')).toBe(300);
  });
});
