/**
 * Strategy: what one kind adds to the generic store, after upstream's rest strategies
 * (pkg/registry/<group>/<kind>/strategy.go). The store calls these at fixed points:
 *
 *   create:  prepareForCreate → admission mutate → validate → admission validate → storage
 *   update:  prepareForUpdate → admission mutate → validate → admission validate → storage
 *   delete:  checkGracefulDelete decides between marking (deletionTimestamp) and removing
 *
 * Defaults (lib/api) are applied when a body is decoded, before any of these.
 */
import type { AnyResourceType, KubeObject, DeleteOptions } from '../api/index.js';
import { stableStringify, type FieldError } from '../machinery/index.js';
import type { RequestContext } from './context.js';

export interface Strategy {
  /** Reset fields the client may not set on create (usually status). */
  prepareForCreate?(obj: KubeObject, ctx: RequestContext): void;
  /** Carry over fields the client may not change on this (sub)resource. */
  prepareForUpdate?(obj: KubeObject, old: KubeObject, ctx: RequestContext): void;
  /** Extra validation run after the kind's own (lib/api) validation. */
  validate?(obj: KubeObject, old: KubeObject | undefined, ctx: RequestContext): FieldError[];
  /**
   * An update through this subresource is validated by `validate` alone, not by the kind's own
   * update validation (pods/ephemeralcontainers: a regular pod update may not touch what it
   * changes). Status updates never run the kind's validation.
   */
  validatesUpdateAlone?(ctx: RequestContext): boolean;
  /**
   * The grace period for deleting this object, or undefined to remove it at once.
   * Called only for objects not yet being deleted.
   */
  gracePeriod?(obj: KubeObject, options: DeleteOptions): number | undefined;
  /**
   * Keep the object (marked with deletionTimestamp) after a delete even without finalizers,
   * until this returns false (namespaces wait for spec.finalizers).
   */
  holdOnDelete?(obj: KubeObject): boolean;
  /** Adjusts an object being marked for deletion (a namespace turns Terminating). */
  prepareForDelete?(obj: KubeObject): void;
  /** PUT on a missing object creates it. */
  allowCreateOnUpdate?: boolean;
  /** Time-to-live in storage (events). */
  ttlSeconds?(obj: KubeObject): number | undefined;
  /** Called after an object was deleted from storage (release allocations). */
  afterDelete?(obj: KubeObject): Promise<void>;
  /** Called before storing a new object; may allocate (service IPs). Returns an undo function. */
  beforeCreate?(obj: KubeObject, ctx: RequestContext): Promise<(() => Promise<void>) | void>;
  /** Called before storing an update; may allocate. Returns an undo function. */
  beforeUpdate?(obj: KubeObject, old: KubeObject, ctx: RequestContext): Promise<(() => Promise<void>) | void>;
  /** Called after a successful update (release what the old object held and the new one does not). */
  afterUpdate?(obj: KubeObject, old: KubeObject): Promise<void>;
}

/** The parts of an object that are neither metadata nor status: a change bumps generation. */
export function specOf(obj: KubeObject): string {
  const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = obj;
  return stableStringify(rest);
}

/**
 * The behaviour every kind with a status subresource shares: status is reset on create and
 * preserved by main-resource updates; status updates preserve everything else; generation
 * starts at 1 and is bumped when the spec changes.
 */
export function statusStrategy(rt: AnyResourceType, resetStatus: (obj: KubeObject) => void = (o) => void delete o.status): Strategy {
  return {
    prepareForCreate(obj) {
      if (rt.hasStatus) resetStatus(obj);
      obj.metadata.generation = 1;
    },
    prepareForUpdate(obj, old, ctx) {
      if (ctx.subresource === 'status') {
        for (const k of Object.keys(obj)) if (k !== 'status' && k !== 'metadata' && k !== 'apiVersion' && k !== 'kind') delete obj[k];
        for (const k of Object.keys(old)) if (k !== 'status' && k !== 'metadata' && k !== 'apiVersion' && k !== 'kind') obj[k] = old[k];
        // Status writers cannot start or stop a deletion, or change ownership.
        obj.metadata.deletionTimestamp = old.metadata.deletionTimestamp;
        obj.metadata.deletionGracePeriodSeconds = old.metadata.deletionGracePeriodSeconds;
        obj.metadata.ownerReferences = old.metadata.ownerReferences;
        obj.metadata.generation = old.metadata.generation;
        return;
      }
      if (rt.hasStatus) {
        if (old.status === undefined) delete obj.status;
        else obj.status = old.status;
      }
      obj.metadata.generation = old.metadata.generation ?? 1;
      // Without a status subresource every non-metadata change is a change of intent.
      const changed = rt.hasStatus ? specOf(obj) !== specOf(old) : stableStringify({ ...obj, metadata: null }) !== stableStringify({ ...old, metadata: null });
      if (changed) obj.metadata.generation = (old.metadata.generation ?? 0) + 1;
    },
  };
}

/** Combines strategies: later ones run after earlier ones for each hook. */
export function composeStrategies(...list: Strategy[]): Strategy {
  const out: Strategy = {};
  const hooks = ['prepareForCreate', 'prepareForUpdate'] as const;
  for (const h of hooks) {
    const fns = list.map((s) => s[h]).filter((f): f is NonNullable<typeof f> => !!f);
    if (fns.length) out[h] = ((...args: unknown[]) => fns.forEach((f) => (f as (...a: unknown[]) => void)(...args))) as never;
  }
  const validators = list.map((s) => s.validate).filter((f): f is NonNullable<typeof f> => !!f);
  if (validators.length) out.validate = (o, old, ctx) => validators.flatMap((v) => v(o, old, ctx));
  const alone = list.map((s) => s.validatesUpdateAlone).filter((f): f is NonNullable<typeof f> => !!f);
  if (alone.length) out.validatesUpdateAlone = (ctx) => alone.some((f) => f(ctx));
  for (const s of list) {
    if (s.gracePeriod) out.gracePeriod = s.gracePeriod;
    if (s.allowCreateOnUpdate !== undefined) out.allowCreateOnUpdate = s.allowCreateOnUpdate;
    if (s.ttlSeconds) out.ttlSeconds = s.ttlSeconds;
    if (s.afterDelete) out.afterDelete = s.afterDelete;
    if (s.holdOnDelete) out.holdOnDelete = s.holdOnDelete;
    if (s.prepareForDelete) out.prepareForDelete = s.prepareForDelete;
    if (s.beforeCreate) out.beforeCreate = s.beforeCreate;
    if (s.beforeUpdate) out.beforeUpdate = s.beforeUpdate;
    if (s.afterUpdate) out.afterUpdate = s.afterUpdate;
  }
  return out;
}
