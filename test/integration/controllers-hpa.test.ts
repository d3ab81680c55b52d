/**
 * HorizontalPodAutoscalers against the real API server: an autoscaler created with the real
 * kubectl scales a Deployment through its scale subresource (the deployment and replica set
 * controllers and a fake kubelet do the rest), reports what it saw in its status, and holds a
 * scale-down for its stabilization window.
 *
 * The pods' cpu usage comes from a metrics source the test controls (the API server would ask
 * the kubelets; the fake ones have no cgroups to measure). The autoscaler runs on a clock of
 * its own that the test moves by one sync period at a time, so each sync is one step here.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { FakeClock, rfc3339 } from '../../lib/base/index.js';
import { Resources, type KubeClient } from '../../lib/client/index.js';
import { HorizontalController, MetricsAPISource, horizontalPodAutoscalers, type PodMetrics } from '../../lib/controllers/podautoscaler/index.js';
import { horizontalControllerOptions } from '../../lib/controllers/workloads.js';
import { startAPIServer, type TestAPIServer } from '../support/apiserver.js';
import { kubectls, runKubectl, type Kubectl } from '../support/kubectl.js';
import { startControllers, until, type ControllerHarness } from '../support/workload-harness.js';

let s: TestAPIServer;
let h: ControllerHarness;
let k: Kubectl;
let hpaController: CountingController;
const hpaClock = new FakeClock(Date.now());
const syncPeriodMs = 15_000;

/** Counts finished syncs, so the test knows when a step has been taken. */
class CountingController extends HorizontalController {
  syncs = 0;
  override async sync(key: string, signal?: AbortSignal) {
    try {
      return await super.sync(key, signal);
    } finally {
      this.syncs++;
    }
  }
}

/** cpu used by each running pod, by the pod's app label. */
const cpuUsage = new Map<string, string>();

/**
 * PodMetrics as the API server would serve them, from `cpuUsage`: for each running, bound pod
 * of the selector, every container at that usage, measured now over a zero window (so a sample
 * counts as soon as its pod is Ready). Custom and external metrics: none, as in tkube.
 */
class TestMetrics extends MetricsAPISource {
  constructor(private readonly kube: KubeClient) {
    super(kube);
  }

  override async podMetrics(namespace: string, selector: string): Promise<PodMetrics[]> {
    const pods = await this.kube.resource(Resources.pods, namespace).list({ labelSelector: selector });
    return pods.items
      .filter((p) => p.spec?.nodeName && p.status?.phase === 'Running' && !p.metadata.deletionTimestamp)
      .map((p) => ({
        metadata: { name: p.metadata.name!, namespace, labels: p.metadata.labels },
        timestamp: new Date().toISOString(),
        window: '0s',
        containers: (p.spec?.containers ?? []).map((c) => ({ name: c.name, usage: { cpu: cpuUsage.get(p.metadata.labels?.app ?? '') ?? '0', memory: '10Mi' } })),
      }));
  }
}

beforeAll(async () => {
  s = await startAPIServer();
  h = await startControllers(s, {
    controllers: ['deployment', 'replicaset'],
    kubelet: { nodes: ['node-a', 'node-b'] },
    extra: (ctx) => {
      hpaController = new CountingController({ ...horizontalControllerOptions(ctx), clock: hpaClock, metrics: new TestMetrics(ctx.client), syncPeriodMs });
      return [hpaController];
    },
  });
  k = kubectls()[kubectls().length - 1]!;
});
afterAll(async () => {
  await h?.stop();
  await s?.stop();
});

async function kubectl(args: string[], input?: string): Promise<string> {
  const r = await runKubectl(k, s.kubeconfig, args, { timeoutMs: 90_000, input });
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

const hpas = () => h.client.resource(horizontalPodAutoscalers, 'default');
const hpaStatus = async (name: string) => (await hpas().get(name)).status;
const condition = async (name: string, type: string) => (await hpaStatus(name))?.conditions?.find((c) => c.type === type);
const deploymentReplicas = async (name: string) => (await h.client.resource(Resources.deployments, 'default').get(name)).spec?.replicas;

/** The autoscaler's events, as `Type Reason: message`, oldest first. */
async function hpaEvents(name: string): Promise<string[]> {
  const events = (await h.client.resource(Resources.events, 'default').list()).items.filter(
    (e) => e.involvedObject.kind === 'HorizontalPodAutoscaler' && e.involvedObject.name === name && e.source?.component === 'horizontal-pod-autoscaler',
  );
  return events.map((e) => `${e.type} ${e.reason}: ${e.message}`);
}

/** Moves the autoscaler's clock one sync period on and waits for the syncs that come due. */
async function nextSync(autoscalers = 1): Promise<void> {
  const before = hpaController.syncs;
  await hpaClock.advance(syncPeriodMs);
  await until(() => hpaController.syncs >= before + autoscalers, 'the autoscaler synced');
}

/** `kubectl get hpa` columns: NAME REFERENCE TARGETS MINPODS MAXPODS REPLICAS (AGE dropped). */
async function getHPA(name: string): Promise<string> {
  const line = (await kubectl(['get', 'hpa', name, '--no-headers'])).trim();
  return line.replace(/\s{2,}\S+$/, '').split(/\s{2,}/).join(' | ');
}

function deploymentYAML(name: string, resources: string): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  replicas: 1
  selector:
    matchLabels:
      app: ${name}
  template:
    metadata:
      labels:
        app: ${name}
    spec:
      containers:
      - name: nginx
        image: nginx:1.27
${resources}`;
}

function hpaYAML(name: string, behavior = ''): string {
  return `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: ${name}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: ${name}
  minReplicas: 1
  maxReplicas: 4
  metrics:
  - type: Resource
    resource:
      name: cpu
      target:
        type: Utilization
        averageUtilization: 50
${behavior}`;
}

test('cpu above target scales the deployment up; below, it comes down once the stabilization window has passed', async () => {
  await kubectl(['apply', '-f', '-'], deploymentYAML('web', '        resources:\n          requests:\n            cpu: 100m\n'));
  await kubectl(['rollout', 'status', 'deployment/web', '--timeout=60s']);
  cpuUsage.set('web', '230m');

  // A short scale-down window (60s instead of the flag's 5m), through spec.behavior.
  await kubectl(['apply', '-f', '-'], hpaYAML('web', '  behavior:\n    scaleDown:\n      stabilizationWindowSeconds: 60\n'));
  await until(async () => (await hpaStatus('web'))?.desiredReplicas === 4, 'the first sync');
  const t0 = hpaClock.now();

  // 230% of requests against 50%: ceil(4.6) = 5 replicas, bounded by maxReplicas.
  expect(await deploymentReplicas('web')).toBe(4);
  await until(async () => (await hpaEvents('web')).length > 0, 'the rescale event');
  expect(await hpaEvents('web')).toEqual(['Normal SuccessfulRescale: New size: 4; reason: cpu resource utilization (percentage of request) above target']);
  const st = (await hpaStatus('web'))!;
  expect(st).toMatchObject({ currentReplicas: 1, desiredReplicas: 4, lastScaleTime: rfc3339(t0) });
  expect(st.currentMetrics).toEqual([{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 230, averageValue: '230m' } } }]);
  expect(st.conditions!.map(({ type, status, reason, message }) => ({ type, status, reason, message }))).toEqual([
    { type: 'AbleToScale', status: 'True', reason: 'SucceededRescale', message: 'the HPA controller was able to update the target scale to 4' },
    { type: 'ScalingActive', status: 'True', reason: 'ValidMetricFound', message: 'the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)' },
    { type: 'ScalingLimited', status: 'True', reason: 'TooManyReplicas', message: 'the desired replica count is more than the maximum replica count' },
  ]);
  expect(await getHPA('web')).toBe('web | Deployment/web | cpu: 230%/50% | 1 | 4 | 1');
  await kubectl(['rollout', 'status', 'deployment/web', '--timeout=60s']);

  // Next period: four pods at 230% would want 10; the count stays at the maximum.
  await nextSync();
  expect(await hpaStatus('web')).toMatchObject({ currentReplicas: 4, desiredReplicas: 4 });
  expect(await condition('web', 'AbleToScale')).toMatchObject({ status: 'True', reason: 'ReadyForNewScale', message: 'recommended size matches current size' });
  expect(await getHPA('web')).toBe('web | Deployment/web | cpu: 230%/50% | 1 | 4 | 4');

  // Usage drops to 10%: one replica would do, but the recommendations of the last 60s were higher.
  cpuUsage.set('web', '10m');
  for (let i = 0; i < 3; i++) {
    await nextSync();
    expect(await deploymentReplicas('web')).toBe(4);
    expect(await condition('web', 'AbleToScale')).toMatchObject({
      status: 'True',
      reason: 'ScaleDownStabilized',
      message: 'recent recommendations were higher than current one, applying the highest recent recommendation',
    });
  }
  expect((await hpaStatus('web'))!.currentMetrics).toEqual([{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 10, averageValue: '10m' } } }]);
  expect(await getHPA('web')).toBe('web | Deployment/web | cpu: 10%/50% | 1 | 4 | 4');

  // 75s after the start, 60s after the last recommendation of 10: down to one.
  await nextSync();
  expect(hpaClock.now() - t0).toBe(75_000);
  await until(async () => (await deploymentReplicas('web')) === 1, 'scaled down');
  expect(await hpaEvents('web')).toEqual([
    'Normal SuccessfulRescale: New size: 4; reason: cpu resource utilization (percentage of request) above target',
    'Normal SuccessfulRescale: New size: 1; reason: All metrics below target',
  ]);
  expect(await hpaStatus('web')).toMatchObject({ currentReplicas: 4, desiredReplicas: 1 });
  expect(await condition('web', 'AbleToScale')).toMatchObject({ status: 'True', reason: 'SucceededRescale', message: 'the HPA controller was able to update the target scale to 1' });
  await kubectl(['rollout', 'status', 'deployment/web', '--timeout=60s']);
  const describe = await kubectl(['describe', 'hpa', 'web']);
  expect(describe).toMatch(/SuccessfulRescale\s+.*New size: 1; reason: All metrics below target/);
});

test('a target whose pods request no cpu: ScalingActive False FailedGetResourceMetric, a warning, no scaling', async () => {
  await kubectl(['apply', '-f', '-'], deploymentYAML('norequest', ''));
  await kubectl(['rollout', 'status', 'deployment/norequest', '--timeout=60s']);
  cpuUsage.set('norequest', '500m');
  await kubectl(['apply', '-f', '-'], hpaYAML('norequest'));
  await until(async () => (await condition('norequest', 'ScalingActive'))?.reason === 'FailedGetResourceMetric', 'the failed sync');

  const pod = (await h.client.resource(Resources.pods, 'default').list({ labelSelector: 'app=norequest' })).items[0]!.metadata.name;
  const why = `failed to get cpu utilization: missing request for cpu in container nginx of Pod ${pod}`;
  expect(await condition('norequest', 'ScalingActive')).toMatchObject({ status: 'False', message: `the HPA was unable to compute the replica count: ${why}` });
  expect(await condition('norequest', 'AbleToScale')).toMatchObject({ status: 'True', reason: 'SucceededGetScale' });
  await until(async () => (await hpaEvents('norequest')).length >= 2, 'the warnings');
  expect(await hpaEvents('norequest')).toEqual([
    `Warning FailedGetResourceMetric: ${why}`,
    `Warning FailedComputeMetricsReplicas: invalid metrics (1 invalid out of 1), first error is: failed to get cpu resource metric value: ${why}`,
  ]);
  expect(await getHPA('norequest')).toBe('norequest | Deployment/norequest | cpu: <unknown>/50% | 1 | 4 | 1');
  // And so it stays, sync after sync.
  await nextSync(2);
  expect(await deploymentReplicas('norequest')).toBe(1);
  expect((await hpas().get('norequest')).status?.conditions?.find((c) => c.type === 'ScalingActive')?.reason).toBe('FailedGetResourceMetric');
});

test('the default metrics source lists PodMetrics from the API server', async () => {
  // The fake kubelets serve no stats, so the API answers with no PodMetrics (rather than 404 or 403).
  await expect(new MetricsAPISource(h.client).podMetrics('default', 'app=web')).resolves.toEqual([]);
});
