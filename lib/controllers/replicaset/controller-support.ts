/**
 * Small pieces every workload controller needs: slow-start batches, int-or-percent values,
 * informer indexes that tolerate being asked for twice, events about objects that lack their
 * type fields, and the start-up sequence (handlers → cache sync → workers → clean stop).
 */
import type { Logger } from 'pino';
import type { KubeObject } from '../../api/index.js';
import type { EventRecorder, EventType, HandlerRegistration, SharedInformer } from '../../client/index.js';
import { waitForCacheSync } from '../../client/index.js';
import { runWorkers, type RateLimitingQueue, type Reconciler } from '../../controller/index.js';
import { StatusError } from '../../machinery/index.js';

/** The first batch of a slow start; batches then double (upstream SlowStartInitialBatchSize). */
export const slowStartInitialBatchSize = 1;

/**
 * Calls `fn` `count` times in batches of 1, 2, 4, ... run in parallel; stops after the first
 * batch with a failure, so that a create that fails (quota, admission) fails once rather than
 * hundreds of times. Returns how many calls succeeded, how many were attempted, and the
 * first error.
 */
export async function slowStartBatch(
  count: number,
  initialBatchSize: number,
  fn: (i: number) => Promise<unknown>,
): Promise<{ successes: number; attempted: number; error?: unknown }> {
  let remaining = count;
  let successes = 0;
  let next = 0;
  for (let batch = Math.min(remaining, initialBatchSize); batch > 0; batch = Math.min(2 * batch, remaining)) {
    const results = await Promise.allSettled(Array.from({ length: batch }, () => fn(next++)));
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    successes += batch - failed.length;
    if (failed.length > 0) return { successes, attempted: next, error: failed[0]!.reason };
    remaining -= batch;
  }
  return { successes, attempted: next };
}

/**
 * An IntOrString as a count: numbers as they are, "25%" of `total` rounded up or down
 * (upstream GetScaledValueFromIntOrPercent). Throws on anything else.
 */
export function scaledValueFromIntOrPercent(v: number | string | undefined | null, total: number, roundUp: boolean): number {
  if (v === undefined || v === null) throw new Error('nil value for IntOrString');
  if (typeof v === 'number') return v;
  const m = /^(-?\d+)%$/.exec(v);
  if (!m) throw new Error(`invalid value for IntOrString: invalid type: string is not a percentage: ${JSON.stringify(v)}`);
  const pct = Number(m[1]);
  const x = (pct * total) / 100;
  return roundUp ? Math.ceil(x) : Math.floor(x);
}

/** Adds an index unless an index of that name exists (informers are shared; another controller may have added it). */
export function ensureIndex<T extends KubeObject>(informer: SharedInformer<T>, name: string, fn: (obj: T) => string[]): void {
  try {
    informer.addIndexers({ [name]: fn });
  } catch (err) {
    if (!(err instanceof Error) || !/already exists/.test(err.message)) throw err;
  }
}

/** Index of objects by the uid of their controller (the owner reference with controller: true). */
export const controllerUIDIndex = 'controllerUID';
export function indexByControllerUID(obj: KubeObject): string[] {
  const ref = obj.metadata.ownerReferences?.find((r) => r.controller === true);
  return ref ? [ref.uid] : [];
}

/** Records an event about `obj`, supplying the type fields that objects from lists may lack. */
export function recordEvent(recorder: EventRecorder, obj: KubeObject, apiVersion: string, kind: string, type: EventType, reason: string, message: string): void {
  recorder.event({ ...obj, apiVersion: obj.apiVersion ?? apiVersion, kind: obj.kind ?? kind }, type, reason, message);
}

/** True when a create failed because the namespace is being deleted (all further creates will fail too). */
export function isNamespaceTerminating(err: unknown): boolean {
  return err instanceof StatusError && (err.status.details?.causes ?? []).some((c) => c.reason === 'NamespaceTerminating');
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export interface RunControllerOptions {
  name: string;
  log: Logger;
  queue: RateLimitingQueue<string>;
  workers: number;
  informers: { waitForCacheSync(signal?: AbortSignal): Promise<boolean> }[];
  /** Registers the event handlers; called once the controller starts. */
  register(): HandlerRegistration[];
  reconcile: Reconciler<string>;
}

/**
 * The life of a controller: register handlers, wait for every informer it reads to sync (a
 * controller acting on a partial cache would create what already exists), run the workers
 * until `signal` aborts, then remove the handlers and shut the queue down.
 */
export async function runController(signal: AbortSignal, o: RunControllerOptions): Promise<void> {
  const regs = o.register();
  try {
    o.log.info({ controller: o.name }, 'starting controller');
    if (!(await waitForCacheSync(signal, ...o.informers))) return;
    o.log.info({ controller: o.name, workers: o.workers }, 'caches synced; workers running');
    await runWorkers(o.queue, o.workers, o.reconcile, signal, { log: o.log, name: o.name });
  } finally {
    for (const r of regs) r.remove();
    o.queue.shutDown();
    o.log.info({ controller: o.name }, 'controller stopped');
  }
}

/**
 * Runs calls for the same key one after another. The work queue already hands a key to one
 * worker at a time; this keeps the guarantee for syncs started any other way (tests, a second
 * caller), because a second sync that ran before the first one recorded its expectations
 * would create the same pods again.
 */
export class KeyedSerializer {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<R>(key: string, fn: () => Promise<R>): Promise<R> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return next;
  }
}
