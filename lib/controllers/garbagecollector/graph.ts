/**
 * The dependency graph of the garbage collector: one node per object (by uid) that owns or is
 * owned by something, with edges from owners to dependents (ownerReferences). An owner known
 * only from a reference, not yet seen by an informer, is a "virtual" node until it is seen or
 * proven absent.
 */
import type { KubeObject, OwnerReference } from '../../api/index.js';

export const finalizerOrphan = 'orphan';
export const finalizerDeleteDependents = 'foregroundDeletion';

/** Where an object lives: enough to read it back. */
export interface ObjectIdentity {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  uid: string;
}

export class GraphNode {
  owners: OwnerReference[] = [];
  readonly dependents = new Set<GraphNode>();
  /** The object has a deletionTimestamp. */
  beingDeleted = false;
  /** The object is being deleted in the foreground: it waits for its blocking dependents. */
  deletingDependents = false;

  constructor(
    public identity: ObjectIdentity,
    /** Known only from another object's ownerReferences. */
    public virtual: boolean,
  ) {}

  get uid(): string {
    return this.identity.uid;
  }

  /** Dependents whose reference to this node blocks its deletion. */
  blockingDependents(): GraphNode[] {
    return [...this.dependents].filter((d) => d.owners.some((r) => r.uid === this.uid && r.blockOwnerDeletion === true));
  }

  toString(): string {
    const i = this.identity;
    return `${i.kind} ${i.namespace ? `${i.namespace}/` : ''}${i.name} (${i.apiVersion}, uid ${i.uid})${this.virtual ? ' [virtual]' : ''}`;
  }
}

export function hasFinalizer(obj: KubeObject, f: string): boolean {
  return (obj.metadata.finalizers ?? []).includes(f);
}

export function deletingWith(obj: KubeObject | undefined, f: string): boolean {
  return !!obj?.metadata.deletionTimestamp && hasFinalizer(obj, f);
}

/** Owner references that were added, removed, or changed (same uid, different fields). */
export function referenceDiffs(old: OwnerReference[], next: OwnerReference[]): { added: OwnerReference[]; removed: OwnerReference[]; changed: { old: OwnerReference; next: OwnerReference }[] } {
  const oldBy = new Map(old.map((r) => [r.uid, r]));
  const nextBy = new Map(next.map((r) => [r.uid, r]));
  const added = next.filter((r) => !oldBy.has(r.uid));
  const removed = old.filter((r) => !nextBy.has(r.uid));
  const changed: { old: OwnerReference; next: OwnerReference }[] = [];
  for (const r of next) {
    const o = oldBy.get(r.uid);
    if (o && JSON.stringify(o) !== JSON.stringify(r)) changed.push({ old: o, next: r });
  }
  return { added, removed, changed };
}

/** `apps/v1` → `apps`; `v1` → the core group. */
export function groupOf(apiVersion: string): string {
  const i = apiVersion.indexOf('/');
  return i < 0 ? '' : apiVersion.slice(0, i);
}
