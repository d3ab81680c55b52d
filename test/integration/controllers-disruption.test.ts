/**
 * PodDisruptionBudgets against the real API server: the disruption controller's status is
 * what pods/eviction consults, so evictions are allowed while the budget has room and
 * refused (429) when it has none, until replacements are ready again.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { RESTClient, Resources, loadClientConfig } from '../../lib/client/index.js';
import { StatusError } from '../../lib/machinery/index.js';
import { startAPIServer, type TestAPIServer } from '../support/apiserver.js';
import { startControllers, until, type ControllerHarness } from '../support/workload-harness.js';
import { kubectls, runKubectl, type Kubectl } from '../support/kubectl.js';

let s: TestAPIServer;
let h: ControllerHarness;
let k: Kubectl;

beforeAll(async () => {
  s = await startAPIServer();
  h = await startControllers(s, { controllers: ['deployment', 'replicaset', 'disruption'], kubelet: { nodes: ['node-a', 'node-b'] } });
  k = kubectls()[kubectls().length - 1]!;
});
afterAll(async () => {
  await h?.stop();
  await s?.stop();
});

async function kubectl(...args: string[]): Promise<string> {
  const r = await runKubectl(k, s.kubeconfig, args, { timeoutMs: 90_000 });
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

const pdbs = () => h.client.resource(Resources.podDisruptionBudgets, 'default');
const pods = () => h.client.resource(Resources.pods, 'default');

/** Evicts through a client that does not retry 429s (the REST client would, honouring Retry-After). */
async function evict(name: string): Promise<number> {
  const once = new RESTClient({ config: loadClientConfig({ kubeconfig: s.kubeconfig, env: {} }), qps: 0, maxRetries: 0 });
  try {
    await once.resource(Resources.pods, 'default').createSubresource(name, 'eviction', { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace: 'default' } });
    return 201;
  } catch (err) {
    if (err instanceof StatusError) return err.code;
    throw err;
  } finally {
    once.close();
  }
}

const livePods = async () => (await pods().list({ labelSelector: 'app=web' })).items.filter((p) => !p.metadata.deletionTimestamp);

test('budget numbers follow the pods; evictions are allowed only while the budget has room', async () => {
  await kubectl('create', 'deployment', 'web', '--image=nginx:1.27', '--replicas=3');
  await kubectl('rollout', 'status', 'deployment/web', '--timeout=60s');
  await kubectl('create', 'poddisruptionbudget', 'web-pdb', '--selector=app=web', '--min-available=2');
  await until(async () => (await pdbs().get('web-pdb')).status?.disruptionsAllowed === 1, 'one disruption allowed');
  const st = (await pdbs().get('web-pdb')).status!;
  expect(st).toMatchObject({ expectedPods: 3, currentHealthy: 3, desiredHealthy: 2, disruptionsAllowed: 1, observedGeneration: 1 });
  expect(st.conditions).toEqual([expect.objectContaining({ type: 'DisruptionAllowed', status: 'True', reason: 'SufficientPods' })]);
  const get = await kubectl('get', 'pdb', 'web-pdb', '--no-headers');
  expect(get.trim().split(/\s+/).slice(0, 4)).toEqual(['web-pdb', '2', 'N/A', '1']);

  // Hold replacements back (not ready) to see the budget run out.
  h.kubelet.behaviour = () => 'running';
  const [first, second] = await livePods();
  expect(await evict(first!.metadata.name!)).toBe(201);
  // The budget now has no room: the next eviction is refused.
  expect(await evict(second!.metadata.name!)).toBe(429);
  await until(async () => (await pdbs().get('web-pdb')).status?.currentHealthy === 2, 'two healthy');
  expect((await pdbs().get('web-pdb')).status).toMatchObject({ disruptionsAllowed: 0, conditions: [expect.objectContaining({ status: 'False', reason: 'InsufficientPods' })] });
  expect(await evict(second!.metadata.name!)).toBe(429);

  // The replacement becomes ready: room again.
  h.kubelet.behaviour = () => 'ready';
  for (const p of await livePods()) await pods().patch(p.metadata.name!, 'merge', { metadata: { annotations: { nudge: '1' } } });
  await until(async () => (await pdbs().get('web-pdb')).status?.disruptionsAllowed === 1, 'room again');
  expect(await evict(second!.metadata.name!)).toBe(201);
});

test('maxUnavailable as a percentage counts the deployment’s replicas', async () => {
  await kubectl('create', 'deployment', 'api', '--image=nginx:1.27', '--replicas=4');
  await kubectl('rollout', 'status', 'deployment/api', '--timeout=60s');
  await kubectl('create', 'poddisruptionbudget', 'api-pdb', '--selector=app=api', '--max-unavailable=50%');
  await until(async () => (await pdbs().get('api-pdb')).status?.expectedPods === 4, 'expected 4');
  expect((await pdbs().get('api-pdb')).status).toMatchObject({ expectedPods: 4, desiredHealthy: 2, currentHealthy: 4, disruptionsAllowed: 2 });
  // Scaling the deployment moves expectedPods.
  await kubectl('scale', 'deployment/api', '--replicas=6');
  await until(async () => (await pdbs().get('api-pdb')).status?.expectedPods === 6, 'expected 6');
  await until(async () => (await pdbs().get('api-pdb')).status?.currentHealthy === 6, 'healthy 6');
  expect((await pdbs().get('api-pdb')).status).toMatchObject({ desiredHealthy: 3, disruptionsAllowed: 3 });
});
