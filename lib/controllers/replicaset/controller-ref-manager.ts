/**
 * Adoption and release (upstream ControllerRefManager). A controller owns the objects whose
 * controller reference names its uid. Each sync it "claims" what it should own:
 *
 *   ours, still matching the selector  → keep
 *   ours, no longer matching           → release (remove our owner reference)
 *   orphan, matching, not being deleted → adopt (add our controller reference)
 *   owned by another controller        → leave alone
 *
 * Adoption is checked once per sync against the API server (not the cache): a controller
 * that was just deleted, or deleted and recreated under the same name, must not adopt.
 * Both writes are strategic merge patches that carry the object's uid, so that a patch meant
 * for one object never lands on a newer one of the same name.
 */
import type { KubeObject, OwnerReference } from '../../api/index.js';
import { isInvalid, isNotFound, type LabelSelector } from '../../machinery/index.js';
import { getControllerOf } from './pod-util.js';

export interface ClaimOptions<T extends KubeObject> {
  /** The controller, as the cache has it. */
  owner: KubeObject;
  /** The reference set on adopted objects (controller: true). */
  controllerRef: OwnerReference;
  selector: LabelSelector;
  /** A further condition for belonging (a StatefulSet's pods must carry its name). */
  match?: (obj: T) => boolean;
  /** Rejects when the owner may not adopt (deleted, or replaced); called at most once. */
  canAdopt: () => Promise<void>;
  /** Sends a strategic merge patch to the object. */
  patch: (obj: T, patch: unknown) => Promise<unknown>;
}

export function adoptPatch(obj: KubeObject, ref: OwnerReference): unknown {
  return { metadata: { ownerReferences: [ref], uid: obj.metadata.uid } };
}

export function releasePatch(obj: KubeObject, ownerUID: string): unknown {
  return { metadata: { ownerReferences: [{ $patch: 'delete', uid: ownerUID }], uid: obj.metadata.uid } };
}

/**
 * Returns the objects the owner controls after adopting and releasing as needed. Objects
 * that could not be adopted are left out; if any write failed, rejects after trying all.
 */
export async function claimObjects<T extends KubeObject>(objs: readonly T[], o: ClaimOptions<T>): Promise<T[]> {
  const claimed: T[] = [];
  const errors: unknown[] = [];
  const ownerUID = o.owner.metadata.uid!;
  const matches = (obj: T) => o.selector.matches(obj.metadata.labels) && (o.match?.(obj) ?? true);
  let adoptCheck: Promise<void> | undefined;
  for (const obj of objs) {
    const ref = getControllerOf(obj);
    if (ref) {
      if (ref.uid !== ownerUID) continue;
      if (matches(obj)) {
        claimed.push(obj);
        continue;
      }
      // An owner being deleted keeps its objects: the garbage collector takes them with it.
      if (o.owner.metadata.deletionTimestamp) continue;
      try {
        await o.patch(obj, releasePatch(obj, ownerUID));
      } catch (err) {
        // Gone, or replaced by a new object of that name (uid mismatch): nothing to release.
        if (!isNotFound(err) && !isInvalid(err)) errors.push(err);
      }
      continue;
    }
    if (o.owner.metadata.deletionTimestamp || !matches(obj) || obj.metadata.deletionTimestamp) continue;
    try {
      adoptCheck ??= o.canAdopt();
      await adoptCheck;
      await o.patch(obj, adoptPatch(obj, o.controllerRef));
      claimed.push(obj);
    } catch (err) {
      if (!isNotFound(err)) errors.push(err);
    }
  }
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new AggregateError(errors, errors.map((e) => (e as Error).message).join('; '));
  return claimed;
}

/**
 * The usual canAdopt: a fresh read of the owner must find the same uid and no deletion
 * (upstream RecheckDeletionTimestamp).
 */
export function recheckOwner(kind: string, owner: KubeObject, getFresh: () => Promise<KubeObject>): () => Promise<void> {
  return async () => {
    let fresh: KubeObject;
    try {
      fresh = await getFresh();
    } catch (err) {
      throw new Error(`can't recheck DeletionTimestamp: ${(err as Error).message}`, { cause: err });
    }
    const m = owner.metadata;
    if (fresh.metadata.uid !== m.uid) throw new Error(`original ${kind} ${m.namespace}/${m.name} is gone: got uid ${fresh.metadata.uid}, wanted ${m.uid}`);
    if (fresh.metadata.deletionTimestamp) throw new Error(`${m.namespace}/${m.name} has just been deleted at ${fresh.metadata.deletionTimestamp}`);
  };
}
