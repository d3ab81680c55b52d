/** Leader election on a real Lease, through the real API server. */
import net from 'node:net';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import type { Lease } from '../../lib/api/index.js';
import { LeaderElector, RESTClient, Resources, loadClientConfig, type ClientConfig } from '../../lib/client/index.js';
import { startAPIServer, type TestAPIServer } from '../support/apiserver.js';

let s: TestAPIServer;
let config: ClientConfig;
beforeAll(async () => {
  s = await startAPIServer();
  config = loadClientConfig({ kubeconfig: s.kubeconfig, env: {} });
});
afterAll(async () => {
  await s?.stop();
});

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A TCP proxy in front of the API server that can freeze: bytes stop flowing both ways, as for a hung process. */
async function freezableProxy(target: URL): Promise<{ url: string; freeze: () => void }> {
  let frozen = false;
  const sockets = new Set<net.Socket>();
  const srv = net.createServer((down) => {
    const up = net.connect(Number(target.port), target.hostname);
    sockets.add(down).add(up);
    down.on('data', (d) => {
      if (!frozen) up.write(d);
    });
    up.on('data', (d) => {
      if (!frozen) down.write(d);
    });
    const close = () => {
      down.destroy();
      up.destroy();
    };
    down.on('close', close).on('error', close);
    up.on('close', close).on('error', close);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        for (const so of sockets) so.destroy();
        srv.close(() => r());
      }),
  );
  return { url: `http://127.0.0.1:${(srv.address() as net.AddressInfo).port}`, freeze: () => (frozen = true) };
}

// Short periods keep the test quick; their relations are the defaults' (15/10/2 s).
const timing = { leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 500 };
/** A lease duration, two jittered retries (x2.2), and slack for a loaded machine. */
const maxTakeoverMs = timing.leaseDurationMs + 2 * 2.2 * timing.retryPeriodMs + 500;

interface Candidate {
  elector: LeaderElector;
  ctl: AbortController;
  running: Promise<void>;
  startedAt?: number;
  workStoppedAt?: number;
}

function candidate(id: string, lease: string, server: string, extra: { releaseOnCancel?: boolean } = {}): Candidate {
  const client = new RESTClient({ config: { ...config, server }, component: `elector-${id}`, qps: 0, connectionRetries: 0 });
  const c: Partial<Candidate> = {};
  const ctl = new AbortController();
  c.ctl = ctl;
  c.elector = new LeaderElector({
    client,
    namespace: 'kube-system',
    name: lease,
    identity: id,
    ...timing,
    ...extra,
    callbacks: {
      onStartedLeading: async (signal) => {
        c.startedAt = Date.now();
        await new Promise<void>((r) => signal.addEventListener('abort', () => r(), { once: true }));
        c.workStoppedAt = Date.now();
      },
    },
  });
  c.running = c.elector.start(ctl.signal);
  cleanups.push(async () => {
    ctl.abort();
    await c.running;
    client.close();
  });
  return c as Candidate;
}

async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function getLease(name: string): Promise<Lease> {
  const c = new RESTClient({ config, qps: 0 });
  try {
    return await c.resource(Resources.leases, 'kube-system').get(name);
  } finally {
    c.close();
  }
}

test('two electors: exactly one leads; when it stops, the other takes over within the lease duration', async () => {
  const a = candidate('a', 'one', s.url);
  const b = candidate('b', 'one', s.url);
  await until(() => a.elector.isLeader() || b.elector.isLeader(), 10_000, 'a leader');
  for (let i = 0; i < 20; i++) {
    expect(Number(a.elector.isLeader()) + Number(b.elector.isLeader())).toBe(1);
    await new Promise((r) => setTimeout(r, 100));
  }
  const [leader, other] = a.elector.isLeader() ? [a, b] : [b, a];
  const before = await getLease('one');
  expect(before.spec?.holderIdentity).toBe(leader === a ? 'a' : 'b');
  const stoppedAt = Date.now();
  leader.ctl.abort();
  await leader.running;
  expect(leader.workStoppedAt).toBeDefined();
  await until(() => other.elector.isLeader(), 10_000, 'the other to take over');
  // The lease had to run out (it was not released); then at most a jittered retry to observe
  // the last renewal and one to notice the expiry.
  expect(other.startedAt! - stoppedAt).toBeLessThanOrEqual(maxTakeoverMs);
  const after = await getLease('one');
  expect(after.spec?.holderIdentity).toBe(other === a ? 'a' : 'b');
  expect(after.spec?.leaseTransitions).toBe((before.spec?.leaseTransitions ?? 0) + 1);
});

test('releaseOnCancel lets the other take over at once', async () => {
  const a = candidate('a', 'two', s.url, { releaseOnCancel: true });
  await until(() => a.elector.isLeader(), 10_000, 'a to lead');
  const b = candidate('b', 'two', s.url);
  await new Promise((r) => setTimeout(r, 700));
  const stoppedAt = Date.now();
  a.ctl.abort();
  await a.running;
  await until(() => b.elector.isLeader(), 10_000, 'b to take over');
  expect(b.startedAt! - stoppedAt).toBeLessThan(timing.leaseDurationMs);
});

test('a leader that stops renewing (hung) stops leading before the other takes over', async () => {
  const proxy = await freezableProxy(new URL(s.url));
  const a = candidate('a', 'three', proxy.url);
  await until(() => a.elector.isLeader(), 10_000, 'a to lead');
  const b = candidate('b', 'three', s.url);
  await new Promise((r) => setTimeout(r, 1000));
  const lastRenew = Date.parse((await getLease('three')).spec!.renewTime!);
  proxy.freeze();
  await until(() => b.elector.isLeader(), 15_000, 'b to take over');
  await a.running;
  expect(a.workStoppedAt).toBeDefined();
  expect(a.workStoppedAt!).toBeLessThan(b.startedAt!);
  expect(a.workStoppedAt! - lastRenew).toBeLessThanOrEqual(timing.renewDeadlineMs + timing.retryPeriodMs);
  expect(b.startedAt! - lastRenew).toBeGreaterThanOrEqual(timing.leaseDurationMs);
  expect(b.startedAt! - lastRenew).toBeLessThanOrEqual(maxTakeoverMs);
});
