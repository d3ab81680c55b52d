/**
 * HorizontalPodAutoscalers in both served versions: `kubectl autoscale` writes autoscaling/v1,
 * everything else reads autoscaling/v2, and both see one object. What v1 cannot express rides
 * in upstream's annotations, so a v1 client writing an object back loses nothing.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { api, startAPIServer, type TestAPIServer } from '../support/apiserver.js';
import { kubectls, runKubectl } from '../support/kubectl.js';

let s: TestAPIServer;
beforeAll(async () => {
  s = await startAPIServer();
});
afterAll(async () => {
  await s?.stop();
});

const k = () => kubectls()[kubectls().length - 1]!;
async function kubectl(...args: string[]): Promise<string> {
  const r = await runKubectl(k(), s.kubeconfig, args);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}
const v1 = (name = '') => `/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers${name ? `/${name}` : ''}`;
const v2 = (name = '') => `/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers${name ? `/${name}` : ''}`;

test('discovery serves autoscaling v2 (preferred) and v1', async () => {
  const g = (await api(s.url, 'GET', '/apis/autoscaling')).body;
  expect(g.versions.map((v: { version: string }) => v.version)).toEqual(['v2', 'v1']);
  expect(g.preferredVersion.version).toBe('v2');
  const res = (await api(s.url, 'GET', '/apis/autoscaling/v1')).body.resources.map((r: { name: string }) => r.name);
  expect(res).toEqual(expect.arrayContaining(['horizontalpodautoscalers', 'horizontalpodautoscalers/status']));
});

test('kubectl autoscale creates an autoscaler that reads the same in v1 and v2', async () => {
  await kubectl('create', 'deployment', 'web', '--image=busybox:1.36', '--replicas=1');
  expect(await kubectl('autoscale', 'deployment', 'web', '--min=2', '--max=5', '--cpu-percent=60')).toContain('horizontalpodautoscaler.autoscaling/web autoscaled');
  const asV2 = (await api(s.url, 'GET', v2('web'))).body;
  expect(asV2.apiVersion).toBe('autoscaling/v2');
  expect(asV2.spec).toEqual({
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
    minReplicas: 2,
    maxReplicas: 5,
    metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } } }],
  });
  const asV1 = (await api(s.url, 'GET', v1('web'))).body;
  expect(asV1.apiVersion).toBe('autoscaling/v1');
  expect(asV1.spec).toEqual({ scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 2, maxReplicas: 5, targetCPUUtilizationPercentage: 60 });
  expect(asV1.metadata.annotations ?? {}).toEqual({});
  expect(asV1.metadata.resourceVersion).toBe(asV2.metadata.resourceVersion);
  // Both tables print it; the v1 list is in the v1 shape.
  expect(await kubectl('get', 'hpa', 'web', '--no-headers')).toMatch(/^web\s+Deployment\/web\s+cpu: <unknown>\/60%\s+2\s+5\s+0\s+/);
  expect(await kubectl('get', 'hpa.v1.autoscaling', 'web', '--no-headers')).toMatch(/^web\s+Deployment\/web\s+cpu: <unknown>\/60%\s+2\s+5\s+0\s+/);
  const list = (await api(s.url, 'GET', v1())).body;
  expect(list).toMatchObject({ kind: 'HorizontalPodAutoscalerList', apiVersion: 'autoscaling/v1' });
  expect(list.items.map((i: { spec: { targetCPUUtilizationPercentage: number } }) => i.spec.targetCPUUtilizationPercentage)).toEqual([60]);
  // Without --cpu-percent the server's default target applies (80%).
  await kubectl('create', 'deployment', 'plain', '--image=busybox:1.36');
  await kubectl('autoscale', 'deployment', 'plain', '--max=3');
  expect((await api(s.url, 'GET', v1('plain'))).body.spec).toMatchObject({ minReplicas: 1, maxReplicas: 3, targetCPUUtilizationPercentage: 80 });
});

test('a v2 autoscaler written back through v1 keeps its other metrics, behavior and conditions', async () => {
  const hpa = {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'mixed', annotations: { team: 'blue' } },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
      maxReplicas: 6,
      metrics: [
        { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '200Mi' } } },
        { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } },
        { type: 'Pods', pods: { metric: { name: 'qps' }, target: { type: 'AverageValue', averageValue: '10' } } },
      ],
      behavior: { scaleDown: { stabilizationWindowSeconds: 60, policies: [{ type: 'Pods', value: 1, periodSeconds: 30 }] } },
    },
  };
  expect((await api(s.url, 'POST', v2(), hpa)).status).toBe(201);
  const status = {
    currentReplicas: 2,
    desiredReplicas: 3,
    currentMetrics: [
      { type: 'Resource', resource: { name: 'memory', current: { averageValue: '150Mi' } } },
      { type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 75, averageValue: '150m' } } },
    ],
    conditions: [{ type: 'AbleToScale', status: 'True', reason: 'ReadyForNewScale', message: 'recommended size matches current size', lastTransitionTime: '2026-01-01T00:00:00Z' }],
  };
  const cur = (await api(s.url, 'GET', v2('mixed'))).body;
  expect((await api(s.url, 'PUT', v2('mixed') + '/status', { ...cur, status })).status).toBe(200);
  const stored = (await api(s.url, 'GET', v2('mixed'))).body;

  const old = (await api(s.url, 'GET', v1('mixed'))).body;
  expect(old.spec).toMatchObject({ minReplicas: 1, maxReplicas: 6, targetCPUUtilizationPercentage: 50 });
  expect(old.status).toMatchObject({ currentReplicas: 2, desiredReplicas: 3, currentCPUUtilizationPercentage: 75 });
  const a = old.metadata.annotations;
  expect(a.team).toBe('blue');
  expect(JSON.parse(a['autoscaling.alpha.kubernetes.io/metrics'])).toEqual([
    { type: 'Resource', resource: { name: 'memory', targetAverageValue: '200Mi' } },
    { type: 'Pods', pods: { metricName: 'qps', targetAverageValue: '10' } },
  ]);
  expect(JSON.parse(a['autoscaling.alpha.kubernetes.io/current-metrics'])).toEqual([{ type: 'Resource', resource: { name: 'memory', currentAverageValue: '150Mi' } }]);
  expect(JSON.parse(a['autoscaling.alpha.kubernetes.io/conditions'])).toEqual(status.conditions);
  expect(JSON.parse(a['autoscaling.alpha.kubernetes.io/behavior']).ScaleDown).toEqual({ StabilizationWindowSeconds: 60, SelectPolicy: 'Max', Policies: [{ Type: 'Pods', Value: 1, PeriodSeconds: 30 }] });

  // An old client changes maxReplicas and writes the whole v1 object back.
  const put = await api(s.url, 'PUT', v1('mixed'), { ...old, spec: { ...old.spec, maxReplicas: 8 } });
  expect(put.status).toBe(200);
  expect(put.body.apiVersion).toBe('autoscaling/v1');
  const after = (await api(s.url, 'GET', v2('mixed'))).body;
  // As upstream's conversion: the metrics v1 carries in the annotation first, then the CPU target.
  const [memory, cpu, pods] = stored.spec.metrics;
  expect(after.spec).toEqual({ ...stored.spec, maxReplicas: 8, metrics: [memory, pods, cpu] });
  expect(after.status).toEqual(stored.status);
  expect(after.metadata.annotations).toEqual({ team: 'blue' });
  expect(after.metadata.generation).toBe(stored.metadata.generation + 1);
});

test('a patch through v1 applies to the v1 shape; bad v1 input gets a Status naming the field', async () => {
  const p = await api(s.url, 'PATCH', v1('web'), { spec: { targetCPUUtilizationPercentage: 70 } }, { 'content-type': 'application/merge-patch+json' });
  expect(p.status).toBe(200);
  expect(p.body.spec.targetCPUUtilizationPercentage).toBe(70);
  expect((await api(s.url, 'GET', v2('web'))).body.spec.metrics).toEqual([{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }]);
  expect(await kubectl('patch', 'hpa.v1.autoscaling', 'web', '--type=merge', '-p', '{"spec":{"maxReplicas":7}}')).toContain('patched');
  expect((await api(s.url, 'GET', v2('web'))).body.spec.maxReplicas).toBe(7);

  const bad = await api(s.url, 'POST', v1(), {
    apiVersion: 'autoscaling/v1',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'bad' },
    spec: { scaleTargetRef: { kind: 'Deployment', name: 'web' }, minReplicas: 4, maxReplicas: 2 },
  });
  expect(bad.status).toBe(422);
  expect(bad.body).toMatchObject({ kind: 'Status', reason: 'Invalid', details: { name: 'bad', group: 'autoscaling', kind: 'HorizontalPodAutoscaler' } });
  expect(bad.body.message).toContain('spec.maxReplicas');
  expect((await api(s.url, 'GET', v2('bad'))).status).toBe(404);
  const typo = await api(s.url, 'POST', v1() + '?fieldValidation=Strict', {
    apiVersion: 'autoscaling/v1',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'typo' },
    spec: { scaleTargetRef: { kind: 'Deployment', name: 'web' }, maxReplicas: 2, targetCPU: 5 },
  });
  expect(typo.status).toBe(400);
  expect(typo.body.message).toContain('spec.targetCPU');
});

test('a watch on v1 delivers v1 objects for changes made through v2', async () => {
  const list = (await api(s.url, 'GET', v1())).body;
  const ctl = new AbortController();
  const res = await fetch(`${s.url}${v1()}?watch=1&resourceVersion=${list.metadata.resourceVersion}`, { signal: ctl.signal });
  const reader = res.body!.getReader();
  const cur = (await api(s.url, 'GET', v2('web'))).body;
  await api(s.url, 'PUT', v2('web'), { ...cur, spec: { ...cur.spec, minReplicas: 3 } });
  let text = '';
  const deadline = Date.now() + 10_000;
  while (!text.includes('\n') && Date.now() < deadline) text += new TextDecoder().decode((await reader.read()).value);
  ctl.abort();
  const ev = JSON.parse(text.split('\n')[0]!);
  expect(ev.type).toBe('MODIFIED');
  expect(ev.object).toMatchObject({ apiVersion: 'autoscaling/v1', spec: { minReplicas: 3, targetCPUUtilizationPercentage: 70 } });
});
