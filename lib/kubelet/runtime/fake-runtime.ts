/**
 * FakeRuntime: an in-memory ContainerRuntime for unit tests of the kubelet. It keeps the same
 * contract as DockerRuntime (states, labels, errors, idempotent stop/remove) and lets a test
 * play the world: containers exiting or being OOM-killed, a pause process dying, output being
 * written, exec answers, failures on the next call of a method.
 */
import { randomBytes } from 'node:crypto';
import { PassThrough, type Duplex, type Readable } from 'node:stream';
import { realClock, type Clock } from '../../base/index.js';
import { RuntimeError } from './errors.js';
import { containerLabels, containerRuntimeName, podUIDLabel, sandboxIdLabel, sandboxLabels, sandboxRuntimeName, splitLabels } from './labels.js';
import { findPreviousContainer } from './previous.js';
import type {
  ContainerConfig,
  ContainerFilter,
  ContainerRuntime,
  ContainerStats,
  ContainerStatus,
  ContainerSummary,
  ExecOptions,
  ExecSyncResult,
  ImageInfo,
  LogOptions,
  PodObjects,
  PodObjectsFilter,
  PullOptions,
  RuntimeVersion,
  SandboxConfig,
  SandboxFilter,
  SandboxStatus,
  SandboxSummary,
  StopOptions,
  StopResult,
  StreamOptions,
  StreamSession,
} from './runtime.js';

interface LogEntry {
  at: number;
  stream: 'stdout' | 'stderr';
  data: Buffer;
}

interface FakeSandbox {
  id: string;
  name: string;
  config: SandboxConfig;
  rawLabels: Record<string, string>;
  createdAt: Date;
  startedAt?: Date;
  finishedAt?: Date;
  exitCode?: number;
  pid?: number;
}

interface FakeContainer {
  id: string;
  name: string;
  sandboxId: string;
  config: ContainerConfig;
  rawLabels: Record<string, string>;
  imageId: string;
  state: 'created' | 'running' | 'exited';
  createdAt: Date;
  startedAt?: Date;
  finishedAt?: Date;
  exitCode?: number;
  oomKilled: boolean;
  /** A start failed: the error the engine keeps (the container stays created, as with Docker). */
  startError?: string;
  reason?: string;
  pid?: number;
  /** Exits on its stop signal (true) or ignores it and waits for SIGKILL (false). */
  honoursStopSignal: boolean;
  /** Exit code when the stop signal ends it. */
  stopExitCode: number;
  logs: LogEntry[];
  followers: Set<PassThrough>;
  stdin: Buffer[];
}

/** What an exec handler sees and how it answers. */
export interface FakeExecContext {
  containerId: string;
  cmd: string[];
  stdin?: Readable;
  stdout: (s: string | Buffer) => void;
  stderr: (s: string | Buffer) => void;
}
export type FakeExecHandler = (ctx: FakeExecContext) => number | Promise<number>;

export interface FakeRuntimeOptions {
  /** Time source for timestamps and grace periods; default the real clock. */
  clock?: Clock;
}

type MethodName = keyof ContainerRuntime;

const signalNumbers: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGUSR1: 10, SIGUSR2: 12, SIGTERM: 15 };

export class FakeRuntime implements ContainerRuntime {
  /** Every call, in order: method name and arguments. */
  readonly calls: Array<{ method: MethodName; args: unknown[] }> = [];
  readonly sandboxes = new Map<string, FakeSandbox>();
  readonly containers = new Map<string, FakeContainer>();
  readonly images = new Map<string, ImageInfo>();
  /** Errors for pulls of these refs (message), e.g. to test ImagePullBackOff. */
  readonly pullErrors = new Map<string, string>();
  execHandler: FakeExecHandler = () => 0;
  portForwardHandler: (sandboxId: string, port: number, stream: Duplex) => Promise<void> = async (_s, port) => {
    throw new RuntimeError('Internal', `connect ECONNREFUSED 127.0.0.1:${port}`);
  };
  private readonly failures = new Map<MethodName, Error[]>();
  private readonly stats_ = new Map<string, Partial<ContainerStats>>();
  private readonly clock: Clock;
  private nextPid = 1000;

  constructor(opts: FakeRuntimeOptions = {}) {
    this.clock = opts.clock ?? realClock;
  }

  // ---- Test controls ---------------------------------------------------------------------------

  /** Makes the next call of `method` fail with `err` (queued: several calls fail in order). */
  failNext(method: MethodName, err: Error = new RuntimeError('Internal', `injected failure of ${method}`)): this {
    const q = this.failures.get(method) ?? [];
    q.push(err);
    this.failures.set(method, q);
    return this;
  }

  addImage(ref: string, info: Partial<ImageInfo> = {}): ImageInfo {
    const img: ImageInfo = { id: info.id ?? `sha256:${randomBytes(32).toString('hex')}`, repoTags: info.repoTags ?? [ref], repoDigests: info.repoDigests ?? [], sizeBytes: info.sizeBytes ?? 1_000_000, user: info.user ?? '' };
    this.images.set(normalizeRef(ref), img);
    return img;
  }

  /** The running container ends by itself (its process exited or was OOM-killed). */
  exitContainer(id: string, exitCode: number, opts: { oomKilled?: boolean } = {}): void {
    const c = this.container(id);
    if (c.state !== 'running') throw new Error(`fake: container ${id} is ${c.state}, not running`);
    this.finish(c, exitCode, opts.oomKilled ?? false);
  }

  /** The pause process dies (e.g. killed by someone): the sandbox turns notready. */
  killSandbox(id: string, exitCode = 137): void {
    const s = this.sandbox(id);
    s.exitCode = exitCode;
    s.finishedAt = new Date(this.clock.now());
    s.pid = undefined;
  }

  /** Appends output to a container's log (and to attached or following readers). */
  writeLog(id: string, stream: 'stdout' | 'stderr', text: string | Buffer): void {
    const c = this.container(id);
    const data = Buffer.isBuffer(text) ? text : Buffer.from(text);
    c.logs.push({ at: this.clock.now(), stream, data });
    for (const f of c.followers) f.write(data);
  }

  /** The container ignores its stop signal, so stopping it takes the whole grace period. */
  ignoreStopSignal(id: string): void {
    this.container(id).honoursStopSignal = false;
  }

  /** What attach sessions wrote to the container's stdin. */
  stdinOf(id: string): string {
    return Buffer.concat(this.container(id).stdin).toString();
  }

  setStats(id: string, s: Partial<ContainerStats>): void {
    this.stats_.set(this.container(id).id, s);
  }

  // ---- ContainerRuntime ------------------------------------------------------------------------

  async version(): Promise<RuntimeVersion> {
    this.enter('version', []);
    return { runtimeName: 'fake', runtimeVersion: '0.0.1', runtimeApiVersion: '1' };
  }

  async createSandbox(config: SandboxConfig): Promise<string> {
    this.enter('createSandbox', [config]);
    const name = sandboxRuntimeName(config.metadata);
    if ([...this.sandboxes.values()].some((s) => s.name === name)) throw new RuntimeError('AlreadyExists', `creating sandbox ${name}: the name is already in use`);
    const id = newId();
    this.sandboxes.set(id, { id, name, config, rawLabels: sandboxLabels(config), createdAt: new Date(this.clock.now()) });
    return id;
  }

  async startSandbox(id: string): Promise<void> {
    this.enter('startSandbox', [id]);
    const s = this.sandbox(id);
    if (s.pid) return;
    if (s.startedAt) throw new RuntimeError('Conflict', `sandbox ${id.slice(0, 12)} has ended and cannot be started again; create a new one`);
    s.startedAt = new Date(this.clock.now());
    s.pid = this.nextPid++;
  }

  async stopSandbox(id: string, gracePeriodSeconds = 10): Promise<void> {
    this.enter('stopSandbox', [id, gracePeriodSeconds]);
    const s = this.sandbox(id);
    await Promise.all([...this.containers.values()].filter((c) => c.sandboxId === s.id && c.state === 'running').map((c) => this.stopContainer(c.id, { gracePeriodSeconds })));
    if (s.pid) {
      s.pid = undefined;
      s.exitCode = 0;
      s.finishedAt = new Date(this.clock.now());
    }
  }

  async removeSandbox(id: string): Promise<void> {
    this.enter('removeSandbox', [id]);
    const s = this.find(this.sandboxes, id);
    if (!s) return;
    for (const c of [...this.containers.values()]) if (c.sandboxId === s.id) this.drop(c);
    this.sandboxes.delete(s.id);
  }

  async inspectSandbox(id: string): Promise<SandboxStatus> {
    this.enter('inspectSandbox', [id]);
    const s = this.sandbox(id);
    const st: SandboxStatus = {
      ...this.sandboxSummary(s),
      hostNetwork: !!s.config.hostNetwork,
      shareProcessNamespace: !!s.config.shareProcessNamespace,
    };
    if (s.pid) st.pid = s.pid;
    if (s.startedAt) st.startedAt = s.startedAt;
    if (s.finishedAt) st.finishedAt = s.finishedAt;
    if (s.exitCode !== undefined) st.exitCode = s.exitCode;
    return st;
  }

  async listSandboxes(filter: SandboxFilter = {}): Promise<SandboxSummary[]> {
    this.enter('listSandboxes', [filter]);
    return [...this.sandboxes.values()]
      .filter((s) => matches(s.rawLabels, { ...(filter.labels ?? {}), ...(filter.podUID ? { [podUIDLabel]: filter.podUID } : {}) }))
      .map((s) => this.sandboxSummary(s))
      .filter((s) => !filter.state || s.state === filter.state);
  }

  async createContainer(sandboxId: string, config: ContainerConfig): Promise<string> {
    this.enter('createContainer', [sandboxId, config]);
    const s = this.sandbox(sandboxId);
    const image = this.images.get(normalizeRef(config.image));
    if (!image) throw new RuntimeError('NotFound', `image ${config.image} is not present on this node; pull it first`);
    const name = containerRuntimeName(s.config.metadata, config.metadata);
    if ([...this.containers.values()].some((c) => c.name === name)) throw new RuntimeError('AlreadyExists', `creating container ${name}: the name is already in use`);
    const id = newId();
    this.containers.set(id, {
      id,
      name,
      sandboxId: s.id,
      config,
      rawLabels: containerLabels(s.config.metadata, s.id, config),
      imageId: image.id,
      state: 'created',
      createdAt: new Date(this.clock.now()),
      oomKilled: false,
      honoursStopSignal: true,
      stopExitCode: 128 + (signalNumbers[config.stopSignal ?? 'SIGTERM'] ?? 15),
      logs: [],
      followers: new Set(),
      stdin: [],
    });
    return id;
  }

  async startContainer(id: string): Promise<void> {
    try {
      this.enter('startContainer', [id]);
    } catch (err) {
      // As Docker: the container stays created and remembers why it could not run.
      const c = this.find(this.containers, id);
      if (c && c.state === 'created') c.startError = (err as Error).message;
      throw err;
    }
    const c = this.container(id);
    if (c.state === 'running') return;
    const s = this.sandboxes.get(c.sandboxId);
    if (!s?.pid) throw new RuntimeError('Conflict', `starting container ${id.slice(0, 12)}: its sandbox is not running`);
    const target = c.config.pidTargetContainerId;
    if (target && this.find(this.containers, target)?.state !== 'running') {
      // As Docker: a PID namespace can only be joined while its first process lives.
      c.startError = `cannot join PID of a non running container: ${target}`;
      throw new RuntimeError('Internal', `starting container ${id.slice(0, 12)}: ${c.startError}`);
    }
    c.state = 'running';
    c.startedAt = new Date(this.clock.now());
    c.finishedAt = undefined;
    c.exitCode = undefined;
    c.pid = this.nextPid++;
  }

  async stopContainer(id: string, opts: StopOptions): Promise<StopResult> {
    this.enter('stopContainer', [id, opts]);
    const c = this.container(id);
    if (c.state !== 'running') return { killed: false, exitCode: c.exitCode };
    if (opts.gracePeriodSeconds > 0 && c.honoursStopSignal) {
      const sig = opts.signal ?? c.config.stopSignal ?? 'SIGTERM';
      this.finish(c, opts.signal ? 128 + (signalNumbers[sig] ?? 15) : c.stopExitCode, false);
      return { killed: false, exitCode: c.exitCode };
    }
    if (opts.gracePeriodSeconds > 0) await this.clock.sleep(opts.gracePeriodSeconds * 1000);
    if (c.state === 'running') this.finish(c, 137, false);
    return { killed: true, exitCode: c.exitCode };
  }

  async removeContainer(id: string): Promise<void> {
    this.enter('removeContainer', [id]);
    const c = this.find(this.containers, id);
    if (c) this.drop(c);
  }

  async inspectContainer(id: string): Promise<ContainerStatus> {
    this.enter('inspectContainer', [id]);
    const c = this.container(id);
    const st: ContainerStatus = {
      ...this.containerSummary(c),
      oomKilled: c.oomKilled,
      mounts: [...(c.config.mounts ?? [])],
    };
    if (c.startedAt) st.startedAt = c.startedAt;
    if (c.state === 'running' && c.pid) st.pid = c.pid;
    if (c.state === 'exited') {
      st.finishedAt = c.finishedAt;
      st.exitCode = c.exitCode;
      st.reason = c.reason;
    } else if (c.state === 'created' && c.startError) {
      // The Docker runtime's reading of a container whose start failed.
      Object.assign(st, { state: 'exited', reason: 'ContainerCannotRun', message: c.startError, exitCode: 128, finishedAt: c.createdAt });
    }
    return st;
  }

  async listContainers(filter: ContainerFilter = {}): Promise<ContainerSummary[]> {
    this.enter('listContainers', [filter]);
    const want = { ...(filter.labels ?? {}), ...(filter.podUID ? { [podUIDLabel]: filter.podUID } : {}), ...(filter.sandboxId ? { [sandboxIdLabel]: filter.sandboxId } : {}) };
    return [...this.containers.values()]
      .filter((c) => matches(c.rawLabels, want))
      .map((c) => this.containerSummary(c))
      .filter((c) => !filter.state || c.state === filter.state);
  }

  async listPodObjects(filter: PodObjectsFilter = {}): Promise<PodObjects> {
    this.enter('listPodObjects', [filter]);
    const want = { ...(filter.labels ?? {}), ...(filter.podUID ? { [podUIDLabel]: filter.podUID } : {}) };
    return {
      sandboxes: [...this.sandboxes.values()].filter((s) => matches(s.rawLabels, want)).map((s) => this.sandboxSummary(s)),
      containers: [...this.containers.values()].filter((c) => matches(c.rawLabels, want)).map((c) => this.containerSummary(c)),
    };
  }

  async imageStatus(ref: string): Promise<ImageInfo | undefined> {
    this.enter('imageStatus', [ref]);
    return this.images.get(normalizeRef(ref));
  }

  async pullImage(ref: string, opts: PullOptions = {}): Promise<ImageInfo> {
    this.enter('pullImage', [ref, opts]);
    const err = this.pullErrors.get(ref);
    if (err) throw new RuntimeError('ImagePullFailed', `pulling image ${ref} failed: ${err}`);
    opts.onProgress?.(`${ref} Pulling`);
    return this.images.get(normalizeRef(ref)) ?? this.addImage(ref);
  }

  async listImages(): Promise<ImageInfo[]> {
    this.enter('listImages', []);
    return [...new Set(this.images.values())];
  }

  async removeImage(ref: string): Promise<void> {
    this.enter('removeImage', [ref]);
    const img = this.images.get(normalizeRef(ref));
    if (!img) return;
    if ([...this.containers.values()].some((c) => c.imageId === img.id)) throw new RuntimeError('Conflict', `removing image ${ref}: image is being used by a container`);
    for (const [k, v] of this.images) if (v.id === img.id) this.images.delete(k);
  }

  async logs(containerId: string, opts: LogOptions = {}): Promise<Readable> {
    this.enter('logs', [containerId, opts]);
    let c = this.container(containerId);
    if (opts.previous) c = this.container((await findPreviousContainer(this, containerId)).id);
    let entries = c.logs.filter((e) => !opts.since || e.at >= opts.since.getTime());
    if (opts.tail !== undefined && opts.tail >= 0) entries = entries.slice(Math.max(0, entries.length - opts.tail));
    const render = (e: LogEntry) => (opts.timestamps ? Buffer.concat([Buffer.from(`${new Date(e.at).toISOString().replace('Z', '000000Z')} `), e.data]) : e.data);
    const out = new PassThrough();
    let budget = opts.limitBytes ?? Infinity;
    const write = (b: Buffer) => {
      if (budget <= 0) return;
      const part = b.length > budget ? b.subarray(0, budget) : b;
      budget -= part.length;
      out.write(part);
      if (budget <= 0) out.end();
    };
    for (const e of entries) write(render(e));
    if (!opts.follow || c.state !== 'running' || budget <= 0) {
      if (!out.writableEnded) out.end();
      return out;
    }
    const follower = new PassThrough();
    follower.on('data', (d: Buffer) => write(opts.timestamps ? render({ at: this.clock.now(), stream: 'stdout', data: d }) : d));
    follower.on('end', () => !out.writableEnded && out.end());
    c.followers.add(follower);
    const stop = () => {
      c.followers.delete(follower);
      follower.end();
    };
    opts.signal?.addEventListener('abort', stop, { once: true });
    out.on('close', stop);
    return out;
  }

  async exec(containerId: string, opts: ExecOptions): Promise<StreamSession> {
    this.enter('exec', [containerId, opts]);
    const c = this.container(containerId);
    if (c.state !== 'running') throw new RuntimeError('Conflict', `exec in container ${containerId.slice(0, 12)}: container is not running`);
    let closed = false;
    const emit = (target: NodeJS.WritableStream | undefined) => (s: string | Buffer) => {
      if (!closed) target?.write(s);
    };
    const done = Promise.resolve()
      .then(() => this.execHandler({ containerId: c.id, cmd: opts.cmd, stdin: opts.stdin, stdout: emit(opts.stdout), stderr: emit(opts.tty ? opts.stdout : opts.stderr) }))
      .then((exitCode) => ({ exitCode }));
    return { resize: async () => {}, done, close: () => (closed = true) };
  }

  async execSync(containerId: string, cmd: string[], opts: { timeoutMs?: number } = {}): Promise<ExecSyncResult> {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const sink = (arr: Buffer[]) => new PassThrough().on('data', (d: Buffer) => arr.push(d));
    const s = await this.exec(containerId, { cmd, stdout: sink(out), stderr: sink(err) });
    let timer: NodeJS.Timeout | undefined;
    const timeout = opts.timeoutMs !== undefined ? new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), opts.timeoutMs))) : undefined;
    const first = await Promise.race([s.done, ...(timeout ? [timeout] : [])]);
    clearTimeout(timer);
    await new Promise((r) => setImmediate(r));
    if (first === 'timeout') {
      s.close();
      return { exitCode: -1, stdout: Buffer.concat(out), stderr: Buffer.concat(err), timedOut: true };
    }
    return { exitCode: first.exitCode ?? -1, stdout: Buffer.concat(out), stderr: Buffer.concat(err), timedOut: false };
  }

  async attach(containerId: string, opts: StreamOptions): Promise<StreamSession> {
    this.enter('attach', [containerId, opts]);
    const c = this.container(containerId);
    if (c.state !== 'running') throw new RuntimeError('Conflict', `cannot attach to container ${containerId.slice(0, 12)}: it is not running`);
    if (opts.stdin && !c.config.stdin) throw new RuntimeError('InvalidArgument', `cannot attach stdin to container ${containerId.slice(0, 12)}: it was created without stdin`);
    const follower = new PassThrough();
    if (opts.stdout) follower.pipe(opts.stdout, { end: false });
    c.followers.add(follower);
    opts.stdin?.on('data', (d: Buffer) => c.stdin.push(Buffer.from(d)));
    let resolveDone: (r: { exitCode?: number }) => void = () => {};
    const done = new Promise<{ exitCode?: number }>((r) => (resolveDone = r));
    follower.on('end', () => resolveDone(c.state === 'exited' ? { exitCode: c.exitCode } : {}));
    return {
      resize: async () => {},
      done,
      close: () => {
        c.followers.delete(follower);
        follower.end();
      },
    };
  }

  async portForward(sandboxId: string, port: number, stream: Duplex): Promise<void> {
    this.enter('portForward', [sandboxId, port]);
    const s = this.sandbox(sandboxId);
    if (!s.pid) throw new RuntimeError('Conflict', `cannot forward to sandbox ${sandboxId.slice(0, 12)}: it is not running`);
    return this.portForwardHandler(s.id, port, stream);
  }

  async stats(containerId: string): Promise<ContainerStats> {
    this.enter('stats', [containerId]);
    const c = this.container(containerId);
    const s = this.stats_.get(c.id) ?? {};
    return {
      id: c.id,
      timestamp: new Date(this.clock.now()),
      cpuUsageCoreNanoSeconds: s.cpuUsageCoreNanoSeconds ?? 0,
      memoryUsageBytes: s.memoryUsageBytes ?? 0,
      memoryWorkingSetBytes: s.memoryWorkingSetBytes ?? s.memoryUsageBytes ?? 0,
      ...(c.config.resources?.memoryLimitBytes ? { memoryLimitBytes: c.config.resources.memoryLimitBytes } : {}),
    };
  }

  // ---- Internals -------------------------------------------------------------------------------

  private enter(method: MethodName, args: unknown[]): void {
    this.calls.push({ method, args });
    const q = this.failures.get(method);
    const err = q?.shift();
    if (err) throw err;
  }

  private find<T extends { id: string }>(m: Map<string, T>, id: string): T | undefined {
    const exact = m.get(id);
    if (exact) return exact;
    const hits = id.length >= 4 ? [...m.values()].filter((x) => x.id.startsWith(id)) : [];
    return hits.length === 1 ? hits[0] : undefined;
  }

  private sandbox(id: string): FakeSandbox {
    const s = this.find(this.sandboxes, id);
    if (!s) throw new RuntimeError('NotFound', `sandbox ${id.slice(0, 12)} not found`);
    return s;
  }

  private container(id: string): FakeContainer {
    const c = this.find(this.containers, id);
    if (!c) throw new RuntimeError('NotFound', `container ${id.slice(0, 12)} not found`);
    return c;
  }

  private finish(c: FakeContainer, exitCode: number, oomKilled: boolean): void {
    c.state = 'exited';
    c.exitCode = exitCode;
    c.oomKilled = oomKilled;
    c.reason = oomKilled ? 'OOMKilled' : exitCode === 0 ? 'Completed' : 'Error';
    c.finishedAt = new Date(this.clock.now());
    c.pid = undefined;
    for (const f of c.followers) f.end();
    c.followers.clear();
  }

  private drop(c: FakeContainer): void {
    if (c.state === 'running') this.finish(c, 137, false);
    this.containers.delete(c.id);
    this.stats_.delete(c.id);
  }

  private sandboxSummary(s: FakeSandbox): SandboxSummary {
    const { labels, annotations } = splitLabels(s.rawLabels);
    return { id: s.id, metadata: { ...s.config.metadata }, state: s.pid ? 'ready' : 'notready', createdAt: s.createdAt, labels, annotations };
  }

  private containerSummary(c: FakeContainer): ContainerSummary {
    const s = this.sandboxes.get(c.sandboxId);
    const { labels, annotations } = splitLabels(c.rawLabels);
    const m = s?.config.metadata;
    return {
      id: c.id,
      sandboxId: c.sandboxId,
      podUID: m?.uid ?? c.rawLabels[podUIDLabel] ?? '',
      podNamespace: m?.namespace ?? '',
      podName: m?.name ?? '',
      metadata: { ...c.config.metadata },
      image: c.config.image,
      imageId: c.imageId,
      state: c.state,
      createdAt: c.createdAt,
      labels,
      annotations,
    };
  }
}

function newId(): string {
  return randomBytes(32).toString('hex');
}

function matches(labels: Record<string, string>, want: Record<string, string>): boolean {
  return Object.entries(want).every(([k, v]) => labels[k] === v);
}

/** busybox and busybox:latest are the same image. */
function normalizeRef(ref: string): string {
  const lastSegment = ref.slice(ref.lastIndexOf('/') + 1);
  return lastSegment.includes(':') || lastSegment.includes('@') ? ref : `${ref}:latest`;
}
