/**
 * The sync of one pod: makes the runtime hold what the pod spec asks for, then computes the
 * pod's status. Level-triggered and idempotent: every sync reads the runtime afresh (see
 * RuntimeReader), decides from what it finds and acts; a kubelet restarted in the middle finds
 * the same state and carries on (it adopts running containers rather than recreating them).
 *
 * A sync of a running pod is a chain of small named steps, each testable on its own (in the
 * manner of Nomad's task-runner hooks). A step either lets the chain go on or stops it (the pod
 * waits for something: a volume's source, the network, an image backoff, an init container):
 *
 *   volumes → sandbox → network → pod-files → ephemeral-containers → init-containers → containers
 *
 * Ephemeral containers (added through pods/ephemeralcontainers) are started once each, before
 * the init containers as upstream does (so that one can debug a pod stuck initializing), and
 * never restarted; with targetContainerName they join that container's PID namespace.
 *
 * Termination (pod deleted, gone, or done) is another chain:
 *
 *   kill-containers (preStop, stop signal, SIGKILL at the grace period) → stop-sandbox →
 *   network-teardown (IP released) → [remove: containers, sandboxes, volumes, pod folder]
 *
 * Timers: none here. Waits are expressed as `resyncAfterMs` in the result; the pod's worker
 * owns the timer.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { ConfigMap, Container, Pod, RuntimeClass, Secret, Service } from '../../api/index.js';
import { formatDuration, type Clock } from '../../base/index.js';
import type { EphemeralContainer, PodStatus } from '../api-types.js';
import type { KeyedBackoff } from '../backoff.js';
import type { ObjectWatcher } from '../config-objects.js';
import { formatResolvConf, hostsFileContent, podDNS, podKernelHostname, type DNSSettings } from '../dns.js';
import { PodEvents, Reason } from '../events.js';
import { ImagePullError, type ImageManager } from '../images/image-manager.js';
import type { HookRunner } from '../lifecycle.js';
import { hostPortMappings, type PodNetwork } from '../network/index.js';
import type { ProbeManager, RunningInstance } from '../probes/probe-manager.js';
import { isRuntimeAlreadyExists, isRuntimeNotFound, type ContainerRuntime, type ContainerStatus } from '../runtime/index.js';
import { sandboxConfigFor, type SeccompSettings } from '../runtime-config.js';
import { podObjectReferences, VolumeMountError, type MountedVolume, type VolumeManager } from '../volumes/volume-manager.js';
import { ContainerConfigFailure, containerHash, containerHashAnnotation, generateContainerConfig, readTerminationMessage, terminationMessagePathAnnotation, terminationMessagePolicyAnnotation } from './container-config.js';
import { generatePodStatus, isRestartableInit, type WaitingReason } from './pod-status.js';
import { instancesOf, latestInstance, latestSandbox, type PodRuntimeState, type RuntimeReader } from './runtime-state.js';

/** Upstream's floor for a stop: containers always get at least 2 seconds after the stop signal. */
export const minimumGracePeriodSeconds = 2;

export interface PodSyncerDeps {
  nodeName: string;
  runtime: ContainerRuntime;
  runtimeName: string;
  reader: RuntimeReader;
  /** The pod network; undefined until the node has its podCIDR. */
  network(): PodNetwork | undefined;
  hostIPs(): string[];
  volumes: VolumeManager;
  images: ImageManager;
  probes: Pick<ProbeManager, 'updatePod' | 'removePod' | 'readiness' | 'startup' | 'failed'>;
  hooks: HookRunner;
  events: PodEvents;
  configMaps: ObjectWatcher<ConfigMap>;
  secrets: ObjectWatcher<Secret>;
  /** Services for environment variables (all namespaces; filtered per pod). */
  services(): readonly Service[];
  dns: DNSSettings;
  podInfraContainerImage: string;
  /** How seccomp profiles are chosen (--seccomp-default, <root-dir>/seccomp). */
  seccomp?: SeccompSettings;
  /** A RuntimeClass by name (for a pod's runtimeClassName), read afresh; undefined if absent. */
  getRuntimeClass?(name: string): Promise<RuntimeClass | undefined>;
  /** Labels every runtime object of this node carries. */
  runtimeLabels: Record<string, string>;
  nodeAllocatable(): Record<string, string>;
  nodeMemoryBytes: number;
  /** The lowest OOM score adjustment this node's kernel takes (default: no limit). */
  oomScoreAdjFloor?: number;
  crashBackoff: KeyedBackoff;
  clock: Clock;
  log: Logger;
  /** Called once per pod when it is first seen Running (pod start latency). */
  onPodRunning?(pod: Pod, firstSeenAt: number): void;
  onContainerStarted?(ok: boolean): void;
}

/** What the kubelet keeps about a pod between syncs (all of it can be lost: a restart rebuilds it). */
export interface PodRecord {
  uid: string;
  firstSeenAt: number;
  /** The startTime this process first reported: kept until the API's copy of the status has it. */
  startTime?: string;
  /** Waiting reasons of containers, by name, from the last sync. */
  waiting: Map<string, WaitingReason>;
  /** The sandbox whose network this process has set up (or checked), and the pod's IPs. */
  networkFor?: string;
  podIPs: string[];
  /** The sandbox the hosts and resolv.conf files were written for. */
  filesFor?: string;
  hostsPath?: string;
  resolvConfPath?: string;
  hostnamePath?: string;
  mounts: Map<string, MountedVolume>;
  runningSeen: boolean;
  /** Termination messages of exited instances (they never change). */
  messages: Map<string, string>;
  /** The last pod object synced, for a termination after the pod is gone. */
  lastPod?: Pod;
}

export interface SyncContext {
  pod: Pod;
  rec: PodRecord;
  state: PodRuntimeState;
  sandboxId?: string;
  /** The sandbox was created by this sync. */
  newSandbox: boolean;
  /** The runtime changed: read it again before computing the status. */
  changed: boolean;
  resyncAfterMs?: number;
  /** The pod cannot go on (an init container failed with restartPolicy Never, a sandbox died under Never). */
  failed: boolean;
}

export type StepOutcome = 'continue' | 'stop';

export interface SyncStep {
  name: string;
  run(ctx: SyncContext): Promise<StepOutcome>;
}

export interface PodSyncResult {
  status: PodStatus;
  /** The pod reached Succeeded or Failed: it should be stopped (and kept). */
  terminal: boolean;
  resyncAfterMs?: number;
}

const podName = (pod: Pod) => `${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})`;

function requeue(ctx: SyncContext, ms: number): void {
  ctx.resyncAfterMs = ctx.resyncAfterMs === undefined ? ms : Math.min(ctx.resyncAfterMs, ms);
}

/** Seconds the pod's containers get between the stop signal and SIGKILL. */
export function podGracePeriodSeconds(pod: Pod): number {
  return Number(pod.metadata.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30);
}

export class PodSyncer {
  readonly records = new Map<string, PodRecord>();
  readonly steps: SyncStep[];

  constructor(private readonly d: PodSyncerDeps) {
    this.steps = [
      { name: 'volumes', run: (c) => this.stepVolumes(c) },
      { name: 'sandbox', run: (c) => this.stepSandbox(c) },
      { name: 'network', run: (c) => this.stepNetwork(c) },
      { name: 'pod-files', run: (c) => this.stepPodFiles(c) },
      { name: 'ephemeral-containers', run: (c) => this.stepEphemeralContainers(c) },
      { name: 'init-containers', run: (c) => this.stepInitContainers(c) },
      { name: 'containers', run: (c) => this.stepContainers(c) },
    ];
  }

  record(uid: string): PodRecord {
    let r = this.records.get(uid);
    if (!r) {
      r = { uid, firstSeenAt: this.d.clock.now(), waiting: new Map(), podIPs: [], mounts: new Map(), runningSeen: false, messages: new Map() };
      this.records.set(uid, r);
    }
    return r;
  }

  /** Syncs a pod that should run; `apiStatus` is its status as the API server holds it. */
  async syncPod(pod: Pod, apiStatus: PodStatus | undefined): Promise<PodSyncResult> {
    const uid = pod.metadata.uid ?? '';
    const rec = this.record(uid);
    rec.lastPod = pod;
    const refs = podObjectReferences(pod);
    this.d.configMaps.setReferences(uid, refs.configMaps);
    this.d.secrets.setReferences(uid, refs.secrets);
    const ctx: SyncContext = { pod, rec, state: await this.d.reader.readPod(uid), newSandbox: false, changed: false, failed: false };
    for (const step of this.steps) {
      const outcome = await step.run(ctx);
      this.d.log.trace({ pod: `${pod.metadata.namespace}/${pod.metadata.name}`, step: step.name, outcome }, 'sync step');
      if (outcome === 'stop') break;
    }
    if (ctx.changed) ctx.state = await this.d.reader.readPod(uid);
    // Probe results first: an instance adopted after a kubelet restart keeps the readiness its
    // last status gave it, and one just (re)started starts not ready.
    this.updateProbes(pod, ctx, apiStatus);
    const status = await this.computeStatus(pod, apiStatus, ctx.state, rec, ctx.failed);
    if (status.phase === 'Running' && !rec.runningSeen) {
      rec.runningSeen = true;
      this.d.onPodRunning?.(pod, rec.firstSeenAt);
    }
    return { status, terminal: status.phase === 'Succeeded' || status.phase === 'Failed', resyncAfterMs: ctx.resyncAfterMs };
  }

  /** The status of a pod from a fresh read of the runtime (used after a termination). */
  async currentStatus(pod: Pod, apiStatus: PodStatus | undefined, terminal: boolean): Promise<PodStatus> {
    const uid = pod.metadata.uid ?? '';
    return this.computeStatus(pod, apiStatus, await this.d.reader.readPod(uid), this.record(uid), terminal);
  }

  private async computeStatus(pod: Pod, apiStatus: PodStatus | undefined, state: PodRuntimeState, rec: PodRecord, terminal: boolean): Promise<PodStatus> {
    // Termination messages of instances that exited (read once each).
    await Promise.all(
      state.containers
        .filter((c) => c.state === 'exited' && !rec.messages.has(c.id))
        .map(async (c) => rec.messages.set(c.id, await this.terminationMessage(c))),
    );
    const sandbox = latestSandbox(state);
    // A sandbox this process has not checked the network of yet (just adopted) keeps what the last status said.
    const wasReady = apiStatus?.conditions?.some((c) => c.type === 'PodReadyToStartContainers' && c.status === 'True') ?? false;
    const networkOK = !!pod.spec?.hostNetwork || rec.networkFor === sandbox?.id || (rec.networkFor === undefined && wasReady);
    const sandboxReady = !!sandbox && sandbox.state === 'ready' && networkOK;
    // startTime is set once: a status computed before the API's copy shows the first one (the
    // early ContainerCreating status, then the sync right after it) keeps it too.
    const current = { ...pod, status: { ...apiStatus, startTime: apiStatus?.startTime ?? rec.startTime } };
    const status = generatePodStatus({
      pod: current,
      runtime: state,
      podIPs: pod.spec?.hostNetwork ? this.d.hostIPs() : rec.podIPs,
      hostIPs: this.d.hostIPs(),
      sandboxReady,
      waiting: rec.waiting,
      readiness: (id) => this.d.probes.readiness(id),
      startup: (id) => this.d.probes.startup(id),
      terminal,
      runtimeName: this.d.runtimeName,
      imageID: (id) => this.d.images.imageID(id),
      terminationMessage: (id) => rec.messages.get(id),
      now: this.d.clock.now(),
    });
    rec.startTime ??= status.startTime;
    return status;
  }

  private async terminationMessage(c: ContainerStatus): Promise<string> {
    const p = c.annotations[terminationMessagePathAnnotation];
    const mount = p ? c.mounts.find((m) => m.containerPath === p) : undefined;
    let msg = mount ? await readTerminationMessage(mount.hostPath) : '';
    if (!msg && c.annotations[terminationMessagePolicyAnnotation] === 'FallbackToLogsOnError' && (c.exitCode ?? 0) !== 0) {
      msg = await this.tailLogs(c.id).catch(() => '');
    }
    return msg;
  }

  private async tailLogs(id: string): Promise<string> {
    const stream = await this.d.runtime.logs(id, { tail: 80, limitBytes: 2048 });
    const chunks: Buffer[] = [];
    for await (const ch of stream) chunks.push(Buffer.isBuffer(ch) ? ch : Buffer.from(ch as string));
    return Buffer.concat(chunks).toString();
  }

  private updateProbes(pod: Pod, ctx: SyncContext, apiStatus: PodStatus | undefined): void {
    const running = new Map<string, RunningInstance>();
    const sandbox = latestSandbox(ctx.state);
    for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
      const inst = latestInstance(ctx.state, c.name);
      if (inst?.state === 'running' && inst.sandboxId === sandbox?.id) running.set(c.name, { id: inst.id, startedAt: inst.startedAt?.getTime() ?? this.d.clock.now() });
    }
    const ip = pod.spec?.hostNetwork ? (this.d.hostIPs()[0] ?? '') : (ctx.rec.podIPs[0] ?? '');
    this.d.probes.updatePod(pod, running, ip, apiStatus);
  }

  // ---- Steps of a running pod -----------------------------------------------------------------

  private async stepVolumes(ctx: SyncContext): Promise<StepOutcome> {
    try {
      ctx.rec.mounts = await this.d.volumes.setUpPod(ctx.pod);
      return 'continue';
    } catch (err) {
      const msg = (err as Error).message;
      this.d.events.pod(ctx.pod, 'Warning', Reason.FailedMount, msg);
      this.d.log.info({ pod: podName(ctx.pod), err: msg }, 'volumes not ready');
      if (!(err instanceof VolumeMountError)) this.d.log.warn({ err }, 'unexpected volume error');
      requeue(ctx, 10_000);
      return 'stop';
    }
  }

  private async stepSandbox(ctx: SyncContext): Promise<StepOutcome> {
    const { pod, rec } = ctx;
    const latest = latestSandbox(ctx.state);
    if (latest?.state === 'ready') {
      ctx.sandboxId = latest.id;
      return 'continue';
    }
    if (!pod.spec?.hostNetwork && !this.d.network()) {
      this.d.events.pod(pod, 'Warning', Reason.NetworkNotReady, 'network is not ready: container runtime network not ready: NetworkReady=false reason:PodCIDRNotSet message:the node has no spec.podCIDR yet');
      return 'stop';
    }
    if (latest) {
      // The pause container is gone (killed, or died): every container of the pod goes with it.
      if ((pod.spec?.restartPolicy ?? 'Always') === 'Never' && ctx.state.containers.length > 0) {
        await this.killAll(pod, ctx.state, minimumGracePeriodSeconds, 'Stopping container');
        ctx.failed = true;
        ctx.changed = true;
        return 'stop';
      }
      this.d.events.pod(pod, 'Normal', Reason.SandboxChanged, 'Pod sandbox changed, it will be killed and re-created.');
      await this.killAll(pod, ctx.state, podGracePeriodSeconds(pod), 'Stopping container');
      for (const s of ctx.state.sandboxes.filter((x) => x.state === 'ready')) await this.d.runtime.stopSandbox(s.id, minimumGracePeriodSeconds).catch(() => undefined);
      await this.tearDownNetwork(pod, latest.id);
      rec.filesFor = undefined;
    }
    const attempt = latest ? latest.metadata.attempt + 1 : 0;
    const config = sandboxConfigFor(pod, attempt, this.d.seccomp);
    config.hostname = podKernelHostname(pod, this.d.dns.clusterDomain);
    config.labels = { ...(config.labels ?? {}), ...this.d.runtimeLabels };
    config.image = this.d.podInfraContainerImage;
    let id: string | undefined;
    try {
      if (pod.spec?.runtimeClassName) config.runtimeHandler = await this.runtimeHandler(pod.spec.runtimeClassName);
      id = await this.d.runtime.createSandbox(config);
      await this.d.runtime.startSandbox(id);
    } catch (err) {
      const msg = (err as Error).message;
      this.d.events.pod(pod, 'Warning', Reason.FailedCreatePodSandBox, `Failed to create pod sandbox: ${msg}`);
      this.d.log.warn({ pod: podName(pod), err: msg }, 'creating the pod sandbox failed');
      if (id) await this.d.runtime.removeSandbox(id).catch(() => undefined);
      else if (isRuntimeAlreadyExists(err)) {
        // A sandbox of this attempt is left from a crash between create and start: remove it.
        for (const s of ctx.state.sandboxes.filter((x) => x.metadata.attempt === attempt)) await this.d.runtime.removeSandbox(s.id).catch(() => undefined);
      }
      ctx.changed = true;
      requeue(ctx, 2_000);
      return 'stop';
    }
    ctx.sandboxId = id;
    ctx.newSandbox = true;
    ctx.changed = true;
    return 'continue';
  }

  /** The handler of a RuntimeClass (upstream's kubelet refuses pods whose class it cannot find). */
  private async runtimeHandler(name: string): Promise<string> {
    const rc = await this.d.getRuntimeClass?.(name);
    if (!rc) throw new Error(`RuntimeClass "${name}" not found`);
    return rc.handler;
  }

  private async stepNetwork(ctx: SyncContext): Promise<StepOutcome> {
    const { pod, rec } = ctx;
    if (pod.spec?.hostNetwork) {
      rec.networkFor = ctx.sandboxId;
      return 'continue';
    }
    if (rec.networkFor === ctx.sandboxId) return 'continue';
    const net = this.d.network();
    if (!net) return 'stop';
    const sandboxId = ctx.sandboxId!;
    try {
      const sb = await this.d.runtime.inspectSandbox(sandboxId);
      if (!sb.pid) throw new Error(`sandbox ${sandboxId.slice(0, 12)} is not running`);
      const st = await net.setUpPod({ uid: pod.metadata.uid ?? '', namespace: pod.metadata.namespace ?? 'default', name: pod.metadata.name ?? '' }, { id: sandboxId, pid: sb.pid, fresh: ctx.newSandbox }, hostPortMappings(pod.spec));
      rec.podIPs = [st.ip];
      rec.networkFor = sandboxId;
      return 'continue';
    } catch (err) {
      const msg = (err as Error).message;
      this.d.events.pod(pod, 'Warning', Reason.FailedCreatePodSandBox, `Failed to create pod sandbox: ${msg}`);
      this.d.log.warn({ pod: podName(pod), err: msg }, 'setting up the pod network failed');
      if (ctx.newSandbox) {
        // A sandbox without its network is useless: the next sync makes a new one.
        await this.d.runtime.removeSandbox(sandboxId).catch(() => undefined);
        ctx.changed = true;
      }
      requeue(ctx, 2_000);
      return 'stop';
    }
  }

  private async stepPodFiles(ctx: SyncContext): Promise<StepOutcome> {
    const { pod, rec } = ctx;
    if (rec.filesFor === ctx.sandboxId) return 'continue';
    const dir = this.d.volumes.podDir(pod.metadata.uid ?? '');
    await fs.mkdir(dir, { recursive: true });
    const dns = podDNS(pod, this.d.dns);
    if (dns.missingClusterDNS) {
      this.d.events.pod(pod, 'Warning', Reason.MissingClusterDNS, `pod: "${podName(pod)}". kubelet does not have ClusterDNS IP configured and cannot create Pod using "ClusterFirst" policy. Falling back to "Default" policy.`);
    }
    rec.resolvConfPath = undefined;
    rec.hostsPath = undefined;
    rec.hostnamePath = undefined;
    if (dns.resolvConf) {
      rec.resolvConfPath = path.join(dir, 'resolv.conf');
      // Written in place: containers bind-mount this very file.
      await fs.writeFile(rec.resolvConfPath, formatResolvConf(dns.resolvConf), { mode: 0o644 });
    }
    if (!pod.spec?.hostNetwork) {
      rec.hostsPath = path.join(dir, 'etc-hosts');
      await fs.writeFile(rec.hostsPath, hostsFileContent(pod, rec.podIPs, this.d.dns.clusterDomain), { mode: 0o644 });
      rec.hostnamePath = path.join(dir, 'etc-hostname');
      await fs.writeFile(rec.hostnamePath, `${podKernelHostname(pod, this.d.dns.clusterDomain)}\n`, { mode: 0o644 });
    }
    rec.filesFor = ctx.sandboxId;
    return 'continue';
  }

  private async stepInitContainers(ctx: SyncContext): Promise<StepOutcome> {
    const { pod } = ctx;
    const inits = pod.spec?.initContainers ?? [];
    if (inits.length === 0) return 'continue';
    // Once an app container ran in this sandbox, initialization is over (instances may be gone).
    if ((pod.spec?.containers ?? []).some((c) => this.inSandbox(ctx, c.name).length > 0)) {
      // Sidecars keep running though.
      for (const c of inits.filter(isRestartableInit)) await this.keepRunning(ctx, c);
      return 'continue';
    }
    for (const c of inits) {
      const cur = this.inSandbox(ctx, c.name)[0];
      if (isRestartableInit(c)) {
        const outcome = await this.keepRunning(ctx, c);
        if (outcome === 'stop') return 'stop';
        const inst = this.inSandbox(ctx, c.name)[0];
        // A sidecar with a startup probe holds the next init containers back until it passed.
        if (c.startupProbe && !(inst && this.d.probes.startup(inst.id))) return 'stop';
        continue;
      }
      if (!cur) {
        await this.startContainer(ctx, c, this.nextAttempt(ctx, c.name));
        return 'stop';
      }
      if (cur.state === 'running') return 'stop';
      if (cur.state === 'created') {
        await this.startCreated(ctx, c, cur);
        return 'stop';
      }
      if (cur.exitCode === 0) continue;
      if ((pod.spec?.restartPolicy ?? 'Always') === 'Never') {
        ctx.failed = true;
        return 'stop';
      }
      await this.restartIfDue(ctx, c, cur);
      return 'stop';
    }
    return 'continue';
  }

  /**
   * Starts each ephemeral container that has no instance yet; one that ran (or could not) is
   * left as it is: restartPolicy Never, whatever the pod's. A failure to start one holds back
   * nothing else.
   */
  private async stepEphemeralContainers(ctx: SyncContext): Promise<StepOutcome> {
    for (const ec of ctx.pod.spec?.ephemeralContainers ?? []) {
      const cur = latestInstance(ctx.state, ec.name);
      if (!cur) await this.startContainer(ctx, ec as Container, 0, ec);
      else if (cur.state === 'created' && cur.sandboxId === ctx.sandboxId && cur.reason !== 'ContainerCannotRun') await this.startCreated(ctx, ec as Container, cur);
    }
    return 'continue';
  }

  private async stepContainers(ctx: SyncContext): Promise<StepOutcome> {
    // In spec order, one after the other, as upstream: a postStart hook holds the next container back.
    for (const c of ctx.pod.spec?.containers ?? []) await this.keepRunning(ctx, c);
    return 'continue';
  }

  // ---- Containers ----------------------------------------------------------------------------------

  /** Instances of a container in the current sandbox, newest first. */
  private inSandbox(ctx: SyncContext, name: string): ContainerStatus[] {
    return instancesOf(ctx.state, name).filter((c) => c.sandboxId === ctx.sandboxId);
  }

  private nextAttempt(ctx: SyncContext, name: string): number {
    const last = latestInstance(ctx.state, name);
    return last ? last.metadata.attempt + 1 : 0;
  }

  /** Whether an exited instance is restarted under the pod's restart policy. */
  private shouldRestart(pod: Pod, c: Container, inst: ContainerStatus): boolean {
    if (isRestartableInit(c)) return true;
    const policy = pod.spec?.restartPolicy ?? 'Always';
    if (policy === 'Never') return false;
    if (policy === 'OnFailure' || (pod.spec?.initContainers ?? []).some((x) => x.name === c.name)) return (inst.exitCode ?? 0) !== 0;
    return true;
  }

  /** Makes an app container (or sidecar) run as the spec and restart policy say. */
  private async keepRunning(ctx: SyncContext, c: Container): Promise<StepOutcome> {
    const { pod } = ctx;
    const cur = this.inSandbox(ctx, c.name)[0];
    const latest = latestInstance(ctx.state, c.name);
    if (!cur) {
      // Never ran in this sandbox: first start, or the sandbox was re-created.
      if (latest && latest.state === 'exited' && (pod.spec?.restartPolicy ?? 'Always') === 'OnFailure' && latest.exitCode === 0 && !isRestartableInit(c)) return 'continue';
      if (latest && latest.state === 'exited' && (pod.spec?.restartPolicy ?? 'Always') === 'Never' && !isRestartableInit(c)) return 'continue';
      if (latest) return (await this.restartIfDue(ctx, c, latest)) ? 'continue' : 'stop';
      return (await this.startContainer(ctx, c, 0)) ? 'continue' : 'stop';
    }
    if (cur.state === 'created') return (await this.startCreated(ctx, c, cur)) ? 'continue' : 'stop';
    if (cur.state === 'running') {
      const failed = this.d.probes.failed(cur.id);
      const changedSpec = cur.annotations[containerHashAnnotation] && cur.annotations[containerHashAnnotation] !== containerHash(c);
      if (!failed && !changedSpec) return 'continue';
      const message = failed ? `Container ${c.name} failed ${failed} probe, will be restarted` : `Container ${c.name} definition changed, will be restarted`;
      const probeGrace = failed ? (failed === 'liveness' ? c.livenessProbe : c.startupProbe)?.terminationGracePeriodSeconds : undefined;
      await this.killContainer(pod, c, cur, probeGrace !== undefined ? Number(probeGrace) : podGracePeriodSeconds(pod), message);
      ctx.changed = true;
      const after = await this.d.runtime.inspectContainer(cur.id).catch(() => cur);
      if (!this.shouldRestart(pod, c, after)) return 'continue';
      return (await this.restartIfDue(ctx, c, after)) ? 'continue' : 'stop';
    }
    if (cur.state === 'exited') {
      if (!this.shouldRestart(pod, c, cur)) return 'continue';
      return (await this.restartIfDue(ctx, c, cur)) ? 'continue' : 'stop';
    }
    return 'continue';
  }

  /** Restarts a container after its exited instance `last`, unless its CrashLoopBackOff still runs. */
  private async restartIfDue(ctx: SyncContext, c: Container, last: ContainerStatus): Promise<boolean> {
    const { pod, rec } = ctx;
    const key = `${pod.metadata.uid}/${c.name}`;
    const finishedAt = last.finishedAt?.getTime() ?? this.d.clock.now();
    const wait = this.d.crashBackoff.remainingSince(key, finishedAt);
    if (wait > 0) {
      const backoff = formatDuration(this.d.crashBackoff.get(key));
      rec.waiting.set(c.name, { reason: 'CrashLoopBackOff', message: `back-off ${backoff} restarting failed container=${c.name} pod=${podName(pod)}` });
      this.d.events.container(pod, c, 'Warning', Reason.BackOff, `Back-off restarting failed container ${c.name} in pod ${podName(pod)}`);
      requeue(ctx, wait);
      return false;
    }
    this.d.crashBackoff.next(key, finishedAt);
    return this.startContainer(ctx, c, last.metadata.attempt + 1);
  }

  /** A container created but never started (the kubelet stopped in between): start it now. */
  private async startCreated(ctx: SyncContext, c: Container, inst: ContainerStatus): Promise<boolean> {
    try {
      await this.d.runtime.startContainer(inst.id);
      this.d.events.container(ctx.pod, c, 'Normal', Reason.Started, `Started container ${c.name}`);
      ctx.rec.waiting.delete(c.name);
      ctx.changed = true;
      return true;
    } catch (err) {
      // It cannot start: it stays as an exited instance, and the next one comes after the
      // crash back-off (restartIfDue).
      const msg = (err as Error).message;
      this.d.events.container(ctx.pod, c, 'Warning', Reason.Failed, `Error: failed to start container "${c.name}": ${msg}`);
      ctx.rec.waiting.set(c.name, { reason: 'RunContainerError', message: msg });
      ctx.changed = true;
      requeue(ctx, 1_000);
      return false;
    }
  }

  /**
   * Starts a new instance of a container, one named step after another: image, (an ephemeral
   * container's target), config, create, start, postStart. A failed step records the
   * container's waiting reason.
   */
  private async startContainer(ctx: SyncContext, c: Container, attempt: number, ephemeral?: EphemeralContainer): Promise<boolean> {
    const { pod, rec } = ctx;
    const ev = this.d.events;
    // image
    try {
      const secrets = (await Promise.all((pod.spec?.imagePullSecrets ?? []).map((s) => this.d.secrets.get(pod.metadata.namespace ?? 'default', s.name ?? '').catch(() => undefined)))).filter(
        (s): s is Secret => !!s,
      );
      await this.d.images.ensureImage(pod, c, secrets);
    } catch (err) {
      if (!(err instanceof ImagePullError)) throw err;
      rec.waiting.set(c.name, { reason: err.reason, message: err.message });
      if (err.retryAfterMs !== undefined) requeue(ctx, err.retryAfterMs);
      return false;
    }
    // target: the PID namespace of the newest instance of the container an ephemeral one debugs
    let pidTarget: string | undefined;
    if (ephemeral?.targetContainerName) {
      pidTarget = latestInstance(ctx.state, ephemeral.targetContainerName)?.id;
      if (!pidTarget) {
        const msg = `unable to find target container ${ephemeral.targetContainerName}`;
        ev.container(pod, c, 'Warning', Reason.Failed, `Error: ${msg}`);
        rec.waiting.set(c.name, { reason: 'CreateContainerConfigError', message: msg });
        requeue(ctx, 2_000);
        return false;
      }
    }
    // config
    let config;
    try {
      const generated = await generateContainerConfig({
        pod,
        container: c,
        attempt,
        podDir: this.d.volumes.podDir(pod.metadata.uid ?? ''),
        volumes: rec.mounts,
        env: {
          podIPs: pod.spec?.hostNetwork ? this.d.hostIPs() : rec.podIPs,
          hostIPs: this.d.hostIPs(),
          nodeName: this.d.nodeName,
          nodeAllocatable: this.d.nodeAllocatable(),
          services: this.d.services(),
          getConfigMap: (ns, name) => this.d.configMaps.get(ns, name),
          getSecret: (ns, name) => this.d.secrets.get(ns, name),
        },
        hostsPath: rec.hostsPath,
        resolvConfPath: rec.resolvConfPath,
        hostnamePath: rec.hostnamePath,
        nodeMemoryBytes: this.d.nodeMemoryBytes,
        oomScoreAdjFloor: this.d.oomScoreAdjFloor,
        labels: this.d.runtimeLabels,
        seccomp: this.d.seccomp,
      });
      config = generated.config;
      if (pidTarget) config.pidTargetContainerId = pidTarget;
      for (const w of generated.warnings) ev.container(pod, c, 'Warning', Reason.InvalidEnvironmentVariableNames, w);
    } catch (err) {
      if (!(err instanceof ContainerConfigFailure)) throw err;
      if (err.mountProblem) ev.pod(pod, 'Warning', Reason.FailedMount, err.message);
      ev.container(pod, c, 'Warning', Reason.Failed, `Error: ${err.message}`);
      rec.waiting.set(c.name, { reason: 'CreateContainerConfigError', message: err.message });
      requeue(ctx, 10_000);
      return false;
    }
    // create
    let id: string;
    try {
      id = await this.d.runtime.createContainer(ctx.sandboxId!, config);
    } catch (err) {
      const msg = (err as Error).message;
      ev.container(pod, c, 'Warning', Reason.Failed, `Error: ${msg}`);
      rec.waiting.set(c.name, { reason: 'CreateContainerError', message: msg });
      this.d.onContainerStarted?.(false);
      requeue(ctx, 5_000);
      return false;
    }
    ev.container(pod, c, 'Normal', Reason.Created, `Created container ${c.name}`);
    ctx.changed = true;
    // start
    try {
      await this.d.runtime.startContainer(id);
    } catch (err) {
      const msg = (err as Error).message;
      ev.container(pod, c, 'Warning', Reason.Failed, `Error: failed to start container "${c.name}": ${msg}`);
      rec.waiting.set(c.name, { reason: 'RunContainerError', message: msg });
      this.d.onContainerStarted?.(false);
      // The instance that could not run is kept (exited, ContainerCannotRun): the next sync
      // restarts it as the next attempt, under the crash back-off.
      requeue(ctx, 1_000);
      return false;
    }
    ev.container(pod, c, 'Normal', Reason.Started, `Started container ${c.name}`);
    rec.waiting.delete(c.name);
    this.d.onContainerStarted?.(true);
    // postStart
    const hook = c.lifecycle?.postStart;
    if (hook) {
      const r = await this.d.hooks.run('postStart', hook, { pod, container: c, containerId: id, podIP: rec.podIPs[0] ?? this.d.hostIPs()[0] ?? '' }, podGracePeriodSeconds(pod) * 1000);
      if (!r.ok) {
        ev.container(pod, c, 'Warning', Reason.FailedPostStartHook, r.message ?? 'postStart hook failed');
        const inst = await this.d.runtime.inspectContainer(id);
        await this.killContainer(pod, c, inst, podGracePeriodSeconds(pod), `FailedPostStartHook`);
        return false;
      }
    }
    return true;
  }

  /**
   * Stops one container instance: Killing event, the preStop hook (counted against the grace
   * period), then the stop signal and SIGKILL when what is left of the grace period is over.
   */
  async killContainer(pod: Pod, c: Container | undefined, inst: ContainerStatus, graceSeconds: number, message?: string): Promise<void> {
    if (inst.state !== 'running') return;
    const name = inst.metadata.name;
    const spec = c ?? [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].find((x) => x.name === name) ?? { name };
    this.d.events.container(pod, spec, 'Normal', Reason.Killing, message ?? `Stopping container ${name}`);
    let grace = graceSeconds;
    const preStop = spec.lifecycle?.preStop;
    if (preStop && grace > 0) {
      const started = this.d.clock.now();
      const r = await this.d.hooks.run('preStop', preStop, { pod, container: spec, containerId: inst.id, podIP: this.record(pod.metadata.uid ?? '').podIPs[0] ?? this.d.hostIPs()[0] ?? '' }, grace * 1000);
      if (!r.ok) this.d.events.container(pod, spec, 'Warning', Reason.FailedPreStopHook, r.message ?? 'preStop hook failed');
      grace -= Math.floor((this.d.clock.now() - started) / 1000);
    }
    grace = Math.max(grace, minimumGracePeriodSeconds);
    try {
      await this.d.runtime.stopContainer(inst.id, { gracePeriodSeconds: grace });
    } catch (err) {
      if (!isRuntimeNotFound(err)) throw err;
    }
  }

  /** Kills every running container of the pod: app containers together, then sidecars in reverse order, then the rest. */
  async killAll(pod: Pod, state: PodRuntimeState, graceSeconds: number, message?: string): Promise<void> {
    const started = this.d.clock.now();
    const left = () => Math.max(0, graceSeconds - Math.floor((this.d.clock.now() - started) / 1000));
    const running = state.containers.filter((c) => c.state === 'running');
    const apps = new Set((pod.spec?.containers ?? []).map((c) => c.name));
    const sidecars = (pod.spec?.initContainers ?? []).filter(isRestartableInit).map((c) => c.name);
    await Promise.all(running.filter((i) => apps.has(i.metadata.name)).map((i) => this.killContainer(pod, undefined, i, left(), message)));
    for (const name of [...sidecars].reverse()) {
      await Promise.all(running.filter((i) => i.metadata.name === name).map((i) => this.killContainer(pod, undefined, i, left(), message)));
    }
    const rest = running.filter((i) => !apps.has(i.metadata.name) && !sidecars.includes(i.metadata.name));
    await Promise.all(rest.map((i) => this.killContainer(pod, undefined, i, left(), message)));
  }

  private async tearDownNetwork(pod: Pod, sandboxId: string): Promise<void> {
    const rec = this.record(pod.metadata.uid ?? '');
    if (rec.networkFor === sandboxId) rec.networkFor = undefined;
    if (pod.spec?.hostNetwork) return;
    const net = this.d.network();
    if (!net) return;
    try {
      await net.tearDownPod(pod.metadata.uid ?? '', sandboxId);
      rec.podIPs = [];
    } catch (err) {
      this.d.log.warn({ pod: podName(pod), err: (err as Error).message }, 'tearing down the pod network failed; will retry');
      throw err;
    }
  }

  // ---- Termination ------------------------------------------------------------------------------

  /**
   * Stops a pod: its containers (with the grace period), its sandboxes, its network (the IP is
   * released). With `remove`, also removes its containers, sandboxes, volumes and folder.
   */
  async terminatePod(pod: Pod, graceSeconds: number, opts: { remove: boolean }): Promise<void> {
    const uid = pod.metadata.uid ?? '';
    const state = await this.d.reader.readPod(uid);
    await this.killAll(pod, state, graceSeconds);
    this.d.probes.removePod(uid);
    for (const s of state.sandboxes) {
      if (s.state === 'ready') await this.d.runtime.stopSandbox(s.id, minimumGracePeriodSeconds);
      await this.tearDownNetwork(pod, s.id);
    }
    if (opts.remove) await this.removePod(uid);
  }

  /** Removes everything of a pod from the node (its containers must be stopped already). */
  async removePod(uid: string): Promise<void> {
    const state = await this.d.reader.readPod(uid);
    for (const c of state.containers) await this.d.runtime.removeContainer(c.id);
    for (const s of state.sandboxes) await this.d.runtime.removeSandbox(s.id);
    this.d.reader.forget(state.containers.map((c) => c.id));
    const net = this.d.network();
    if (net) await net.ipam.release(uid);
    await this.d.volumes.tearDownPod(uid);
    this.d.configMaps.setReferences(uid, []);
    this.d.secrets.setReferences(uid, []);
    this.d.images.forgetPod(uid);
    this.d.crashBackoff.resetPrefix(`${uid}/`);
    this.d.probes.removePod(uid);
    this.records.delete(uid);
  }
}
