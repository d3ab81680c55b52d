/**
 * The whole Kubelet wired to fakes: FakeClient for the API server, FakeRuntime for Docker,
 * FakeCommandRunner for ip/iptables, FakeMounter. What a user sees through the API: the node
 * registered and Ready once it has a podCIDR, pods Running with status and events, admission
 * of at most --max-pods, static pods mirrored, orphans removed.
 */
import fs from 'node:fs/promises';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Node, Pod } from '../api/index.js';
import { silentLogger } from '../base/index.js';
import { FakeClient, Resources } from '../client/index.js';
import { newForbidden } from '../machinery/index.js';
import { Kubelet, podSpecChanged, type KubeletOptions } from './kubelet.js';
import { FakeCommandRunner } from './network/index.js';
import { FakeRuntime } from './runtime/index.js';
import { FakeMounter } from './volumes/mounter.js';

const image = 'tkube/busybox:1.36';

async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await Promise.resolve().then(check).catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

let tmp: string;
let client: FakeClient;
let rt: FakeRuntime;
let stop: AbortController;
let running: Promise<void> | undefined;

function baseOptions(): KubeletOptions {
  return {
    client,
    runtime: rt,
    runner: new FakeCommandRunner(),
    log: silentLogger(),
    nodeName: 'node-a',
    nodeIP: '192.0.2.10',
    rootDir: path.join(tmp, 'root'),
    podManifestPath: path.join(tmp, 'manifests'),
    podInfraContainerImage: 'tkube/pause:3.10',
    clusterDNS: ['10.96.0.10'],
    clusterDomain: 'cluster.local',
    clusterCIDR: '10.244.0.0/16',
    port: 10250,
    healthzPort: 0,
    healthzBindAddress: '127.0.0.1',
    nodeLabels: { zone: 'a' },
    registerWithTaints: [],
    maxPods: 110,
    nodeStatusUpdateFrequencyMs: 100,
    syncFrequencyMs: 60_000,
    imageGCHighThresholdPercent: 85,
    imageGCLowThresholdPercent: 80,
    imageDir: tmp,
    mounter: new FakeMounter(),
    plegPeriodMs: 100,
    leaseRenewIntervalMs: 200,
  };
}

function start(over: Partial<KubeletOptions> = {}): Kubelet {
  const k = new Kubelet({ ...baseOptions(), ...over });
  running = k.start(stop.signal);
  return k;
}

beforeEach(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'tkube-kubelet-unit-'));
  await fs.mkdir(path.join(tmp, 'manifests'));
  client = new FakeClient();
  rt = new FakeRuntime();
  rt.addImage(image);
  stop = new AbortController();
});

afterEach(async () => {
  stop.abort();
  await running;
  await fs.rm(tmp, { recursive: true, force: true });
});

const nodes = () => client.resource(Resources.nodes);
const pods = () => client.resource(Resources.pods, 'default');
const ready = (n: Node | undefined) => n?.status?.conditions?.find((c) => c.type === 'Ready')?.status;

async function readyNode(): Promise<void> {
  await until('the node', async () => !!(await nodes().get('node-a')));
  await nodes().patch('node-a', 'merge', { spec: { podCIDR: '10.244.1.0/24' } });
  await until('Ready', async () => ready(await nodes().get('node-a')) === 'True');
}

function pod(name: string, extra: Partial<NonNullable<Pod['spec']>> = {}): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { nodeName: 'node-a', containers: [{ name: 'app', image }], ...extra } };
}

describe('Kubelet (with fakes)', () => {
  it('registers the node, renews its lease, and turns Ready once the podCIDR is set', async () => {
    start();
    await until('the node', async () => ready(await nodes().get('node-a')) === 'False');
    const n = await nodes().get('node-a');
    expect(n.metadata.labels).toMatchObject({ zone: 'a', 'kubernetes.io/hostname': 'node-a' });
    expect(n.status?.nodeInfo?.containerRuntimeVersion).toBe('fake://0.0.1');
    await until('the lease', async () => !!(await client.resource(Resources.leases, 'kube-node-lease').get('node-a')));
    await readyNode();
  });

  it('as the Node authorizer allows: reads its own Node by field selector, turns Ready without seeing other Nodes, routes to them once it may', async () => {
    // A kubelet may list/watch only its own Node (fieldSelector metadata.name=<node>); other
    // Nodes need an RBAC grant, given here later.
    let mayListAll = false;
    client.prependReactor((a) => {
      if (a.resource !== 'nodes' || (a.verb !== 'list' && a.verb !== 'watch')) return;
      if (a.fieldSelector === 'metadata.name=node-a' || mayListAll) return;
      throw newForbidden({ group: '', resource: 'nodes' }, '', 'can only list/watch its own Node object with fieldSelector metadata.name=node-a');
    });
    await nodes().create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-b' }, spec: { podCIDR: '10.244.2.0/24' }, status: { addresses: [{ type: 'InternalIP', address: '192.0.2.11' }] } });
    const runner = new FakeCommandRunner();
    start({ runner });
    await readyNode();
    expect(runner.lines().some((l) => l.includes('ip route replace 10.244.2.0/24'))).toBe(false);
    mayListAll = true;
    await until('the route to node-b', () => runner.lines().includes('host: ip route replace 10.244.2.0/24 via 192.0.2.11 proto 76'), 15_000);
  }, 20_000);

  it('runs a bound pod: sandbox and container created, status Running with the pod IP, events written', async () => {
    start();
    await readyNode();
    await pods().create(pod('web'));
    await until('Running', async () => (await pods().get('web')).status?.phase === 'Running');
    const p = await pods().get('web');
    expect(p.status?.podIP).toBe('10.244.1.2');
    expect(p.status?.containerStatuses?.[0]).toMatchObject({ name: 'app', ready: true, restartCount: 0 });
    expect([...rt.sandboxes.values()][0]!.rawLabels['io.tkube.node']).toBe('node-a');
    await until('events', async () => (await client.resource(Resources.events, 'default').list()).items.some((e) => e.reason === 'Started'));
    const ev = (await client.resource(Resources.events, 'default').list()).items.find((e) => e.reason === 'Started')!;
    expect(ev.source).toEqual({ component: 'kubelet', host: 'node-a' });
  });

  it('reports a new pod Pending with its containers ContainerCreating while they are started, then Running', async () => {
    // Hold the app container's start, as a slow Docker would.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const startContainer = rt.startContainer.bind(rt);
    rt.startContainer = async (id) => {
      await held;
      return startContainer(id);
    };
    start();
    // Released in any case, so that the kubelet can stop.
    stop.signal.addEventListener('abort', () => release(), { once: true });
    await readyNode();
    await pods().create(pod('web'));
    await until('ContainerCreating', async () => (await pods().get('web')).status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ContainerCreating');
    const p = await pods().get('web');
    expect(p.status).toMatchObject({ phase: 'Pending', hostIP: '192.0.2.10' });
    expect(p.status?.startTime).toBeDefined();
    expect(p.status?.containerStatuses).toEqual([expect.objectContaining({ name: 'app', ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } })]);
    expect(p.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'ContainersNotReady' });
    release();
    await until('Running', async () => (await pods().get('web')).status?.phase === 'Running');
    expect((await pods().get('web')).status?.startTime).toBe(p.status?.startTime);
  });

  it('a container that cannot start is restarted as the next attempt under the crash back-off, not retried at once', async () => {
    // Every start fails, as with a command that does not exist.
    const error = 'exec: "/nonexistent": stat /nonexistent: no such file or directory';
    for (let i = 0; i < 20; i++) rt.failNext('startContainer', new Error(error));
    start();
    await readyNode();
    await pods().create(pod('web'));
    // The first instance fails; the second is made at once (no back-off yet) and fails too.
    await until('restartCount 1', async () => (await pods().get('web')).status?.containerStatuses?.[0]?.restartCount === 1);
    await until('CrashLoopBackOff', async () => (await pods().get('web')).status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CrashLoopBackOff');
    const cs = (await pods().get('web')).status!.containerStatuses![0]!;
    expect(cs.state?.waiting?.message).toMatch(/^back-off 10s restarting failed container=app pod=web_default/);
    expect(cs.lastState?.terminated).toMatchObject({ reason: 'ContainerCannotRun', message: error, exitCode: 128 });
    // Within the 10 s back-off nothing more is made: two instances, both kept (not removed and made again).
    await new Promise((r) => setTimeout(r, 1500));
    const made = rt.calls.filter((c) => c.method === 'createContainer').length;
    expect(made).toBe(2);
    expect([...rt.containers.values()].map((c) => c.config.metadata.attempt).sort()).toEqual([0, 1]);
    const events = (await client.resource(Resources.events, 'default').list()).items;
    expect(events.find((e) => e.reason === 'BackOff')?.message).toBe('Back-off restarting failed container app in pod web_default(' + (await pods().get('web')).metadata.uid + ')');
  });

  it('serves its HTTPS API from its own state, on the port the Node reports', async () => {
    const readOnlyPort = await new Promise<number>((resolve) => {
      const srv = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as net.AddressInfo).port;
        srv.close(() => resolve(p));
      });
    });
    const k = start({ port: 0, address: '127.0.0.1', readOnlyPort, server: { certDir: path.join(tmp, 'pki'), anonymousAuth: true, statsSecondSampleDelayMs: 10 } });
    await readyNode();
    const port = k.serverPort!;
    expect(port).toBeGreaterThan(0);
    expect((await nodes().get('node-a')).status?.daemonEndpoints?.kubeletEndpoint?.Port).toBe(port);
    await pods().create(pod('web'));
    await until('Running', async () => (await pods().get('web')).status?.phase === 'Running');
    const get = (p: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) =>
        https.get({ host: '127.0.0.1', port, path: p, rejectUnauthorized: false }, (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode!, body }));
        }).on('error', reject),
      );
    const list = JSON.parse((await get('/pods')).body);
    expect(list.items.map((p: Pod) => [p.metadata.name, p.status?.phase])).toEqual([['web', 'Running']]);
    const ref = await k.serverHost!.findPod('default', 'web');
    expect(ref?.sandboxId).toBe([...rt.sandboxes.keys()][0]);
    expect(ref?.containerIds.app).toBe([...rt.containers.keys()][0]);
    rt.writeLog(ref!.containerIds.app!, 'stdout', 'hello from app\n');
    expect(await get('/containerLogs/default/web/app')).toEqual({ status: 200, body: 'hello from app\n' });
    const stats = JSON.parse((await get('/stats/summary')).body);
    expect(stats.node.nodeName).toBe('node-a');
    expect(stats.pods.map((p: { podRef: { name: string } }) => p.podRef.name)).toEqual(['web']);
    // --read-only-port: the same pods over plain HTTP, and no logs there.
    expect(k.readOnlyServerPort).toBe(readOnlyPort);
    const plain = await fetch(`http://127.0.0.1:${readOnlyPort}/pods`);
    expect(((await plain.json()) as { items: Pod[] }).items.map((p) => p.metadata.name)).toEqual(['web']);
    expect((await fetch(`http://127.0.0.1:${readOnlyPort}/containerLogs/default/web/app`)).status).toBe(404);
  });

  it('refuses to start when its API cannot listen (the port is taken)', async () => {
    const first = start({ port: 0, address: '127.0.0.1', server: { certDir: path.join(tmp, 'pki') } });
    await until('the first kubelet API', () => first.serverPort !== undefined);
    const second = new Kubelet({ ...baseOptions(), nodeName: 'node-b', port: first.serverPort!, address: '127.0.0.1', server: { certDir: path.join(tmp, 'pki') } });
    await expect(second.start(stop.signal)).rejects.toThrow(/the kubelet server cannot serve on https:\/\/127\.0\.0\.1:\d+: listen EADDRINUSE/);
  });

  it('rejects pods beyond --max-pods with OutOfpods', async () => {
    start({ maxPods: 2 });
    await readyNode();
    for (const n of ['a', 'b']) await pods().create(pod(n));
    await until('two Running', async () => (await pods().list()).items.filter((p) => p.status?.phase === 'Running').length === 2);
    await pods().create(pod('c'));
    await until('the third rejected', async () => (await pods().get('c')).status?.phase === 'Failed');
    const c = await pods().get('c');
    expect(c.status).toMatchObject({ reason: 'OutOfpods', message: "Node didn't have enough resource: pods, requested: 1, used: 2, capacity: 2" });
    expect(rt.sandboxes.size).toBe(2);
  });

  it('runs static pods and keeps their mirror pods', async () => {
    await fs.writeFile(path.join(tmp, 'manifests', 'etcd.json'), JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'etcd', namespace: 'kube-system' }, spec: { containers: [{ name: 'etcd', image }] } }));
    start();
    await readyNode();
    const mirrors = client.resource(Resources.pods, 'kube-system');
    await until('the mirror Running', async () => (await mirrors.get('etcd-node-a')).status?.phase === 'Running');
    const m = await mirrors.get('etcd-node-a');
    expect(m.metadata.annotations?.['kubernetes.io/config.mirror']).toBe(m.metadata.annotations?.['kubernetes.io/config.hash']);
    expect(m.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Node', name: 'node-a' });
    // The static pod runs under its own uid, not the mirror's.
    expect([...rt.sandboxes.values()][0]!.config.metadata.uid).not.toBe(m.metadata.uid);
  });

  it('removes containers of pods it does not know (deleted while it was away)', async () => {
    const sb = await rt.createSandbox({ metadata: { uid: 'ghost', namespace: 'default', name: 'ghost', attempt: 0 }, labels: { 'io.tkube.node': 'node-a' } });
    await rt.startSandbox(sb);
    const other = await rt.createSandbox({ metadata: { uid: 'elsewhere', namespace: 'default', name: 'x', attempt: 0 }, labels: { 'io.tkube.node': 'node-b' } });
    start();
    await readyNode();
    await until('the orphan removed', () => !rt.sandboxes.has(sb));
    // Another node's objects on the same engine are left alone.
    expect(rt.sandboxes.has(other)).toBe(true);
  });
});

describe('podSpecChanged', () => {
  const base = pod('w');
  it.each([
    ['a status change', { ...base, status: { phase: 'Running' as const } }, false],
    ['a new resourceVersion', { ...base, metadata: { ...base.metadata, resourceVersion: '9' } }, false],
    ['an image change', { ...base, spec: { ...base.spec!, containers: [{ name: 'app', image: 'other:2' }] } }, true],
    ['a deletion', { ...base, metadata: { ...base.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } }, true],
    ['a label', { ...base, metadata: { ...base.metadata, labels: { a: 'b' } } }, true],
  ])('%s: %s', (_what, next, changed) => {
    expect(podSpecChanged(base, next as Pod)).toBe(changed);
  });
});
