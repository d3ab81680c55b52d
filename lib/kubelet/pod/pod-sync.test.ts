/**
 * The pod sync against FakeRuntime (containers), FakeCommandRunner (the pod network's ip
 * commands), FakeClient (ConfigMaps and Secrets) and a FakeClock: what it creates, starts,
 * restarts and kills, and the status it reports, step by step.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConfigMap, Container, ObjectReference, Pod, Secret } from '../../api/index.js';
import { FakeClock, silentLogger } from '../../base/index.js';
import { FakeClient, Resources, type EventRecorder } from '../../client/index.js';
import { KeyedBackoff } from '../backoff.js';
import { ObjectWatcher } from '../config-objects.js';
import { PodEvents } from '../events.js';
import { ImageManager } from '../images/image-manager.js';
import type { HookResult, HookRunner } from '../lifecycle.js';
import { FakeCommandRunner, PodNetwork } from '../network/index.js';
import { FakeRuntime } from '../runtime/index.js';
import { FakeMounter } from '../volumes/mounter.js';
import { VolumeManager } from '../volumes/volume-manager.js';
import { PodSyncer, type PodSyncResult } from './pod-sync.js';
import { RuntimeReader } from './runtime-state.js';

const image = 'tkube/busybox:1.36';
const nodeLabels = { 'io.tkube.node': 'node-a' };

class RecordingRecorder implements EventRecorder {
  readonly events: Array<{ reason: string; message: string; type: string; fieldPath?: string }> = [];
  event(obj: ObjectReference | { metadata: unknown }, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.events.push({ reason, message, type, fieldPath: (obj as ObjectReference).fieldPath });
  }
  eventf(obj: ObjectReference, type: 'Normal' | 'Warning', reason: string, fmt: string): void {
    this.event(obj, type, reason, fmt);
  }
  reasons(): string[] {
    return this.events.map((e) => e.reason);
  }
}

class FakeProbes {
  failures = new Map<string, 'liveness' | 'startup'>();
  ready = new Map<string, boolean>();
  removed: string[] = [];
  updatePod(): void {}
  removePod(uid: string): void {
    this.removed.push(uid);
  }
  readiness(id: string): boolean | undefined {
    return this.ready.get(id);
  }
  startup(): boolean | undefined {
    return undefined;
  }
  failed(id: string): 'liveness' | 'startup' | undefined {
    return this.failures.get(id);
  }
}

class FakeHooks implements HookRunner {
  readonly calls: string[] = [];
  answer: HookResult = { ok: true };
  constructor(
    private readonly clock: FakeClock,
    private readonly rt: FakeRuntime,
  ) {}
  async run(kind: 'postStart' | 'preStop', _h: unknown, t: { container: Container; containerId: string }): Promise<HookResult> {
    // The hook runs while the container is still running.
    const state = this.rt.containers.get(t.containerId)?.state;
    this.calls.push(`${kind} ${t.container.name} (${state})`);
    if (kind === 'preStop') await this.clock.advance(3000);
    return this.answer;
  }
}

let tmp: string;
let clock: FakeClock;
let rt: FakeRuntime;
let runner: FakeCommandRunner;
let client: FakeClient;
let recorder: RecordingRecorder;
let probes: FakeProbes;
let hooks: FakeHooks;
let syncer: PodSyncer;
let watchers: Array<ObjectWatcher<ConfigMap> | ObjectWatcher<Secret>>;
let network: PodNetwork;

function newSyncer(): PodSyncer {
  const events = new PodEvents(recorder);
  const cms = new ObjectWatcher<ConfigMap>({ client, descriptor: Resources.configMaps, log: silentLogger(), onChange: () => undefined });
  const secs = new ObjectWatcher<Secret>({ client, descriptor: Resources.secrets, log: silentLogger(), onChange: () => undefined });
  watchers.push(cms, secs);
  return new PodSyncer({
    nodeName: 'node-a',
    runtime: rt,
    runtimeName: 'docker',
    reader: new RuntimeReader(rt, nodeLabels),
    network: () => network,
    hostIPs: () => ['192.0.2.10'],
    volumes: new VolumeManager({ rootDir: tmp, mounter: new FakeMounter(), log: silentLogger(), getConfigMap: (ns, n) => cms.get(ns, n), getSecret: (ns, n) => secs.get(ns, n), nodeAllocatable: () => ({ cpu: '2', memory: '4Gi' }), nodeName: 'node-a' }),
    images: new ImageManager({ runtime: rt, events, clock, backoffInitialMs: 10_000, backoffMaxMs: 300_000 }),
    probes,
    hooks,
    events,
    configMaps: cms,
    secrets: secs,
    services: () => [],
    dns: { clusterDNS: ['10.96.0.10'], clusterDomain: 'cluster.local', hostResolvConf: { nameservers: ['1.1.1.1'], searches: [], options: [] } },
    podInfraContainerImage: 'tkube/pause:3.10',
    runtimeLabels: nodeLabels,
    nodeAllocatable: () => ({ cpu: '2', memory: '4Gi' }),
    nodeMemoryBytes: 4 * 1024 ** 3,
    crashBackoff: new KeyedBackoff({ initialMs: 10_000, maxMs: 300_000, clock }),
    clock,
    log: silentLogger(),
  });
}

beforeEach(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'tkube-sync-'));
  clock = new FakeClock();
  rt = new FakeRuntime({ clock });
  rt.addImage(image);
  runner = new FakeCommandRunner();
  client = new FakeClient();
  recorder = new RecordingRecorder();
  probes = new FakeProbes();
  hooks = new FakeHooks(clock, rt);
  watchers = [];
  network = new PodNetwork({ runner, log: silentLogger(), podCIDR: '10.244.1.0/24', ipamDir: path.join(tmp, 'ipam') });
  syncer = newSyncer();
});

afterEach(async () => {
  await Promise.all(watchers.map((w) => w.stop()));
  await fs.rm(tmp, { recursive: true, force: true });
});

function pod(spec: Partial<NonNullable<Pod['spec']>>, name = 'web'): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'shop', uid: `uid-${name}` },
    spec: { nodeName: 'node-a', restartPolicy: 'Always', terminationGracePeriodSeconds: 30, containers: [{ name: 'app', image }], ...spec },
  };
}

/** Syncs and carries the status over, as the API server would hold it. */
async function sync(p: Pod): Promise<PodSyncResult> {
  const r = await syncer.syncPod(p, p.status);
  p.status = r.status;
  return r;
}

const instances = (name: string) => [...rt.containers.values()].filter((c) => c.config.metadata.name === name).map((c) => ({ id: c.id, attempt: c.config.metadata.attempt, state: c.state }));
const running = (name: string) => [...rt.containers.values()].find((c) => c.config.metadata.name === name && c.state === 'running');
const cs = (p: Pod, name: string) => [...(p.status?.containerStatuses ?? []), ...(p.status?.initContainerStatuses ?? [])].find((s) => s.name === name)!;

describe('PodSyncer: a new pod', () => {
  it('creates the sandbox, wires its network, writes DNS files and starts the containers; the status says Running', async () => {
    const p = pod({ containers: [{ name: 'app', image }, { name: 'side', image }] });
    const r = await sync(p);
    expect(rt.sandboxes.size).toBe(1);
    const sb = [...rt.sandboxes.values()][0]!;
    expect(sb.config.metadata).toEqual({ uid: 'uid-web', namespace: 'shop', name: 'web', attempt: 0 });
    expect(sb.config.hostname).toBe('web');
    expect(sb.config.labels).toMatchObject(nodeLabels);
    expect(sb.config.image).toBe('tkube/pause:3.10');
    expect(runner.steps().some((l) => l.includes(`ip addr replace 10.244.1.2/24 dev eth0`))).toBe(true);
    // The sandbox was started by this sync: no look for an eth0 of an earlier setup.
    expect(runner.steps().filter((l) => l.includes('show dev eth0'))).toEqual([]);
    expect(await fs.readFile(path.join(tmp, 'pods/uid-web/resolv.conf'), 'utf8')).toBe('search shop.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n');
    expect(await fs.readFile(path.join(tmp, 'pods/uid-web/etc-hosts'), 'utf8')).toContain('10.244.1.2\tweb\n');
    const app = running('app')!;
    expect(app.config.hostsPath).toBe(path.join(tmp, 'pods/uid-web/etc-hosts'));
    expect(app.config.labels).toMatchObject(nodeLabels);
    expect(app.config.mounts?.find((m) => m.containerPath === '/dev/termination-log')).toBeTruthy();
    expect(running('side')).toBeTruthy();
    expect(r.status.phase).toBe('Running');
    expect(r.status.podIP).toBe('10.244.1.2');
    expect(r.terminal).toBe(false);
    expect(recorder.reasons()).toEqual(['Pulled', 'Created', 'Started', 'Pulled', 'Created', 'Started']);
    expect(recorder.events[1]).toMatchObject({ message: 'Created container app', fieldPath: 'spec.containers{app}' });
  });

  it('adopts what runs after a restart: no new sandbox or container, the same status', async () => {
    const p = pod({});
    const first = await sync(p);
    const calls = rt.calls.length;
    syncer = newSyncer();
    const again = await syncer.syncPod(p, p.status);
    const created = rt.calls.slice(calls).filter((c) => /^(create|start|stop|remove)/.test(c.method));
    expect(created).toEqual([]);
    expect(again.status.containerStatuses).toEqual(first.status.containerStatuses);
    expect(again.status.conditions).toEqual(first.status.conditions);
  });

  it('pulls an absent image with Pulling/Pulled events', async () => {
    const p = pod({ containers: [{ name: 'app', image: 'example.com/new:1' }] });
    await sync(p);
    expect(recorder.events.filter((e) => e.reason.startsWith('Pull')).map((e) => e.message)).toEqual([
      'Pulling image "example.com/new:1"',
      expect.stringMatching(/^Successfully pulled image "example.com\/new:1" in [\d.]+s \([\d.]+s including waiting\)\. Image size: \d+ bytes\.$/),
    ]);
  });
});

describe('PodSyncer: restarts', () => {
  it.each([
    ['Always', 0, true],
    ['Always', 1, true],
    ['OnFailure', 0, false],
    ['OnFailure', 2, true],
    ['Never', 0, false],
    ['Never', 1, false],
  ] as const)('restartPolicy %s, exit code %i → restarted: %s', async (restartPolicy, code, restarts) => {
    const p = pod({ restartPolicy });
    await sync(p);
    rt.exitContainer(running('app')!.id, code);
    await sync(p);
    expect(instances('app').some((c) => c.attempt === 1)).toBe(restarts);
  });

  it('backs off: restart at once, then 10s, then 20s (CrashLoopBackOff in between)', async () => {
    const p = pod({});
    await sync(p);
    // 1st crash: restarted at once.
    rt.exitContainer(running('app')!.id, 1);
    await sync(p);
    expect(running('app')?.config.metadata.attempt).toBe(1);
    // 2nd crash: 10s of backoff.
    rt.exitContainer(running('app')!.id, 1);
    let r = await sync(p);
    expect(running('app')).toBeUndefined();
    expect(r.resyncAfterMs).toBe(10_000);
    expect(cs(p, 'app').state?.waiting).toEqual({ reason: 'CrashLoopBackOff', message: 'back-off 10s restarting failed container=app pod=web_shop(uid-web)' });
    expect(cs(p, 'app').restartCount).toBe(1);
    expect(cs(p, 'app').lastState?.terminated?.exitCode).toBe(1);
    expect(recorder.events.at(-1)).toMatchObject({ type: 'Warning', reason: 'BackOff', message: 'Back-off restarting failed container app in pod web_shop(uid-web)' });
    await clock.advance(9_000);
    r = await sync(p);
    expect(running('app')).toBeUndefined();
    expect(r.resyncAfterMs).toBe(1_000);
    await clock.advance(1_000);
    await sync(p);
    expect(running('app')?.config.metadata.attempt).toBe(2);
    // 3rd crash: 20s.
    rt.exitContainer(running('app')!.id, 1);
    r = await sync(p);
    expect(r.resyncAfterMs).toBe(20_000);
    expect(p.status?.phase).toBe('Running');
  });

  it('kills a container whose liveness probe failed and starts a new one', async () => {
    const p = pod({ terminationGracePeriodSeconds: 5 });
    await sync(p);
    const first = running('app')!;
    probes.failures.set(first.id, 'liveness');
    await sync(p);
    expect(rt.containers.get(first.id)?.state).toBe('exited');
    expect(rt.calls.find((c) => c.method === 'stopContainer' && c.args[0] === first.id)?.args[1]).toEqual({ gracePeriodSeconds: 5 });
    expect(running('app')?.config.metadata.attempt).toBe(1);
    expect(cs(p, 'app').restartCount).toBe(1);
    expect(recorder.events.find((e) => e.reason === 'Killing')?.message).toBe('Container app failed liveness probe, will be restarted');
  });

  it('re-creates the sandbox when the pause container dies; the containers restart in it', async () => {
    const p = pod({});
    await sync(p);
    const [old] = [...rt.sandboxes.values()];
    const oldApp = running('app')!;
    rt.killSandbox(old!.id);
    await sync(p);
    expect(recorder.events.find((e) => e.reason === 'SandboxChanged')?.message).toBe('Pod sandbox changed, it will be killed and re-created.');
    expect(rt.containers.get(oldApp.id)?.state).toBe('exited');
    const fresh = [...rt.sandboxes.values()].find((s) => s.config.metadata.attempt === 1)!;
    expect(fresh).toBeTruthy();
    expect(running('app')?.sandboxId).toBe(fresh.id);
    expect(cs(p, 'app').restartCount).toBe(1);
    expect(runner.steps().some((l) => l.includes('ip link del'))).toBe(true);
  });
});

describe('PodSyncer: init containers', () => {
  it('runs them one at a time, in order, before the app containers', async () => {
    const p = pod({ initContainers: [{ name: 'one', image }, { name: 'two', image }] });
    await sync(p);
    expect(running('one')).toBeTruthy();
    expect(instances('two')).toEqual([]);
    expect(instances('app')).toEqual([]);
    expect(p.status?.phase).toBe('Pending');
    expect(cs(p, 'app').state?.waiting?.reason).toBe('PodInitializing');
    rt.exitContainer(running('one')!.id, 0);
    await sync(p);
    expect(running('two')).toBeTruthy();
    expect(instances('app')).toEqual([]);
    rt.exitContainer(running('two')!.id, 0);
    await sync(p);
    expect(running('app')).toBeTruthy();
    expect(p.status?.phase).toBe('Running');
    expect(p.status?.conditions?.find((c) => c.type === 'Initialized')?.status).toBe('True');
  });

  it('fails the pod when an init container fails under restartPolicy Never; retries it otherwise', async () => {
    const never = pod({ restartPolicy: 'Never', initContainers: [{ name: 'one', image }] }, 'never');
    await sync(never);
    rt.exitContainer(running('one')!.id, 1);
    const r = await sync(never);
    expect(r.status.phase).toBe('Failed');
    expect(r.terminal).toBe(true);
    expect(instances('app')).toEqual([]);
  });

  it('starts sidecars (restartPolicy Always) and keeps them running next to the app', async () => {
    const p = pod({ initContainers: [{ name: 'proxy', image, restartPolicy: 'Always' }, { name: 'setup', image }] });
    await sync(p);
    expect(running('proxy')).toBeTruthy();
    expect(running('setup')).toBeTruthy();
    rt.exitContainer(running('setup')!.id, 0);
    await sync(p);
    expect(running('app')).toBeTruthy();
    rt.exitContainer(running('proxy')!.id, 1);
    await sync(p);
    expect(running('proxy')?.config.metadata.attempt).toBe(1);
    expect(instances('setup')).toHaveLength(1);
  });
});

describe('PodSyncer: failures become waiting reasons', () => {
  it('ErrImagePull, then ImagePullBackOff until the backoff ends', async () => {
    rt.pullErrors.set('example.com/missing:1', 'manifest unknown');
    const p = pod({ containers: [{ name: 'app', image: 'example.com/missing:1' }] });
    let r = await sync(p);
    expect(cs(p, 'app').state?.waiting).toEqual({ reason: 'ErrImagePull', message: 'pulling image example.com/missing:1 failed: manifest unknown' });
    expect(r.resyncAfterMs).toBe(10_000);
    r = await sync(p);
    expect(cs(p, 'app').state?.waiting).toEqual({ reason: 'ImagePullBackOff', message: 'Back-off pulling image "example.com/missing:1"' });
    expect(recorder.events.filter((e) => e.type === 'Warning').map((e) => e.message)).toEqual(['Failed to pull image "example.com/missing:1": pulling image example.com/missing:1 failed: manifest unknown', 'Error: ErrImagePull']);
    await clock.advance(10_000);
    await sync(p);
    expect(cs(p, 'app').state?.waiting?.reason).toBe('ErrImagePull');
    r = await sync(p);
    expect(r.resyncAfterMs).toBe(20_000);
  });

  it('ErrImageNeverPull for an absent image with pull policy Never', async () => {
    const p = pod({ containers: [{ name: 'app', image: 'example.com/absent:1', imagePullPolicy: 'Never' }] });
    await sync(p);
    expect(cs(p, 'app').state?.waiting).toEqual({ reason: 'ErrImageNeverPull', message: 'Container image "example.com/absent:1" is not present with pull policy of Never' });
    expect(rt.calls.some((c) => c.method === 'pullImage')).toBe(false);
  });

  it('CreateContainerConfigError for a missing ConfigMap key, until it exists', async () => {
    const p = pod({ containers: [{ name: 'app', image, env: [{ name: 'LEVEL', valueFrom: { configMapKeyRef: { name: 'settings', key: 'level' } } }] }] });
    await sync(p);
    expect(cs(p, 'app').state?.waiting).toEqual({ reason: 'CreateContainerConfigError', message: 'configmap "settings" not found' });
    expect(recorder.events.at(-1)).toMatchObject({ type: 'Warning', reason: 'Failed', message: 'Error: configmap "settings" not found' });
    await client.resource(Resources.configMaps, 'shop').create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings' }, data: { level: 'debug' } });
    await new Promise((r) => setTimeout(r, 50));
    await sync(p);
    expect(running('app')?.config.env).toEqual(expect.arrayContaining([{ name: 'LEVEL', value: 'debug' }]));
  });

  it('FailedMount for a volume whose source is missing: no sandbox is made', async () => {
    const p = pod({ volumes: [{ name: 'conf', configMap: { name: 'nope' } }] });
    const r = await sync(p);
    expect(rt.sandboxes.size).toBe(0);
    expect(recorder.events[0]).toMatchObject({ reason: 'FailedMount', message: 'MountVolume.SetUp failed for volume "conf" : configmap "nope" not found' });
    expect(r.status.phase).toBe('Pending');
    expect(cs(p, 'app').state?.waiting?.reason).toBe('ContainerCreating');
  });
});

describe('PodSyncer: termination', () => {
  it('runs preStop first (counted against the grace period), then stops with what is left, stops the sandbox and releases the IP', async () => {
    const p = pod({ terminationGracePeriodSeconds: 10, containers: [{ name: 'app', image, lifecycle: { preStop: { exec: { command: ['drain'] } } } }] });
    await sync(p);
    const app = running('app')!;
    rt.ignoreStopSignal(app.id);
    const done = syncer.terminatePod(p, 10, { remove: false });
    // preStop takes 3s (the fake hook advances the clock), so 7s are left for the stop signal.
    for (let i = 0; i < 20 && rt.containers.get(app.id)?.state === 'running'; i++) await clock.advance(1000);
    await done;
    expect(hooks.calls).toEqual(['preStop app (running)']);
    expect(rt.calls.find((c) => c.method === 'stopContainer')?.args[1]).toEqual({ gracePeriodSeconds: 7 });
    expect(rt.containers.get(app.id)).toMatchObject({ state: 'exited', exitCode: 137 });
    expect([...rt.sandboxes.values()][0]!.pid).toBeUndefined();
    expect(await network.podIP('uid-web')).toBeUndefined();
    expect(recorder.events.find((e) => e.reason === 'Killing')?.message).toBe('Stopping container app');
    // The final status says how it ended.
    const st = await syncer.currentStatus(p, p.status, true);
    expect(st.phase).toBe('Failed');
    expect(st.containerStatuses?.[0]?.state?.terminated?.exitCode).toBe(137);
  });

  it('gives containers at least 2 seconds after the stop signal', async () => {
    const p = pod({ terminationGracePeriodSeconds: 1 });
    await sync(p);
    await syncer.terminatePod(p, 1, { remove: false });
    expect(rt.calls.find((c) => c.method === 'stopContainer')?.args[1]).toEqual({ gracePeriodSeconds: 2 });
  });

  it('removes the pod from the node: containers, sandboxes, volumes, the address', async () => {
    const p = pod({ volumes: [{ name: 'scratch', emptyDir: {} }] });
    await sync(p);
    await syncer.terminatePod(p, 2, { remove: true });
    expect(rt.containers.size).toBe(0);
    expect(rt.sandboxes.size).toBe(0);
    await expect(fs.stat(path.join(tmp, 'pods/uid-web'))).rejects.toThrow();
    expect(await network.ipam.list()).toEqual([]);
    expect(probes.removed).toContain('uid-web');
  });
});

describe('PodSyncer: ephemeral containers', () => {
  const es = (p: Pod, name: string) => p.status?.ephemeralContainerStatuses?.find((s) => s.name === name);
  const debug = (more: Record<string, unknown> = {}) => ({ name: 'debugger', image, command: ['sh'], stdin: true, tty: true, targetContainerName: 'app', terminationMessagePolicy: 'File' as const, ...more });

  it('starts one added to a running pod in its sandbox, in the PID namespace of its target; never ready; the pod stays Running and Ready', async () => {
    const p = pod({ containers: [{ name: 'app', image }, { name: 'side', image }] });
    await sync(p);
    const app = running('app')!;
    const sandbox = [...rt.sandboxes.values()][0]!;
    recorder.events.length = 0;
    p.spec!.ephemeralContainers = [debug()];
    const r = await sync(p);
    const dbg = running('debugger')!;
    expect(dbg.sandboxId).toBe(sandbox.id);
    expect(dbg.config).toMatchObject({ pidTargetContainerId: app.id, command: ['sh'], stdin: true, tty: true, metadata: { name: 'debugger', attempt: 0 } });
    expect(dbg.config.hostsPath).toBe(app.config.hostsPath);
    expect(dbg.config.resolvConfPath).toBe(app.config.resolvConfPath);
    // Nothing else was touched.
    expect(rt.sandboxes.size).toBe(1);
    expect(instances('app')).toEqual([{ id: app.id, attempt: 0, state: 'running' }]);
    expect(recorder.events.map((e) => `${e.reason} ${e.fieldPath}: ${e.message}`)).toEqual([
      `Pulled spec.ephemeralContainers{debugger}: Container image "${image}" already present on machine`,
      'Created spec.ephemeralContainers{debugger}: Created container debugger',
      'Started spec.ephemeralContainers{debugger}: Started container debugger',
    ]);
    const st = es(p, 'debugger')!;
    expect(st).toMatchObject({ name: 'debugger', image, ready: false, restartCount: 0, containerID: `docker://${dbg.id}`, state: { running: {} } });
    expect(st.imageID).toBeTruthy();
    expect('started' in st).toBe(false);
    expect(r.status.phase).toBe('Running');
    expect(r.status.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(r.status.containerStatuses?.map((c) => c.name)).toEqual(['app', 'side']);
  });

  it('is never restarted: once it exited it stays terminated with its exit code, whatever the restart policy', async () => {
    const p = pod({ restartPolicy: 'Always' });
    await sync(p);
    p.spec!.ephemeralContainers = [debug({ targetContainerName: undefined })];
    await sync(p);
    rt.exitContainer(running('debugger')!.id, 0);
    await sync(p);
    await clock.advance(600_000);
    const r = await sync(p);
    expect(instances('debugger')).toHaveLength(1);
    expect(es(p, 'debugger')?.state?.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
    expect(es(p, 'debugger')?.lastState).toBeUndefined();
    expect(r.status.phase).toBe('Running');
    // One that failed is not retried either.
    p.spec!.ephemeralContainers.push(debug({ name: 'second', targetContainerName: undefined }));
    await sync(p);
    rt.exitContainer(running('second')!.id, 3);
    await sync(p);
    await clock.advance(600_000);
    await sync(p);
    expect(instances('second')).toHaveLength(1);
    expect(es(p, 'second')?.state?.terminated).toMatchObject({ exitCode: 3, reason: 'Error' });
    expect(p.status?.phase).toBe('Running');
  });

  it('an ephemeral container whose target is not running cannot run, and is left so', async () => {
    const p = pod({ restartPolicy: 'Never' });
    await sync(p);
    rt.exitContainer(running('app')!.id, 0);
    p.spec!.ephemeralContainers = [debug()];
    await sync(p);
    await sync(p);
    expect(instances('debugger')).toHaveLength(1);
    expect(es(p, 'debugger')?.state?.terminated).toMatchObject({ reason: 'ContainerCannotRun', message: expect.stringContaining('cannot join PID of a non running container') });
  });

  it('starts before init containers finish (debugging a pod stuck initializing); a target not created yet waits', async () => {
    const p = pod({ initContainers: [{ name: 'wait', image, command: ['sleep', '3600'] }] });
    await sync(p);
    expect(running('wait')).toBeTruthy();
    p.spec!.ephemeralContainers = [debug({ name: 'free', targetContainerName: undefined }), debug({ name: 'on-app' }), debug({ name: 'on-init', targetContainerName: 'wait' })];
    const r = await sync(p);
    expect(running('free')).toBeTruthy();
    expect(running('on-init')?.config.pidTargetContainerId).toBe(running('wait')!.id);
    expect(instances('on-app')).toEqual([]);
    expect(es(p, 'on-app')?.state?.waiting).toEqual({ reason: 'CreateContainerConfigError', message: 'unable to find target container app' });
    expect(recorder.events.find((e) => e.fieldPath === 'spec.ephemeralContainers{on-app}' && e.type === 'Warning')).toMatchObject({ type: 'Warning', reason: 'Failed', message: 'Error: unable to find target container app' });
    expect(r.resyncAfterMs).toBeDefined();
    expect(r.status.phase).toBe('Pending');
    expect(running('app')).toBeUndefined();
    // The init container completes, the app starts, and then the one waiting for it.
    rt.exitContainer(running('wait')!.id, 0);
    await sync(p);
    await sync(p);
    expect(running('on-app')?.config.pidTargetContainerId).toBe(running('app')!.id);
    expect(p.status?.phase).toBe('Running');
  });

  it('is stopped with the pod', async () => {
    const p = pod({});
    await sync(p);
    p.spec!.ephemeralContainers = [debug()];
    await sync(p);
    const dbg = running('debugger')!;
    await syncer.terminatePod(p, 2, { remove: false });
    expect(rt.containers.get(dbg.id)?.state).toBe('exited');
    expect(recorder.events.filter((e) => e.reason === 'Killing').map((e) => e.fieldPath)).toEqual(['spec.containers{app}', 'spec.ephemeralContainers{debugger}']);
  });
});
