/**
 * The pod statuses a simulated kubelet reports, and what a pod asks of it through annotations.
 *
 *   bound ──start delay──► Running (Ready, or not for never-ready)
 *                             │ run duration (succeed / fail only)
 *                             ▼
 *            Succeeded (exit 0) / Failed (exit 1, restartPolicy Never)
 *            or CrashLoopBackOff (fail with restartPolicy Always/OnFailure: the kubelet restarts it)
 */
import { createHash } from 'node:crypto';
import type { Pod, PodCondition, PodStatus } from '../api/index.js';
import { parseDuration, rfc3339 } from '../base/index.js';

/** What the pod does: `ready` (default), `never-ready`, `succeed` (exit 0) or `fail` (exit 1). */
export const outcomeAnnotation = 'simnode.tkube.io/outcome';
/** How long the containers run before a `succeed` or `fail` outcome (a duration: 500ms, 2s, 1m; default 0). */
export const runDurationAnnotation = 'simnode.tkube.io/run-duration';
/** Overrides the node's start delay for this pod (a duration). */
export const startDelayAnnotation = 'simnode.tkube.io/start-delay';

export type Outcome = 'ready' | 'never-ready' | 'succeed' | 'fail';
export const outcomes: readonly Outcome[] = ['ready', 'never-ready', 'succeed', 'fail'];

function annotationDuration(pod: Pod, key: string): number | undefined {
  const v = pod.metadata.annotations?.[key];
  if (v === undefined) return undefined;
  try {
    return parseDuration(v);
  } catch {
    return undefined;
  }
}

export function outcomeOf(pod: Pod, fallback: Outcome): Outcome {
  const v = pod.metadata.annotations?.[outcomeAnnotation];
  return outcomes.includes(v as Outcome) ? (v as Outcome) : fallback;
}

export function runDurationOf(pod: Pod): number {
  return annotationDuration(pod, runDurationAnnotation) ?? 0;
}

export function startDelayOf(pod: Pod, fallback: number): number {
  return annotationDuration(pod, startDelayAnnotation) ?? fallback;
}

export interface StatusContext {
  now: number;
  hostIP: string;
  podIP: string;
  /** When the containers started (kept across updates). */
  startedAt: number;
}

function condition(type: string, status: boolean, now: string, reason?: string, message?: string): PodCondition {
  const c: PodCondition = { type, status: status ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: now };
  if (reason) c.reason = reason;
  if (message) c.message = message;
  return c;
}

function imageID(image: string): string {
  return `simnode://sha256:${createHash('sha256').update(image).digest('hex')}`;
}

/** The status of a pod whose containers run (ready or not), or have ended as its outcome says. */
export function simulatedStatus(pod: Pod, phase: 'running' | 'terminated', outcome: Outcome, ctx: StatusContext): PodStatus {
  const now = rfc3339(ctx.now);
  const started = rfc3339(ctx.startedAt);
  const containers = pod.spec?.containers ?? [];
  const names = containers.map((c) => c.name);
  const restartPolicy = pod.spec?.restartPolicy ?? 'Always';
  const crashLoop = phase === 'terminated' && outcome === 'fail' && restartPolicy !== 'Never';
  const ended = phase === 'terminated' && !crashLoop && !(outcome === 'succeed' && restartPolicy === 'Always');
  const ready = !ended && !crashLoop && outcome !== 'never-ready';
  const exitCode = outcome === 'fail' ? 1 : 0;
  const containerStatuses = containers.map((c) => {
    const base = { name: c.name, image: c.image ?? '', imageID: imageID(c.image ?? ''), containerID: `simnode://${pod.metadata.uid}-${c.name}`, restartCount: crashLoop ? 1 : 0 };
    if (crashLoop) {
      return {
        ...base,
        ready: false,
        started: false,
        state: { waiting: { reason: 'CrashLoopBackOff', message: `back-off 10s restarting failed container=${c.name} pod=${pod.metadata.name}` } },
        lastState: { terminated: { exitCode: 1, reason: 'Error', startedAt: started, finishedAt: now } },
      };
    }
    if (ended) {
      return { ...base, ready: false, started: false, state: { terminated: { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', startedAt: started, finishedAt: now } } };
    }
    return { ...base, ready, started: true, state: { running: { startedAt: started } } };
  });
  const initContainerStatuses = (pod.spec?.initContainers ?? []).map((c) => ({
    name: c.name,
    image: c.image ?? '',
    imageID: imageID(c.image ?? ''),
    containerID: `simnode://${pod.metadata.uid}-${c.name}`,
    ready: true,
    started: false,
    restartCount: 0,
    state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: started, finishedAt: started } },
  }));
  const notReadyMessage = `containers with unready status: [${names.join(' ')}]`;
  const conditions: PodCondition[] = [
    condition('PodReadyToStartContainers', !ended, now),
    condition('Initialized', true, started),
    ended ? condition('Ready', false, now, 'PodCompleted') : ready ? condition('Ready', true, now) : condition('Ready', false, now, 'ContainersNotReady', notReadyMessage),
    ended ? condition('ContainersReady', false, now, 'PodCompleted') : ready ? condition('ContainersReady', true, now) : condition('ContainersReady', false, now, 'ContainersNotReady', notReadyMessage),
    condition('PodScheduled', true, started),
  ];
  const status: PodStatus = {
    phase: ended ? (exitCode === 0 ? 'Succeeded' : 'Failed') : 'Running',
    conditions,
    hostIP: ctx.hostIP,
    hostIPs: [{ ip: ctx.hostIP }],
    podIP: ctx.podIP,
    podIPs: [{ ip: ctx.podIP }],
    startTime: started,
    containerStatuses,
  };
  if (initContainerStatuses.length) status.initContainerStatuses = initContainerStatuses;
  if (pod.status?.qosClass) status.qosClass = pod.status.qosClass;
  return status;
}

/** What matters when deciding whether a status must be written again (not the timestamps). */
export function statusDigest(s: PodStatus | undefined): string {
  return JSON.stringify([
    s?.phase,
    s?.podIP,
    s?.hostIP,
    (s?.conditions ?? []).map((c) => [c.type, c.status]).sort(),
    (s?.containerStatuses ?? []).map((c) => [c.name, c.ready, Object.keys(c.state ?? {})[0], c.restartCount]),
  ]);
}

/** Keeps the transition times of conditions whose status did not change. */
export function keepTransitionTimes(next: PodStatus, prev: PodStatus | undefined): PodStatus {
  for (const c of next.conditions ?? []) {
    const old = (prev?.conditions ?? []).find((x) => x.type === c.type);
    if (old && old.status === c.status && old.lastTransitionTime) c.lastTransitionTime = old.lastTransitionTime;
  }
  return next;
}
