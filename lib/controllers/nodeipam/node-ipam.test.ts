import { afterEach, describe, expect, test } from 'vitest';
import { Resources, SharedInformerFactory, type EventRecorder } from '../../client/index.js';
import { createAll, eventually, fakeEnv, makeNode, type FakeEnv } from '../../../test/support/controllers.js';
import { CIDRSet, parseCIDR, formatCIDR } from './cidr-set.js';
import { NodeIpamController } from './node-ipam-controller.js';

describe('CIDRSet', () => {
  test('splits the cluster range, allocates round-robin, never twice, and reuses released subnets later', () => {
    const s = new CIDRSet('10.244.0.0/22', 24);
    expect(s.max).toBe(4);
    const got = [s.allocateNext(), s.allocateNext(), s.allocateNext(), s.allocateNext()];
    expect(got).toEqual(['10.244.0.0/24', '10.244.1.0/24', '10.244.2.0/24', '10.244.3.0/24']);
    expect(s.allocateNext()).toBeUndefined();
    s.release('10.244.1.0/24');
    expect(s.allocateNext()).toBe('10.244.1.0/24');
  });

  test('occupying a range marks every subnet it touches; ranges outside the cluster are refused', () => {
    const s = new CIDRSet('10.0.0.0/16', 24);
    s.occupy('10.0.4.0/22');
    expect(['10.0.3.0/24', '10.0.4.0/24', '10.0.7.0/24', '10.0.8.0/24'].map((c) => s.isUsed(c))).toEqual([false, true, true, false]);
    expect(s.usedCount).toBe(4);
    expect(() => s.occupy('192.168.0.0/24')).toThrow(/outside the cluster CIDR/);
    expect(() => new CIDRSet('10.0.0.0/16', 8)).toThrow(/smaller than the cluster/);
  });

  test('CIDRs are normalised to their network address', () => {
    expect(formatCIDR(parseCIDR('10.1.2.3/16'))).toBe('10.1.0.0/16');
    expect(() => parseCIDR('10.1.2/16')).toThrow();
  });
});

describe('NodeIpamController', () => {
  let env: FakeEnv | undefined;
  let running: Promise<void> | undefined;
  afterEach(async () => {
    await env?.stop();
    await running;
    env = undefined;
  });

  /** A controller with its own informers, as a (re)started controller manager has. */
  async function start(e: FakeEnv, o: Partial<ConstructorParameters<typeof NodeIpamController>[0]> = {}) {
    const events: string[] = [];
    const recorder: EventRecorder = { event: (_o, _t, reason) => events.push(reason), eventf: (_o, _t, reason) => events.push(reason) };
    const informers = new SharedInformerFactory({ client: e.client });
    const c = new NodeIpamController({ client: e.client, informers, allocateNodeCIDRs: true, clusterCIDR: '10.244.0.0/16', serviceCIDR: '10.96.0.0/12', nodeCIDRMaskSize: 24, recorder, workers: 2, ...o });
    const ctl = new AbortController();
    e.signal.addEventListener('abort', () => ctl.abort());
    const inf = informers.start(ctl.signal);
    const r = c.start(ctl.signal);
    return { c, events, stop: async () => (ctl.abort(), await r, await inf) };
  }

  const cidrs = async (e: FakeEnv) => (await e.client.resource(Resources.nodes).list()).items.map((n) => n.spec?.podCIDR);

  test('every node gets its own subnet; a deleted node gives its subnet back; a restart rebuilds from the nodes', async () => {
    env = fakeEnv();
    const first = await start(env);
    for (let i = 0; i < 20; i++) await createAll(env.client, [makeNode(`n${i}`)]);
    await eventually(async () => (await cidrs(env!)).every(Boolean));
    const all = await cidrs(env);
    expect(new Set(all).size).toBe(20);
    for (const c of all) expect(c).toMatch(/^10\.244\.\d+\.0\/24$/);
    const n0 = await env.client.resource(Resources.nodes).get('n0');
    expect(n0.spec!.podCIDRs).toEqual([n0.spec!.podCIDR]);

    await env.client.resource(Resources.nodes).delete('n0');
    await eventually(() => first.c.usedCount === 19);
    await first.stop();

    // A new controller (a restart, or another replica taking over) must not reuse live subnets.
    await start(env);
    for (let i = 20; i < 40; i++) await createAll(env.client, [makeNode(`n${i}`)]);
    await eventually(async () => (await cidrs(env!)).every(Boolean));
    const after = await cidrs(env);
    expect(after).toHaveLength(39);
    expect(new Set(after).size).toBe(39);
  });

  test('never hands out the service range when it lies inside the cluster CIDR; reports exhaustion', async () => {
    env = fakeEnv();
    const { events } = await start(env, { clusterCIDR: '10.0.0.0/22', serviceCIDR: '10.0.1.0/24' });
    for (let i = 0; i < 4; i++) await createAll(env.client, [makeNode(`n${i}`)]);
    await eventually(async () => (await cidrs(env!)).filter(Boolean).length === 3);
    expect((await cidrs(env)).sort()).toEqual(['10.0.0.0/24', '10.0.2.0/24', '10.0.3.0/24', undefined]);
    await eventually(() => events.includes('CIDRNotAvailable'));
  });

  test('keeps retrying when the node update fails', async () => {
    env = fakeEnv();
    let failures = 3;
    env.client.prependReactor((a) => {
      if (a.resource === 'nodes' && a.verb === 'patch' && failures-- > 0) throw new Error('injected: connection reset');
    });
    await start(env);
    await createAll(env.client, [makeNode('n1')]);
    await eventually(async () => (await cidrs(env!))[0] === '10.244.0.0/24');
  });
});
