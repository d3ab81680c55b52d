import { afterEach, describe, expect, test } from 'vitest';
import { waitForAbort } from '../base/index.js';
import { FakeClient, Resources } from '../client/index.js';
import { eventually } from '../../test/support/controllers.js';
import { coreControllers } from './core.js';
import { ControllerManager, ControllerSelectionError, LeadershipLostError, selectControllers } from './manager.js';
import type { ControllerDescriptor } from './types.js';

describe('selectControllers', () => {
  const names = (spec: string[]) => selectControllers(coreControllers, spec).map((d) => d.name);
  const all = coreControllers.map((d) => d.name);

  test.each([
    [['*'], all],
    [['*', '-nodeipam'], all.filter((n) => n !== 'nodeipam')],
    [['endpoint', 'namespace'], ['endpoint', 'namespace']],
    [['-endpoint', 'endpoint'], []],
    [['*', 'garbage-collector-controller'], all],
    [['pod-garbage-collector-controller'], ['podgc']],
    [[], []],
  ])('--controllers=%j', (spec, want) => {
    expect(names(spec)).toEqual(want);
  });

  test('an unknown controller is an error naming the known ones', () => {
    expect(() => names(['*', 'nosuch'])).toThrow(ControllerSelectionError);
    expect(() => names(['-nosuch'])).toThrow(/"nosuch" is not in the list of known controllers \(endpoint, endpointslice/);
  });

  test('controllers off by default run only when named', () => {
    const ds: ControllerDescriptor[] = [
      { name: 'a', enabledByDefault: true, create: () => ({ start: async () => {} }) },
      { name: 'b', enabledByDefault: false, create: () => ({ start: async () => {} }) },
    ];
    expect(selectControllers(ds, ['*']).map((d) => d.name)).toEqual(['a']);
    expect(selectControllers(ds, ['*', 'b']).map((d) => d.name)).toEqual(['a', 'b']);
  });
});

/** A controller that records when it runs; it reads services so that the manager has an informer to sync. */
function probe(log: string[], id: string): ControllerDescriptor {
  return {
    name: 'probe',
    enabledByDefault: true,
    create: (ctx) => {
      ctx.informers.informerFor(Resources.services);
      return {
        async start(signal) {
          log.push(`${id} start`);
          await waitForAbort(signal);
          log.push(`${id} stop`);
        },
      };
    },
  };
}

describe('ControllerManager', () => {
  const stops: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const s of stops.splice(0)) await s();
  });

  function run(m: ControllerManager) {
    const ctl = new AbortController();
    const done = m.start(ctl.signal).then(
      () => 'stopped',
      (err: unknown) => err,
    );
    stops.push(async () => {
      ctl.abort();
      await done;
    });
    return { ctl, done };
  }

  test('without leader election it starts every enabled controller, serves health and metrics, and stops them on abort', async () => {
    const log: string[] = [];
    const m = new ControllerManager({ client: new FakeClient(), descriptors: [probe(log, 'x')], serving: { bindAddress: '127.0.0.1', port: 0 } });
    const { ctl, done } = run(m);
    await eventually(() => m.runningControllers().includes('probe'));
    const base = `http://127.0.0.1:${m.address()!.port}`;
    for (const p of ['/healthz', '/livez', '/readyz']) {
      const r = await fetch(base + p);
      expect([p, r.status, await r.text()]).toEqual([p, 200, 'ok']);
    }
    expect(await (await fetch(`${base}/readyz?verbose`)).text()).toContain('[+]informerSync ok');
    expect(await (await fetch(`${base}/metrics`)).text()).toContain('controller_manager_running_controllers 1');
    ctl.abort();
    expect(await done).toBe('stopped');
    expect(log).toEqual(['x start', 'x stop']);
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  });

  test('two replicas: one leads, the other stands by and takes over within the lease duration', async () => {
    const client = new FakeClient();
    const log: string[] = [];
    const timing = { enabled: true, leaseDurationMs: 1500, renewDeadlineMs: 1000, retryPeriodMs: 200, releaseOnCancel: false };
    const a = new ControllerManager({ client, descriptors: [probe(log, 'a')], leaderElection: { ...timing, identity: 'a' } });
    const b = new ControllerManager({ client, descriptors: [probe(log, 'b')], leaderElection: { ...timing, identity: 'b' } });
    const ra = run(a);
    await eventually(() => a.isLeader());
    const rb = run(b);
    await new Promise((r) => setTimeout(r, 700));
    expect(b.state).toBe('standby');
    expect(log).toEqual(['a start']);
    const lease = await client.resource(Resources.leases, 'kube-system').get('kube-controller-manager');
    expect(lease.spec!.holderIdentity).toBe('a');

    // The leader goes away without releasing the lease (as a killed process would).
    ra.ctl.abort();
    const stoppedAt = Date.now();
    await ra.done;
    await eventually(() => b.isLeader(), 5000);
    expect(Date.now() - stoppedAt).toBeLessThan(timing.leaseDurationMs + 2 * 2.2 * timing.retryPeriodMs + 1000);
    expect(log).toEqual(['a start', 'a stop', 'b start']);
    void rb;
  });

  test('losing the lease stops the controllers and fails start() so that the process exits', async () => {
    const client = new FakeClient();
    const log: string[] = [];
    const m = new ControllerManager({ client, descriptors: [probe(log, 'x')], leaderElection: { enabled: true, identity: 'x', leaseDurationMs: 1500, renewDeadlineMs: 1000, retryPeriodMs: 200 } });
    const { done } = run(m);
    await eventually(() => m.runningControllers().includes('probe'));
    // The API server refuses every lease update from now on.
    client.prependReactor((a) => {
      if (a.resource === 'leases.coordination.k8s.io' && a.verb === 'update') throw new Error('injected: etcdserver: request timed out');
    });
    const err = await done;
    expect(err).toBeInstanceOf(LeadershipLostError);
    expect(log).toEqual(['x start', 'x stop']);
  });
});
