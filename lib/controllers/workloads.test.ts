import { describe, expect, test } from 'vitest';
import { FakeClock, MetricsRegistry, silentLogger } from '../base/index.js';
import { FakeClient, SharedInformerFactory } from '../client/index.js';
import { FakeRecorder } from './replicaset/testing.js';
import { defaultControllerManagerOptions, type ControllerContext } from './types.js';
import { horizontalControllerOptions, workloadControllers } from './workloads.js';

describe('workload controller descriptors', () => {
  test('carry upstream --controllers names, all on by default', () => {
    expect(workloadControllers.map((d) => d.name)).toEqual(['replicaset', 'replicationcontroller', 'deployment', 'daemonset', 'statefulset', 'job', 'cronjob', 'disruption', 'horizontalpodautoscaling']);
    expect(workloadControllers.every((d) => d.enabledByDefault)).toBe(true);
  });

  test('each builds a controller that starts, waits for its caches and stops cleanly', async () => {
    const clock = new FakeClock();
    const client = new FakeClient(clock);
    const informers = new SharedInformerFactory({ client, clock });
    const sources: string[] = [];
    const ctx: ControllerContext = {
      client,
      informers,
      recorder: (component) => {
        sources.push(component);
        return new FakeRecorder();
      },
      log: silentLogger(),
      clock,
      metrics: new MetricsRegistry(),
      options: defaultControllerManagerOptions,
    };
    const runnables = workloadControllers.map((d) => d.create(ctx));
    expect(sources).toEqual(['replicaset-controller', 'replication-controller', 'deployment-controller', 'daemonset-controller', 'statefulset-controller', 'job-controller', 'cronjob-controller', 'controllermanager', 'horizontal-pod-autoscaler']);
    const ctl = new AbortController();
    const running = [informers.start(ctl.signal), ...runnables.map((r) => r.start(ctl.signal))];
    await informers.waitForCacheSync(ctl.signal);
    await clock.flush();
    ctl.abort();
    await Promise.all(running);
  });

  test('the autoscaler takes its --horizontal-pod-autoscaler-* flags and its own worker count', () => {
    const clock = new FakeClock();
    const client = new FakeClient(clock);
    const options = {
      ...defaultControllerManagerOptions,
      concurrentSyncsByController: { horizontalpodautoscaling: 2 },
      hpaSyncPeriodMs: 30_000,
      hpaTolerance: 0.2,
      hpaDownscaleStabilizationWindowMs: 60_000,
      hpaCPUInitializationPeriodMs: 0,
      hpaInitialReadinessDelayMs: 10_000,
    };
    const ctx: ControllerContext = { client, informers: new SharedInformerFactory({ client, clock }), recorder: () => new FakeRecorder(), log: silentLogger(), clock, metrics: new MetricsRegistry(), options };
    expect(horizontalControllerOptions(ctx)).toMatchObject({
      workers: 2,
      syncPeriodMs: 30_000,
      tolerance: 0.2,
      downscaleStabilizationWindowMs: 60_000,
      cpuInitializationPeriodMs: 0,
      initialReadinessDelayMs: 10_000,
    });
    expect(horizontalControllerOptions({ ...ctx, options: defaultControllerManagerOptions }).workers).toBe(5);
  });
});
