import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../base/index.js';
import { CommandError, ProcessCommandRunner } from './command-runner.js';
import { FakeCommandRunner } from './fake-command-runner.js';
import { ensurePodNetworkRules, removePodNetworkRules, renderPodNetworkRules } from './iptables.js';
import { PodNetwork } from './pod-network.js';
import { syncPodRoutes } from './routes.js';
import { hostVethName, peerTempName } from './veth.js';

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tkube-podnet-'));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

function network(runner: FakeCommandRunner, extra: Partial<ConstructorParameters<typeof PodNetwork>[0]> = {}) {
  return new PodNetwork({ runner, log: silentLogger(), podCIDR: '10.244.1.0/24', clusterCIDR: '10.244.0.0/16', ipamDir: dir, ...extra });
}

describe('veth names', () => {
  it('fit in 15 characters, are stable for a sandbox and differ between sandboxes', () => {
    const ids = ['a'.repeat(64), 'b'.repeat(64), 'short', ''];
    for (const id of ids) {
      expect(hostVethName(id)).toMatch(/^veth[0-9a-f]{11}$/);
      expect(peerTempName(id)).toHaveLength(15);
      expect(hostVethName(id)).toBe(hostVethName(id));
      expect(peerTempName(id)).not.toBe(hostVethName(id));
    }
    expect(new Set(ids.map(hostVethName)).size).toBe(ids.length);
  });
});

describe('PodNetwork on a fake runner', () => {
  it('creates the bridge with the gateway address, turns on forwarding and installs the rules', async () => {
    const r = new FakeCommandRunner();
    r.on('ip -j -d addr show dev cbr0', { exitCode: 1, stderr: 'Device "cbr0" does not exist.' });
    await network(r).ensureNode();
    const lines = r.lines();
    expect(lines).toContain('host: ip link add name cbr0 type bridge');
    expect(lines).toContain('host: ip addr replace 10.244.1.1/24 dev cbr0');
    expect(lines).toContain('host: ip link set dev cbr0 up');
    expect(lines).toContain('host: sysctl -q -w net.ipv4.ip_forward=1');
    const restore = r.commands.find((c) => c.argv[0] === 'iptables-restore');
    expect(restore?.argv).toEqual(['iptables-restore', '-w', '--noflush']);
    expect(restore?.input).toBe(renderPodNetworkRules('10.244.0.0/16'));
  });

  it('leaves a bridge that is already right alone, and removes a stale address', async () => {
    const r = new FakeCommandRunner();
    const bridge = (addrs: string[]) => ({
      stdout: JSON.stringify([
        { ifname: 'cbr0', flags: ['BROADCAST', 'UP'], linkinfo: { info_kind: 'bridge' }, addr_info: addrs.map((a) => ({ family: 'inet', local: a.split('/')[0], prefixlen: Number(a.split('/')[1]) })) },
      ]),
    });
    r.on('ip -j -d addr show dev cbr0', bridge(['10.244.1.1/24']));
    await network(r, { clusterCIDR: undefined }).ensureNode();
    expect(r.lines().filter((l) => l.includes(' ip ') && !l.includes('show'))).toEqual([]);

    r.clear();
    r.on('ip -j -d addr show dev cbr0', bridge(['10.99.0.1/24']));
    await network(r, { clusterCIDR: undefined }).ensureNode();
    expect(r.lines()).toContain('host: ip addr del 10.99.0.1/24 dev cbr0');
    expect(r.lines()).toContain('host: ip addr replace 10.244.1.1/24 dev cbr0');
  });

  it('refuses to take over a device of another kind with the bridge name', async () => {
    const r = new FakeCommandRunner();
    r.on('ip -j -d addr show dev cbr0', { stdout: JSON.stringify([{ ifname: 'cbr0', linkinfo: { info_kind: 'veth' } }]) });
    await expect(network(r).ensureNode()).rejects.toThrow(/cbr0 exists but is a veth device, not a bridge/);
  });

  it('wires a pod: veth pair, peer moved by PID and renamed eth0, address, lo, default route', async () => {
    const r = new FakeCommandRunner();
    r.on('ip -j -d addr show dev eth0', { exitCode: 1, stderr: 'Device "eth0" does not exist.' });
    const sandbox = { id: 'f00d'.repeat(16), pid: 4242 };
    const status = await network(r).setUpPod({ uid: 'uid-1', namespace: 'default', name: 'web' }, sandbox);
    const veth = hostVethName(sandbox.id);
    const tmp = peerTempName(sandbox.id);
    expect(status).toEqual({ podUID: 'uid-1', ip: '10.244.1.2', prefixLength: 24, gateway: '10.244.1.1', hostVeth: veth, interface: 'eth0' });
    expect(r.steps()).toEqual([
      'netns of pid 4242: ip -j -d addr show dev eth0',
      `host: ip link add name ${veth} type veth peer name ${tmp}`,
      `host: ip link set dev ${tmp} netns 4242`,
      `host: ip link set dev ${veth} master cbr0`,
      `host: ip link set dev ${veth} type bridge_slave hairpin on`,
      `host: ip link set dev ${veth} up`,
      `netns of pid 4242: ip link set dev ${tmp} name eth0`,
      'netns of pid 4242: ip addr replace 10.244.1.2/24 dev eth0',
      'netns of pid 4242: ip link set dev lo up',
      'netns of pid 4242: ip link set dev eth0 up',
      'netns of pid 4242: ip route replace default via 10.244.1.1 dev eth0',
    ]);
    // One process per namespace and phase: look, make the pair, configure eth0.
    expect(r.commands).toHaveLength(3);
  });

  it('a retried setup with eth0 in place only makes its address, state and route right', async () => {
    const r = new FakeCommandRunner();
    const eth0 = [{ ifname: 'eth0', addr_info: [{ family: 'inet', local: '10.244.1.9', prefixlen: 24 }, { family: 'inet6', local: 'fe80::1', prefixlen: 64 }] }];
    r.on('ip -j -d addr show dev eth0', { stdout: JSON.stringify(eth0) });
    await network(r).setUpPod({ uid: 'uid-1', namespace: 'ns', name: 'p' }, { id: 'sb', pid: 9 });
    expect(r.steps()).toEqual([
      'netns of pid 9: ip -j -d addr show dev eth0',
      'netns of pid 9: ip addr del 10.244.1.9/24 dev eth0',
      'netns of pid 9: ip addr replace 10.244.1.2/24 dev eth0',
      'netns of pid 9: ip link set dev lo up',
      'netns of pid 9: ip link set dev eth0 up',
      'netns of pid 9: ip route replace default via 10.244.1.1 dev eth0',
    ]);
  });

  it('removes a pair left by a half-done attempt and makes it again', async () => {
    const r = new FakeCommandRunner();
    r.on('ip -j -d addr show dev eth0', { exitCode: 1, stderr: 'Device "eth0" does not exist.' });
    let adds = 0;
    r.on('ip -batch -', (cmd) => (cmd.where === 'host' && cmd.input?.startsWith('link add') && ++adds === 1 ? { exitCode: 1, stderr: 'RTNETLINK answers: File exists\nCommand failed -:1' } : undefined));
    const net = network(r);
    expect((await net.setUpPod({ uid: 'uid-1', namespace: 'ns', name: 'p' }, { id: 'sb', pid: 9 })).ip).toBe('10.244.1.2');
    const s = r.steps();
    const dels = s.indexOf(`host: ip link del dev ${hostVethName('sb')}`);
    expect(dels).toBeGreaterThan(s.indexOf(`host: ip link add name ${hostVethName('sb')} type veth peer name ${peerTempName('sb')}`));
    expect(s[dels + 1]).toBe(`host: ip link del dev ${peerTempName('sb')}`);
    expect(s.filter((l) => l.includes('link add'))).toHaveLength(2);
    expect(s.at(-1)).toBe('netns of pid 9: ip route replace default via 10.244.1.1 dev eth0');
  });

  it('releases the address again when wiring fails, and removes the half-made pair', async () => {
    const r = new FakeCommandRunner();
    r.on('ip -j -d addr show dev eth0', { exitCode: 1, stderr: 'Device "eth0" does not exist.' });
    r.on('ip -batch -', (cmd) => (cmd.input?.includes(' netns 9') ? { exitCode: 1, stderr: 'RTNETLINK answers: No such process\nCommand failed -:2' } : undefined));
    const net = network(r);
    const err = await net.setUpPod({ uid: 'uid-1', namespace: 'ns', name: 'p' }, { id: 'sb', pid: 9 }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/setting up the network of pod ns\/p .* failed: .*No such process/);
    expect((err as Error).cause).toBeInstanceOf(CommandError);
    expect(await net.podIP('uid-1')).toBeUndefined();
    expect(r.steps()).toContain(`host: ip link del dev ${hostVethName('sb')}`);
    // A pair that cannot be made is not made again and again.
    expect(r.steps().filter((l) => l.includes('link add'))).toHaveLength(1);
  });

  it('removes the pair it made when configuring eth0 in the pod fails, but not an eth0 it found', async () => {
    const r = new FakeCommandRunner();
    r.on('ip -j -d addr show dev eth0', { exitCode: 1, stderr: 'Device "eth0" does not exist.' });
    r.on('ip -batch -', (cmd) => (cmd.where !== 'host' ? { exitCode: 1, stderr: 'Error: Nexthop has invalid gateway.\nCommand failed -:5' } : undefined));
    const net = network(r);
    await expect(net.setUpPod({ uid: 'uid-1', namespace: 'ns', name: 'p' }, { id: 'sb', pid: 9 })).rejects.toThrow(/invalid gateway/);
    expect(r.steps().at(-1)).toBe(`host: ip link del dev ${hostVethName('sb')}`);

    const found = new FakeCommandRunner();
    found.on('ip -j -d addr show dev eth0', { stdout: JSON.stringify([{ ifname: 'eth0', addr_info: [] }]) });
    found.on('ip -batch -', { exitCode: 1, stderr: 'Error: Nexthop has invalid gateway.\nCommand failed -:4' });
    await expect(network(found).setUpPod({ uid: 'uid-2', namespace: 'ns', name: 'q' }, { id: 'sb2', pid: 10 })).rejects.toThrow(/invalid gateway/);
    expect(found.steps().filter((l) => l.includes(' del '))).toEqual([]);
  });

  it('tears down idempotently in one process: missing devices are not errors and the IP is released', async () => {
    const r = new FakeCommandRunner();
    const net = network(r);
    await net.setUpPod({ uid: 'uid-1', namespace: 'ns', name: 'p' }, { id: 'sb', pid: 9, fresh: true });
    r.clear();
    const gone = `Cannot find device "${hostVethName('sb')}"\nCommand failed -:1\nCannot find device "${peerTempName('sb')}"\nCommand failed -:2`;
    r.on('ip -force -batch -', { exitCode: 1, stderr: gone });
    await net.tearDownPod('uid-1', 'sb');
    await net.tearDownPod('uid-1', 'sb');
    expect(await net.podIP('uid-1')).toBeUndefined();
    const once = [`host: ip link del dev ${hostVethName('sb')}`, `host: ip link del dev ${peerTempName('sb')}`];
    expect(r.steps()).toEqual([...once, ...once]);
    expect(r.commands).toHaveLength(2);

    // Any other failure is one.
    r.on('ip -force -batch -', { exitCode: 1, stderr: 'RTNETLINK answers: Operation not permitted\nCommand failed -:1' });
    await expect(net.tearDownPod('uid-1', 'sb')).rejects.toThrow(/Operation not permitted/);
  });

  it('skips the look for eth0 in a sandbox started just now', async () => {
    const r = new FakeCommandRunner();
    await network(r).setUpPod({ uid: 'uid-1', namespace: 'ns', name: 'p' }, { id: 'sb', pid: 9, fresh: true });
    expect(r.lines()).toEqual(['host: ip -batch -', 'netns of pid 9: ip -batch -']);
    expect(r.steps()[5]).toBe(`netns of pid 9: ip link set dev ${peerTempName('sb')} name eth0`);
  });

  it('rejects a podCIDR outside the cluster CIDR, and over-long bridge names', () => {
    const r = new FakeCommandRunner();
    expect(() => network(r, { podCIDR: '10.245.1.0/24' })).toThrow(/outside the cluster CIDR 10\.244\.0\.0\/16/);
    expect(() => network(r, { bridgeName: 'a-very-long-bridge' })).toThrow(/15 characters/);
  });
});

describe('iptables rules', () => {
  it('renders our own chains: accept cluster traffic, masquerade what leaves the cluster', () => {
    expect(renderPodNetworkRules('10.244.0.0/16')).toBe(
      [
        '*filter',
        ':TKUBE-FORWARD - [0:0]',
        '-A TKUBE-FORWARD -s 10.244.0.0/16 -m comment --comment "tkube: forward pod traffic" -j ACCEPT',
        '-A TKUBE-FORWARD -d 10.244.0.0/16 -m comment --comment "tkube: forward traffic to pods" -j ACCEPT',
        'COMMIT',
        '*nat',
        ':TKUBE-POSTROUTING - [0:0]',
        '-A TKUBE-POSTROUTING -s 10.244.0.0/16 ! -d 10.244.0.0/16 -m comment --comment "tkube: masquerade pod traffic leaving the cluster" -j MASQUERADE',
        '-A TKUBE-POSTROUTING -m mark --mark 0x4000/0x4000 -m comment --comment "tkube: masquerade a pod reaching itself through its host port" -j MASQUERADE',
        'COMMIT',
        '',
      ].join('\n'),
    );
  });

  it('inserts the jumps only when they are missing', async () => {
    const r = new FakeCommandRunner();
    r.on(/-C FORWARD/, { exitCode: 1 }); // missing
    r.on(/-C POSTROUTING/, { exitCode: 0 }); // present
    await ensurePodNetworkRules(r, '10.244.0.0/16');
    const inserts = r.lines().filter((l) => l.includes(' -I '));
    expect(inserts).toEqual(['host: iptables -w -t filter -I FORWARD 1 -m comment --comment tkube pod forwarding rules -j TKUBE-FORWARD']);
  });

  it('removal tolerates chains that are already gone', async () => {
    const r = new FakeCommandRunner();
    r.on(/-C /, { exitCode: 2, stderr: "iptables v1.8.9 (nf_tables): Chain 'TKUBE-FORWARD' does not exist" });
    r.on(/ -[FX] /, { exitCode: 1, stderr: 'iptables: No chain/target/match by that name.' });
    await expect(removePodNetworkRules(r)).resolves.toBeUndefined();
  });
});

describe('routes to other nodes', () => {
  const installed = (routes: Array<[string, string]>) => ({ stdout: JSON.stringify(routes.map(([dst, gateway]) => ({ dst, gateway, dev: 'eth0', flags: [] }))) });

  it('adds routes to other nodes, changes moved ones, removes gone ones, skips this node and incomplete nodes', async () => {
    const r = new FakeCommandRunner();
    r.on('route show proto 76', installed([['10.244.2.0/24', '192.168.5.2'], ['10.244.3.0/24', '192.168.5.3'], ['10.244.9.0/24', '192.168.5.9']]));
    const res = await syncPodRoutes(
      r,
      [
        { name: 'me', podCIDR: '10.244.1.0/24', nodeIP: '192.168.5.1' },
        { name: 'same', podCIDR: '10.244.2.0/24', nodeIP: '192.168.5.2' },
        { name: 'moved', podCIDR: '10.244.3.0/24', nodeIP: '192.168.5.33' },
        { name: 'new', podCIDR: '10.244.4.0/24', nodeIP: '192.168.5.4' },
        { name: 'fresh', podCIDR: '', nodeIP: '192.168.5.5' },
        { name: 'noip', podCIDR: '10.244.6.0/24', nodeIP: '' },
      ],
      '10.244.1.0/24',
    );
    expect(res.replaced).toEqual(['10.244.3.0/24', '10.244.4.0/24']);
    expect(res.removed).toEqual(['10.244.9.0/24']);
    expect(res.skipped.map((s) => s.node)).toEqual(['fresh', 'noip']);
    expect(r.lines().filter((l) => !l.includes('show'))).toEqual([
      'host: ip route replace 10.244.3.0/24 via 192.168.5.33 proto 76',
      'host: ip route replace 10.244.4.0/24 via 192.168.5.4 proto 76',
      'host: ip route del 10.244.9.0/24 proto 76',
    ]);
  });
});

describe('ProcessCommandRunner', () => {
  it('reports the command, where it ran, the exit code and stderr when a command fails', async () => {
    const r = new ProcessCommandRunner();
    const err = (await r.run(['sh', '-c', 'echo oops >&2; exit 3']).catch((e: unknown) => e)) as CommandError;
    expect(err).toBeInstanceOf(CommandError);
    expect(err.exitCode).toBe(3);
    expect(err.message).toBe('`sh -c echo oops >&2; exit 3` (host) failed with exit code 3: oops');
    expect((await r.run(['sh', '-c', 'exit 1'], { okExitCodes: [1] })).exitCode).toBe(1);
    expect((await r.run(['cat'], { input: 'hello' })).stdout).toBe('hello');
  });

  it('reports a command that cannot be started or runs past its timeout', async () => {
    const missing = (await new ProcessCommandRunner().run(['tkube-no-such-command']).catch((e: unknown) => e)) as CommandError;
    expect(missing).toBeInstanceOf(CommandError);
    expect(missing.message).toMatch(/^`tkube-no-such-command` \(host\) could not be run: .*ENOENT/);
    const slow = (await new ProcessCommandRunner({ timeoutMs: 100 }).run(['sleep', '30']).catch((e: unknown) => e)) as CommandError;
    expect(slow.message).toBe('`sleep 30` (host) could not be run: timed out after 100ms');
  });

  it('prefixes nsenter for a namespace path and for a PID', async () => {
    const missing = new ProcessCommandRunner({ netnsPath: '/run/netns/tkube-does-not-exist' });
    expect(missing.where).toBe('netns /run/netns/tkube-does-not-exist');
    await expect(missing.run(['true'])).rejects.toThrow(/nsenter.*tkube-does-not-exist|No such file/);
    const self = new ProcessCommandRunner().inNetnsOfPid(process.pid);
    expect(self.where).toBe(`netns of pid ${process.pid}`);
    expect((await self.run(['echo', 'in'])).stdout).toBe('in');
    expect(() => new ProcessCommandRunner().inNetnsOfPid(0)).toThrow(/invalid pid/);
  });
});
