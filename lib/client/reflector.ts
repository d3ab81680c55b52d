/**
 * Reflector: keeps a sink (an informer's store) equal to the server's state of one resource.
 *
 *   list ──► replace(sink) ──► watch from the list's resourceVersion ──► add/update/delete
 *     ▲                              │ stream ends / connection lost: watch again from the
 *     │                              │ last resourceVersion seen (events and bookmarks), with backoff
 *     └── 410 Expired/Gone ──────────┘ (history compacted): list again, a consistent read,
 *                                        and replace: the sink computes the deltas
 *
 * The first list asks for resourceVersion "0" (served from the API server's watch cache);
 * a re-list after 410 asks for "" (a consistent read from etcd); a re-list after other
 * refusals (4xx) asks for "not older than" the last version seen. Connection failures, 429 and
 * 5xx answers resume the watch from the last version instead: they say nothing against it. Failures back off exponentially
 * (800ms doubling to 30s, jittered, as client-go), reset once things work again.
 */
import type { Logger } from 'pino';
import type { KubeList, KubeObject } from '../api/index.js';
import { Backoff, realClock, silentLogger, type Clock } from '../base/index.js';
import { StatusError, isGone, isTooManyRequests, statusErrorFromBody } from '../machinery/index.js';
import type { ListerWatcher, ListOptions, WatchStream } from './interface.js';
import { listAllPages } from './pager.js';
import type { ReflectorSink } from './store.js';
import { isAbortError, isTransportError } from './transport.js';
import { minWatchTimeoutSeconds } from './rest-client.js';

export interface ReflectorOptions<T extends KubeObject> {
  lw: ListerWatcher<T>;
  sink: ReflectorSink<T>;
  /** For logs, e.g. `pods`. */
  name: string;
  log?: Logger;
  clock?: Clock;
  /** Items per list page (default 500). */
  pageSize?: number;
  /** Server-side watch timeout; default a random value between 5 and 10 minutes, as client-go. */
  watchTimeoutSeconds?: () => number;
  /** Backoff after failures: initial and maximum delay (ms). Defaults 800 and 30000. */
  backoffInitialMs?: number;
  backoffMaxMs?: number;
}

/** A 410 in any of its forms: reason Expired or Gone, or just the code. */
export function isResourceExpired(err: unknown): boolean {
  return isGone(err) || (err instanceof StatusError && err.code === 410);
}

export class Reflector<T extends KubeObject> {
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly backoff: Backoff;
  private lastRV = '';
  /** The last version seen is gone from the server's history: the next list must be consistent. */
  private lastRVUnavailable = false;
  private synced = false;
  /** Counters, for tests and status pages. */
  readonly stats = { lists: 0, watches: 0, events: 0, expired: 0 };

  constructor(private readonly o: ReflectorOptions<T>) {
    this.log = o.log ?? silentLogger();
    this.clock = o.clock ?? realClock;
    this.backoff = new Backoff(o.backoffInitialMs ?? 800, o.backoffMaxMs ?? 30_000, 2, 1);
  }

  /** The resourceVersion of the last list, event or bookmark applied. */
  get lastSyncResourceVersion(): string {
    return this.lastRV;
  }

  /** True once the first list has been written to the sink. */
  hasSynced(): boolean {
    return this.synced;
  }

  private relistResourceVersion(): string {
    if (this.lastRVUnavailable) return '';
    return this.lastRV === '' ? '0' : this.lastRV;
  }

  private watchTimeout(): number {
    return this.o.watchTimeoutSeconds?.() ?? Math.floor(minWatchTimeoutSeconds * (1 + Math.random()));
  }

  private async pause(signal: AbortSignal): Promise<void> {
    await this.clock.sleep(this.backoff.next(), signal);
  }

  /** Runs until `signal` aborts. Never rejects: failures are logged and retried. */
  async start(signal: AbortSignal): Promise<void> {
    let needList = true;
    while (!signal.aborted) {
      if (needList) {
        const rv = this.relistResourceVersion();
        let list: KubeList<T>;
        try {
          this.stats.lists++;
          list = await listAllPages((o: ListOptions) => this.o.lw.list(o), { resourceVersion: rv, pageSize: this.o.pageSize, signal });
        } catch (err) {
          if (signal.aborted) break;
          if (isResourceExpired(err)) {
            // Asked for "not older than" a version the server no longer has: ask for the latest.
            this.lastRVUnavailable = true;
            this.log.info({ resource: this.o.name, resourceVersion: rv }, 'list: resource version expired; listing again');
          } else {
            this.log.warn({ resource: this.o.name, err: errText(err) }, 'list failed; backing off');
          }
          await this.pause(signal);
          continue;
        }
        if (signal.aborted) break;
        const listRV = list.metadata.resourceVersion ?? '';
        this.o.sink.replace(list.items, listRV);
        this.lastRV = listRV;
        this.lastRVUnavailable = false;
        this.synced = true;
        needList = false;
        this.log.debug({ resource: this.o.name, resourceVersion: listRV, items: list.items.length }, 'listed');
      }

      const outcome = await this.watchOnce(signal);
      if (signal.aborted) break;
      switch (outcome) {
        case 'ended':
          break;
        case 'short':
        case 'retry':
          await this.pause(signal);
          break;
        case 'expired':
          this.stats.expired++;
          this.lastRVUnavailable = true;
          needList = true;
          break;
        case 'relist':
          needList = true;
          await this.pause(signal);
          break;
      }
    }
  }

  /**
   * One watch from the last version. 'ended': closed cleanly after doing something, watch again
   * at once; 'short': closed at once with nothing (back off); 'retry': connection trouble,
   * watch again after a pause; 'expired': 410, re-list; 'relist': any other error.
   */
  private async watchOnce(signal: AbortSignal): Promise<'ended' | 'short' | 'retry' | 'expired' | 'relist'> {
    let stream: WatchStream<T>;
    const from = this.lastRV;
    try {
      this.stats.watches++;
      stream = await this.o.lw.watch({ resourceVersion: from, allowWatchBookmarks: true, timeoutSeconds: this.watchTimeout(), signal, timeoutMs: 60_000 });
    } catch (err) {
      if (signal.aborted || isAbortError(err)) return 'retry';
      if (isResourceExpired(err)) {
        this.log.info({ resource: this.o.name, resourceVersion: from }, 'watch: resource version expired; listing again');
        return 'expired';
      }
      // No answer, too busy, or a server error (e.g. 503 while it shuts down): none of these
      // says the last version is unusable, so resume the watch rather than pay for a re-list.
      if (isTransportError(err) || isTooManyRequests(err) || (err instanceof StatusError && err.code >= 500)) {
        this.log.info({ resource: this.o.name, err: errText(err) }, 'watch could not start; retrying');
        return 'retry';
      }
      this.log.warn({ resource: this.o.name, err: errText(err) }, 'watch refused; listing again');
      return 'relist';
    }
    if (signal.aborted) {
      stream.stop();
      return 'ended';
    }
    const started = this.clock.now();
    let received = 0;
    try {
      for await (const ev of stream) {
        if (signal.aborted) break;
        if (ev.type === 'ERROR') {
          const err = statusErrorFromBody(ev.object, ev.object.code ?? 500);
          if (isResourceExpired(err)) {
            this.log.info({ resource: this.o.name, resourceVersion: this.lastRV, message: err.message }, 'watch: resource version expired; listing again');
            return 'expired';
          }
          // Anything else (e.g. the API server shutting down) breaks the stream: resume it.
          this.log.info({ resource: this.o.name, err: err.message, code: err.code }, 'watch ended with an error; resuming');
          return 'retry';
        }
        const rv = ev.object.metadata?.resourceVersion;
        received++;
        if (ev.type !== 'BOOKMARK') {
          this.stats.events++;
          if (ev.type === 'ADDED') this.o.sink.add(ev.object);
          else if (ev.type === 'MODIFIED') this.o.sink.update(ev.object);
          else this.o.sink.delete(ev.object);
        }
        if (rv) this.lastRV = rv;
        this.backoff.reset();
      }
    } catch (err) {
      if (signal.aborted) return 'ended';
      this.log.info({ resource: this.o.name, err: errText(err), resourceVersion: this.lastRV }, 'watch broke off; resuming');
      return 'retry';
    } finally {
      stream.stop();
    }
    if (received === 0 && this.clock.now() - started < 1000) return 'short';
    return 'ended';
  }
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
