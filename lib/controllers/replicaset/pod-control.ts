/**
 * PodControl: how workload controllers create and delete pods, recording the events users
 * see in `kubectl describe` (SuccessfulCreate "Created pod: web-x7k2p", FailedCreate "Error
 * creating: ...", SuccessfulDelete "Deleted pod: ...", FailedDelete "Error deleting: ...").
 */
import type { KubeObject, OwnerReference, Pod, PodTemplateSpec } from '../../api/index.js';
import { Resources, deepCopy, type EventRecorder, type KubeClient } from '../../client/index.js';
import { isNotFound } from '../../machinery/index.js';
import { isNamespaceTerminating, recordEvent } from './controller-support.js';

export interface PodOwner {
  obj: KubeObject;
  apiVersion: string;
  kind: string;
}

/** The generateName prefix for pods of a controller: `<name>-` (upstream getPodsPrefix). */
export function podsPrefix(controllerName: string): string {
  return `${controllerName}-`;
}

/**
 * A pod made from a template (upstream GetPodFromTemplate): the template's labels,
 * annotations, finalizers and spec, the controller reference, and a generated name.
 */
export function podFromTemplate(template: PodTemplateSpec, ownerName: string, controllerRef: OwnerReference | undefined): Pod {
  const t = deepCopy(template);
  const pod: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { generateName: podsPrefix(ownerName) },
    spec: t.spec,
  } as Pod;
  if (t.metadata?.labels) pod.metadata.labels = t.metadata.labels;
  if (t.metadata?.annotations) pod.metadata.annotations = t.metadata.annotations;
  if (t.metadata?.finalizers) pod.metadata.finalizers = t.metadata.finalizers;
  if (controllerRef) pod.metadata.ownerReferences = [controllerRef];
  return pod;
}

export class PodControl {
  constructor(
    private readonly client: KubeClient,
    private readonly recorder: EventRecorder,
  ) {}

  /**
   * Creates one pod from `template` for `owner`. `mutate` adjusts the pod before it is sent
   * (names, labels, node affinity). Records SuccessfulCreate or FailedCreate on the owner.
   */
  async createPod(namespace: string, template: PodTemplateSpec, owner: PodOwner, controllerRef: OwnerReference, mutate?: (pod: Pod) => void): Promise<Pod> {
    const pod = podFromTemplate(template, owner.obj.metadata.name!, controllerRef);
    mutate?.(pod);
    if (!pod.metadata.labels || Object.keys(pod.metadata.labels).length === 0) throw new Error('unable to create pods, no labels');
    let created: Pod;
    try {
      created = await this.client.resource(Resources.pods, namespace).create(pod);
    } catch (err) {
      // When the namespace is being deleted every create fails; an event per pod would only be noise.
      if (!isNamespaceTerminating(err)) recordEvent(this.recorder, owner.obj, owner.apiVersion, owner.kind, 'Warning', 'FailedCreate', `Error creating: ${(err as Error).message}`);
      throw err;
    }
    recordEvent(this.recorder, owner.obj, owner.apiVersion, owner.kind, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata.name}`);
    return created;
  }

  /** Deletes a pod of `owner`. A pod already gone rejects with NotFound and records nothing. */
  async deletePod(namespace: string, name: string, owner: PodOwner): Promise<void> {
    try {
      await this.client.resource(Resources.pods, namespace).delete(name);
    } catch (err) {
      if (!isNotFound(err)) recordEvent(this.recorder, owner.obj, owner.apiVersion, owner.kind, 'Warning', 'FailedDelete', `Error deleting: ${(err as Error).message}`);
      throw err;
    }
    recordEvent(this.recorder, owner.obj, owner.apiVersion, owner.kind, 'Normal', 'SuccessfulDelete', `Deleted pod: ${name}`);
  }

  async patchPod(namespace: string, name: string, patch: unknown): Promise<Pod> {
    return this.client.resource(Resources.pods, namespace).patch(name, 'strategic', patch);
  }
}
