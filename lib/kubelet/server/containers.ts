/**
 * Which runtime container a request means, and the errors users see when there is none yet.
 * The messages are upstream's (the kubelet's validateContainerLogStatus), because people and
 * scripts know them: `container "app" in pod "web" is waiting to start: ContainerCreating`.
 */
import type { ContainerStatus, Pod } from '../../api/index.js';
import { findPreviousContainer, isRuntimeNotFound, type ContainerRuntime } from '../runtime/index.js';
import type { KubeletPodRef } from './host.js';

/** An error the kubelet API answers with its HTTP code and a plain-text message. */
export class KubeletHttpError extends Error {
  override readonly name = 'KubeletHttpError';
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** Every container name of the pod: app, init and ephemeral. */
export function containerNames(pod: Pod): string[] {
  const spec = pod.spec;
  return [...(spec?.containers ?? []), ...(spec?.initContainers ?? []), ...(spec?.ephemeralContainers ?? [])].map((c) => c.name);
}

export function containerStatus(pod: Pod, name: string): ContainerStatus | undefined {
  const s = pod.status;
  return [...(s?.containerStatuses ?? []), ...(s?.initContainerStatuses ?? []), ...(s?.ephemeralContainerStatuses ?? [])].find((c) => c.name === name);
}

/** Why a container of the pod has no instance to read or enter, from its status. */
export function notStartedMessage(pod: Pod, name: string): string {
  const who = `container "${name}" in pod "${pod.metadata.name}"`;
  const st = containerStatus(pod, name);
  if (!st) return `${who} is not available`;
  const waiting = st.state?.waiting;
  if (st.state?.terminated || (!st.state?.running && !waiting && st.lastState?.terminated)) return `${who} is terminated`;
  if (waiting) {
    switch (waiting.reason) {
      case 'ErrImagePull':
        return `${who} is waiting to start: image can't be pulled`;
      case 'ImagePullBackOff':
        return `${who} is waiting to start: trying and failing to pull image`;
      default:
        if (waiting.reason) return `${who} is waiting to start: ${waiting.reason}`;
    }
  }
  return `${who} is waiting to start - no logs yet`;
}

function checkName(ref: KubeletPodRef, name: string): void {
  if (!containerNames(ref.pod).includes(name)) throw new KubeletHttpError(404, `container "${name}" not found in pod "${ref.pod.metadata.name}"`);
}

/** The container whose logs `kubectl logs [--previous]` reads. */
export async function logContainer(ref: KubeletPodRef, name: string, previous: boolean, runtime: ContainerRuntime): Promise<string> {
  checkName(ref, name);
  const current = ref.containerIds[name];
  if (previous) {
    // Upstream's rule: the instance the status names as the last terminated one. While a
    // container waits out its crash back-off, that is the newest instance, not the one before.
    const last = containerStatus(ref.pod, name)?.lastState?.terminated?.containerID;
    if (last) return last.replace(/^[a-z0-9-]+:\/\//, '');
    const known = ref.previousContainerIds?.[name];
    if (known) return known;
    if (current) {
      try {
        return (await findPreviousContainer(runtime, current)).id;
      } catch (err) {
        if (!isRuntimeNotFound(err)) throw err;
      }
    }
    throw new KubeletHttpError(400, `previous terminated container "${name}" in pod "${ref.pod.metadata.name}" not found`);
  }
  if (!current) throw new KubeletHttpError(400, notStartedMessage(ref.pod, name));
  return current;
}

/** A running container to exec in or attach to. */
export async function runningContainer(ref: KubeletPodRef, name: string, runtime: ContainerRuntime): Promise<string> {
  checkName(ref, name);
  const current = ref.containerIds[name];
  if (!current) throw new KubeletHttpError(400, notStartedMessage(ref.pod, name));
  let state: string;
  try {
    state = (await runtime.inspectContainer(current)).state;
  } catch (err) {
    if (isRuntimeNotFound(err)) throw new KubeletHttpError(404, `container not found ("${name}")`);
    throw err;
  }
  if (state !== 'running') throw new KubeletHttpError(400, `container "${name}" in pod "${ref.pod.metadata.name}" is not running (${state})`);
  return current;
}
