/**
 * The pod network for real: two "nodes", each a fresh network namespace made by this file
 * (bridge, host ends of the veths, routes and iptables all live there), pods as real pause
 * containers of the host's Docker whose namespaces get eth0. The nodes are joined by a veth
 * pair standing for the wire between two machines. Traffic goes only to addresses inside
 * these namespaces. Both namespaces get FORWARD policy DROP, as Docker sets it on real nodes,
 * so that forwarding works only because of our rules.
 *
 *   netns A (node a)                               netns B (node b)
 *   br 10.244.1.1/24  ── wire 192.0.2.1 ─── 192.0.2.2 ──  br 10.244.2.1/24
 *    ├─ pod server  .2                                     └─ pod remote .2
 *    └─ pod client  .3                                 httpd on 192.0.2.2:7070 (outside the cluster)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../lib/base/index.js';
import { DockerRuntime, hostVethName, peerTempName, PodNetwork, type ContainerConfig } from '../../lib/kubelet/index.js';
import { busyboxImage, ensureTestImages, pauseImage } from '../../hack/images/images.js';
import { createTestNetns, e2eRunLabel, randomSuffix, removeRunContainers, waitFor, type TestNetns } from '../support/node-host.js';

const run = randomSuffix();
const docker = new Docker();
const rt = new DockerRuntime({ log: silentLogger(), docker });
const log = silentLogger();
const clusterCIDR = '10.244.0.0/16';

let tmp: string;
let nodeA: TestNetns;
let nodeB: TestNetns;
let netA: PodNetwork;
let netB: PodNetwork;
let outsideServer: ChildProcess | undefined;

interface TestPod {
  uid: string;
  name: string;
  sandboxId: string;
  pid: number;
  ip?: string;
}

let pods = 0;
async function newPod(net: PodNetwork): Promise<TestPod> {
  const n = ++pods;
  const meta = { uid: `uid-${run}-${n}`, namespace: 'e2e', name: `net-${run}-${n}`, attempt: 0 };
  const sandboxId = await rt.createSandbox({ metadata: meta, labels: { [e2eRunLabel]: run } });
  await rt.startSandbox(sandboxId);
  const { pid } = await rt.inspectSandbox(sandboxId);
  const pod: TestPod = { uid: meta.uid, name: meta.name, sandboxId, pid: pid! };
  pod.ip = (await net.setUpPod({ uid: meta.uid, namespace: 'e2e', name: meta.name }, { id: sandboxId, pid: pid! })).ip;
  return pod;
}

async function runIn(pod: TestPod, name: string, command: string[], extra: Partial<ContainerConfig> = {}): Promise<string> {
  const id = await rt.createContainer(pod.sandboxId, { metadata: { name, attempt: 0 }, image: busyboxImage, command, labels: { [e2eRunLabel]: run }, ...extra });
  await rt.startContainer(id);
  return id;
}

/** An httpd whose CGI answers with the address the connection came from. */
const whoAmIServer = (port: number) => [
  'sh',
  '-c',
  `mkdir -p /tmp/www/cgi-bin && printf '#!/bin/sh\\necho Content-Type: text/plain\\necho\\necho peer=$REMOTE_ADDR\\n' > /tmp/www/cgi-bin/ip && chmod +x /tmp/www/cgi-bin/ip && httpd -f -p ${port} -h /tmp/www`,
];

/** Asks a whoami server (from inside a pod) who it saw; retries while it starts. */
async function askPeer(client: string, addr: string, port: number): Promise<string> {
  let seen = '';
  await waitFor(`an answer from ${addr}:${port}`, async () => {
    const r = await rt.execSync(client, ['sh', '-c', `printf 'GET /cgi-bin/ip HTTP/1.0\\r\\n\\r\\n' | nc -w 2 ${addr} ${port}`], { timeoutMs: 4000 });
    const m = /peer=\[?(?:::ffff:)?([\d.]+)\]?/.exec(r.stdout.toString());
    seen = m?.[1] ?? '';
    return seen !== '';
  }, 15_000, 200);
  return seen;
}

beforeAll(async () => {
  await ensureTestImages([pauseImage, busyboxImage]);
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), `tkube-net-${run}-`));
  nodeA = await createTestNetns(`tkube-test-${run}-a`);
  nodeB = await createTestNetns(`tkube-test-${run}-b`);
  // The wire between the nodes.
  await nodeA.runner.run(['ip', 'link', 'add', `wa${run}`, 'type', 'veth', 'peer', 'name', `wb${run}`]);
  await nodeA.runner.run(['ip', 'link', 'set', `wb${run}`, 'netns', nodeB.path]);
  await nodeA.runner.run(['ip', 'addr', 'add', '192.0.2.1/24', 'dev', `wa${run}`]);
  await nodeB.runner.run(['ip', 'addr', 'add', '192.0.2.2/24', 'dev', `wb${run}`]);
  await nodeA.runner.run(['ip', 'link', 'set', `wa${run}`, 'up']);
  await nodeB.runner.run(['ip', 'link', 'set', `wb${run}`, 'up']);
  for (const n of [nodeA, nodeB]) await n.runner.run(['iptables', '-w', '-P', 'FORWARD', 'DROP']);

  netA = new PodNetwork({ runner: nodeA.runner, log, podCIDR: '10.244.1.0/24', clusterCIDR, bridgeName: `tkbr${run}`, ipamDir: path.join(tmp, 'ipam-a') });
  netB = new PodNetwork({ runner: nodeB.runner, log, podCIDR: '10.244.2.0/24', clusterCIDR, bridgeName: `tkbr${run}`, ipamDir: path.join(tmp, 'ipam-b') });
});

afterAll(async () => {
  outsideServer?.kill('SIGKILL');
  await removeRunContainers(docker, run);
  await nodeA?.remove();
  await nodeB?.remove();
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

describe('PodNetwork in a test network namespace', () => {
  let server: TestPod;
  let client: TestPod;
  let clientBox: string;

  it('prepares the node: bridge with the gateway address, forwarding, our iptables chains (idempotently)', async () => {
    await netA.ensureNode();
    await netA.ensureNode();
    await netB.ensureNode();
    const sh = (cmd: string[]) => nodeA.runner.run(cmd).then((r) => r.stdout);
    const bridge = JSON.parse(await sh(['ip', '-j', '-d', 'addr', 'show', 'dev', `tkbr${run}`]))[0];
    expect(bridge.linkinfo.info_kind).toBe('bridge');
    expect(bridge.flags).toContain('UP');
    expect(bridge.addr_info.filter((a: { family: string }) => a.family === 'inet').map((a: { local: string; prefixlen: number }) => `${a.local}/${a.prefixlen}`)).toEqual(['10.244.1.1/24']);
    expect((await sh(['sysctl', '-n', 'net.ipv4.ip_forward'])).trim()).toBe('1');
    const filter = await sh(['iptables', '-w', '-S']);
    expect(filter.match(/-A FORWARD .*-j TKUBE-FORWARD/g)).toHaveLength(1);
    expect(filter).toContain('-A TKUBE-FORWARD -s 10.244.0.0/16');
    const nat = await sh(['iptables', '-w', '-t', 'nat', '-S']);
    expect(nat.match(/-A POSTROUTING .*-j TKUBE-POSTROUTING/g)).toHaveLength(1);
    expect(nat).toMatch(/-A TKUBE-POSTROUTING -s 10\.244\.0\.0\/16 ! -d 10\.244\.0\.0\/16 .*-j MASQUERADE/);
    // The host's own namespace is untouched.
    await expect(new (await import('../../lib/kubelet/index.js')).ProcessCommandRunner().run(['ip', 'link', 'show', `tkbr${run}`])).rejects.toThrow(/does not exist/);
  });

  it('gives two pods distinct addresses on the bridge, and they reach each other with their own IPs', async () => {
    server = await newPod(netA);
    client = await newPod(netA);
    expect(server.ip).toBe('10.244.1.2');
    expect(client.ip).toBe('10.244.1.3');

    await runIn(server, 'whoami', whoAmIServer(8080));
    clientBox = await runIn(client, 'box', ['sleep', '3600']);
    const addr = await rt.execSync(clientBox, ['sh', '-c', 'ip -4 addr show dev eth0; ip route']);
    expect(addr.stdout.toString()).toContain('inet 10.244.1.3/24');
    expect(addr.stdout.toString()).toContain('default via 10.244.1.1 dev eth0');

    expect(await askPeer(clientBox, server.ip!, 8080)).toBe(client.ip);
    // The host end is a bridge port with hairpin on.
    const port = JSON.parse((await nodeA.runner.run(['ip', '-j', '-d', 'link', 'show', 'dev', hostVethName(client.sandboxId)])).stdout)[0];
    expect(port.master).toBe(`tkbr${run}`);
    expect(port.linkinfo.info_slave_data.hairpin).toBe(true);
  });

  it('routes to another node\'s pods (pod IPs kept) and masquerades traffic leaving the cluster', async () => {
    const remote = await newPod(netB);
    expect(remote.ip).toBe('10.244.2.2');
    await runIn(remote, 'whoami', whoAmIServer(8081));
    const nodes = [
      { name: 'a', podCIDR: '10.244.1.0/24', nodeIP: '192.0.2.1' },
      { name: 'b', podCIDR: '10.244.2.0/24', nodeIP: '192.0.2.2' },
    ];
    expect((await netA.syncRoutes(nodes)).replaced).toEqual(['10.244.2.0/24']);
    expect((await netB.syncRoutes(nodes)).replaced).toEqual(['10.244.1.0/24']);
    expect((await netA.syncRoutes(nodes)).replaced).toEqual([]); // nothing changed

    expect(await askPeer(clientBox, remote.ip!, 8081)).toBe(client.ip);

    // A server on node b's own address is outside the cluster CIDR: it sees node a's address.
    const www = path.join(tmp, 'outside');
    await fs.mkdir(path.join(www, 'cgi-bin'), { recursive: true });
    await fs.writeFile(path.join(www, 'cgi-bin', 'ip'), '#!/bin/sh\necho Content-Type: text/plain\necho\necho peer=$REMOTE_ADDR\n', { mode: 0o755 });
    outsideServer = spawn('nsenter', [`--net=${nodeB.path}`, '/usr/bin/busybox', 'httpd', '-f', '-p', '192.0.2.2:7070', '-h', www], { stdio: 'ignore' });
    expect(await askPeer(clientBox, '192.0.2.2', 7070)).toBe('192.0.2.1');

    // Node b leaves: its route goes, and its pods are out of reach.
    expect((await netA.syncRoutes(nodes.slice(0, 1))).removed).toEqual(['10.244.2.0/24']);
    expect((await nodeA.runner.run(['ip', 'route', 'show', 'proto', '76'])).stdout).toBe('');
  });

  it('tears a pod down idempotently, keeps addresses across a restart and collects those of gone pods', async () => {
    // A "restarted kubelet": a new PodNetwork over the same folder sees the same addresses.
    const restarted = new PodNetwork({ runner: nodeA.runner, log, podCIDR: '10.244.1.0/24', clusterCIDR, bridgeName: `tkbr${run}`, ipamDir: path.join(tmp, 'ipam-a') });
    expect(await restarted.podIP(server.uid)).toBe(server.ip);
    expect(await restarted.podIP(client.uid)).toBe(client.ip);
    // Setting up an already wired pod again changes nothing.
    expect((await restarted.setUpPod({ uid: client.uid, namespace: 'e2e', name: client.name }, { id: client.sandboxId, pid: client.pid })).ip).toBe(client.ip);

    await restarted.tearDownPod(client.uid, client.sandboxId);
    await expect(nodeA.runner.run(['ip', 'link', 'show', 'dev', hostVethName(client.sandboxId)])).rejects.toThrow(/does not exist/);
    expect(await restarted.podIP(client.uid)).toBeUndefined();
    await restarted.tearDownPod(client.uid, client.sandboxId); // again: no error

    // The server's pause dies. Its app container still holds the network namespace, so the
    // pair lives on until the kubelet tears it down; GC frees the address of the gone pod.
    process.kill(server.pid, 'SIGKILL');
    await waitFor('the server sandbox to die', async () => (await rt.inspectSandbox(server.sandboxId)).state === 'notready');
    const leftover = await newPod(restarted);
    expect(leftover.ip).toBe('10.244.1.4'); // not the just-freed .3: round robin
    const freed = await restarted.garbageCollect([leftover.uid]);
    expect(freed.map((f) => f.ip)).toEqual([server.ip]);
    expect((await restarted.ipam.list()).map((a) => a.podUID)).toEqual([leftover.uid]);
    await restarted.tearDownPod(server.uid, server.sandboxId);
    await expect(nodeA.runner.run(['ip', 'link', 'show', 'dev', hostVethName(server.sandboxId)])).rejects.toThrow(/does not exist/);
    expect(await restarted.podIP(leftover.uid)).toBe(leftover.ip);
  });

  it('wires a pod over a pair left by a half-done attempt, and a failed attempt leaves no pair', async () => {
    const n = ++pods;
    const meta = { uid: `uid-${run}-${n}`, namespace: 'e2e', name: `net-${run}-${n}`, attempt: 0 };
    const sandboxId = await rt.createSandbox({ metadata: meta, labels: { [e2eRunLabel]: run } });
    await rt.startSandbox(sandboxId);
    const { pid } = await rt.inspectSandbox(sandboxId);
    // What a kubelet killed between making the pair and moving its pod end leaves behind.
    await nodeA.runner.run(['ip', 'link', 'add', 'name', hostVethName(sandboxId), 'type', 'veth', 'peer', 'name', peerTempName(sandboxId)]);
    const ip = (await netA.setUpPod({ uid: meta.uid, namespace: 'e2e', name: meta.name }, { id: sandboxId, pid: pid! })).ip;
    const eth0 = JSON.parse((await nodeA.runner.inNetnsOfPid(pid!).run(['ip', '-j', 'addr', 'show', 'dev', 'eth0'])).stdout)[0];
    expect(eth0.addr_info.filter((a: { family: string }) => a.family === 'inet').map((a: { local: string }) => a.local)).toEqual([ip]);
    const port = JSON.parse((await nodeA.runner.run(['ip', '-j', '-d', 'link', 'show', 'dev', hostVethName(sandboxId)])).stdout)[0];
    expect(port.master).toBe(`tkbr${run}`);
    expect(port.linkinfo.info_slave_data.hairpin).toBe(true);
    await expect(nodeA.runner.run(['ip', 'link', 'show', 'dev', peerTempName(sandboxId)])).rejects.toThrow(/does not exist/);

    // A sandbox whose process is gone: the pair cannot be moved, so none is left, nor the address.
    const gone = { uid: `uid-${run}-gone`, namespace: 'e2e', name: `net-${run}-gone` };
    const deadPid = Number(await fs.readFile('/proc/sys/kernel/pid_max', 'utf8')) + 1; // no process can have it
    await expect(netA.setUpPod(gone, { id: `gone-${run}`, pid: deadPid })).rejects.toThrow(/setting up the network of pod e2e\/net-.*-gone/);
    for (const name of [hostVethName(`gone-${run}`), peerTempName(`gone-${run}`)]) await expect(nodeA.runner.run(['ip', 'link', 'show', 'dev', name])).rejects.toThrow(/does not exist/);
    expect(await netA.podIP(gone.uid)).toBeUndefined();
    await netA.tearDownPod(meta.uid, sandboxId);
  });

  it('removes what ensureNode installed', async () => {
    await netB.removeNode();
    await expect(nodeB.runner.run(['ip', 'link', 'show', 'dev', `tkbr${run}`])).rejects.toThrow(/does not exist/);
    expect((await nodeB.runner.run(['iptables', '-w', '-S'])).stdout).not.toContain('TKUBE');
    expect((await nodeB.runner.run(['iptables', '-w', '-t', 'nat', '-S'])).stdout).not.toContain('TKUBE');
    await netB.removeNode(); // again: no error
  });
});
