/**
 * The client's contract, shared by the real REST client and the in-memory fake: typed CRUD and
 * watch on one resource, optionally scoped to a namespace.
 */
import type { KubeList, KubeObject } from '../api/index.js';
import type { FieldSelector, LabelSelector, Status } from '../machinery/index.js';
import type { ResourceDescriptor } from './resources.js';

export interface RequestOptions {
  /** Aborts the request (and, for a watch, the stream). */
  signal?: AbortSignal;
  /** Overrides the client's request timeout for this call; 0 means none. */
  timeoutMs?: number;
}

export interface SelectorOptions {
  labelSelector?: string | LabelSelector;
  fieldSelector?: string | FieldSelector;
}

export interface ListOptions extends SelectorOptions, RequestOptions {
  limit?: number;
  continue?: string;
  /** "" (default): a consistent read; "0": any recent state (served from the watch cache); N: not older than N. */
  resourceVersion?: string;
  resourceVersionMatch?: 'NotOlderThan' | 'Exact';
}

export interface ListAllOptions extends Omit<ListOptions, 'limit' | 'continue'> {
  /** Items per page (default 500, as kubectl and client-go's pager). */
  pageSize?: number;
}

export interface GetOptions extends RequestOptions {
  resourceVersion?: string;
}

export interface WriteOptions extends RequestOptions {
  dryRun?: boolean;
  fieldManager?: string;
  fieldValidation?: 'Ignore' | 'Warn' | 'Strict';
}

/** `json`: RFC 6902; `merge`: RFC 7386; `strategic`: Kubernetes strategic merge; `apply`: server-side apply. */
export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

export const patchContentTypes: Record<PatchType, string> = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
};

export interface PatchOptions extends WriteOptions {
  /** Patch a subresource (e.g. `status`, `scale`) instead of the object. */
  subresource?: string;
  /** Server-side apply: take ownership of conflicting fields. */
  force?: boolean;
}

export interface DeleteOptions extends RequestOptions {
  gracePeriodSeconds?: number;
  /** The delete only happens if the object still has this uid / resourceVersion (409 otherwise). */
  preconditions?: { uid?: string; resourceVersion?: string };
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  orphanDependents?: boolean;
  dryRun?: boolean;
}

export interface WatchOptions extends SelectorOptions, RequestOptions {
  /** Changes after this version; unset: ADDED for the current state first, then changes. */
  resourceVersion?: string;
  allowWatchBookmarks?: boolean;
  /** Ask the server to end the watch after this long (it ends cleanly; resume from the last version). */
  timeoutSeconds?: number;
  sendInitialEvents?: boolean;
}

/** One event of a watch. ERROR carries a Status (410 Expired: re-list). */
export type WatchEvent<T> = { type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK'; object: T } | { type: 'ERROR'; object: Status };

/**
 * An open watch. Iterate it for events; iteration ends when the server closes the stream
 * (e.g. its timeout), and throws on a broken connection. `stop()` closes it from this side
 * (iteration then ends quietly). One consumer only.
 */
export interface WatchStream<T> extends AsyncIterable<WatchEvent<T>> {
  stop(): void;
}

/**
 * Typed access to one resource. Methods that take a name need a namespace for namespaced
 * resources: the client's scope (`inNamespace`), or for create/update the object's own
 * `metadata.namespace`. Without a scope, list and watch span all namespaces.
 *
 * Errors: a failed request rejects with a lib/machinery StatusError (use isNotFound,
 * isConflict, ...); a request that never got an answer rejects with a TransportError.
 * Objects returned are the caller's own (freshly decoded, never shared).
 */
export interface ResourceClient<T extends KubeObject> {
  readonly descriptor: ResourceDescriptor<T>;
  /** The namespace this client is scoped to, if any. */
  readonly namespace: string | undefined;
  inNamespace(namespace: string | undefined): ResourceClient<T>;

  get(name: string, opts?: GetOptions): Promise<T>;
  /** One page (or the whole list when no limit is given). */
  list(opts?: ListOptions): Promise<KubeList<T>>;
  /** Every page, concatenated; the resourceVersion is the first page's (one snapshot). */
  listAll(opts?: ListAllOptions): Promise<KubeList<T>>;
  create(obj: T, opts?: WriteOptions): Promise<T>;
  /** PUT; conditional on `metadata.resourceVersion` when set (409 Conflict if stale). */
  update(obj: T, opts?: WriteOptions): Promise<T>;
  updateStatus(obj: T, opts?: WriteOptions): Promise<T>;
  patch(name: string, type: PatchType, patch: unknown, opts?: PatchOptions): Promise<T>;
  /** Server-side apply of `obj` (PATCH application/apply-patch+yaml). */
  apply(obj: T, opts: PatchOptions & { fieldManager: string }): Promise<T>;
  /** Returns the object as the server last wrote it (with deletionTimestamp when graceful), or a Status. */
  delete(name: string, opts?: DeleteOptions): Promise<T | Status>;
  deleteCollection(opts?: ListOptions, deleteOpts?: DeleteOptions): Promise<KubeList<T>>;
  /** Resolves once the server accepted the watch; rejects with a StatusError (e.g. 410) if not. */
  watch(opts?: WatchOptions): Promise<WatchStream<T>>;

  /** GET/PUT/POST on a subresource (e.g. `scale`, `binding`, `eviction`). */
  getSubresource<R = unknown>(name: string, subresource: string, opts?: RequestOptions): Promise<R>;
  updateSubresource<R = T>(name: string, subresource: string, body: unknown, opts?: WriteOptions): Promise<R>;
  createSubresource<R = unknown>(name: string, subresource: string, body: unknown, opts?: WriteOptions): Promise<R>;
}

/** What components take: anything that hands out resource clients (the REST client or the fake). */
export interface KubeClient {
  resource<T extends KubeObject>(d: ResourceDescriptor<T>, namespace?: string): ResourceClient<T>;
}

/** What a Reflector needs: list and watch on one resource and scope. */
export interface ListerWatcher<T extends KubeObject> {
  list(opts?: ListOptions): Promise<KubeList<T>>;
  watch(opts?: WatchOptions): Promise<WatchStream<T>>;
}

export function selectorString(s: string | LabelSelector | FieldSelector | undefined): string | undefined {
  if (s === undefined) return undefined;
  if (typeof s !== 'string' && s.requirements.length === 0 && !s.isEmpty()) {
    // labelSelectorFromObject(undefined): upstream's nil selector. No query string expresses it.
    throw new Error('a label selector that selects nothing cannot be sent to the API server; skip the request instead');
  }
  const v = typeof s === 'string' ? s : s.toString();
  return v === '' ? undefined : v;
}
