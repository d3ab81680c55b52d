/**
 * Liveness, readiness and startup probes: one worker per pod, container and probe type, each a
 * loop owned by the ProbeManager (started on the pod sync that first sees the container
 * running, stopped when the container leaves the spec or the pod goes; `stop()` ends them all).
 *
 * One worker, for the running instance of its container:
 *
 *   new instance ──► waiting ──(startup probe passed, or none; initialDelaySeconds after start)──► probing
 *        ▲                                                                                          │
 *        │        every periodSeconds: success/failure counted in a row; failureThreshold failures │
 *        │        or successThreshold successes change the result; a change triggers a pod sync    │
 *        │                                                                                          ▼
 *        └──────────────── liveness/startup failure: on hold until the container is replaced ◄─────┘
 *
 * Results are per container instance (container ID): readiness starts false, liveness true,
 * startup false; a restarted kubelet seeds readiness and startup from the pod's last status
 * when the container ID is the same, so that adopting a pod does not flip it to not-ready.
 */
import type { Logger } from 'pino';
import type { Container, Pod } from '../../api/index.js';
import type { Clock } from '../../base/index.js';
import type { PodStatus, Probe } from '../api-types.js';
import type { ProbeAnswer, ProbeTarget, Prober } from './prober.js';

export type ProbeType = 'liveness' | 'readiness' | 'startup';

const probeNames: Record<ProbeType, string> = { liveness: 'Liveness', readiness: 'Readiness', startup: 'Startup' };

/** A running container instance the probes should look at. */
export interface RunningInstance {
  id: string;
  startedAt: number;
}

export interface ProbeManagerOptions {
  prober: Pick<Prober, 'run'>;
  clock: Clock;
  log: Logger;
  /** A result changed in a way the pod sync must act on (liveness failed, readiness flipped). */
  onChange(podUID: string): void;
  /** Records the Unhealthy (Warning) event of one failed probe. */
  onFailure(pod: Pod, container: Container, type: ProbeType, message: string): void;
}

interface Results {
  liveness: boolean;
  readiness: boolean;
  startup: boolean;
  /** The startup probe reached its failure threshold: the instance must be restarted. */
  startupFailed: boolean;
  has: Set<ProbeType>;
}

interface WorkerKey {
  uid: string;
  name: string;
  type: ProbeType;
}

interface Worker extends WorkerKey {
  stop: AbortController;
  done: Promise<void>;
}

interface PodEntry {
  pod: Pod;
  podIP: string;
  running: Map<string, RunningInstance>;
}

function probeOf(c: Container, type: ProbeType): Probe | undefined {
  return type === 'liveness' ? c.livenessProbe : type === 'readiness' ? c.readinessProbe : c.startupProbe;
}

function probedContainers(pod: Pod): Container[] {
  // Regular init containers are not probed; sidecars (restartPolicy Always) are.
  return [...(pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always'), ...(pod.spec?.containers ?? [])];
}

export class ProbeManager {
  private readonly pods = new Map<string, PodEntry>();
  private readonly workers = new Map<string, Worker>();
  private readonly results = new Map<string, Results>();
  private stopped = false;

  constructor(private readonly o: ProbeManagerOptions) {}

  /**
   * Called on each sync of a running pod with the running instance of each container (in the
   * current sandbox). Starts and stops workers; seeds results of instances it has not seen.
   */
  updatePod(pod: Pod, running: Map<string, RunningInstance>, podIP: string, lastStatus?: PodStatus): void {
    if (this.stopped) return;
    const uid = pod.metadata.uid ?? '';
    this.pods.set(uid, { pod, podIP, running });
    const wanted = new Set<string>();
    for (const c of probedContainers(pod)) {
      const inst = running.get(c.name);
      if (inst && !this.results.has(inst.id)) this.seed(inst.id, c, lastStatus);
      for (const type of ['liveness', 'readiness', 'startup'] as ProbeType[]) {
        if (!probeOf(c, type)) continue;
        const key = `${uid}/${c.name}/${type}`;
        wanted.add(key);
        if (!this.workers.has(key)) this.startWorker({ uid, name: c.name, type });
      }
    }
    for (const [key, w] of this.workers) if (w.uid === uid && !wanted.has(key)) this.stopWorker(key);
  }

  /** Stops the pod's workers and forgets its results. */
  removePod(uid: string): void {
    const entry = this.pods.get(uid);
    this.pods.delete(uid);
    for (const [key, w] of this.workers) if (w.uid === uid) this.stopWorker(key);
    for (const inst of entry?.running.values() ?? []) this.results.delete(inst.id);
  }

  /** Readiness of an instance; undefined when its container has no readiness probe. */
  readiness(id: string): boolean | undefined {
    const r = this.results.get(id);
    return r?.has.has('readiness') ? r.readiness : undefined;
  }

  /** Whether an instance passed its startup probe; undefined without one. */
  startup(id: string): boolean | undefined {
    const r = this.results.get(id);
    return r?.has.has('startup') ? r.startup : undefined;
  }

  /** The probe whose failure means the instance must be restarted, if any. */
  failed(id: string): 'liveness' | 'startup' | undefined {
    const r = this.results.get(id);
    if (!r) return undefined;
    if (r.has.has('liveness') && !r.liveness) return 'liveness';
    if (r.has.has('startup') && !r.startup && r.startupFailed) return 'startup';
    return undefined;
  }

  /** Workers running, for tests and metrics. */
  get workerCount(): number {
    return this.workers.size;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const all = [...this.workers.values()];
    for (const w of all) w.stop.abort();
    this.workers.clear();
    await Promise.all(all.map((w) => w.done));
  }

  private seed(id: string, c: Container, last: PodStatus | undefined): void {
    const prev = [...(last?.containerStatuses ?? []), ...(last?.initContainerStatuses ?? [])].find((s) => s.name === c.name && s.containerID?.endsWith(`://${id}`));
    const has = new Set<ProbeType>((['liveness', 'readiness', 'startup'] as ProbeType[]).filter((t) => probeOf(c, t)));
    this.results.set(id, { liveness: true, readiness: !!prev?.ready, startup: !!prev?.started, startupFailed: false, has });
  }

  private startWorker(k: WorkerKey): void {
    const stop = new AbortController();
    const key = `${k.uid}/${k.name}/${k.type}`;
    const w: Worker = { ...k, stop, done: Promise.resolve() };
    this.workers.set(key, w);
    w.done = this.loop(w, stop.signal).catch((err) => this.o.log.error({ err, probe: key }, 'probe worker failed'));
  }

  private stopWorker(key: string): void {
    this.workers.get(key)?.stop.abort();
    this.workers.delete(key);
  }

  private async loop(w: Worker, signal: AbortSignal): Promise<void> {
    const { clock } = this.o;
    let instanceId: string | undefined;
    let lastResult: boolean | undefined;
    let run = 0;
    let onHold = false;
    while (!signal.aborted) {
      const entry = this.pods.get(w.uid);
      const container = entry ? probedContainers(entry.pod).find((c) => c.name === w.name) : undefined;
      const probe = container ? probeOf(container, w.type) : undefined;
      if (!entry || !container || !probe) return;
      const periodMs = Math.max(1, probe.periodSeconds ?? 10) * 1000;
      const inst = entry.running.get(w.name);
      if (!inst) {
        await clock.sleep(Math.min(periodMs, 1000), signal);
        continue;
      }
      if (inst.id !== instanceId) {
        instanceId = inst.id;
        lastResult = undefined;
        run = 0;
        onHold = false;
      }
      const results = this.results.get(inst.id);
      if (!results) {
        await clock.sleep(Math.min(periodMs, 1000), signal);
        continue;
      }
      const startupPending = w.type !== 'startup' && results.has.has('startup') && !results.startup;
      if (onHold || startupPending || (w.type === 'startup' && results.startup)) {
        await clock.sleep(Math.min(periodMs, 1000), signal);
        continue;
      }
      const sinceStart = clock.now() - inst.startedAt;
      const delayMs = (probe.initialDelaySeconds ?? 0) * 1000;
      if (sinceStart < delayMs) {
        await clock.sleep(delayMs - sinceStart, signal);
        continue;
      }
      const target: ProbeTarget = { containerId: inst.id, container, podIP: entry.podIP };
      const answer: ProbeAnswer = await this.o.prober.run(probe, target, Math.max(1, probe.timeoutSeconds ?? 1) * 1000);
      if (signal.aborted || this.results.get(inst.id) !== results) continue;
      if (answer.result === 'failure') this.o.onFailure(entry.pod, container, w.type, `${probeNames[w.type]} probe failed: ${answer.output}`);
      if (answer.result === 'unknown') this.o.log.warn({ pod: `${entry.pod.metadata.namespace}/${entry.pod.metadata.name}`, container: w.name, probe: w.type, output: answer.output }, 'probe gave no answer; counted as success');
      const ok = answer.result !== 'failure';
      if (lastResult === ok) run++;
      else {
        lastResult = ok;
        run = 1;
      }
      const threshold = ok ? (w.type === 'readiness' ? (probe.successThreshold ?? 1) : 1) : (probe.failureThreshold ?? 3);
      if (run >= threshold) {
        const before = results[w.type];
        results[w.type] = ok;
        if (w.type === 'startup' && !ok) results.startupFailed = true;
        if (!ok && (w.type === 'liveness' || w.type === 'startup')) {
          // The container will be killed; do not probe it while that happens.
          onHold = true;
          run = 0;
        }
        if (before !== ok || (!ok && w.type !== 'readiness')) this.o.onChange(w.uid);
      }
      await clock.sleep(periodMs, signal);
    }
  }
}
