/**
 * Jobs against the real API server (which picks their selector): completion, failure past
 * backoffLimit (with the 10s retry backoff), activeDeadlineSeconds, Indexed jobs, and what
 * kubectl wait/describe show.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Job, Pod } from '../../lib/api/index.js';
import { Resources } from '../../lib/client/index.js';
import { startAPIServer, type TestAPIServer } from '../support/apiserver.js';
import { startControllers, until, type ControllerHarness } from '../support/workload-harness.js';
import type { PodBehaviour } from '../support/fake-kubelet.js';
import { kubectls, runKubectl, type Kubectl } from '../support/kubectl.js';

let s: TestAPIServer;
let h: ControllerHarness;
let k: Kubectl;
/** What pods of each job do, by job name. */
const behaviour = new Map<string, PodBehaviour>();

beforeAll(async () => {
  s = await startAPIServer();
  h = await startControllers(s, {
    controllers: ['job'],
    kubelet: { nodes: ['node-a', 'node-b'], behaviour: (p: Pod) => behaviour.get(p.metadata.labels?.['batch.kubernetes.io/job-name'] ?? '') ?? 'ready' },
  });
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

const jobs = () => h.client.resource(Resources.jobs, 'default');
const pods = () => h.client.resource(Resources.pods, 'default');
const podsOf = async (name: string) => (await pods().list({ labelSelector: `batch.kubernetes.io/job-name=${name}` })).items;

function job(name: string, spec: Partial<NonNullable<Job['spec']>>, does: PodBehaviour): Job {
  behaviour.set(name, does);
  return { metadata: { name, namespace: 'default' }, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox:1.36', command: ['sh', '-c', 'exit 0'] }] } }, ...spec } };
}

const conditions = async (name: string) => ((await jobs().get(name)).status?.conditions ?? []).map((c) => `${c.type}:${c.reason}`);

test('a job runs to completion; kubectl wait sees Complete and describe shows the pods and events', async () => {
  await jobs().create(job('pi', { completions: 3, parallelism: 2 }, 'succeed'));
  await kubectl('wait', '--for=condition=complete', 'job/pi', '--timeout=60s');
  const j = await jobs().get('pi');
  expect(j.status).toMatchObject({ succeeded: 3, ready: 0, terminating: 0, uncountedTerminatedPods: {} });
  expect(await conditions('pi')).toEqual(['SuccessCriteriaMet:CompletionsReached', 'Complete:CompletionsReached']);
  expect(j.status?.completionTime).toBeTruthy();
  const ps = await podsOf('pi');
  expect(ps.length).toBe(3);
  for (const p of ps) {
    expect(p.metadata.finalizers ?? []).toEqual([]);
    expect(p.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Job', name: 'pi', controller: true, blockOwnerDeletion: true });
  }
  await h.broadcaster.flush();
  const describe = await kubectl('describe', 'job', 'pi');
  expect(describe).toMatch(/Pods Statuses:\s+0 Active \(0 Ready\) \/ 3 Succeeded \/ 0 Failed/);
  expect(describe).toMatch(/Normal\s+SuccessfulCreate\s+\S+\s+job-controller\s+Created pod: pi-/);
  expect(describe).toMatch(/Normal\s+Completed\s+\S+\s+job-controller\s+Job completed/);
  const get = await kubectl('get', 'job', 'pi', '--no-headers');
  expect(get).toMatch(/^pi\s+Complete\s+3\/3\s+/);
});

test('failing pods: with backoffLimit 0 the job fails at once with BackoffLimitExceeded', async () => {
  await jobs().create(job('broken', { backoffLimit: 0 }, 'fail'));
  await kubectl('wait', '--for=condition=failed', 'job/broken', '--timeout=60s');
  expect(await conditions('broken')).toEqual(['FailureTarget:BackoffLimitExceeded', 'Failed:BackoffLimitExceeded']);
  expect((await jobs().get('broken')).status).toMatchObject({ failed: 1 });
  await h.broadcaster.flush();
  const describe = await kubectl('describe', 'job', 'broken');
  expect(describe).toMatch(/Warning\s+BackoffLimitExceeded\s+\S+\s+job-controller\s+Job has reached the specified backoff limit/);
});

test('a failed pod is retried only after the 10s backoff', async () => {
  await jobs().create(job('retry', { backoffLimit: 1 }, 'fail'));
  await kubectl('wait', '--for=condition=failed', 'job/retry', '--timeout=60s');
  const created = (await podsOf('retry')).map((p) => Date.parse(p.metadata.creationTimestamp!)).sort();
  expect(created.length).toBe(2);
  // Timestamps have second precision.
  expect(created[1]! - created[0]!).toBeGreaterThanOrEqual(9_000);
  expect((await jobs().get('retry')).status?.failed).toBe(2);
}, 60_000);

test('activeDeadlineSeconds: the running pods are stopped and the job fails with DeadlineExceeded', async () => {
  await jobs().create(job('sleepy', { activeDeadlineSeconds: 2, parallelism: 2, completions: 2 }, 'running'));
  await kubectl('wait', '--for=condition=failed', 'job/sleepy', '--timeout=60s');
  expect(await conditions('sleepy')).toEqual(['FailureTarget:DeadlineExceeded', 'Failed:DeadlineExceeded']);
  await until(async () => (await podsOf('sleepy')).length === 0, 'pods gone');
  expect((await jobs().get('sleepy')).status).toMatchObject({ failed: 2, terminating: 0 });
});

test('Indexed: a pod per index with JOB_COMPLETION_INDEX, and completedIndexes', async () => {
  await jobs().create(job('shards', { completions: 3, parallelism: 3, completionMode: 'Indexed' }, 'succeed'));
  await kubectl('wait', '--for=condition=complete', 'job/shards', '--timeout=60s');
  expect((await jobs().get('shards')).status).toMatchObject({ completedIndexes: '0-2', succeeded: 3 });
  const byIndex = (await podsOf('shards')).map((p) => [p.metadata.labels!['batch.kubernetes.io/job-completion-index'], p.spec!.hostname, p.spec!.containers[0]!.env?.[0]?.name]).sort();
  expect(byIndex).toEqual([
    ['0', 'shards-0', 'JOB_COMPLETION_INDEX'],
    ['1', 'shards-1', 'JOB_COMPLETION_INDEX'],
    ['2', 'shards-2', 'JOB_COMPLETION_INDEX'],
  ]);
});

test('kubectl create job runs an image to completion', async () => {
  behaviour.set('hello', 'succeed');
  await kubectl('create', 'job', 'hello', '--image=busybox:1.36', '--', 'echo', 'hello');
  await kubectl('wait', '--for=condition=complete', 'job/hello', '--timeout=60s');
  expect((await jobs().get('hello')).status?.succeeded).toBe(1);
});
