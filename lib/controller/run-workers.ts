/**
 * The reconcile loop of a controller: `n` workers take keys from a rate-limited queue and call
 * `reconcile(key)`. Success forgets the key's backoff; a thrown error requeues it with the
 * queue's rate limiter (5ms doubling to 1000s by default); a result may ask for a requeue.
 * Reconcile must be idempotent and level-triggered: it reads the current state (from listers)
 * and moves the world toward it, whatever events led there.
 */
import type { Logger } from 'pino';
import { silentLogger } from '../base/index.js';
import type { RateLimitingQueue } from './work-queue.js';

export type ReconcileResult = void | {
  /** Requeue with the rate limiter (counts as a failure for backoff). */
  requeue?: boolean;
  /** Requeue after this long (and forget the backoff), e.g. to check again at a deadline. */
  requeueAfterMs?: number;
};

export type Reconciler<T> = (key: T, signal: AbortSignal) => Promise<ReconcileResult> | ReconcileResult;

export interface RunWorkersOptions {
  log?: Logger;
  /** Controller name, for logs. */
  name?: string;
}

/**
 * Runs `workers` concurrent workers until `signal` aborts; then shuts the queue down, lets each
 * worker finish the key it holds (keys still queued are left alone) and resolves.
 */
export async function runWorkers<T>(queue: RateLimitingQueue<T>, workers: number, reconcile: Reconciler<T>, signal: AbortSignal, opts: RunWorkersOptions = {}): Promise<void> {
  const log = opts.log ?? silentLogger();
  const onAbort = () => queue.shutDown();
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });

  async function worker(): Promise<void> {
    for (;;) {
      const got = await queue.get();
      if (got.shutdown) return;
      const key = got.item;
      if (signal.aborted) {
        queue.done(key);
        return;
      }
      try {
        const result = await reconcile(key, signal);
        if (result && result.requeueAfterMs !== undefined) {
          queue.forget(key);
          queue.addAfter(key, result.requeueAfterMs);
        } else if (result && result.requeue) {
          queue.addRateLimited(key);
        } else {
          queue.forget(key);
        }
      } catch (err) {
        const requeues = queue.numRequeues(key);
        log.info({ controller: opts.name, key, err, requeues }, 'reconcile failed; requeued with backoff');
        queue.addRateLimited(key);
      } finally {
        queue.done(key);
      }
    }
  }

  try {
    await Promise.all(Array.from({ length: Math.max(1, workers) }, () => worker()));
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}
