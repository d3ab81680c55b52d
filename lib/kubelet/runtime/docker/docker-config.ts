/**
 * Pure translations between the runtime's types and Docker Engine API bodies: what
 * DockerRuntime sends to create sandboxes and containers, and how it reads inspect answers.
 * Kept apart from the I/O so that the mapping is unit-tested without an engine.
 */
import type Docker from 'dockerode';
import { containerLabels, containerMetadataFrom, containerRuntimeName, sandboxLabels, sandboxMetadataFrom, sandboxRuntimeName, splitLabels } from '../labels.js';
import { podUIDLabel, podNameLabel, podNamespaceLabel, sandboxIdLabel } from '../labels.js';
import type { ContainerConfig, ContainerState, ContainerStatus, LinuxResources, Mount, PodSandboxMetadata, SandboxConfig, SandboxStatus, SeccompProfile } from '../runtime.js';

/** tkube's own labels on a sandbox: facts Docker's HostConfig does not keep. */
export const shareProcessNamespaceLabel = 'io.tkube.sandbox.share-process-namespace';

/** CFS period the kubelet uses: 100ms. */
export const cpuPeriodMicros = 100_000;
const minShares = 2;
const maxShares = 262_144;
const minQuotaMicros = 1_000;

/** CPU shares for a request in millicores, as the kubelet computes them (1024 per core, at least 2). */
export function cpuSharesFor(milli: number | undefined): number {
  if (!milli || milli <= 0) return minShares;
  return Math.min(maxShares, Math.max(minShares, Math.floor((milli * 1024) / 1000)));
}

/** CFS quota for a limit in millicores over the 100ms period (at least 1ms); 0 = unlimited. */
export function cpuQuotaFor(milli: number | undefined): number {
  if (!milli || milli <= 0) return 0;
  return Math.max(minQuotaMicros, Math.floor((milli * cpuPeriodMicros) / 1000));
}

/** NET_ADMIN, net_admin and CAP_NET_ADMIN all mean CAP_NET_ADMIN; ALL stays ALL. */
export function dockerCapability(name: string): string {
  const up = name.trim().toUpperCase();
  if (up === 'ALL') return 'ALL';
  return up.startsWith('CAP_') ? up : `CAP_${up}`;
}

function bind(m: Mount): string {
  const opts = [m.readOnly ? 'ro' : 'rw'];
  if (m.propagation && m.propagation !== 'private') opts.push(m.propagation);
  return `${m.hostPath}:${m.containerPath}:${opts.join(',')}`;
}

/** Host paths must be absolute and paths may not hold ':' (Docker's bind syntax splits on it). */
export function checkMount(m: Mount): string | undefined {
  if (!m.hostPath.startsWith('/')) return `mount host path "${m.hostPath}" is not absolute`;
  if (!m.containerPath.startsWith('/')) return `mount path "${m.containerPath}" is not absolute`;
  if (m.hostPath.includes(':') || m.containerPath.includes(':')) return `mount ${m.hostPath} → ${m.containerPath} contains ':'`;
  return undefined;
}

function resourcesHostConfig(r: LinuxResources | undefined): Docker.HostConfig {
  const hc: Docker.HostConfig = { CpuShares: cpuSharesFor(r?.cpuRequestMilli ?? r?.cpuLimitMilli) };
  const quota = cpuQuotaFor(r?.cpuLimitMilli);
  if (quota > 0) {
    hc.CpuQuota = quota;
    hc.CpuPeriod = cpuPeriodMicros;
  }
  if (r?.memoryLimitBytes && r.memoryLimitBytes > 0) {
    hc.Memory = Math.floor(r.memoryLimitBytes);
    // No swap beyond the limit: Kubernetes nodes run without swap by default.
    hc.MemorySwap = Math.floor(r.memoryLimitBytes);
  }
  if (r?.oomScoreAdj !== undefined) hc.OomScoreAdj = r.oomScoreAdj;
  return hc;
}

/**
 * Docker's security option for a seccomp profile, as dockershim passed it: "unconfined", the
 * engine's own default profile (no option), or a Localhost profile's JSON text (the engine
 * takes the profile itself, not a path; the runtime reads the file, see docker-runtime.ts).
 * A privileged container runs unconfined whatever it asks (Docker ignores the option then).
 */
export function seccompSecurityOpt(profile: SeccompProfile | undefined, localhostJSON?: string): string[] {
  if (!profile || profile.type === 'RuntimeDefault') return [];
  if (profile.type === 'Unconfined') return ['seccomp=unconfined'];
  if (localhostJSON === undefined) throw new Error(`seccomp profile ${profile.path} was not read`);
  return [`seccomp=${localhostJSON}`];
}

/** The body of POST /containers/create for a sandbox (pause) container. */
export function sandboxCreateOptions(config: SandboxConfig, image: string, localhostJSON?: string): Docker.ContainerCreateOptions {
  const m = config.metadata;
  const labels = sandboxLabels(config);
  if (config.shareProcessNamespace) labels[shareProcessNamespaceLabel] = 'true';
  const hc: Docker.HostConfig = {
    // `none`: Docker gives the namespace only lo; the pod network adds eth0 from outside.
    NetworkMode: config.hostNetwork ? 'host' : 'none',
    IpcMode: config.hostIPC ? 'host' : 'shareable',
    RestartPolicy: { Name: 'no' },
    CpuShares: minShares,
  };
  if (config.hostPID) hc.PidMode = 'host';
  if (config.sysctls && Object.keys(config.sysctls).length) hc.Sysctls = { ...config.sysctls };
  const secOpts = seccompSecurityOpt(config.seccomp, localhostJSON);
  if (secOpts.length) hc.SecurityOpt = secOpts;
  if (config.cgroupParent) hc.CgroupParent = config.cgroupParent;
  if (config.runtimeHandler) hc.Runtime = config.runtimeHandler;
  const opts: Docker.ContainerCreateOptions = { name: sandboxRuntimeName(m), Image: image, Labels: labels, HostConfig: hc };
  if (!config.hostNetwork) {
    opts.Hostname = (config.hostname ?? m.name).slice(0, 63);
    // No Docker networking at all: the namespace still only has lo, but Docker skips its
    // network sandbox, whose prestart hook runs the dockerd binary again for every container
    // (20 pods at once: p50 1.7 s instead of 2.9 s). The kubelet writes the pod's hosts,
    // resolv.conf and hostname files itself and mounts them into each container.
    opts.NetworkDisabled = true;
  }
  return opts;
}

export interface SandboxFacts {
  id: string;
  metadata: PodSandboxMetadata;
  hostPID: boolean;
  shareProcessNamespace: boolean;
  /** The sandbox's Docker runtime (its RuntimeClass handler), if not the default. */
  runtime?: string;
}

/**
 * What this node can give a privileged container when Docker's own privileged mode cannot
 * work on it (see ./capabilities.ts): the capabilities it can grant and the host's devices.
 */
export interface RestrictedPrivilege {
  capabilities: string[];
  devices: string[];
}

/** The body of POST /containers/create for an app container joining the sandbox. */
export function containerCreateOptions(sandbox: SandboxFacts, config: ContainerConfig, localhostJSON?: string, restricted?: RestrictedPrivilege): Docker.ContainerCreateOptions {
  const join = `container:${sandbox.id}`;
  const sec = config.security ?? {};
  const hc: Docker.HostConfig = {
    ...resourcesHostConfig(config.resources),
    NetworkMode: join,
    IpcMode: join,
    RestartPolicy: { Name: 'no' },
  };
  if (sandbox.runtime) hc.Runtime = sandbox.runtime;
  if (sandbox.shareProcessNamespace) hc.PidMode = join;
  else if (sandbox.hostPID) hc.PidMode = 'host';
  else if (config.pidTargetContainerId) hc.PidMode = `container:${config.pidTargetContainerId}`;
  const binds = (config.mounts ?? []).map(bind);
  if (config.hostsPath) binds.push(bind({ hostPath: config.hostsPath, containerPath: '/etc/hosts' }));
  if (config.resolvConfPath) binds.push(bind({ hostPath: config.resolvConfPath, containerPath: '/etc/resolv.conf' }));
  if (config.hostnamePath) binds.push(bind({ hostPath: config.hostnamePath, containerPath: '/etc/hostname' }));
  if (binds.length) hc.Binds = binds;
  if (sec.privileged && !restricted) hc.Privileged = true;
  if (sec.readOnlyRootFilesystem) hc.ReadonlyRootfs = true;
  if (sec.privileged && restricted) {
    // Privileged's parts, asked for one by one: every capability the node can grant, every
    // host device, no seccomp, AppArmor or SELinux confinement, no masked or read-only paths.
    hc.CapAdd = restricted.capabilities;
    hc.Devices = restricted.devices.map((d) => ({ PathOnHost: d, PathInContainer: d, CgroupPermissions: 'rwm' }));
    hc.DeviceCgroupRules = ['a *:* rwm'];
    hc.SecurityOpt = ['seccomp=unconfined', 'apparmor=unconfined', 'label=disable'];
    hc.MaskedPaths = [];
    hc.ReadonlyPaths = [];
  } else if (!sec.privileged) {
    if (sec.capabilities?.add?.length) hc.CapAdd = sec.capabilities.add.map(dockerCapability);
    if (sec.capabilities?.drop?.length) hc.CapDrop = sec.capabilities.drop.map(dockerCapability);
    const secOpts = [...(sec.noNewPrivileges ? ['no-new-privileges'] : []), ...seccompSecurityOpt(sec.seccomp, localhostJSON)];
    if (secOpts.length) hc.SecurityOpt = secOpts;
  }
  if (sec.supplementalGroups?.length) hc.GroupAdd = sec.supplementalGroups.map(String);
  if (config.cgroupParent) hc.CgroupParent = config.cgroupParent;

  const opts: Docker.ContainerCreateOptions = {
    name: containerRuntimeName(sandbox.metadata, config.metadata),
    Image: config.image,
    Labels: containerLabels(sandbox.metadata, sandbox.id, config),
    Env: (config.env ?? []).map((e) => `${e.name}=${e.value}`),
    HostConfig: hc,
  };
  // Kubernetes semantics, which Docker shares: command replaces ENTRYPOINT (and drops the
  // image's CMD unless args are given), args replace CMD.
  if (config.command?.length) opts.Entrypoint = config.command;
  if (config.args?.length) opts.Cmd = config.args;
  if (config.workingDir) opts.WorkingDir = config.workingDir;
  if (sec.runAsUser !== undefined) opts.User = sec.runAsGroup !== undefined ? `${sec.runAsUser}:${sec.runAsGroup}` : String(sec.runAsUser);
  if (config.stopSignal) opts.StopSignal = config.stopSignal;
  if (config.stdin) {
    opts.OpenStdin = true;
    opts.StdinOnce = !!config.stdinOnce;
    opts.AttachStdin = false;
  }
  if (config.tty) opts.Tty = true;
  return opts;
}

/** Docker writes "0001-01-01T00:00:00Z" for times that did not happen. */
export function dockerTime(s: string | undefined): Date | undefined {
  if (!s || s.startsWith('0001-01-01')) return undefined;
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

export function containerStateOf(status: string | undefined): ContainerState {
  switch (status) {
    case 'created':
      return 'created';
    case 'running':
    case 'paused':
    case 'restarting':
      return 'running';
    case 'exited':
    case 'dead':
    case 'removing':
      return 'exited';
    default:
      return 'unknown';
  }
}

function parseBinds(binds: string[] | undefined | null): Mount[] {
  return (binds ?? []).map((b) => {
    const [hostPath = '', containerPath = '', opts = ''] = b.split(':');
    const o = opts.split(',');
    const m: Mount = { hostPath, containerPath, readOnly: o.includes('ro') };
    const prop = o.find((x) => x === 'rslave' || x === 'rshared');
    if (prop) m.propagation = prop as Mount['propagation'];
    return m;
  });
}

/** ContainerStatus from GET /containers/{id}/json of an app container. */
export function containerStatusFrom(info: Docker.ContainerInspectInfo): ContainerStatus {
  const raw = info.Config.Labels ?? {};
  const { labels, annotations } = splitLabels(raw);
  const state = containerStateOf(info.State.Status);
  const st: ContainerStatus = {
    id: info.Id,
    sandboxId: raw[sandboxIdLabel] ?? '',
    podUID: raw[podUIDLabel] ?? '',
    podNamespace: raw[podNamespaceLabel] ?? '',
    podName: raw[podNameLabel] ?? '',
    metadata: containerMetadataFrom(raw, info.Name),
    image: info.Config.Image,
    imageId: info.Image,
    state,
    createdAt: dockerTime(info.Created) ?? new Date(0),
    labels,
    annotations,
    oomKilled: !!info.State.OOMKilled,
    mounts: parseBinds(info.HostConfig.Binds),
  };
  const started = dockerTime(info.State.StartedAt);
  if (started) st.startedAt = started;
  if (state === 'running' && info.State.Pid) st.pid = info.State.Pid;
  if (state === 'exited') {
    const finished = dockerTime(info.State.FinishedAt);
    if (finished) st.finishedAt = finished;
    // Docker stamps StartedAt after the process is running; one that exits at once can carry
    // a start a few milliseconds after its finish. Nothing finishes before it starts.
    if (finished && started && started > finished) st.startedAt = finished;
    st.exitCode = info.State.ExitCode;
    if (info.State.OOMKilled) st.reason = 'OOMKilled';
    else if (info.State.Error) {
      st.reason = 'ContainerCannotRun';
      st.message = info.State.Error;
    } else st.reason = info.State.ExitCode === 0 ? 'Completed' : 'Error';
  } else if (state === 'created' && info.State.Error) {
    // A start that failed leaves the container "created" with the engine's error and exit
    // code (127 for a command not found) and no finish time. It will never run: it is an
    // exited instance (as CRI runtimes report it), finished when it was made, so that the
    // kubelet counts a restart and backs off instead of retrying at once.
    st.state = 'exited';
    st.reason = 'ContainerCannotRun';
    st.message = info.State.Error;
    st.exitCode = info.State.ExitCode || 128;
    st.finishedAt = st.createdAt;
  }
  return st;
}

/** SandboxStatus from GET /containers/{id}/json of a pause container. */
export function sandboxStatusFrom(info: Docker.ContainerInspectInfo): SandboxStatus {
  const raw = info.Config.Labels ?? {};
  const { labels, annotations } = splitLabels(raw);
  const running = info.State.Running && !info.State.Restarting;
  const st: SandboxStatus = {
    id: info.Id,
    metadata: sandboxMetadataFrom(raw, info.Name),
    state: running ? 'ready' : 'notready',
    createdAt: dockerTime(info.Created) ?? new Date(0),
    labels,
    annotations,
    hostNetwork: info.HostConfig.NetworkMode === 'host',
    shareProcessNamespace: raw[shareProcessNamespaceLabel] === 'true',
  };
  if (running && info.State.Pid) st.pid = info.State.Pid;
  const started = dockerTime(info.State.StartedAt);
  if (started) st.startedAt = started;
  if (!running && started) {
    const finished = dockerTime(info.State.FinishedAt);
    if (finished) st.finishedAt = finished;
    st.exitCode = info.State.ExitCode;
  }
  return st;
}
