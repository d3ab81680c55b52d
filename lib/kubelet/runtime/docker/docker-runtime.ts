/**
 * DockerRuntime: ContainerRuntime on a Docker Engine (API ≥ 1.41) through dockerode.
 *
 * A sandbox is a pause container started with `--network none` and a shareable IPC namespace;
 * app containers join its network and IPC namespaces (and PID with shareProcessNamespace)
 * with `container:<sandbox id>` modes, the way Kubernetes' dockershim did it.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import { PassThrough, type Duplex, type Readable } from 'node:stream';
import Docker from 'dockerode';
import type { Logger } from '../../../base/index.js';
import { RuntimeError, type RuntimeErrorReason } from '../errors.js';
import {
  containerMetadataFrom,
  containerTypeContainer,
  containerTypeLabel,
  containerTypeSandbox,
  podNameLabel,
  podNamespaceLabel,
  podUIDLabel,
  sandboxIdLabel,
  sandboxMetadataFrom,
  splitLabels,
} from '../labels.js';
import { findPreviousContainer } from '../previous.js';
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
  PullOptions,
  RuntimeVersion,
  SandboxConfig,
  PodObjects,
  PodObjectsFilter,
  SandboxFilter,
  SandboxStatus,
  SandboxSummary,
  SeccompProfile,
  StopOptions,
  StopResult,
  StreamOptions,
  StreamResult,
  StreamSession,
  TerminalSize,
} from '../runtime.js';
import { cgroupStats } from './cgroup-stats.js';
import { capabilityLimits, hostDevices } from './capabilities.js';
import { checkMount, type RestrictedPrivilege, containerCreateOptions, containerStateOf, containerStatusFrom, sandboxCreateOptions, sandboxStatusFrom, shareProcessNamespaceLabel } from './docker-config.js';
import { ByteLimit, DockerDemuxer, DockerMergedDemux } from './streams.js';

export const defaultPodInfraContainerImage = 'tkube/pause:3.10';

export interface DockerRuntimeOptions {
  log: Logger;
  /** A dockerode client; default one on `socketPath`. */
  docker?: Docker;
  /** Default /var/run/docker.sock. */
  socketPath?: string;
  /** The pause image (kubelet --pod-infra-container-image); default tkube/pause:3.10. */
  podInfraContainerImage?: string;
  /** Program used to enter a sandbox's network namespace for port forwarding; default nsenter. */
  nsenterPath?: string;
  /**
   * Privileged containers: null for Docker's own privileged mode; default: that mode where this
   * node can grant every capability, else privileged's parts with what it can (./capabilities.ts).
   */
  restrictedPrivilege?: RestrictedPrivilege | null;
}

interface DockerError {
  statusCode?: number;
  code?: string;
  json?: { message?: string } | null;
  message?: string;
}

function engineMessage(err: unknown): string {
  const e = err as DockerError;
  return (e.json?.message ?? e.message ?? String(err)).trim();
}

/** Turns a dockerode error into a RuntimeError, saying what was attempted. */
function wrap(err: unknown, what: string, overrides: Partial<Record<number, RuntimeErrorReason>> = {}): RuntimeError {
  if (err instanceof RuntimeError) return err;
  const e = err as DockerError;
  let reason: RuntimeErrorReason = 'Internal';
  if (e.statusCode !== undefined && overrides[e.statusCode]) reason = overrides[e.statusCode]!;
  else if (e.statusCode === 404) reason = 'NotFound';
  else if (e.statusCode === 409) reason = 'Conflict';
  else if (e.statusCode === 400) reason = 'InvalidArgument';
  else if (e.code === 'ECONNREFUSED' || e.code === 'ENOENT' || e.code === 'EACCES') reason = 'Unavailable';
  const hint = reason === 'Unavailable' ? ' (is dockerd running? see hack/ensure-docker.sh)' : '';
  return new RuntimeError(reason, `${what}: ${engineMessage(err)}${hint}`, { cause: err });
}

const short = (id: string) => id.slice(0, 12);

/** The parts of GET /containers/{id}/stats that are read (cgroup v1 and v2 field names). */
interface DockerStats {
  read?: string;
  cpu_stats?: { cpu_usage?: { total_usage?: number } };
  memory_stats?: { usage?: number; stats?: Partial<Record<'total_inactive_file' | 'inactive_file' | 'total_rss' | 'rss' | 'anon', number>> };
}

function labelFilters(labels: Record<string, string | undefined>): string[] {
  return Object.entries(labels)
    .filter((e): e is [string, string] => e[1] !== undefined)
    .map(([k, v]) => `${k}=${v}`);
}

function sandboxSummaryFrom(r: Docker.ContainerInfo): SandboxSummary {
  const { labels, annotations } = splitLabels(r.Labels);
  return {
    id: r.Id,
    metadata: sandboxMetadataFrom(r.Labels ?? {}, r.Names[0]),
    state: r.State === 'running' ? 'ready' : 'notready',
    createdAt: new Date(r.Created * 1000),
    labels,
    annotations,
  };
}

function containerSummaryFrom(r: Docker.ContainerInfo): ContainerSummary {
  const raw = r.Labels ?? {};
  const { labels, annotations } = splitLabels(raw);
  return {
    id: r.Id,
    sandboxId: raw[sandboxIdLabel] ?? '',
    podUID: raw[podUIDLabel] ?? '',
    podNamespace: raw[podNamespaceLabel] ?? '',
    podName: raw[podNameLabel] ?? '',
    metadata: containerMetadataFrom(raw, r.Names[0]),
    image: r.Image,
    imageId: r.ImageID,
    state: containerStateOf(r.State),
    createdAt: new Date(r.Created * 1000),
    labels,
    annotations,
  };
}

export class DockerRuntime implements ContainerRuntime {
  readonly docker: Docker;
  readonly podInfraContainerImage: string;
  private readonly log: Logger;
  private readonly nsenter: string;
  private readonly restrictedPrivilege?: RestrictedPrivilege;

  constructor(opts: DockerRuntimeOptions) {
    this.docker = opts.docker ?? new Docker({ socketPath: opts.socketPath ?? '/var/run/docker.sock' });
    this.podInfraContainerImage = opts.podInfraContainerImage ?? defaultPodInfraContainerImage;
    this.log = opts.log;
    this.nsenter = opts.nsenterPath ?? 'nsenter';
    if (opts.restrictedPrivilege !== undefined) this.restrictedPrivilege = opts.restrictedPrivilege ?? undefined;
    else {
      const limits = capabilityLimits();
      if (limits) {
        this.restrictedPrivilege = { capabilities: limits.grantable, devices: hostDevices() };
        this.log.warn({ missing: limits.missing }, "this node cannot grant every capability: privileged containers get the ones it can, the host's devices and no confinement, instead of Docker's privileged mode");
      }
    }
  }

  async version(): Promise<RuntimeVersion> {
    try {
      const [v, info] = await Promise.all([this.docker.version(), this.docker.info() as Promise<Record<string, string>>]);
      return {
        runtimeName: 'docker',
        runtimeVersion: v.Version,
        runtimeApiVersion: v.ApiVersion,
        kernelVersion: v.KernelVersion,
        operatingSystem: info.OperatingSystem,
        cgroupDriver: info.CgroupDriver,
        cgroupVersion: info.CgroupVersion,
      };
    } catch (err) {
      throw wrap(err, 'asking the docker engine for its version');
    }
  }

  // ---- Sandboxes -------------------------------------------------------------------------------

  /**
   * Creates the container; a restricted privileged one whose engine does not know one of the
   * capabilities it was given (Docker 20.10 knows none past CAP_AUDIT_READ, the kernel may)
   * goes again without it, and later ones are created without it from the start.
   */
  private async createDroppingUnknownCapabilities(body: Docker.ContainerCreateOptions): Promise<Docker.Container> {
    for (;;) {
      try {
        return await this.docker.createContainer(body);
      } catch (err) {
        const unknown = /unknown capability: "?(CAP_[A-Z_]+)/.exec(engineMessage(err))?.[1];
        const r = this.restrictedPrivilege;
        const caps = body.HostConfig?.CapAdd;
        if (!unknown || !r || !caps?.includes(unknown)) throw err;
        r.capabilities = r.capabilities.filter((c) => c !== unknown);
        body.HostConfig!.CapAdd = caps.filter((c: string) => c !== unknown);
        this.log.info({ capability: unknown }, 'the engine does not know this capability; privileged containers go without it');
      }
    }
  }

  /** A Localhost seccomp profile's text (the engine takes the profile, not its path). */
  private async localhostProfile(profile: SeccompProfile | undefined, privileged = false): Promise<string | undefined> {
    if (profile?.type !== 'Localhost' || privileged) return undefined;
    try {
      const text = await fs.readFile(profile.path, 'utf8');
      JSON.parse(text);
      return text;
    } catch (err) {
      throw new RuntimeError('InvalidArgument', `cannot load seccomp profile "${profile.path}": ${(err as Error).message}`, { cause: err });
    }
  }

  async createSandbox(config: SandboxConfig): Promise<string> {
    const image = config.image ?? this.podInfraContainerImage;
    const body = sandboxCreateOptions(config, image, await this.localhostProfile(config.seccomp));
    try {
      const c = await this.docker.createContainer(body);
      this.log.debug({ sandboxId: short(c.id), pod: `${config.metadata.namespace}/${config.metadata.name}` }, 'sandbox created');
      return c.id;
    } catch (err) {
      const e = err as DockerError;
      if (e.statusCode === 404) {
        throw new RuntimeError('NotFound', `pod infra image ${image} is not present on this node; build it with \`npm run images\` (or pull it)`, { cause: err });
      }
      throw wrap(err, `creating sandbox ${body.name}`, { 409: 'AlreadyExists' });
    }
  }

  async startSandbox(id: string): Promise<void> {
    await this.start(id, 'sandbox');
  }

  async stopSandbox(id: string, gracePeriodSeconds = 10): Promise<void> {
    const sandbox = await this.inspectRaw(id, 'sandbox');
    const members = await this.listContainers({ sandboxId: sandbox.Id });
    await Promise.all(
      members
        .filter((c) => c.state === 'running')
        .map((c) =>
          this.stopContainer(c.id, { gracePeriodSeconds }).catch((err) => {
            if (!(err instanceof RuntimeError && err.reason === 'NotFound')) throw err;
          }),
        ),
    );
    await this.stopContainer(sandbox.Id, { gracePeriodSeconds });
  }

  async removeSandbox(id: string): Promise<void> {
    let sandboxId = id;
    try {
      sandboxId = (await this.inspectRaw(id, 'sandbox')).Id;
    } catch (err) {
      if (err instanceof RuntimeError && err.reason === 'NotFound') return;
      throw err;
    }
    for (const c of await this.listContainers({ sandboxId })) await this.removeContainer(c.id);
    await this.removeContainer(sandboxId);
    this.log.debug({ sandboxId: short(sandboxId) }, 'sandbox removed');
  }

  async inspectSandbox(id: string): Promise<SandboxStatus> {
    const info = await this.inspectRaw(id, 'sandbox');
    if (info.Config.Labels?.[containerTypeLabel] !== containerTypeSandbox) {
      throw new RuntimeError('NotFound', `sandbox ${short(id)} not found: ${short(info.Id)} is not a pod sandbox`);
    }
    return sandboxStatusFrom(info);
  }

  async listSandboxes(filter: SandboxFilter = {}): Promise<SandboxSummary[]> {
    const rows = await this.listRows({ ...(filter.labels ?? {}), [containerTypeLabel]: containerTypeSandbox, [podUIDLabel]: filter.podUID }, 'listing sandboxes');
    const out = rows.map(sandboxSummaryFrom);
    return filter.state ? out.filter((s) => s.state === filter.state) : out;
  }

  // ---- Containers ------------------------------------------------------------------------------

  async createContainer(sandboxId: string, config: ContainerConfig): Promise<string> {
    for (const m of config.mounts ?? []) {
      const bad = checkMount(m);
      if (bad) throw new RuntimeError('InvalidArgument', `container ${config.metadata.name}: ${bad}`);
    }
    const sb = await this.inspectRaw(sandboxId, 'sandbox');
    const labels = sb.Config.Labels ?? {};
    if (labels[containerTypeLabel] !== containerTypeSandbox) throw new RuntimeError('NotFound', `sandbox ${short(sandboxId)} not found: not a pod sandbox`);
    const body = containerCreateOptions(
      {
        id: sb.Id,
        metadata: sandboxMetadataFrom(labels, sb.Name),
        hostPID: sb.HostConfig.PidMode === 'host',
        shareProcessNamespace: labels[shareProcessNamespaceLabel] === 'true',
        ...(sb.HostConfig.Runtime && sb.HostConfig.Runtime !== 'runc' ? { runtime: sb.HostConfig.Runtime } : {}),
      },
      config,
      await this.localhostProfile(config.security?.seccomp, config.security?.privileged),
      this.restrictedPrivilege,
    );
    try {
      const c = await this.createDroppingUnknownCapabilities(body);
      this.log.debug({ containerId: short(c.id), container: config.metadata.name, sandboxId: short(sb.Id) }, 'container created');
      return c.id;
    } catch (err) {
      const e = err as DockerError;
      if (e.statusCode === 404 && /image/i.test(engineMessage(err))) {
        throw new RuntimeError('NotFound', `image ${config.image} is not present on this node; pull it first`, { cause: err });
      }
      throw wrap(err, `creating container ${body.name}`, { 409: 'AlreadyExists' });
    }
  }

  async startContainer(id: string): Promise<void> {
    await this.start(id, 'container');
  }

  async stopContainer(id: string, opts: StopOptions): Promise<StopResult> {
    const info = await this.inspectRaw(id, 'container');
    const c = this.docker.getContainer(info.Id);
    if (!info.State.Running) return { killed: false, exitCode: info.State.ExitCode };
    const grace = Math.max(0, opts.gracePeriodSeconds);
    // Ask for the wait first: condition not-running returns at once if it already stopped, so
    // the container cannot slip past between the signal and the wait.
    const waited = c.wait({ condition: 'not-running' }).then(
      (r: { StatusCode?: number }) => r.StatusCode,
      () => undefined,
    );
    let killed = false;
    if (grace === 0) {
      killed = true;
      await this.kill(c, 'SIGKILL');
    } else {
      const signal = opts.signal ?? ((info.Config as { StopSignal?: string }).StopSignal || 'SIGTERM');
      await this.kill(c, signal);
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<'deadline'>((r) => (timer = setTimeout(() => r('deadline'), grace * 1000)));
      const first = await Promise.race([waited.then(() => 'exited' as const), deadline]);
      clearTimeout(timer);
      if (first === 'deadline') {
        this.log.info({ containerId: short(info.Id), gracePeriodSeconds: grace }, 'container did not stop within its grace period; killing it');
        killed = true;
        await this.kill(c, 'SIGKILL');
      }
    }
    const code = await waited;
    const after = await this.inspectRaw(info.Id, 'container').catch(() => undefined);
    return { killed, exitCode: after?.State.ExitCode ?? code };
  }

  async removeContainer(id: string): Promise<void> {
    try {
      await this.docker.getContainer(id).remove({ force: true, v: true });
    } catch (err) {
      const e = err as DockerError;
      if (e.statusCode === 404) return;
      // 409 "removal already in progress": someone else is removing it; that is what we want.
      if (e.statusCode === 409 && /already in progress/.test(engineMessage(err))) return;
      throw wrap(err, `removing container ${short(id)}`);
    }
  }

  async inspectContainer(id: string): Promise<ContainerStatus> {
    return containerStatusFrom(await this.inspectRaw(id, 'container'));
  }

  async listContainers(filter: ContainerFilter = {}): Promise<ContainerSummary[]> {
    const rows = await this.listRows(
      { ...(filter.labels ?? {}), [containerTypeLabel]: containerTypeContainer, [podUIDLabel]: filter.podUID, [sandboxIdLabel]: filter.sandboxId },
      'listing containers',
    );
    const out = rows.map(containerSummaryFrom);
    return filter.state ? out.filter((c) => c.state === filter.state) : out;
  }

  /** Every Docker container, of any state, carrying the labels (undefined values: not filtered on). */
  private async listRows(labels: Record<string, string | undefined>, what: string): Promise<Docker.ContainerInfo[]> {
    try {
      return await this.docker.listContainers({ all: true, filters: { label: labelFilters(labels) } });
    } catch (err) {
      throw wrap(err, what);
    }
  }

  async listPodObjects(filter: PodObjectsFilter = {}): Promise<PodObjects> {
    const out: PodObjects = { sandboxes: [], containers: [] };
    for (const r of await this.listRows({ ...(filter.labels ?? {}), [podUIDLabel]: filter.podUID }, 'listing sandboxes and containers')) {
      const type = r.Labels?.[containerTypeLabel];
      if (type === containerTypeSandbox) out.sandboxes.push(sandboxSummaryFrom(r));
      else if (type === containerTypeContainer) out.containers.push(containerSummaryFrom(r));
    }
    return out;
  }

  // ---- Images ----------------------------------------------------------------------------------

  async imageStatus(ref: string): Promise<ImageInfo | undefined> {
    try {
      const i = await this.docker.getImage(ref).inspect();
      return { id: i.Id, repoTags: i.RepoTags ?? [], repoDigests: i.RepoDigests ?? [], sizeBytes: i.Size, user: i.Config?.User ?? '' };
    } catch (err) {
      if ((err as DockerError).statusCode === 404) return undefined;
      throw wrap(err, `inspecting image ${ref}`);
    }
  }

  async pullImage(ref: string, opts: PullOptions = {}): Promise<ImageInfo> {
    const auth = opts.auth
      ? { username: opts.auth.username, password: opts.auth.password, serveraddress: opts.auth.serverAddress, identitytoken: opts.auth.identityToken }
      : undefined;
    try {
      const stream = (await this.docker.pull(ref, { authconfig: auth, abortSignal: opts.signal })) as NodeJS.ReadableStream;
      await new Promise<void>((resolve, reject) => {
        this.docker.modem.followProgress(
          stream,
          (err: Error | null, events: Array<{ error?: string; errorDetail?: { message?: string } }>) => {
            if (err) return reject(err);
            const failed = events.find((e) => e.error);
            if (failed) return reject(new Error(failed.errorDetail?.message ?? failed.error));
            resolve();
          },
          (ev: { status?: string; id?: string; progress?: string }) => {
            if (ev.status) opts.onProgress?.([ev.id, ev.status, ev.progress].filter(Boolean).join(' '));
          },
        );
      });
    } catch (err) {
      throw new RuntimeError('ImagePullFailed', `pulling image ${ref} failed: ${engineMessage(err)}`, { cause: err });
    }
    const info = await this.imageStatus(ref);
    if (!info) throw new RuntimeError('ImagePullFailed', `pulling image ${ref} finished but the image is not present`);
    return info;
  }

  async listImages(): Promise<ImageInfo[]> {
    try {
      const rows = await this.docker.listImages();
      return rows.map((i) => ({ id: i.Id, repoTags: (i.RepoTags ?? []).filter((t) => t !== '<none>:<none>'), repoDigests: (i.RepoDigests ?? []).filter((d) => !d.startsWith('<none>')), sizeBytes: i.Size }));
    } catch (err) {
      throw wrap(err, 'listing images');
    }
  }

  async removeImage(ref: string): Promise<void> {
    try {
      await this.docker.getImage(ref).remove();
    } catch (err) {
      if ((err as DockerError).statusCode === 404) return;
      throw wrap(err, `removing image ${ref}`);
    }
  }

  // ---- Streams ---------------------------------------------------------------------------------

  async logs(containerId: string, opts: LogOptions = {}): Promise<Readable> {
    let id = containerId;
    if (opts.previous) id = (await findPreviousContainer(this, containerId)).id;
    const info = await this.inspectRaw(id, 'container');
    const query: Record<string, unknown> = { stdout: true, stderr: true, follow: !!opts.follow, timestamps: !!opts.timestamps };
    if (opts.tail !== undefined && opts.tail >= 0) query.tail = opts.tail;
    if (opts.since) query.since = (opts.since.getTime() / 1000).toFixed(3);
    if (opts.signal) query.abortSignal = opts.signal;
    let raw: NodeJS.ReadableStream | Buffer;
    try {
      raw = (await this.docker.getContainer(info.Id).logs(query as unknown as Docker.ContainerLogsOptions & { follow: true })) as NodeJS.ReadableStream | Buffer;
    } catch (err) {
      throw wrap(err, `reading logs of container ${short(id)}`);
    }
    const source: Readable = Buffer.isBuffer(raw) ? PassThrough.from([raw]) : (raw as Readable);
    let out: Readable = info.Config.Tty ? source.pipe(new PassThrough()) : source.pipe(new DockerMergedDemux());
    source.on('error', (err) => out.destroy(err));
    if (opts.limitBytes !== undefined && opts.limitBytes >= 0) {
      const limited = new ByteLimit(opts.limitBytes, () => (source as Readable).destroy());
      out = out.pipe(limited);
    }
    const result = out;
    result.on('close', () => (source as Readable).destroy());
    opts.signal?.addEventListener('abort', () => result.destroy(), { once: true });
    return result;
  }

  async exec(containerId: string, opts: ExecOptions): Promise<StreamSession> {
    const c = this.docker.getContainer(containerId);
    let exec: Docker.Exec;
    try {
      exec = await c.exec({ Cmd: opts.cmd, AttachStdin: !!opts.stdin, AttachStdout: true, AttachStderr: true, Tty: !!opts.tty });
    } catch (err) {
      throw wrap(err, `exec in container ${short(containerId)}`);
    }
    let sock: Duplex;
    try {
      sock = (await exec.start({ hijack: true, stdin: !!opts.stdin, Tty: !!opts.tty })) as Duplex;
    } catch (err) {
      throw wrap(err, `starting exec in container ${short(containerId)}`);
    }
    const exitCode = async (): Promise<number | undefined> => {
      for (let i = 0; i < 50; i++) {
        const st = await exec.inspect().catch(() => undefined);
        if (!st) return undefined;
        if (!st.Running) return st.ExitCode ?? undefined;
        await new Promise((r) => setTimeout(r, 20));
      }
      return undefined;
    };
    return this.session(sock, opts, (size) => exec.resize({ h: size.height, w: size.width }), async () => ({ exitCode: await exitCode() }));
  }

  async execSync(containerId: string, cmd: string[], opts: { timeoutMs?: number } = {}): Promise<ExecSyncResult> {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const collector = (sink: Buffer[]) => new PassThrough().on('data', (d: Buffer) => sink.push(d));
    const session = await this.exec(containerId, { cmd, stdout: collector(out), stderr: collector(err) });
    let timer: NodeJS.Timeout | undefined;
    const timeout = opts.timeoutMs
      ? new Promise<'timeout'>((r) => {
          timer = setTimeout(() => r('timeout'), opts.timeoutMs);
        })
      : undefined;
    const first = await Promise.race([session.done, ...(timeout ? [timeout] : [])]);
    clearTimeout(timer);
    if (first === 'timeout') {
      session.close();
      return { exitCode: -1, stdout: Buffer.concat(out), stderr: Buffer.concat(err), timedOut: true };
    }
    return { exitCode: first.exitCode ?? -1, stdout: Buffer.concat(out), stderr: Buffer.concat(err), timedOut: false };
  }

  async attach(containerId: string, opts: StreamOptions): Promise<StreamSession> {
    const info = await this.inspectRaw(containerId, 'container');
    if (!info.State.Running) throw new RuntimeError('Conflict', `cannot attach to container ${short(info.Id)}: it is not running`);
    if (opts.stdin && !info.Config.OpenStdin) throw new RuntimeError('InvalidArgument', `cannot attach stdin to container ${short(info.Id)}: it was created without stdin`);
    const c = this.docker.getContainer(info.Id);
    let sock: Duplex;
    try {
      sock = (await c.attach({ stream: true, stdin: !!opts.stdin, stdout: true, stderr: true, hijack: true, logs: false })) as unknown as Duplex;
    } catch (err) {
      throw wrap(err, `attaching to container ${short(info.Id)}`);
    }
    const tty = !!info.Config.Tty;
    // Docker closes an attach's output when its input ends, unless the container's stdin closes
    // with it (StdinOnce). The CRI keeps the output flowing until the container exits (kubectl
    // debug -i with piped input reads what the command prints after its input ended): so the
    // end of the caller's input is passed on only where it closes the container's stdin.
    const halfClose = !!info.Config.StdinOnce;
    return this.session(
      sock,
      { ...opts, tty },
      (size) => c.resize({ h: size.height, w: size.width }),
      async () => {
        const after = await c.inspect().catch(() => undefined);
        return after && !after.State.Running ? { exitCode: after.State.ExitCode } : {};
      },
      halfClose,
    );
  }

  async portForward(sandboxId: string, port: number, stream: Duplex): Promise<void> {
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RuntimeError('InvalidArgument', `invalid port ${port}`);
    const sb = await this.inspectSandbox(sandboxId);
    if (!sb.pid) throw new RuntimeError('Conflict', `cannot forward to sandbox ${short(sb.id)}: it is not running`);
    // Node cannot enter a namespace itself, so a tiny Node program entered with nsenter makes
    // the connection and copies bytes over its stdin/stdout (dockershim used socat the same way).
    const relay = [
      "const s=require('net').connect({host:'127.0.0.1',port:+process.argv[1]});",
      "s.on('connect',()=>{process.stdin.pipe(s);s.pipe(process.stdout);});",
      "s.on('error',e=>{process.stderr.write(e.message);process.exit(1);});",
      "s.on('close',()=>process.exit(0));",
    ].join('');
    const child = spawn(this.nsenter, ['-t', String(sb.pid), '-n', process.execPath, '-e', relay, String(port)], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    stream.pipe(child.stdin);
    child.stdout.pipe(stream);
    child.stdin.on('error', () => undefined);
    stream.on('close', () => child.kill('SIGTERM'));
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on('error', (err) => reject(new RuntimeError('Internal', `port forward to ${short(sb.id)}:${port}: cannot run ${this.nsenter}: ${err.message}`, { cause: err })));
      child.on('close', (c) => resolve(c));
    });
    if (code !== 0 && code !== null) {
      throw new RuntimeError('Internal', `port forward to sandbox ${short(sb.id)} port ${port} failed: ${stderr.trim() || `exit code ${code}`}`);
    }
  }

  async stats(containerId: string): Promise<ContainerStats> {
    const info = await this.inspectRaw(containerId, 'container');
    // The container's cgroup first: Docker 20.10 answers empty stats for a container in a sandbox
    // without Docker networking (every pod container the kubelet starts), and its own stats come
    // from these same files. Docker's stats stay for when the cgroup cannot be read from here.
    const cg = info.State.Running && info.State.Pid ? await cgroupStats(info.State.Pid) : undefined;
    if (cg) {
      return {
        id: info.Id,
        timestamp: new Date(),
        cpuUsageCoreNanoSeconds: cg.cpuUsageCoreNanoSeconds,
        memoryUsageBytes: cg.memoryUsageBytes,
        memoryWorkingSetBytes: Math.max(0, cg.memoryUsageBytes - cg.memoryInactiveFileBytes),
        ...(cg.memoryRssBytes !== undefined ? { memoryRssBytes: cg.memoryRssBytes } : {}),
        ...(info.HostConfig.Memory ? { memoryLimitBytes: info.HostConfig.Memory } : {}),
      };
    }
    let s: DockerStats;
    try {
      s = (await this.docker.getContainer(info.Id).stats({ stream: false, 'one-shot': true } as { stream: false })) as DockerStats;
    } catch (err) {
      throw wrap(err, `reading stats of container ${short(info.Id)}`);
    }
    const ms = s.memory_stats?.stats ?? {};
    const usage = Number(s.memory_stats?.usage ?? 0);
    // cgroup v1 reports total_inactive_file, v2 inactive_file.
    const inactive = Number(ms.total_inactive_file ?? ms.inactive_file ?? 0);
    const rss = ms.total_rss ?? ms.rss ?? ms.anon;
    return {
      id: info.Id,
      timestamp: s.read && !s.read.startsWith('0001') ? new Date(s.read) : new Date(),
      cpuUsageCoreNanoSeconds: Number(s.cpu_stats?.cpu_usage?.total_usage ?? 0),
      memoryUsageBytes: usage,
      memoryWorkingSetBytes: Math.max(0, usage - inactive),
      ...(rss !== undefined ? { memoryRssBytes: Number(rss) } : {}),
      ...(info.HostConfig.Memory ? { memoryLimitBytes: info.HostConfig.Memory } : {}),
    };
  }

  // ---- Helpers ---------------------------------------------------------------------------------

  private async inspectRaw(id: string, what: 'sandbox' | 'container'): Promise<Docker.ContainerInspectInfo> {
    try {
      return await this.docker.getContainer(id).inspect();
    } catch (err) {
      if ((err as DockerError).statusCode === 404) throw new RuntimeError('NotFound', `${what} ${short(id)} not found`, { cause: err });
      throw wrap(err, `inspecting ${what} ${short(id)}`);
    }
  }

  private async start(id: string, what: 'sandbox' | 'container'): Promise<void> {
    try {
      await this.docker.getContainer(id).start();
    } catch (err) {
      if ((err as DockerError).statusCode === 304) return; // already started
      throw wrap(err, `starting ${what} ${short(id)}`);
    }
  }

  private async kill(c: Docker.Container, signal: string): Promise<void> {
    try {
      await c.kill({ signal });
    } catch (err) {
      const e = err as DockerError;
      // 409: not running any more, which is what we wanted.
      if (e.statusCode === 409 || e.statusCode === 404) return;
      throw wrap(err, `sending ${signal} to container ${short(c.id)}`, { 500: /invalid signal|parsing signal/i.test(engineMessage(err)) ? 'InvalidArgument' : 'Internal' });
    }
  }

  /** Wires a hijacked connection to the caller's streams. */
  /** `halfClose`: the end of the caller's input half-closes the connection (exec; attach with StdinOnce). */
  private session(sock: Duplex, opts: StreamOptions, resize: (s: TerminalSize) => Promise<unknown>, finish: () => Promise<StreamResult>, halfClose = true): StreamSession {
    let demux: DockerDemuxer | undefined;
    if (opts.tty) {
      if (opts.stdout) sock.pipe(opts.stdout, { end: false });
      else sock.resume();
    } else {
      demux = new DockerDemuxer(opts.stdout, opts.stderr);
      sock.pipe(demux);
    }
    // The output is complete once the demuxer has written its last frame, not when the socket ends.
    const flushed = demux ? new Promise<void>((r) => demux.on('finish', () => r())) : Promise.resolve();
    if (opts.stdin) {
      opts.stdin.pipe(sock, { end: false });
      // End of the caller's input: half-close, so the process sees EOF and can still answer.
      opts.stdin.on('end', () => (halfClose ? sock.end() : opts.stdin?.unpipe(sock)));
    }
    let closed = false;
    let sockEnded = false;
    const done = new Promise<StreamResult>((resolve, reject) => {
      let settled = false;
      const end = () => {
        if (settled) return;
        settled = true;
        opts.stdin?.unpipe(sock);
        finish().then(resolve, reject);
      };
      sock.on('end', () => {
        sockEnded = true;
        void flushed.then(end);
      });
      sock.on('close', () => {
        if (!sockEnded || closed) end();
      });
      sock.on('error', (err) => {
        if (closed) return end();
        if (settled) return;
        settled = true;
        reject(new RuntimeError('Internal', `stream connection failed: ${err.message}`, { cause: err }));
      });
    });
    const doResize = async (size: TerminalSize) => {
      if (!opts.tty) return;
      try {
        await resize(size);
      } catch (err) {
        throw wrap(err, 'resizing the terminal');
      }
    };
    if (opts.tty && opts.size) void doResize(opts.size).catch((err) => this.log.debug({ err }, 'initial terminal resize failed'));
    return {
      resize: doResize,
      done,
      close: () => {
        closed = true;
        sock.destroy();
      },
    };
  }
}
