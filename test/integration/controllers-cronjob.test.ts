/**
 * CronJobs against the real API server with time the test controls: the CronJob controller
 * runs on a FakeClock (ControllerContext.clock) while a Job controller on real time runs the
 * jobs it creates. A `* * * * *` schedule fires when the fake clock reaches the minute.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { FakeClock } from '../../lib/base/index.js';
import { Resources } from '../../lib/client/index.js';
import { startAPIServer, type TestAPIServer } from '../support/apiserver.js';
import { startControllers, until, type ControllerHarness } from '../support/workload-harness.js';
import { kubectls, runKubectl, type Kubectl } from '../support/kubectl.js';

let s: TestAPIServer;
let cron: ControllerHarness;
let jobsHarness: ControllerHarness;
let k: Kubectl;
const clock = new FakeClock(Date.now());

beforeAll(async () => {
  s = await startAPIServer();
  cron = await startControllers(s, { controllers: ['cronjob'], clock, kubelet: false });
  jobsHarness = await startControllers(s, { controllers: ['job'], kubelet: { nodes: ['node-a'], behaviour: () => 'succeed' } });
  k = kubectls()[kubectls().length - 1]!;
});
afterAll(async () => {
  await cron?.stop();
  await jobsHarness?.stop();
  await s?.stop();
});

async function kubectl(...args: string[]): Promise<string> {
  const r = await runKubectl(k, s.kubeconfig, args, { timeoutMs: 90_000 });
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

const cronJobs = () => cron.client.resource(Resources.cronJobs, 'default');
const jobs = () => cron.client.resource(Resources.jobs, 'default');

/**
 * Moves the fake clock to 5s past the minute the controller waits for (its work queue sleeps on
 * the fake clock until then), so the wake-up cannot be missed. That is the fake clock's next
 * minute, or the one after it when the cron job was created (in real time) after that minute
 * had begun: the controller counts schedules from the creation time.
 */
async function nextMinute(): Promise<number> {
  let minute = Math.floor(clock.now() / 60_000) * 60_000 + 60_000;
  await until(() => {
    const ds = clock.deadlines();
    if (ds.length === 0) return false;
    if (ds[0]! <= minute + 1_000) return true;
    // Nothing before that minute, but a wake-up just past a later one: the cron job was created
    // after the fake clock's next minute had begun (in real time), so its first is the one after.
    const aligned = ds.find((d) => d % 60_000 <= 1_000);
    if (aligned === undefined) return false;
    minute = aligned - (aligned % 60_000);
    return true;
  }, 'the controller to wait for the next minute');
  await clock.advance(minute + 5_000 - clock.now());
  return minute;
}

test('a * * * * * cron job fires at the minute, its job runs to completion, and the cron job notes it', async () => {
  await kubectl('create', 'cronjob', 'hello', '--image=busybox:1.36', '--schedule=* * * * *', '--', 'echo', 'hello');
  await new Promise((r) => setTimeout(r, 300));
  expect((await jobs().list()).items).toEqual([]);

  const minute = await nextMinute();
  const name = `hello-${minute / 60_000}`;
  await until(async () => (await jobs().list()).items.some((j) => j.metadata.name === name), `job ${name}`);
  const job = await jobs().get(name);
  expect(job.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'CronJob', name: 'hello', controller: true });
  expect(job.metadata.annotations?.['batch.kubernetes.io/cronjob-scheduled-timestamp']).toBe(new Date(minute).toISOString().replace('.000Z', 'Z'));

  // The Job controller (real time) runs it; the CronJob controller sees it complete.
  await until(async () => (await cronJobs().get('hello')).status?.lastSuccessfulTime !== undefined, 'lastSuccessfulTime');
  const st = (await cronJobs().get('hello')).status!;
  expect(st.lastScheduleTime).toBe(new Date(minute).toISOString().replace('.000Z', 'Z'));
  expect(st.active).toBeUndefined();
  await cron.broadcaster.flush();
  const describe = await kubectl('describe', 'cronjob', 'hello');
  expect(describe).toMatch(new RegExp(`Normal\\s+SuccessfulCreate\\s+\\S+\\s+cronjob-controller\\s+Created job ${name}`));
  expect(describe).toMatch(new RegExp(`Normal\\s+SawCompletedJob\\s+\\S+\\s+cronjob-controller\\s+Saw completed job: ${name}, condition: Complete`));

  // Another minute, another job; the history keeps at most 3 successful ones.
  for (let i = 0; i < 3; i++) {
    const m = await nextMinute();
    await until(async () => (await jobs().list()).items.some((j) => j.metadata.name === `hello-${m / 60_000}` && j.status?.conditions?.some((c) => c.type === 'Complete')), `job at ${m}`);
  }
  await nextMinute();
  await until(async () => (await jobs().list()).items.filter((j) => j.status?.conditions?.some((c) => c.type === 'Complete')).length <= 3 && (await jobs().list()).items.length <= 4, 'history limit');
  await until(async () => !(await jobs().list()).items.some((j) => j.metadata.name === name), 'oldest job deleted');
  const get = await kubectl('get', 'cronjob', 'hello', '--no-headers');
  expect(get).toMatch(/^hello\s+\* \* \* \* \*\s+/);
});

test('Forbid: no second job while the first still runs', async () => {
  // Its jobs are suspended: they stay active and never finish.
  const manifest = `apiVersion: batch/v1
kind: CronJob
metadata: {name: solo, namespace: default}
spec:
  schedule: "* * * * *"
  concurrencyPolicy: Forbid
  jobTemplate:
    spec:
      suspend: true
      template:
        spec:
          restartPolicy: OnFailure
          containers: [{name: main, image: "busybox:1.36"}]
`;
  const r = await runKubectl(k, s.kubeconfig, ['apply', '-f', '-'], { input: manifest });
  expect(r.code, r.stderr).toBe(0);
  await new Promise((r) => setTimeout(r, 300));
  await nextMinute();
  // The fake clock is ahead of the API server's: the cron job may have started a job for a
  // minute it saw as missed; either way exactly one is active.
  await until(async () => (await jobs().list()).items.some((j) => j.metadata.name!.startsWith('solo-')), 'first job');
  await nextMinute();
  await until(async () => ((await cronJobs().get('solo')).status?.active?.length ?? 0) === 1, 'still one active');
  await new Promise((r) => setTimeout(r, 500));
  expect((await jobs().list()).items.filter((j) => j.metadata.name!.startsWith('solo-')).length).toBe(1);
  await cron.broadcaster.flush();
  const ev = await kubectl('get', 'events', '--field-selector', 'involvedObject.name=solo,reason=JobAlreadyActive', '-o', 'jsonpath={.items[*].message}');
  expect(ev).toContain('Not starting job because prior execution is running and concurrency policy is Forbid');
});
