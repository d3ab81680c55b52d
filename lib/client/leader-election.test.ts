import { afterEach, describe, expect, test } from 'vitest';
import type { KubeObject, Lease } from '../api/index.js';
import { FakeClock } from '../base/index.js';
import { FakeClient } from './fake.js';
import type { KubeClient, ResourceClient } from './interface.js';
import { LeaderElector, type LeaderElectionConfig } from './leader-election.js';
import type { ResourceDescriptor } from './resources.js';
import { Resources } from './resources.js';
import { TransportError } from './transport.js';

/** A client that can be cut off from the API server, as a partitioned or frozen process. */
function partitionable(inner: KubeClient): { client: KubeClient; cut: () => void } {
  let down = false;
  const wrap = <T extends KubeObject>(rc: ResourceClient<T>): ResourceClient<T> =>
    new Proxy(rc, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver);
        if (typeof v !== 'function') return v;
        return (...args: unknown[]) => {
          if (down) return Promise.reject(new TransportError('connect ETIMEDOUT', 'ETIMEDOUT', false));
          return (v as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
  return {
    client: { resource: <T extends KubeObject>(d: ResourceDescriptor<T>, ns?: string) => wrap(inner.resource(d, ns)) },
    cut: () => (down = true),
  };
}

interface Candidate {
  id: string;
  elector: LeaderElector;
  ctl: AbortController;
  running: Promise<void>;
  startedAt?: number;
  stoppedAt?: number;
  workAbortedAt?: number;
  leaders: string[];
}

const stops: AbortController[] = [];
afterEach(() => {
  for (const s of stops.splice(0)) s.abort();
});

function candidate(id: string, clock: FakeClock, client: KubeClient, extra: Partial<LeaderElectionConfig> = {}): Candidate {
  const c: Partial<Candidate> = { id, leaders: [] };
  const ctl = new AbortController();
  stops.push(ctl);
  c.ctl = ctl;
  c.elector = new LeaderElector({
    client,
    namespace: 'kube-system',
    name: 'tkube-scheduler',
    identity: id,
    clock,
    callbacks: {
      onStartedLeading: async (signal) => {
        c.startedAt = clock.now();
        await new Promise<void>((r) => signal.addEventListener('abort', () => r(), { once: true }));
        c.workAbortedAt = clock.now();
      },
      onStoppedLeading: () => (c.stoppedAt = clock.now()),
      onNewLeader: (l) => c.leaders!.push(l),
    },
    ...extra,
  });
  c.running = c.elector.start(ctl.signal);
  return c as Candidate;
}

async function lease(fake: FakeClient): Promise<Lease> {
  return fake.resource(Resources.leases, 'kube-system').get('tkube-scheduler');
}

async function runUntil(clock: FakeClock, cond: () => boolean, maxMs = 120_000, step = 100): Promise<void> {
  for (let t = 0; t < maxMs && !cond(); t += step) await clock.advance(step);
  expect(cond()).toBe(true);
}

describe('LeaderElector', () => {
  test('of two candidates exactly one leads, and keeps leading while it renews', async () => {
    const clock = new FakeClock();
    const fake = new FakeClient(clock);
    const a = candidate('a', clock, fake);
    const b = candidate('b', clock, fake);
    await runUntil(clock, () => a.elector.isLeader() || b.elector.isLeader());
    for (let i = 0; i < 60; i++) {
      await clock.advance(1000);
      expect(Number(a.elector.isLeader()) + Number(b.elector.isLeader())).toBe(1);
    }
    const leader = a.elector.isLeader() ? a : b;
    const l = await lease(fake);
    expect(l.spec).toMatchObject({ holderIdentity: leader.id, leaseDurationSeconds: 15, leaseTransitions: 0 });
    expect(Date.parse(l.spec!.renewTime!)).toBeGreaterThan(clock.now() - 2_500);
    expect(a.leaders).toEqual([leader.id]);
    expect(b.leaders).toEqual([leader.id]);
  });

  test('when the leader stops without releasing, the other takes over after the lease duration', async () => {
    const clock = new FakeClock();
    const fake = new FakeClient(clock);
    const a = candidate('a', clock, fake);
    await runUntil(clock, () => a.elector.isLeader());
    const b = candidate('b', clock, fake);
    await clock.advance(5000);
    expect(b.elector.isLeader()).toBe(false);
    const lastRenew = Date.parse((await lease(fake)).spec!.renewTime!);
    a.ctl.abort();
    await a.running;
    expect(a.stoppedAt).toBeDefined();
    await runUntil(clock, () => b.elector.isLeader());
    // Not before the lease ran out. At most: one jittered retry to observe the last renewal,
    // the lease duration from then, one jittered retry to notice it expired.
    expect(b.startedAt! - lastRenew).toBeGreaterThanOrEqual(15_000);
    expect(b.startedAt! - lastRenew).toBeLessThanOrEqual(15_000 + 2 * 2_000 * 2.2 + 200);
    expect((await lease(fake)).spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
  });

  test('releaseOnCancel hands over at once', async () => {
    const clock = new FakeClock();
    const fake = new FakeClient(clock);
    const a = candidate('a', clock, fake, { releaseOnCancel: true });
    await runUntil(clock, () => a.elector.isLeader());
    const b = candidate('b', clock, fake);
    await clock.advance(3000);
    const stopAt = clock.now();
    a.ctl.abort();
    await a.running;
    expect((await lease(fake)).spec?.holderIdentity).toBe('');
    await runUntil(clock, () => b.elector.isLeader());
    expect(b.startedAt! - stopAt).toBeLessThanOrEqual(2_000 * 2.2);
    expect((await lease(fake)).spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
  });

  test('a leader that cannot renew stops leading before another can take over', async () => {
    const clock = new FakeClock();
    const fake = new FakeClient(clock);
    const pa = partitionable(fake);
    const a = candidate('a', clock, pa.client);
    await runUntil(clock, () => a.elector.isLeader());
    const b = candidate('b', clock, fake);
    await clock.advance(4000);
    const lastRenew = Date.parse((await lease(fake)).spec!.renewTime!);
    pa.cut();
    await runUntil(clock, () => b.elector.isLeader());
    await a.running;
    expect(a.workAbortedAt).toBeDefined();
    // a's work stopped within its renew deadline; b started only after the lease duration.
    expect(a.workAbortedAt! - lastRenew).toBeLessThanOrEqual(10_000);
    expect(b.startedAt! - lastRenew).toBeGreaterThanOrEqual(15_000);
    expect(a.workAbortedAt!).toBeLessThan(b.startedAt!);
    expect(a.stoppedAt).toBeDefined();
  });

  test('refuses settings that would allow two leaders', () => {
    const fake = new FakeClient();
    const base = { client: fake, namespace: 'kube-system', name: 'x', identity: 'a', callbacks: { onStartedLeading: () => {} } };
    expect(() => new LeaderElector({ ...base, leaseDurationMs: 10_000, renewDeadlineMs: 10_000 })).toThrow(/leaseDuration must be greater than renewDeadline/);
    expect(() => new LeaderElector({ ...base, renewDeadlineMs: 2_000, retryPeriodMs: 2_000 })).toThrow(/renewDeadline must be greater than retryPeriod/);
    expect(() => new LeaderElector({ ...base, identity: '' })).toThrow(/identity/);
  });
});
