/**
 * A pod's API status, computed from what the runtime holds (upstream's generateAPIPodStatus).
 * Pure: the pod sync gathers the inputs, this turns them into a PodStatus.
 *
 * Container state, for each container of the spec, from its newest instance:
 *
 *   no instance ──────────► waiting (ContainerCreating, or PodInitializing in a pod with init
 *                           containers; or the reason the last sync gave: ErrImagePull,
 *                           ImagePullBackOff, CreateContainerConfigError, ...)
 *   created ──────────────► waiting ContainerCreating
 *   running ──────────────► running {startedAt}; ready from the readiness probe (true without
 *                           one), started from the startup probe (true without one)
 *   exited ───────────────► terminated {exitCode, reason, ...}, or waiting CrashLoopBackOff
 *                           (lastState: that termination) while a restart is backing off
 *
 * lastState is otherwise the termination of the instance before; restartCount is the newest
 * instance's restart count (kept in its labels, so it survives a kubelet restart).
 *
 * Ephemeral containers get statuses the same way (ephemeralContainerStatuses), except that they
 * are never ready, have no `started`, and an exited one stays terminated (never restarted); they
 * count for neither the phase nor the conditions.
 *
 * Pod phase (upstream's getPhase, with sidecars):
 *
 *   Pending ──(init done, every container started)──► Running ──(all exited, no restart)──► Succeeded | Failed
 *      │                                                                                     ▲
 *      └────────(an init container failed with restartPolicy Never)────────────────────────┘
 *
 * A terminal phase is never left again (the status manager enforces that too).
 */
import type { Container, Pod, PodSpec } from '../../api/index.js';
import { quantityToNumber } from '../../api/index.js';
import type { ContainerStateAPI, ContainerStatusAPI, PodCondition, PodPhase, PodStatus, QOSClass } from '../api-types.js';
import type { ContainerStatus } from '../runtime/index.js';
import { instancesOf, type PodRuntimeState } from './runtime-state.js';

/** Why a container waits, as the last sync saw it. */
export interface WaitingReason {
  reason: string;
  message?: string;
}

export interface PodStatusInputs {
  pod: Pod;
  runtime: PodRuntimeState;
  podIPs: string[];
  hostIPs: string[];
  /** Sandbox up and its network configured (or host network). */
  sandboxReady: boolean;
  /** Waiting reasons by container name, from the last sync. */
  waiting: ReadonlyMap<string, WaitingReason>;
  /** Readiness of a running container instance (by id); undefined when it has no readiness probe. */
  readiness(containerId: string): boolean | undefined;
  /** Whether a running instance passed its startup probe; undefined without one. */
  startup(containerId: string): boolean | undefined;
  /** The pod is being killed or is done: its phase must become terminal. */
  terminal?: boolean;
  /** Runtime name for container IDs (`docker` → docker://<id>). */
  runtimeName: string;
  /** Kubernetes' imageID for a runtime image id (docker-pullable://... or docker://sha256:...). */
  imageID(imageId: string): string;
  /** The termination message of an exited instance, if it wrote one. */
  terminationMessage?(containerId: string): string | undefined;
  now: number;
}

export const isRestartableInit = (c: Container) => c.restartPolicy === 'Always';

/** Guaranteed, Burstable or BestEffort from the requests and limits (the API server sets it at creation; static pods need it here). */
export function podQOSClass(spec: PodSpec | undefined): QOSClass {
  const cs = [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])];
  let any = false;
  let guaranteed = true;
  for (const c of cs) {
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    for (const r of ['cpu', 'memory']) {
      if (req[r] !== undefined || lim[r] !== undefined) any = true;
      if (lim[r] === undefined || (req[r] !== undefined && quantityToNumber(req[r]!) !== quantityToNumber(lim[r]!))) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

function iso(d: Date | undefined): string | undefined {
  return d ? new Date(Math.floor(d.getTime() / 1000) * 1000).toISOString().replace('.000Z', 'Z') : undefined;
}

function terminatedState(c: ContainerStatus, inputs: PodStatusInputs): ContainerStateAPI {
  const t: NonNullable<ContainerStateAPI['terminated']> = { exitCode: c.exitCode ?? 0 };
  const reason = c.reason ?? ((c.exitCode ?? 0) === 0 ? 'Completed' : 'Error');
  t.reason = reason;
  const message = inputs.terminationMessage?.(c.id) || c.message;
  if (message) t.message = message;
  const started = iso(c.startedAt);
  const finished = iso(c.finishedAt);
  if (started) t.startedAt = started;
  if (finished) t.finishedAt = finished;
  t.containerID = `${inputs.runtimeName}://${c.id}`;
  return { terminated: t };
}

/** The API status of one container of the spec (`ephemeral`: of spec.ephemeralContainers). */
export function containerStatusFor(container: Container, inputs: PodStatusInputs, defaultWaiting: string, ephemeral = false): ContainerStatusAPI {
  const instances = instancesOf(inputs.runtime, container.name);
  const [cur, prev] = instances;
  const status: ContainerStatusAPI = { name: container.name, state: { waiting: { reason: defaultWaiting } }, ready: false, restartCount: 0, image: container.image ?? '', imageID: '' };
  const waiting = inputs.waiting.get(container.name);
  if (cur) {
    status.restartCount = cur.metadata.attempt;
    status.containerID = `${inputs.runtimeName}://${cur.id}`;
    status.imageID = inputs.imageID(cur.imageId);
    if (prev?.state === 'exited') status.lastState = terminatedState(prev, inputs);
    if (cur.state === 'running') {
      // No probe result yet for an instance whose container has a probe (one just started or
      // restarted): not started / not ready until the probe passes, as upstream.
      const started = inputs.startup(cur.id) ?? !container.startupProbe;
      status.state = { running: cur.startedAt ? { startedAt: iso(cur.startedAt)! } : {} };
      status.started = started;
      status.ready = started && (inputs.readiness(cur.id) ?? !container.readinessProbe);
    } else if (cur.state === 'exited') {
      status.started = false;
      if (waiting) {
        status.lastState = terminatedState(cur, inputs);
        status.state = { waiting: { reason: waiting.reason, ...(waiting.message ? { message: waiting.message } : {}) } };
      } else {
        status.state = terminatedState(cur, inputs);
      }
    } else {
      status.started = false;
      status.state = { waiting: waiting ? { reason: waiting.reason, ...(waiting.message ? { message: waiting.message } : {}) } : { reason: 'ContainerCreating' } };
    }
  } else if (waiting) {
    status.state = { waiting: { reason: waiting.reason, ...(waiting.message ? { message: waiting.message } : {}) } };
  }
  if (!cur) status.started = false;
  if (ephemeral) {
    // Nothing probes it or restarts it: its own state is all there is.
    if (cur?.state === 'exited') {
      status.state = terminatedState(cur, inputs);
      if (prev?.state === 'exited') status.lastState = terminatedState(prev, inputs);
      else delete status.lastState;
    }
    status.ready = false;
    delete status.started;
  }
  return status;
}

/** Upstream's phase rules (see the diagram at the top). */
export function podPhase(spec: PodSpec, init: ContainerStatusAPI[], app: ContainerStatusAPI[], terminal: boolean): PodPhase {
  const byName = (list: ContainerStatusAPI[], name: string) => list.find((s) => s.name === name);
  let pendingInit = 0;
  let failedInit = 0;
  for (const c of spec.initContainers ?? []) {
    if (isRestartableInit(c)) continue;
    const s = byName(init, c.name);
    if (!s) pendingInit++;
    else if (s.state?.running) pendingInit++;
    else if (s.state?.terminated) {
      if (s.state.terminated.exitCode !== 0) failedInit++;
    } else if (s.lastState?.terminated) {
      if (s.lastState.terminated.exitCode !== 0) failedInit++;
    } else pendingInit++;
  }
  let unknown = 0;
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const c of spec.initContainers ?? []) {
    if (!isRestartableInit(c)) continue;
    const s = byName(init, c.name);
    if (!s) unknown++;
    else if (s.state?.running) {
      if (!s.started) pendingInit++;
      running++;
    } else if (s.state?.terminated || s.lastState?.terminated) {
      // A sidecar that ended does not decide the pod's phase.
    } else {
      pendingInit++;
      waiting++;
    }
  }
  let anyRegularStarted = false;
  for (const c of spec.containers) {
    const s = byName(app, c.name);
    if (!s) {
      unknown++;
      continue;
    }
    if (s.state?.running || s.state?.terminated || s.lastState?.terminated || s.restartCount > 0) anyRegularStarted = true;
    if (s.state?.running) running++;
    else if (s.state?.terminated) {
      stopped++;
      if (s.state.terminated.exitCode === 0) succeeded++;
    } else if (s.lastState?.terminated) stopped++;
    else waiting++;
  }
  const policy = spec.restartPolicy ?? 'Always';
  if (failedInit > 0 && policy === 'Never') return 'Failed';
  if ((pendingInit > 0 && !anyRegularStarted) || waiting > 0) {
    if (terminal) return 'Failed';
    return 'Pending';
  }
  if (running > 0 && unknown === 0) return terminal ? 'Failed' : 'Running';
  if (running === 0 && stopped > 0 && unknown === 0) {
    if (terminal) return stopped === succeeded ? 'Succeeded' : 'Failed';
    if (policy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (policy === 'Never') return 'Failed';
    return 'Running';
  }
  return terminal ? 'Failed' : 'Pending';
}

function condition(type: string, ok: boolean, reason?: string, message?: string): PodCondition {
  return { type, status: ok ? 'True' : 'False', ...(reason ? { reason } : {}), ...(message ? { message } : {}) };
}

/** The kubelet's pod conditions (without transition times; see withTransitionTimes). */
export function podConditions(pod: Pod, init: ContainerStatusAPI[], app: ContainerStatusAPI[], phase: PodPhase, sandboxReady: boolean): PodCondition[] {
  const spec = pod.spec!;
  const done = phase === 'Succeeded' || phase === 'Failed';
  const conds: PodCondition[] = [];
  conds.push(condition('PodReadyToStartContainers', sandboxReady && !done));

  const incomplete = (spec.initContainers ?? [])
    .filter((c) => {
      const s = init.find((x) => x.name === c.name);
      if (isRestartableInit(c)) return !(s?.state?.running && s.started) && !s?.lastState?.terminated && !s?.state?.terminated;
      return !(s?.state?.terminated?.exitCode === 0);
    })
    .map((c) => c.name);
  const appStarted = app.some((s) => s.state?.running || s.state?.terminated || s.lastState?.terminated || s.restartCount > 0);
  if (phase === 'Succeeded') conds.push(condition('Initialized', true, 'PodCompleted'));
  else if (incomplete.length === 0 || appStarted) conds.push(condition('Initialized', true));
  else conds.push(condition('Initialized', false, 'ContainersNotInitialized', `containers with incomplete status: [${incomplete.join(' ')}]`));

  const sidecars = (spec.initContainers ?? []).filter(isRestartableInit);
  const unready = [
    ...sidecars.filter((c) => !init.find((s) => s.name === c.name)?.ready).map((c) => c.name),
    ...spec.containers.filter((c) => !app.find((s) => s.name === c.name)?.ready).map((c) => c.name),
  ];
  let containersReady: PodCondition;
  if (done) containersReady = condition('ContainersReady', false, 'PodCompleted');
  else if (unready.length === 0) containersReady = condition('ContainersReady', true);
  else containersReady = condition('ContainersReady', false, 'ContainersNotReady', `containers with unready status: [${unready.join(' ')}]`);
  conds.push(containersReady);

  let ready: PodCondition;
  if (containersReady.status !== 'True') ready = { ...containersReady, type: 'Ready' };
  else {
    const missing: string[] = [];
    for (const g of spec.readinessGates ?? []) {
      const c = pod.status?.conditions?.find((x) => x.type === g.conditionType);
      if (!c) missing.push(`corresponding condition of pod readiness gate "${g.conditionType}" does not exist.`);
      else if (c.status !== 'True') missing.push(`the status of pod readiness gate "${g.conditionType}" is not "True", but ${c.status}`);
    }
    ready = missing.length ? condition('Ready', false, 'ReadinessGatesNotReady', missing.join(', ')) : condition('Ready', true);
  }
  conds.push(ready);
  conds.push(condition('PodScheduled', true));
  return conds;
}

/** The condition types this kubelet writes; others (readiness gates, DisruptionTarget) are left as they are. */
export const kubeletConditionTypes = new Set(['PodReadyToStartContainers', 'Initialized', 'ContainersReady', 'Ready', 'PodScheduled']);

/**
 * Merges the kubelet's conditions into the current ones: a condition whose status did not
 * change keeps its lastTransitionTime, a changed one gets `now`; conditions of other writers
 * are kept (after ours, in their order).
 */
export function withTransitionTimes(next: PodCondition[], old: readonly PodCondition[] | undefined, now: number): PodCondition[] {
  const ts = new Date(Math.floor(now / 1000) * 1000).toISOString().replace('.000Z', 'Z');
  const out = next.map((c): PodCondition => {
    const o = old?.find((x) => x.type === c.type);
    const lastTransitionTime = o && o.status === c.status && o.lastTransitionTime ? o.lastTransitionTime : ts;
    return { ...c, lastProbeTime: null, lastTransitionTime };
  });
  for (const o of old ?? []) if (!next.some((c) => c.type === o.type)) out.push({ ...o });
  return out;
}

/** The pod's status from the inputs (see the top of the file). */
export function generatePodStatus(inputs: PodStatusInputs): PodStatus {
  const { pod } = inputs;
  const spec = pod.spec!;
  const old = pod.status ?? {};
  const hasInit = (spec.initContainers ?? []).length > 0;
  const defaultWaiting = hasInit ? 'PodInitializing' : 'ContainerCreating';
  const init = (spec.initContainers ?? []).map((c) => containerStatusFor(c, inputs, defaultWaiting));
  const app = spec.containers.map((c) => containerStatusFor(c, inputs, defaultWaiting));
  let phase = podPhase(spec, init, app, !!inputs.terminal);
  // Terminal phases are final.
  if (old.phase === 'Succeeded' || old.phase === 'Failed') phase = old.phase;
  const status: PodStatus = {
    phase,
    conditions: withTransitionTimes(podConditions(pod, init, app, phase, inputs.sandboxReady), old.conditions, inputs.now),
    qosClass: old.qosClass ?? podQOSClass(spec),
  };
  if (inputs.hostIPs.length) {
    status.hostIP = inputs.hostIPs[0]!;
    status.hostIPs = inputs.hostIPs.map((ip) => ({ ip }));
  }
  const podIPs = inputs.podIPs.length ? inputs.podIPs : (old.podIPs ?? []).map((p) => p.ip);
  if (podIPs.length) {
    status.podIP = podIPs[0]!;
    status.podIPs = podIPs.map((ip) => ({ ip }));
  }
  status.startTime = old.startTime ?? new Date(Math.floor(inputs.now / 1000) * 1000).toISOString().replace('.000Z', 'Z');
  if (init.length) status.initContainerStatuses = init;
  status.containerStatuses = app;
  const ephemeral = (spec.ephemeralContainers ?? []).map((c) => containerStatusFor(c as Container, inputs, defaultWaiting, true));
  if (ephemeral.length) status.ephemeralContainerStatuses = ephemeral;
  if (old.nominatedNodeName) status.nominatedNodeName = old.nominatedNodeName;
  return status;
}
