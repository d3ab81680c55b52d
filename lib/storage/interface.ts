import type { KubeObject } from '../api/index.js';

/**
 * Storage: the narrow interface between the registry and a key-value store (etcd), after
 * Kubernetes' storage.Interface.
 *
 * Guarantees:
 *  - Every object returned carries `metadata.resourceVersion` = the store revision of its
 *    last write (for DELETED watch events and delete results: the revision of the delete).
 *  - `create` is atomic: it fails with KeyExists if the key is present.
 *  - `update`/`delete` with a precondition are compare-and-swap: they fail with Conflict when the
 *    key changed since that revision. `guaranteedUpdate` without a precondition retries
 *    `tryUpdate` against the latest value until it wins, so no concurrent update is lost.
 *  - A watch from revision R delivers every change with revision > R under its prefix,
 *    in revision order, each exactly once, or fails with Expired if R is compacted.
 * Concurrency: all methods may be called concurrently.
 */
export interface Storage {
  create(key: string, obj: KubeObject, opts?: { ttlSeconds?: number }): Promise<KubeObject>;
  /** Returns null when the key does not exist. */
  get(key: string): Promise<KubeObject | null>;
  list(prefix: string, opts?: ListOptions): Promise<ListResult>;
  /**
   * Reads the current object, calls `tryUpdate` with it (null if absent), and writes what it
   * returns with a compare-and-swap, retrying on conflicts with a fresh read. Throwing from
   * `tryUpdate` aborts. With `expectedRevision`, a stale object fails with Conflict instead
   * of being retried.
   */
  guaranteedUpdate(
    key: string,
    tryUpdate: (current: KubeObject | null) => Promise<KubeObject | typeof DELETE | typeof NOCHANGE> | KubeObject | typeof DELETE | typeof NOCHANGE,
    opts?: { expectedRevision?: number; ttlSeconds?: number },
  ): Promise<{ object: KubeObject; deleted: boolean }>;
  /** Deletes the key; with `expectedRevision`, only if unchanged since. Returns the deleted object. */
  delete(key: string, opts?: { expectedRevision?: number }): Promise<KubeObject>;
  /** Starts a watch of every key under `prefix` after `fromRevision`. */
  watch(prefix: string, fromRevision: number, handler: WatchHandler): WatchHandle;
  /** The store's current revision. */
  currentRevision(): Promise<number>;
  /** Counts keys under a prefix. */
  count(prefix: string): Promise<number>;
  /** Removes history up to (not including) `revision`; used by tests and maintenance. */
  compact(revision: number): Promise<void>;
  close(): Promise<void>;
}

/** Returned by a tryUpdate to delete the object in the same compare-and-swap. */
export const DELETE = Symbol('delete');
/** Returned by a tryUpdate to leave the object as it is. */
export const NOCHANGE = Symbol('nochange');

export interface ListOptions {
  /** Read at this revision (0: latest). Fails with Expired if compacted. */
  revision?: number;
  /** Return at most this many items (0: all). */
  limit?: number;
  /** Start at this key (inclusive); used for paging. */
  startKey?: string;
  /** Only return objects for which this is true; paging fills `limit` with matches. */
  predicate?: (obj: KubeObject) => boolean;
}

export interface ListResult {
  items: KubeObject[];
  /** The key of each item, in the same order. */
  keys: string[];
  /** The revision the list was read at. */
  revision: number;
  /** When more items remain: the key to continue from. */
  nextKey?: string;
  /** When more items remain and no predicate was used: how many. */
  remaining?: number;
}

export type StorageEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StorageEvent {
  type: StorageEventType;
  key: string;
  /**
   * The object after the change (DELETED: the last state). For a handler with
   * `decodeOnDemand`, decoded when first read, which then throws StorageError InvalidObject
   * for a value that cannot be decoded.
   */
  object: KubeObject;
  /**
   * With `decodeOnDemand`, when the store decodes lazily: decodes the object anew at each call,
   * from bytes of the event's own (nothing else of the event or of its watch response is held).
   */
  decodeObject?: () => KubeObject;
  /** The object before this change (MODIFIED and DELETED), when known. */
  prevObject?: KubeObject;
  revision: number;
}

export interface WatchHandler {
  /** A batch of events in revision order. */
  onEvents(events: StorageEvent[]): void;
  /** Progress: every change up to `revision` has been delivered. */
  onProgress?(revision: number): void;
  /** The watch failed for good (e.g. Expired); no more events follow. */
  onError(err: StorageError): void;
  /**
   * Decode each event's object only when it is read (a store may ignore this and decode every
   * event). Without it, an event whose value cannot be decoded is logged and skipped; with it,
   * reading that event's object throws.
   */
  decodeOnDemand?: boolean;
}

export interface WatchHandle {
  stop(): void;
}

export type StorageErrorCode = 'KeyNotFound' | 'KeyExists' | 'Conflict' | 'Expired' | 'Unreachable' | 'InvalidObject' | 'TooLarge';

/** Errors of the storage layer; the registry turns them into API Status errors. */
export class StorageError extends Error {
  override readonly name = 'StorageError';
  constructor(
    readonly code: StorageErrorCode,
    readonly key: string,
    message: string,
    readonly currentRevision?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isStorageError(err: unknown, code?: StorageErrorCode): err is StorageError {
  return err instanceof StorageError && (code === undefined || err.code === code);
}
