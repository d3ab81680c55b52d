/**
 * The events the kubelet writes about pods, with upstream's reasons. Events about one container
 * point at it with a field path (`spec.containers{web}`), as `kubectl describe pod` shows them.
 */
import type { Container, ObjectReference, Pod } from '../api/index.js';
import type { EventRecorder, EventType } from '../client/index.js';

export const Reason = {
  Pulling: 'Pulling',
  Pulled: 'Pulled',
  Created: 'Created',
  Started: 'Started',
  Killing: 'Killing',
  Unhealthy: 'Unhealthy',
  BackOff: 'BackOff',
  Failed: 'Failed',
  FailedMount: 'FailedMount',
  SandboxChanged: 'SandboxChanged',
  FailedCreatePodSandBox: 'FailedCreatePodSandBox',
  FailedPostStartHook: 'FailedPostStartHook',
  FailedPreStopHook: 'FailedPreStopHook',
  ErrImageNeverPull: 'ErrImageNeverPull',
  InspectFailed: 'InspectFailed',
  NetworkNotReady: 'NetworkNotReady',
  MissingClusterDNS: 'MissingClusterDNS',
  InvalidEnvironmentVariableNames: 'InvalidEnvironmentVariableNames',
  OutOfpods: 'OutOfpods',
  ProbeWarning: 'ProbeWarning',
} as const;

/** The reference of a pod (events about the pod as a whole). */
export function podRef(pod: Pod): ObjectReference {
  const m = pod.metadata;
  return { kind: 'Pod', apiVersion: 'v1', namespace: m.namespace ?? 'default', name: m.name ?? '', ...(m.uid ? { uid: m.uid } : {}), ...(m.resourceVersion ? { resourceVersion: m.resourceVersion } : {}) };
}

/** Whether `c` is one of the pod's init containers. */
export function isInitContainer(pod: Pod, c: Container): boolean {
  return (pod.spec?.initContainers ?? []).some((x) => x.name === c.name);
}

/** Whether `c` is one of the pod's ephemeral containers. */
export function isEphemeralContainer(pod: Pod, c: Pick<Container, 'name'>): boolean {
  return (pod.spec?.ephemeralContainers ?? []).some((x) => x.name === c.name);
}

/** The reference of one container of a pod (names are unique across app, init and ephemeral containers). */
export function containerRef(pod: Pod, c: Container): ObjectReference {
  const list = isInitContainer(pod, c) ? 'initContainers' : isEphemeralContainer(pod, c) ? 'ephemeralContainers' : 'containers';
  return { ...podRef(pod), fieldPath: `spec.${list}{${c.name}}` };
}

/** Shorthands over an EventRecorder for pods and their containers. */
export class PodEvents {
  constructor(readonly recorder: EventRecorder) {}

  pod(pod: Pod, type: EventType, reason: string, message: string): void {
    this.recorder.event(podRef(pod), type, reason, message);
  }

  container(pod: Pod, c: Container, type: EventType, reason: string, message: string): void {
    this.recorder.event(containerRef(pod, c), type, reason, message);
  }
}
