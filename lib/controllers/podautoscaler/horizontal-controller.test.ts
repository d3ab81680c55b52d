import { afterEach, describe, expect, test } from 'vitest';
import type { Deployment, HorizontalPodAutoscaler, Scale } from '../../api/index.js';
import { rfc3339 } from '../../base/index.js';
import { Resources, type FakeClient, type ResourceDescriptor } from '../../client/index.js';
import { formatLabelSelector, newConflict } from '../../machinery/index.js';
import { eventually, newHarness, settle, type Harness } from '../replicaset/testing.js';
import { HorizontalController, horizontalPodAutoscalers } from './horizontal-controller.js';
import type { CrossVersionObjectReference } from './metrics-source.js';
import type { ScaleClient } from './scale-client.js';
import { FakeMetricsSource, podMetrics, testPod } from './testing.js';

/** Deployments' scale, read and written in the fake client as the API server's scale subresource would. */
class DeploymentScales implements ScaleClient {
  /** Errors the next updates throw, in order. */
  readonly failUpdates: Error[] = [];

  constructor(private readonly client: FakeClient) {}

  async get(namespace: string, ref: CrossVersionObjectReference): Promise<{ scale: Scale; resource: ResourceDescriptor }> {
    if (ref.kind !== 'Deployment') throw new Error(`no matches for kind "${ref.kind}" in group "apps"`);
    const d = await this.client.resource(Resources.deployments, namespace).get(ref.name);
    const scale: Scale = {
      apiVersion: 'autoscaling/v1',
      kind: 'Scale',
      metadata: { name: d.metadata.name, namespace, resourceVersion: d.metadata.resourceVersion },
      spec: { replicas: d.spec?.replicas ?? 0 },
      status: { replicas: d.status?.replicas ?? 0, selector: formatLabelSelector(d.spec?.selector) },
    };
    return { scale, resource: Resources.deployments };
  }

  async update(namespace: string, _resource: ResourceDescriptor, scale: Scale): Promise<Scale> {
    const err = this.failUpdates.shift();
    if (err) throw err;
    const deployments = this.client.resource(Resources.deployments, namespace);
    const d = await deployments.get(scale.metadata.name!);
    // Conditional on the resourceVersion the scale was read at, as the API server's PUT.
    await deployments.update({ ...d, metadata: { ...d.metadata, resourceVersion: scale.metadata.resourceVersion }, spec: { ...d.spec!, replicas: scale.spec?.replicas } });
    return scale;
  }
}

let h: Harness;
let metrics: FakeMetricsSource;
let scales: DeploymentScales;
afterEach(async () => {
  await h?.stop();
});

const hpas = () => h.client.resource(horizontalPodAutoscalers, 'default');
const deployments = () => h.client.resource(Resources.deployments, 'default');
const status = async (name = 'web') => (await hpas().get(name)).status;
const condition = async (type: string, name = 'web') => (await status(name))?.conditions?.find((c) => c.type === type);
const replicas = async () => (await deployments().get('web')).spec?.replicas;

async function start(): Promise<void> {
  h = newHarness();
  metrics = new FakeMetricsSource();
  scales = new DeploymentScales(h.client);
  await h.run(new HorizontalController({ client: h.client, informers: h.factory, recorder: h.recorder, clock: h.clock, metrics, scales }));
}

/** A deployment of `n` replicas with `n` running pods, each requesting 100m cpu and using `cpu`. */
async function deployment(n: number, cpu: string | undefined): Promise<void> {
  const d: Deployment = { metadata: { name: 'web', namespace: 'default' }, spec: { replicas: n, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [] } } } };
  await deployments().create(d);
  const items = [];
  for (let i = 0; i < n; i++) {
    await h.client.resource(Resources.pods, 'default').create(testPod(`web-${i}`, { requests: { c: { cpu: '100m' } } }));
    if (cpu !== undefined) items.push(podMetrics(`web-${i}`, { c: { cpu } }, { at: h.clock.now() }));
  }
  metrics.set('default', items);
}

function hpa(spec: Partial<NonNullable<HorizontalPodAutoscaler['spec']>> = {}, name = 'web'): HorizontalPodAutoscaler {
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name, namespace: 'default' },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
      minReplicas: 1,
      maxReplicas: 4,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }],
      ...spec,
    },
  };
}

/** One sync period later, once every autoscaler has been synced again. */
async function nextSync(): Promise<void> {
  await settle(h);
  await h.clock.advance(15_000);
  await settle(h);
}

describe('horizontal pod autoscaler controller', () => {
  test('scales up from cpu utilization: the rescale event, currentMetrics and conditions', async () => {
    await start();
    await deployment(1, '230m');
    await hpas().create(hpa());
    await eventually(async () => (await replicas()) === 4, 'scaled up');
    // 230% of requests against 50%: ceil(4.6) = 5, bounded by maxReplicas.
    expect(h.recorder.lines((e) => e.type === 'Normal')).toEqual(['SuccessfulRescale: New size: 4; reason: cpu resource utilization (percentage of request) above target']);
    await eventually(async () => (await status())?.desiredReplicas === 4, 'status');
    const st = (await status())!;
    const now = rfc3339(h.clock.now());
    expect(st).toMatchObject({ currentReplicas: 1, desiredReplicas: 4, lastScaleTime: now });
    expect(st.currentMetrics).toEqual([{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 230, averageValue: '230m' } } }]);
    expect(st.conditions).toEqual([
      { type: 'AbleToScale', status: 'True', lastTransitionTime: now, reason: 'SucceededRescale', message: 'the HPA controller was able to update the target scale to 4' },
      { type: 'ScalingActive', status: 'True', lastTransitionTime: now, reason: 'ValidMetricFound', message: 'the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)' },
      { type: 'ScalingLimited', status: 'True', lastTransitionTime: now, reason: 'TooManyReplicas', message: 'the desired replica count is more than the maximum replica count' },
    ]);
  });

  test('within tolerance nothing moves, the status is written once, and conditions keep their transition time', async () => {
    await start();
    await deployment(2, '52m');
    await hpas().create(hpa());
    await eventually(async () => (await status())?.currentMetrics !== undefined, 'status');
    const first = (await status())!;
    expect(first).toMatchObject({ currentReplicas: 2, desiredReplicas: 2 });
    expect(first.conditions!.map((c) => `${c.type}=${c.status} ${c.reason}`)).toEqual(['AbleToScale=True ReadyForNewScale', 'ScalingActive=True ValidMetricFound', 'ScalingLimited=False DesiredWithinRange']);
    const writes = () => h.client.actions.filter((a) => a.verb === 'update' && a.subresource === 'status' && a.resource.startsWith('horizontalpodautoscalers')).length;
    expect(writes()).toBe(1);
    await nextSync();
    await nextSync();
    expect(writes()).toBe(1);
    expect(await replicas()).toBe(2);
    // Usage doubles: the scale-up changes AbleToScale's reason but not its status, nor its time.
    metrics.set('default', [0, 1].map((i) => podMetrics(`web-${i}`, { c: { cpu: '150m' } }, { at: h.clock.now() })));
    await nextSync();
    await eventually(async () => (await replicas()) === 4, 'scaled up');
    const c = (await condition('AbleToScale'))!;
    expect(c).toMatchObject({ status: 'True', reason: 'SucceededRescale', lastTransitionTime: first.conditions![0]!.lastTransitionTime });
    expect((await status())!.lastScaleTime).toBe(rfc3339(h.clock.now()));
  });

  test('a target scaled to zero is left alone', async () => {
    await start();
    await deployment(0, undefined);
    await hpas().create(hpa());
    await eventually(async () => (await condition('ScalingActive'))?.reason === 'ScalingDisabled', 'disabled');
    expect(await condition('ScalingActive')).toMatchObject({ status: 'False', message: 'scaling is disabled since the replica count of the target is zero' });
    expect(await status()).toMatchObject({ currentReplicas: 0, desiredReplicas: 0 });
    await nextSync();
    expect(await replicas()).toBe(0);
    expect(h.recorder.events).toEqual([]);
  });

  test.each([
    ['below minReplicas', 1, { minReplicas: 2 }, 2, 'Current number of replicas below Spec.MinReplicas'],
    ['above maxReplicas', 6, { maxReplicas: 4 }, 4, 'Current number of replicas above Spec.MaxReplicas'],
  ] as const)('a target %s is brought within bounds without reading metrics', async (_what, n, spec, want, reason) => {
    await start();
    await deployment(n, undefined);
    await hpas().create(hpa(spec));
    await eventually(async () => (await replicas()) === want, 'bounded');
    expect(h.recorder.lines()).toEqual([`SuccessfulRescale: New size: ${want}; reason: ${reason}`]);
  });

  test('a missing target: AbleToScale False FailedGetScale and a warning', async () => {
    await start();
    await hpas().create(hpa());
    await eventually(async () => (await condition('AbleToScale'))?.reason === 'FailedGetScale', 'condition');
    expect(await condition('AbleToScale')).toMatchObject({ status: 'False', message: 'the HPA controller was unable to get the target\'s current scale: deployments.apps "web" not found' });
    expect(h.recorder.lines()).toEqual(['FailedGetScale: deployments.apps "web" not found']);
  });

  test('pods, object and external metrics need APIs tkube does not serve: ScalingActive False, no rescale', async () => {
    await start();
    await deployment(2, '10m');
    const target = { type: 'AverageValue' as const, averageValue: '10' };
    await hpas().create(hpa({ metrics: [{ type: 'Pods', pods: { metric: { name: 'packets-per-second' }, target } }] }));
    await eventually(async () => (await condition('ScalingActive'))?.reason === 'FailedGetPodsMetric', 'condition');
    expect(await condition('ScalingActive')).toMatchObject({
      status: 'False',
      message: 'the HPA was unable to compute the replica count: unable to get metric packets-per-second: unable to fetch metrics from custom metrics API: no custom metrics API (custom.metrics.k8s.io) registered',
    });
    expect(h.recorder.lines((e) => e.type === 'Warning')).toEqual([
      'FailedGetPodsMetric: unable to get metric packets-per-second: unable to fetch metrics from custom metrics API: no custom metrics API (custom.metrics.k8s.io) registered',
      'FailedComputeMetricsReplicas: invalid metrics (1 invalid out of 1), first error is: failed to get pods metric value: unable to get metric packets-per-second: unable to fetch metrics from custom metrics API: no custom metrics API (custom.metrics.k8s.io) registered',
    ]);
    expect(await status()).toMatchObject({ currentReplicas: 2, currentMetrics: [{ type: 'Pods' }] });

    await hpas().create(
      hpa(
        {
          scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'other' },
          metrics: [
            { type: 'Object', object: { describedObject: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name: 'main' }, metric: { name: 'requests' }, target: { type: 'Value', value: '10' } } },
            { type: 'External', external: { metric: { name: 'queue_length' }, target } },
          ],
        },
        'other',
      ),
    );
    await deployments().create({ metadata: { name: 'other', namespace: 'default' }, spec: { replicas: 1, selector: { matchLabels: { app: 'other' } }, template: { metadata: { labels: { app: 'other' } }, spec: { containers: [] } } } });
    await nextSync();
    await eventually(async () => (await condition('ScalingActive', 'other'))?.reason === 'FailedGetObjectMetric', 'object condition');
    expect(h.recorder.lines((e) => e.name === 'other' && e.reason === 'FailedGetExternalMetric')[0]).toBe(
      'FailedGetExternalMetric: unable to get external metric default/queue_length/nil: unable to fetch metrics from external metrics API: no external metrics API (external.metrics.k8s.io) registered',
    );
    expect((await deployments().get('other')).spec?.replicas).toBe(1);
  });

  test('a metric that fails does not stop another that asks for more', async () => {
    await start();
    await deployment(1, '100m');
    await hpas().create(
      hpa({
        metrics: [
          { type: 'Pods', pods: { metric: { name: 'packets-per-second' }, target: { type: 'AverageValue', averageValue: '1' } } },
          { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } },
        ],
      }),
    );
    await eventually(async () => (await replicas()) === 2, 'scaled on cpu');
    await eventually(async () => (await status())?.desiredReplicas === 2, 'status');
    expect(await condition('ScalingActive')).toMatchObject({ status: 'True', reason: 'ValidMetricFound' });
    expect((await status())!.currentMetrics).toEqual([{ type: 'Pods' }, { type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 100, averageValue: '100m' } } }]);
    expect(h.recorder.lines((e) => e.reason === 'FailedGetPodsMetric')).toHaveLength(1);
  });

  test('a failed scale update is reported and retried at the next sync', async () => {
    await start();
    await deployment(1, '100m');
    scales.failUpdates.push(newConflict({ group: 'apps', resource: 'deployments' }, 'web', 'the object has been modified; please apply your changes to the latest version and try again'));
    await hpas().create(hpa());
    await eventually(async () => (await condition('AbleToScale'))?.reason === 'FailedUpdateScale', 'failed');
    expect((await condition('AbleToScale'))!.status).toBe('False');
    expect(h.recorder.lines((e) => e.type === 'Warning')[0]).toMatch(/^FailedRescale: New size: 2; reason: cpu resource utilization \(percentage of request\) above target; error: Operation cannot be fulfilled on deployments.apps "web"/);
    expect(await replicas()).toBe(1);
    await nextSync();
    await eventually(async () => (await replicas()) === 2, 'retried');
    expect(await condition('AbleToScale')).toMatchObject({ status: 'True', reason: 'SucceededRescale' });
  });

  test('two autoscalers over the same pods are both refused', async () => {
    await start();
    await deployment(1, '100m');
    await hpas().create(hpa({}, 'a'));
    await eventually(async () => (await status('a'))?.desiredReplicas === 2, 'a scaled');
    await hpas().create(hpa({}, 'b'));
    await nextSync();
    const message = 'pods by selector app=web are controlled by multiple HPAs: [{a default} {b default}]';
    for (const name of ['a', 'b']) {
      await eventually(async () => (await condition('ScalingActive', name))?.reason === 'AmbiguousSelector', `${name} ambiguous`);
      expect((await condition('ScalingActive', name))!.message).toBe(message);
    }
    // Once one goes, the other scales again.
    await hpas().delete('b');
    await nextSync();
    await eventually(async () => (await condition('ScalingActive', 'a'))?.reason === 'ValidMetricFound', 'a active again');
  });
});
