/**
 * Two tkube-scheduler replicas with leader election: exactly one schedules; when it stops, the
 * other takes over. And the tkube-scheduler program itself: --help, and a real run.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Lease } from '../../lib/api/index.js';
import { Resources, type ClientConfig, type RESTClient } from '../../lib/client/index.js';
import { startAPIServer, type TestAPIServer } from '../support/apiserver.js';
import { freePort } from '../support/ports.js';
import { clientFor, createNode, createPod, eventsFor, nodeOf, startScheduler, until } from './scheduler-support.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const program = path.join(root, 'dist/cmd/tkube-scheduler/main.js');

let s: TestAPIServer;
let client: RESTClient;
let config: ClientConfig;

beforeAll(async () => {
  s = await startAPIServer();
  ({ client, config } = clientFor(s));
  for (let i = 0; i < 3; i++) await createNode(client, `node-${i}`);
});
afterAll(async () => {
  await s?.stop();
});

// Short periods keep the test quick; their relations are the defaults' (15/10/2 s).
const election = (identity: string) => ({ leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 500, resourceNamespace: 'kube-system', resourceName: 'kube-scheduler', identity });

describe('leader election', () => {
  test('of two replicas exactly one binds; the other takes over when it stops', async () => {
    const a = await startScheduler(config, { leaderElection: election('replica-a') });
    const b = await startScheduler(config, { leaderElection: election('replica-b') });
    try {
      const leases = client.resource(Resources.leases, 'kube-system');
      const holder = await until('a leader', async () => (await leases.get('kube-scheduler').catch(() => undefined as Lease | undefined))?.spec?.holderIdentity);
      const [leader, standby] = holder === 'replica-a' ? [a, b] : [b, a];
      for (let i = 0; i < 10; i++) await createPod(client, `first-${i}`);
      for (let i = 0; i < 10; i++) await nodeOf(client, `first-${i}`);
      expect(leader.server.scheduler!.stats.scheduled).toBe(10);
      expect(standby.server.scheduler!.stats.scheduled).toBe(0);
      // The standby kept a warm cache all along.
      expect(standby.server.scheduler!.cache.stats().pods).toBe(10);

      await leader.stop();
      const next = await until('the standby to lead', async () => {
        const h = (await leases.get('kube-scheduler')).spec?.holderIdentity;
        return h && h !== holder ? h : undefined;
      });
      expect(next).toBe(holder === 'replica-a' ? 'replica-b' : 'replica-a');
      for (let i = 0; i < 5; i++) await createPod(client, `second-${i}`);
      for (let i = 0; i < 5; i++) await nodeOf(client, `second-${i}`);
      expect(standby.server.scheduler!.stats.scheduled).toBe(5);
      expect(leader.server.scheduler!.stats.scheduled).toBe(10);
    } finally {
      await a.stop();
      await b.stop();
    }
  });
});

describe('the tkube-scheduler program', () => {
  const built = fs.existsSync(program);

  test('is built (npm test builds it first)', () => {
    expect(built, `${program} is missing: run npm run build`).toBe(true);
  });

  test('--help lists its flags with defaults', async () => {
    const out = await new Promise<string>((resolve, reject) => {
      const p = spawn(process.execPath, [program, '--help']);
      let text = '';
      p.stdout.on('data', (d: Buffer) => (text += d.toString()));
      p.on('error', reject);
      p.on('close', (code) => (code === 0 ? resolve(text) : reject(new Error(`exit ${code}`))));
    });
    for (const f of ['--kubeconfig', '--master', '--scheduler-name', '--leader-elect', '--leader-elect-lease-duration', '--kube-api-qps', '--kube-api-burst', '--secure-port', '--bind-address']) expect(out).toContain(f);
    expect(out).toMatch(/--leader-elect-lease-duration duration\n\s+.*\(default 15s\)/);
    expect(out).toMatch(/--leader-elect-renew-deadline duration\n\s+.*\(default 10s\)/);
    expect(out).toMatch(/--leader-elect-retry-period duration\n\s+.*\(default 2s\)/);
    expect(out).toMatch(/--leader-elect-resource-namespace string\n\s+.*\(default "kube-system"\)/);
    expect(out).toMatch(/--secure-port int\n\s+.*\(default 10259\)/);
    expect(out).toMatch(/--scheduler-name string\n\s+.*\(default "default-scheduler"\)/);
  });

  test('refuses an unknown flag', async () => {
    const code = await new Promise<number | null>((resolve) => spawn(process.execPath, [program, '--no-such-flag']).on('close', resolve));
    expect(code).toBe(2);
  });

  test('schedules pods and serves health and metrics', async () => {
    const port = await freePort();
    const proc = spawn(process.execPath, [program, `--kubeconfig=${s.kubeconfig}`, `--secure-port=${port}`, '--leader-elect=false', '--scheduler-name=from-binary'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    try {
      await until('the program to be ready', async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200, 30_000);
      await createPod(client, 'via-binary', { spec: { schedulerName: 'from-binary' } });
      expect(await nodeOf(client, 'via-binary')).toMatch(/^node-\d$/);
      const ev = await until('the Scheduled event', async () => (await eventsFor(client, 'via-binary', 'Scheduled'))[0]);
      expect(ev.source?.component).toBe('from-binary');
      // A burst: many bindings in flight at once, each listening for the stop signal, and no warning about it.
      const burst = Array.from({ length: 40 }, (_, i) => `burst-${i}`);
      await Promise.all(burst.map((name) => createPod(client, name, { spec: { schedulerName: 'from-binary' } })));
      for (const name of burst) expect(await nodeOf(client, name)).toMatch(/^node-\d$/);
      expect(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).toMatch(/scheduler_schedule_attempts_total\{profile="from-binary",result="scheduled"\} 41/);
      expect(stderr).not.toContain('MaxListenersExceededWarning');
    } finally {
      proc.kill('SIGTERM');
      const code = await new Promise<number | null>((resolve) => proc.on('close', resolve));
      expect(code, stderr).toBe(0);
    }
  });
});
