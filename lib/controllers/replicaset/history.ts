/**
 * ControllerRevisions: the history of a DaemonSet's or StatefulSet's pod template (upstream
 * pkg/controller/history). Each revision holds a patch that replaces spec.template, a
 * revision number increasing over the owner's history, and a hash of its data in its name
 * and labels. `kubectl rollout history/undo` for these kinds read and apply them.
 */
import type { ControllerRevision, KubeObject, PodTemplateSpec } from '../../api/index.js';
import { Resources, deepCopy, type KubeClient } from '../../client/index.js';
import { isAlreadyExists, jsonEqual } from '../../machinery/index.js';
import { controllerRevisionName, hashRevisionData } from './hash.js';
import { newControllerRef, parseTime } from './pod-util.js';

/** Label with the hash of a revision's data (history.ControllerRevisionHashLabel). */
export const controllerRevisionHashLabel = 'controller.kubernetes.io/hash';
/** Label on pods (and DaemonSet revisions) naming the revision they were made from. */
export const podRevisionLabel = 'controller-revision-hash';

/** The data of a revision: a strategic merge patch replacing spec.template. */
export function templatePatch(template: PodTemplateSpec | undefined): Record<string, unknown> {
  return { spec: { template: { ...deepCopy(template ?? {}), $patch: 'replace' } } };
}

/** The template a revision records. */
export function templateOfRevision(rev: ControllerRevision): PodTemplateSpec | undefined {
  const t = (rev.data as { spec?: { template?: Record<string, unknown> } } | undefined)?.spec?.template;
  if (!t) return undefined;
  const { $patch: _p, ...rest } = t;
  return rest as PodTemplateSpec;
}

export function equalRevisions(a: ControllerRevision, b: ControllerRevision): boolean {
  return jsonEqual(a.data ?? null, b.data ?? null);
}

/** Oldest revision first; ties by creation, then name. */
export function compareRevisions(a: ControllerRevision, b: ControllerRevision): number {
  if (a.revision !== b.revision) return a.revision - b.revision;
  const ca = parseTime(a.metadata.creationTimestamp) ?? 0;
  const cb = parseTime(b.metadata.creationTimestamp) ?? 0;
  if (ca !== cb) return ca - cb;
  return (a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1;
}

export function maxRevisionNumber(revs: ControllerRevision[]): number {
  return revs.reduce((m, r) => Math.max(m, r.revision), 0);
}

export interface RevisionOwner {
  obj: KubeObject;
  apiVersion: string;
  kind: string;
}

/**
 * A revision of `owner` holding `data` (upstream history.NewControllerRevision): the
 * template's labels plus the data hash, named `<owner>-<hash>`.
 */
export function newControllerRevision(owner: RevisionOwner, templateLabels: Record<string, string> | undefined, data: unknown, revision: number, collisionCount?: number): ControllerRevision {
  const hash = hashRevisionData(data, collisionCount);
  return {
    apiVersion: 'apps/v1',
    kind: 'ControllerRevision',
    metadata: {
      name: controllerRevisionName(owner.obj.metadata.name!, hash),
      namespace: owner.obj.metadata.namespace,
      labels: { ...(templateLabels ?? {}), [controllerRevisionHashLabel]: hash },
      ownerReferences: [newControllerRef(owner.obj, owner.apiVersion, owner.kind)],
    },
    data: data as ControllerRevision['data'],
    revision,
  };
}

/**
 * Creates a revision; if its name is taken by a revision with the same data, that one is it;
 * if by different data (a hash collision), the collision count goes up and the hash with it
 * (upstream realHistory.CreateControllerRevision). Returns the revision and the count used.
 */
export async function createControllerRevision(
  client: KubeClient,
  owner: RevisionOwner,
  templateLabels: Record<string, string> | undefined,
  data: unknown,
  revision: number,
  collisionCount: number,
  annotations?: Record<string, string>,
): Promise<{ revision: ControllerRevision; collisionCount: number }> {
  const revisions = client.resource(Resources.controllerRevisions, owner.obj.metadata.namespace);
  for (let count = collisionCount; ; count++) {
    const cr = newControllerRevision(owner, templateLabels, data, revision, count);
    if (annotations && Object.keys(annotations).length) cr.metadata.annotations = { ...annotations };
    try {
      return { revision: await revisions.create(cr), collisionCount: count };
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      const existing = await revisions.get(cr.metadata.name!);
      if (equalRevisions(existing, cr)) return { revision: existing, collisionCount: count };
    }
  }
}
