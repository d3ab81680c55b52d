/**
 * Events: what components tell users about objects (`kubectl describe` shows them). A recorder
 * never blocks its caller: `recorder.event(...)` queues the event and returns; the broadcaster
 * writes queued events to the API server one at a time, in order.
 *
 * Before writing, each event goes through the correlator, after client-go's:
 *  - aggregation: more than 10 events in 10 minutes about one object that differ only in their
 *    message become one event, "(combined from similar events): <latest message>";
 *  - deduplication: a repeat of an event already written (same object, type, reason, message
 *    and source) within 10 minutes of its last occurrence is a PATCH of that Event's count
 *    (+1) and lastTimestamp, not a new Event;
 *  - spam filter: each source may write 25 events about one object at once, then one per 5
 *    minutes (a token bucket per source+object), so a hot loop cannot flood etcd.
 * Writes that fail for want of a connection are retried (12 tries, 10s apart, the first
 * jittered); writes the server refuses are dropped and logged.
 */
import { format } from 'node:util';
import type { Logger } from 'pino';
import type { Event, KubeObject, ObjectReference } from '../api/index.js';
import { realClock, rfc3339, silentLogger, type Clock, type Runnable } from '../base/index.js';
import { StatusError, isAlreadyExists, isNotFound } from '../machinery/index.js';
import type { KubeClient } from './interface.js';
import { Resources } from './resources.js';
import { TokenBucket } from './flowcontrol.js';

export type EventType = 'Normal' | 'Warning';

export interface EventSource {
  /** The component writing, e.g. `scheduler`, `kubelet`, `replicaset-controller`. */
  component: string;
  /** The node it runs on, if that matters (kubelets). */
  host?: string;
}

export interface EventRecorder {
  /** Records an event about `obj` (an object, or an ObjectReference for a field path such as `spec.containers{web}`). */
  event(obj: KubeObject | ObjectReference, type: EventType, reason: string, message: string): void;
  /** As `event`, with printf-style formatting (%s, %d, %v, %q). */
  eventf(obj: KubeObject | ObjectReference, type: EventType, reason: string, messageFmt: string, ...args: unknown[]): void;
}

/** Formats Go-style verbs: %v and %s as text, %d as a number, %q as a quoted string, %% as %. */
export function formatMessage(fmt: string, args: unknown[]): string {
  let i = 0;
  const text = (v: unknown) => (typeof v === 'string' ? v : v instanceof Error ? v.message : typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v));
  const out = fmt.replace(/%([vsdq%])/g, (m, verb: string) => {
    if (verb === '%') return '%';
    if (i >= args.length) return `%!${verb}(MISSING)`;
    const v = args[i++];
    if (verb === 'q') return JSON.stringify(text(v));
    if (verb === 'd') return typeof v === 'number' || typeof v === 'bigint' ? String(v) : format('%d', v);
    return text(v);
  });
  return i < args.length ? `${out}%!(EXTRA ${args.slice(i).map(text).join(', ')})` : out;
}

function isReference(o: KubeObject | ObjectReference): o is ObjectReference {
  return !(o as KubeObject).metadata;
}

/** The ObjectReference an event points at; undefined if the object lacks kind or name. */
export function referenceOf(obj: KubeObject | ObjectReference): ObjectReference | undefined {
  if (isReference(obj)) return obj.kind && obj.name ? { ...obj } : undefined;
  const m = obj.metadata;
  if (!obj.kind || !obj.apiVersion || !m.name) return undefined;
  const ref: ObjectReference = { kind: obj.kind, name: m.name, apiVersion: obj.apiVersion };
  if (m.namespace) ref.namespace = m.namespace;
  if (m.uid) ref.uid = m.uid;
  if (m.resourceVersion) ref.resourceVersion = m.resourceVersion;
  return ref;
}

// ---- correlator -------------------------------------------------------------------

export interface CorrelatorOptions {
  clock: Clock;
  /** Entries kept per cache (default 4096). */
  cacheSize: number;
  /** Spam filter: burst and refill rate per source+object (defaults 25 and 1/300 per second). */
  spamBurst: number;
  spamQPS: number;
  /** Aggregation: distinct messages before combining (default 10) within this window (default 10 minutes). */
  maxEvents: number;
  maxIntervalMs: number;
}

export const defaultCorrelatorOptions: Omit<CorrelatorOptions, 'clock'> = {
  cacheSize: 4096,
  spamBurst: 25,
  spamQPS: 1 / 300,
  maxEvents: 10,
  maxIntervalMs: 10 * 60 * 1000,
};

/** A Map that forgets its least recently used entries beyond `max`. */
class LRU<K, V> {
  private m = new Map<K, V>();
  constructor(private readonly max: number) {}
  get(k: K): V | undefined {
    const v = this.m.get(k);
    if (v !== undefined) {
      this.m.delete(k);
      this.m.set(k, v);
    }
    return v;
  }
  set(k: K, v: V): void {
    this.m.delete(k);
    this.m.set(k, v);
    if (this.m.size > this.max) this.m.delete(this.m.keys().next().value as K);
  }
}

function sourceObjectKey(e: Event): string {
  const o = e.involvedObject;
  return [e.source?.component, e.source?.host, o.kind, o.namespace, o.name, o.uid, o.apiVersion].join('\x00');
}

function aggregateKey(e: Event): string {
  return [sourceObjectKey(e), e.type, e.reason, e.reportingComponent, e.reportingInstance].join('\x00');
}

function eventKey(e: Event): string {
  const o = e.involvedObject;
  return [e.source?.component, e.source?.host, o.kind, o.namespace, o.name, o.fieldPath, o.uid, o.apiVersion, e.type, e.reason, e.message].join('\x00');
}

interface Observation {
  count: number;
  firstTimestamp: string;
  name: string;
  resourceVersion?: string;
  lastSeen: number;
}

export interface CorrelateResult {
  event: Event;
  /** When set, PATCH the existing Event with this (strategic merge) instead of creating one. */
  patch?: { count: number; lastTimestamp: string; message?: string };
  /** Dropped by the spam filter. */
  skip: boolean;
}

export class EventCorrelator {
  private readonly o: CorrelatorOptions;
  private readonly spam: LRU<string, TokenBucket>;
  private readonly aggregates: LRU<string, { messages: Set<string>; last: number }>;
  private readonly observations: LRU<string, Observation>;

  constructor(opts: Partial<CorrelatorOptions> = {}) {
    this.o = { clock: realClock, ...defaultCorrelatorOptions, ...opts };
    this.spam = new LRU(this.o.cacheSize);
    this.aggregates = new LRU(this.o.cacheSize);
    this.observations = new LRU(this.o.cacheSize);
  }

  correlate(input: Event): CorrelateResult {
    const now = this.o.clock.now();
    // Aggregation: many similar events differing only by message collapse into one.
    let event = input;
    let key = eventKey(input);
    const aKey = aggregateKey(input);
    let agg = this.aggregates.get(aKey);
    if (!agg || now - agg.last > this.o.maxIntervalMs) agg = { messages: new Set(), last: now };
    agg.messages.add(input.message ?? '');
    agg.last = now;
    this.aggregates.set(aKey, agg);
    if (agg.messages.size >= this.o.maxEvents) {
      const first = agg.messages.values().next().value as string;
      agg.messages.delete(first);
      event = { ...input, message: `(combined from similar events): ${input.message ?? ''}` };
      key = aKey;
    }

    // Deduplication: a repeat within the window becomes a count bump of the Event written before.
    const seen = this.observations.get(key);
    let patch: CorrelateResult['patch'];
    if (seen && now - seen.lastSeen <= this.o.maxIntervalMs) {
      event = {
        ...event,
        metadata: { ...event.metadata, name: seen.name, resourceVersion: seen.resourceVersion },
        firstTimestamp: seen.firstTimestamp,
        count: seen.count + 1,
      };
      patch = { count: event.count!, lastTimestamp: event.lastTimestamp!, message: event.message };
    }
    this.observations.set(key, {
      count: event.count ?? 1,
      firstTimestamp: event.firstTimestamp ?? rfc3339(now),
      name: event.metadata.name!,
      resourceVersion: event.metadata.resourceVersion,
      lastSeen: now,
    });

    // Spam filter, per source and object.
    const sKey = sourceObjectKey(event);
    let bucket = this.spam.get(sKey);
    if (!bucket) bucket = new TokenBucket(this.o.spamQPS, this.o.spamBurst, this.o.clock);
    this.spam.set(sKey, bucket);
    if (!bucket.tryAccept()) return { event, skip: true };
    return { event, patch, skip: false };
  }

  /** Records what the server holds after a write, so the next repeat patches the right Event. */
  updateState(written: Event): void {
    const key = eventKey(written);
    const prev = this.observations.get(key);
    this.observations.set(key, {
      count: written.count ?? 1,
      firstTimestamp: written.firstTimestamp ?? '',
      name: written.metadata.name!,
      resourceVersion: written.metadata.resourceVersion,
      lastSeen: prev?.lastSeen ?? this.o.clock.now(),
    });
  }
}

// ---- broadcaster -----------------------------------------------------------------------

export interface EventBroadcasterOptions {
  client: KubeClient;
  log?: Logger;
  clock?: Clock;
  /** Events waiting to be written beyond which new ones are dropped (default 1000, as upstream). */
  maxQueued?: number;
  /** Tries per event when the API server cannot be reached (default 12), and the pause between them (default 10s). */
  maxTries?: number;
  retryDelayMs?: number;
  correlator?: Partial<Omit<CorrelatorOptions, 'clock'>>;
}

/**
 * Owns the queue of events and the loop that writes them (`start`). Make one per program and
 * hand its recorders to components. Events recorded before `start` wait in the queue; events
 * still queued when the signal aborts are dropped.
 */
export class EventBroadcaster implements Runnable {
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly correlator: EventCorrelator;
  private queue: Event[] = [];
  private wake?: () => void;
  private busy = false;
  private idleWaiters: (() => void)[] = [];
  private seq = 0;
  private dropped = 0;
  /** Counters, for tests and metrics. */
  readonly stats = { created: 0, patched: 0, skipped: 0, failed: 0, dropped: 0 };

  constructor(private readonly o: EventBroadcasterOptions) {
    this.log = o.log ?? silentLogger();
    this.clock = o.clock ?? realClock;
    this.correlator = new EventCorrelator({ ...(o.correlator ?? {}), clock: this.clock });
  }

  newRecorder(source: EventSource): EventRecorder {
    const record = (obj: KubeObject | ObjectReference, type: EventType, reason: string, message: string) => this.record(source, obj, type, reason, message);
    return {
      event: record,
      eventf: (obj, type, reason, fmt, ...args) => record(obj, type, reason, formatMessage(fmt, args)),
    };
  }

  private uniqueSuffix(): string {
    // Upstream uses the time in nanoseconds, in hex; a counter keeps names unique within a millisecond.
    const nanos = BigInt(Math.floor(this.clock.now())) * 1_000_000n + BigInt(this.seq++ % 1_000_000);
    return nanos.toString(16);
  }

  private record(source: EventSource, obj: KubeObject | ObjectReference, type: EventType, reason: string, message: string): void {
    if (type !== 'Normal' && type !== 'Warning') {
      this.log.error({ type, reason }, 'unsupported event type; event dropped');
      return;
    }
    const ref = referenceOf(obj);
    if (!ref) {
      this.log.error({ reason, object: isReference(obj) ? obj : obj.metadata }, 'cannot reference the object (needs kind, apiVersion and name); event dropped');
      return;
    }
    const now = rfc3339(this.clock.now());
    const event: Event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${ref.name}.${this.uniqueSuffix()}`, namespace: ref.namespace || 'default' },
      involvedObject: ref,
      reason,
      message,
      type,
      source: source.host ? { component: source.component, host: source.host } : { component: source.component },
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
      reportingComponent: source.component,
      reportingInstance: source.host ?? '',
    };
    this.log.debug({ object: `${ref.kind}/${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`, type, reason, message }, 'event');
    if (this.queue.length >= (this.o.maxQueued ?? 1000)) {
      this.stats.dropped++;
      if (this.dropped++ % 100 === 0) this.log.warn({ dropped: this.dropped }, 'event queue full; dropping events');
      return;
    }
    this.queue.push(event);
    this.wake?.();
  }

  /** Resolves once every event queued so far has been written, dropped or given up on. */
  flush(): Promise<void> {
    if (this.queue.length === 0 && !this.busy) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /** Writes queued events until `signal` aborts. */
  async start(signal: AbortSignal): Promise<void> {
    const onAbort = () => this.wake?.();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      while (!signal.aborted) {
        const ev = this.queue.shift();
        if (!ev) {
          this.notifyIdle();
          await new Promise<void>((r) => (this.wake = r));
          this.wake = undefined;
          continue;
        }
        this.busy = true;
        try {
          await this.write(ev, signal);
        } finally {
          this.busy = false;
        }
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
      if (this.queue.length > 0) this.log.info({ events: this.queue.length }, 'stopping; queued events dropped');
      this.queue = [];
      this.notifyIdle();
    }
  }

  private notifyIdle(): void {
    if (this.queue.length > 0 || this.busy) return;
    const ws = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of ws) w();
  }

  private async write(input: Event, signal: AbortSignal): Promise<void> {
    const result = this.correlator.correlate(input);
    if (result.skip) {
      this.stats.skipped++;
      this.log.debug({ reason: input.reason, object: input.involvedObject.name }, 'event dropped by the spam filter');
      return;
    }
    const maxTries = this.o.maxTries ?? 12;
    const delay = this.o.retryDelayMs ?? 10_000;
    const events = this.o.client.resource(Resources.events, result.event.metadata.namespace);
    for (let attempt = 1; attempt <= maxTries && !signal.aborted; attempt++) {
      try {
        let written: Event | undefined;
        if (result.patch) {
          try {
            written = await events.patch(result.event.metadata.name!, 'strategic', result.patch, { signal });
            this.stats.patched++;
          } catch (err) {
            // Deleted meanwhile (events have a TTL): write it anew.
            if (!isNotFound(err)) throw err;
          }
        }
        if (!written) {
          written = await events.create({ ...result.event, metadata: { ...result.event.metadata, resourceVersion: undefined } }, { signal });
          this.stats.created++;
        }
        this.correlator.updateState(written);
        return;
      } catch (err) {
        if (signal.aborted) return;
        if (err instanceof StatusError) {
          // The server answered: something about the event is wrong; trying again will not help.
          if (!isAlreadyExists(err)) this.log.error({ err: err.message, reason: input.reason, object: input.involvedObject.name }, 'server rejected event; not retrying');
          this.stats.failed++;
          return;
        }
        if (attempt === maxTries) break;
        const wait = attempt === 1 ? delay * Math.random() : delay;
        this.log.warn({ err: (err as Error).message, attempt, retryInMs: Math.round(wait) }, 'cannot write event; retrying');
        await this.clock.sleep(wait, signal);
      }
    }
    this.stats.failed++;
    this.log.error({ reason: input.reason, object: input.involvedObject.name, tries: maxTries }, 'giving up on event');
  }
}
