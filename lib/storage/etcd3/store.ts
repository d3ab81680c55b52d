/**
 * Etcd3Storage: Storage on etcd v3, after Kubernetes' etcd3/store.go. One key per object,
 * JSON values without metadata.resourceVersion (the key's mod revision is the version),
 * creates and updates as transactions that compare the mod revision.
 */
import { Etcd3, type IOptions } from 'etcd3';
import { ExponentialBackoff, handleWhen, retry, circuitBreaker, ConsecutiveBreaker, wrap } from 'cockatiel';
import type { Logger } from 'pino';
import type { KubeObject } from '../../api/index.js';
import type { ValueTransformer } from '../encryption/transformer.js';
import { encodeForStorage } from '../written.js';
import { GrpcClient, type GrpcError } from './grpc.js';
import type { H2StreamHandle } from './h2.js';
import {
  decodeHeaderRevision,
  decodeRangeResponse,
  decodeTxnResponse,
  decodeWatchResponse,
  encodeCompactionRequest,
  encodeRangeRequest,
  encodeTxnRequest,
  encodeWatchCreateRequest,
  type KeyValue,
  type RangeRequest,
  type RangeResponse,
  type TxnRequest,
  type TxnResponse,
} from './proto.js';
import {
  DELETE,
  NOCHANGE,
  StorageError,
  type ListOptions,
  type ListResult,
  type Storage,
  type StorageEvent,
  type StorageEventType,
  type WatchHandle,
  type WatchHandler,
} from '../interface.js';

export interface Etcd3StorageOptions {
  /** host:port or http://host:port, one per member. */
  endpoints: string[];
  log: Logger;
  /** Observes the latency of each etcd request (for /metrics). */
  observe?: (operation: string, seconds: number) => void;
  /** Largest value etcd accepts (its --max-request-bytes, 1.5 MiB by default). */
  maxValueBytes?: number;
  /** Encryption at rest (lib/storage/encryption): applied to every value written and read. */
  transformer?: ValueTransformer;
  /**
   * TLS towards etcd (--etcd-cafile, --etcd-certfile, --etcd-keyfile): the CA that signs the
   * members' serving certificates (the system roots when absent) and the client certificate they
   * require with --client-cert-auth. Given, or with https:// endpoints, the client speaks TLS.
   */
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer };
}

/** Internal page size for unbounded ranges, so that no single response nears gRPC limits. */
const RANGE_PAGE = 2000;

function prefixEnd(prefix: string): Buffer {
  const b = Buffer.from(prefix);
  for (let i = b.length - 1; i >= 0; i--) {
    if (b[i]! < 0xff) {
      const end = Buffer.from(b.subarray(0, i + 1));
      end[i]!++;
      return end;
    }
  }
  return Buffer.from([0]);
}

function isRecoverable(err: Error): boolean {
  return /UNAVAILABLE|Unavailable|ECONNREFUSED|DEADLINE|deadline|No connection|not available|GRPCConnectFailed|14 UNAVAILABLE|closed|reset/i.test(
    `${err.name} ${err.message}`,
  );
}

export class Etcd3Storage implements Storage {
  /** Leases (the etcd3 package). */
  private readonly client: Etcd3;
  /** Range, Txn and Compact: unary calls over HTTP/2 with a hand-written codec (./grpc.ts, ./proto.ts). */
  private readonly kv: GrpcClient;
  /** Watch streams, on a connection of their own (./grpc.ts, ./proto.ts). */
  private readonly watchKv: GrpcClient;
  private readonly log: Logger;
  private readonly observe: (op: string, s: number) => void;
  private readonly maxValueBytes: number;
  private readonly transformer?: ValueTransformer;
  /** Leases reused for objects with the same TTL written within a minute, as upstream does for events. */
  private leaseCache = new Map<number, { id: string; grantedAt: number }>();

  constructor(opts: Etcd3StorageOptions) {
    this.log = opts.log;
    this.observe = opts.observe ?? (() => {});
    this.maxValueBytes = opts.maxValueBytes ?? 1.5 * 1024 * 1024;
    this.transformer = opts.transformer;
    const hosts = opts.endpoints.map((e) => e.replace(/^https?:\/\//, ''));
    const secure = !!opts.tls || opts.endpoints.some((e) => e.startsWith('https://'));
    const options: IOptions = {
      hosts,
      // grpc's createSsl: a missing root certificate means the system's roots.
      ...(secure ? { credentials: { rootCertificate: opts.tls?.ca as Buffer, privateKey: opts.tls?.key, certChain: opts.tls?.cert } } : {}),
      dialTimeout: 5000,
      grpcOptions: { 'grpc.max_receive_message_length': 512 * 1024 * 1024, 'grpc.max_send_message_length': 16 * 1024 * 1024 },
      defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + 10_000 }),
      faultHandling: {
        host: () => circuitBreaker(handleWhen(isRecoverable), { halfOpenAfter: 1000, breaker: new ConsecutiveBreaker(2) }),
        global: wrap(retry(handleWhen(isRecoverable), { maxAttempts: Math.max(3, hosts.length * 2), backoff: new ExponentialBackoff({ initialDelay: 50, maxDelay: 1000 }) })),
        // etcd3 calls next() on this factory to get its first backoff; the types predate cockatiel 3.2.
        watchBackoff: new ExponentialBackoff({ initialDelay: 100, maxDelay: 2000 }) as never,
      },
    };
    this.client = new Etcd3(options);
    this.kv = new GrpcClient({ endpoints: opts.endpoints, tls: opts.tls });
    // Watches get a connection of their own, so that a burst of events never queues behind
    // (or ahead of) the requests' replies.
    this.watchKv = new GrpcClient({ endpoints: opts.endpoints, tls: opts.tls });
  }

  private async timed<T>(op: string, fn: () => Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      return await fn();
    } catch (err) {
      throw this.translate(err, '');
    } finally {
      this.observe(op, (performance.now() - start) / 1000);
    }
  }

  private translate(err: unknown, key: string): Error {
    if (err instanceof StorageError) return err;
    const msg = err instanceof Error ? err.message : String(err);
    if (/compacted/.test(msg)) return new StorageError('Expired', key, msg, undefined, { cause: err });
    // etcd cancels a watch whose start revision was compacted; the client reports no reason.
    if (/Watcher canceled/.test(msg)) return new StorageError('Expired', key, 'the requested resource version has been compacted', undefined, { cause: err });
    if (/future revision/.test(msg)) return new StorageError('Expired', key, msg, undefined, { cause: err });
    if (/request is too large|message larger than max|ResourceExhausted|RESOURCE_EXHAUSTED/.test(msg)) return new StorageError('TooLarge', key, msg, undefined, { cause: err });
    return new StorageError('Unreachable', key, `etcd: ${msg}`, undefined, { cause: err });
  }

  private encode(key: string, obj: KubeObject): Buffer {
    const plain = Buffer.from(encodeForStorage(obj));
    const buf = this.transformer ? this.transformer.toStorage(key, plain) : plain;
    if (buf.length > this.maxValueBytes) throw new StorageError('TooLarge', key, `object is ${buf.length} bytes; etcd accepts at most ${this.maxValueBytes}`);
    return buf;
  }

  /** The object stored under `key` as `stored`, at `revision` (its resourceVersion). */
  private decode(key: Buffer, stored: Buffer, revision: number): KubeObject {
    let obj: KubeObject;
    let value = stored;
    if (this.transformer) {
      try {
        value = this.transformer.fromStorage(key.toString(), stored);
      } catch (err) {
        throw new StorageError('InvalidObject', key.toString(), `cannot decrypt ${key.toString()}: ${(err as Error).message}`, undefined, { cause: err });
      }
    }
    try {
      obj = JSON.parse(value.toString('utf8')) as KubeObject;
    } catch (err) {
      throw new StorageError('InvalidObject', key.toString(), `stored value of ${key.toString()} is not JSON`, undefined, { cause: err });
    }
    obj.metadata ??= {};
    obj.metadata.resourceVersion = String(revision);
    return obj;
  }

  private decodeKV(kv: KeyValue): KubeObject {
    return this.decode(kv.key, kv.value, kv.modRevision);
  }

  private async range(r: RangeRequest): Promise<RangeResponse> {
    return decodeRangeResponse(await this.kv.call('/etcdserverpb.KV/Range', encodeRangeRequest(r), true));
  }

  /** A transaction is a write: retried only when it surely never reached etcd. */
  private async txn(t: TxnRequest): Promise<TxnResponse> {
    return decodeTxnResponse(await this.kv.call('/etcdserverpb.KV/Txn', encodeTxnRequest(t), false));
  }

  private async leaseFor(ttlSeconds: number): Promise<string> {
    const now = Date.now();
    const cached = this.leaseCache.get(ttlSeconds);
    if (cached && now - cached.grantedAt < 60_000) return cached.id;
    const res = await this.client.leaseClient.leaseGrant({ TTL: ttlSeconds + 60 });
    this.leaseCache.set(ttlSeconds, { id: res.ID, grantedAt: now });
    return res.ID;
  }

  async create(key: string, obj: KubeObject, opts: { ttlSeconds?: number } = {}): Promise<KubeObject> {
    const value = this.encode(key, obj);
    return this.timed('create', async () => {
      const lease = opts.ttlSeconds ? await this.leaseFor(opts.ttlSeconds) : undefined;
      const k = Buffer.from(key);
      const res = await this.txn({ compare: [{ key: k, modRevision: 0 }], success: [{ put: { key: k, value, lease } }], failure: [] });
      if (!res.succeeded) throw new StorageError('KeyExists', key, `key ${key} already exists`);
      // The caller's object is what was written; it only lacks the version.
      obj.metadata.resourceVersion = String(res.revision);
      return obj;
    });
  }

  private async getKV(key: string, revision?: number): Promise<{ kv: KeyValue | null; revision: number }> {
    const res = await this.range({ key: Buffer.from(key), revision });
    return { kv: res.kvs[0] ?? null, revision: res.revision };
  }

  async get(key: string): Promise<KubeObject | null> {
    return this.timed('get', async () => {
      const { kv } = await this.getKV(key);
      return kv ? this.decodeKV(kv) : null;
    });
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    return this.timed('list', async () => {
      const end = prefixEnd(prefix);
      let start = Buffer.from(opts.startKey ?? prefix);
      let revision = opts.revision ?? 0;
      const limit = opts.limit ?? 0;
      const items: KubeObject[] = [];
      const keys: string[] = [];
      for (;;) {
        const want = limit > 0 ? Math.min(RANGE_PAGE, Math.max(limit - items.length + 1, opts.predicate ? RANGE_PAGE : 0)) : RANGE_PAGE;
        const res = await this.range({ key: start, rangeEnd: end, limit: want, revision });
        if (!revision) revision = res.revision;
        const kvs = res.kvs;
        for (let i = 0; i < kvs.length; i++) {
          const kv = kvs[i]!;
          const obj = this.decodeKV(kv);
          if (opts.predicate && !opts.predicate(obj)) continue;
          if (limit > 0 && items.length === limit) {
            // One more match than asked for: more remain; continue from this key.
            return {
              items,
              keys,
              revision,
              nextKey: kv.key.toString('utf8'),
              remaining: opts.predicate ? undefined : res.count - i,
            };
          }
          items.push(obj);
          keys.push(kv.key.toString('utf8'));
        }
        if (!res.more || kvs.length === 0) return { items, keys, revision };
        start = Buffer.concat([kvs[kvs.length - 1]!.key, Buffer.from([0])]);
      }
    });
  }

  async guaranteedUpdate(
    key: string,
    tryUpdate: (current: KubeObject | null) => Promise<KubeObject | typeof DELETE | typeof NOCHANGE> | KubeObject | typeof DELETE | typeof NOCHANGE,
    opts: { expectedRevision?: number; ttlSeconds?: number } = {},
  ): Promise<{ object: KubeObject; deleted: boolean }> {
    const k = Buffer.from(key);
    let cur = await this.timed('get', () => this.getKV(key));
    for (let attempt = 0; ; attempt++) {
      const modRev = cur.kv ? cur.kv.modRevision : 0;
      if (opts.expectedRevision && modRev !== opts.expectedRevision) {
        throw new StorageError('Conflict', key, `key ${key} changed since revision ${opts.expectedRevision}`, modRev);
      }
      const current = cur.kv ? this.decodeKV(cur.kv) : null;
      const next = await tryUpdate(current);
      if (next === NOCHANGE) {
        if (!current) throw new StorageError('KeyNotFound', key, `key ${key} not found`);
        return { object: current, deleted: false };
      }
      const compare = [{ key: k, modRevision: modRev }];
      let res: TxnResponse;
      if (next === DELETE) {
        if (!current) throw new StorageError('KeyNotFound', key, `key ${key} not found`);
        res = await this.timed('delete', () => this.txn({ compare, success: [{ deleteRange: { key: k } }], failure: [{ range: { key: k } }] }));
        if (res.succeeded) {
          current.metadata.resourceVersion = String(res.revision);
          return { object: current, deleted: true };
        }
      } else {
        const value = this.encode(key, next);
        const keepLease = cur.kv && cur.kv.lease !== '0' ? cur.kv.lease : undefined;
        res = await this.timed('update', async () => {
          const lease = opts.ttlSeconds ? await this.leaseFor(opts.ttlSeconds) : keepLease;
          return this.txn({ compare, success: [{ put: { key: k, value, lease } }], failure: [{ range: { key: k } }] });
        });
        if (res.succeeded) {
          next.metadata.resourceVersion = String(res.revision);
          return { object: next, deleted: false };
        }
      }
      // Lost the race: retry against the value the failed transaction read.
      cur = { kv: res.responses[0]?.range?.kvs[0] ?? null, revision: res.revision };
      if (attempt > 0 && attempt % 50 === 0) this.log.warn({ key, attempt }, 'guaranteed update still retrying after conflicts');
    }
  }

  async delete(key: string, opts: { expectedRevision?: number } = {}): Promise<KubeObject> {
    const { object } = await this.guaranteedUpdate(key, (cur) => {
      if (!cur) throw new StorageError('KeyNotFound', key, `key ${key} not found`);
      return DELETE;
    }, opts);
    return object;
  }

  /**
   * A watch event for `kv` at `revision`: decoded now, or with `onDemand` when first read (from
   * copies of key and value, which are views into the whole watch response).
   */
  private watchEvent(type: StorageEventType, key: string, kv: KeyValue, revision: number, onDemand?: boolean): StorageEvent {
    if (!onDemand) return { type, key, object: this.decode(kv.key, kv.value, revision), revision };
    const keyBytes = Buffer.from(kv.key);
    const value = Buffer.from(kv.value);
    const decodeObject = () => this.decode(keyBytes, value, revision);
    let object: KubeObject | undefined;
    const e = { type, key, revision, decodeObject } as StorageEvent;
    Object.defineProperty(e, 'object', { enumerable: true, get: () => (object ??= decodeObject()) });
    return e;
  }

  /**
   * Streams every change under `prefix` after `fromRevision` (0: after the current revision).
   * When the stream breaks (a member killed, a connection lost, a member without a leader) it is
   * opened again, on the next member if need be, from the revision after the last change
   * delivered, so nothing is missed or repeated. A compacted start revision ends the watch with
   * Expired.
   */
  watch(prefix: string, fromRevision: number, handler: WatchHandler): WatchHandle {
    let stopped = false;
    // Every change up to `last` was delivered; `known` is false until etcd said where "now" was.
    let last = fromRevision;
    let known = fromRevision > 0;
    let stream: H2StreamHandle | undefined;
    let timer: NodeJS.Timeout | undefined;
    let delay = 100;
    const fail = (err: StorageError) => {
      if (stopped) return;
      stopped = true;
      stream?.cancel();
      handler.onError(err);
    };
    const onMessage = (buf: Buffer) => {
      if (stopped) return;
      let res;
      try {
        res = decodeWatchResponse(buf);
      } catch (err) {
        return fail(new StorageError('Unreachable', prefix, `etcd: undecodable watch response: ${(err as Error).message}`));
      }
      if (res.compactRevision > 0) {
        return fail(new StorageError('Expired', prefix, `too old resource version: ${fromRevision} (${res.compactRevision})`, res.compactRevision));
      }
      if (res.canceled) return fail(this.translate(new Error(res.cancelReason || 'Watcher canceled'), prefix) as StorageError);
      if (res.created) {
        delay = 100;
        if (!known) {
          last = res.revision;
          known = true;
        }
        if (res.events.length === 0) return;
      }
      const events: StorageEvent[] = [];
      for (const ev of res.events) {
        const kv = ev.kv;
        const key = kv.key.toString('utf8');
        const rev = kv.modRevision;
        try {
          if (ev.type === 'PUT') {
            const e = this.watchEvent(kv.version === 1 ? 'ADDED' : 'MODIFIED', key, kv, rev, handler.decodeOnDemand);
            // Most consumers (the watch cache) keep their own previous state: decode it only on demand.
            const prevKV = ev.prevKv;
            if (prevKV) {
              let prev: KubeObject | undefined;
              Object.defineProperty(e, 'prevObject', { enumerable: true, get: () => (prev ??= this.decode(prevKV.key, prevKV.value, prevKV.modRevision)) });
            }
            events.push(e);
          } else if (ev.prevKv) {
            // A deleted object is its last state, at the revision of its deletion.
            const e = this.watchEvent('DELETED', key, ev.prevKv, rev, handler.decodeOnDemand);
            if (handler.decodeOnDemand) Object.defineProperty(e, 'prevObject', { enumerable: true, get: () => e.object });
            else e.prevObject = e.object;
            events.push(e);
          }
        } catch (err) {
          this.log.error({ err, key }, 'skipping undecodable value in watch');
        }
      }
      if (res.events.length) last = Math.max(last, res.events[res.events.length - 1]!.kv.modRevision);
      if (events.length) handler.onEvents(events);
      else if (res.events.length === 0) {
        // A progress notification: every change up to its revision was sent.
        last = Math.max(last, res.revision);
        handler.onProgress?.(res.revision);
      }
    };
    const onEnd = (err: GrpcError) => {
      if (stopped) return;
      if (/compacted/.test(err.details)) return fail(this.translate(err, prefix) as StorageError);
      this.log.debug({ prefix, after: last, err: err.message, retryInMs: delay }, 'etcd watch stream ended; resuming');
      timer = setTimeout(connect, delay);
      delay = Math.min(delay * 2, 2000);
    };
    const connect = () => {
      if (stopped) return;
      // hasleader: a member that loses its leader ends the stream, so it resumes on one that has one.
      stream = this.watchKv.stream('/etcdserverpb.Watch/Watch', [['hasleader', 'true']], onMessage, onEnd);
      stream.send(encodeWatchCreateRequest({ key: Buffer.from(prefix), rangeEnd: prefixEnd(prefix), startRevision: known ? last + 1 : 0, prevKv: true, progressNotify: true }));
    };
    connect();
    return {
      stop: () => {
        stopped = true;
        clearTimeout(timer);
        stream?.cancel();
      },
    };
  }

  async currentRevision(): Promise<number> {
    return this.timed('revision', async () => {
      const res = await this.range({ key: Buffer.from('\0tkube-revision-probe'), countOnly: true });
      return res.revision;
    });
  }

  async count(prefix: string): Promise<number> {
    return this.timed('count', async () => {
      const res = await this.range({ key: Buffer.from(prefix), rangeEnd: prefixEnd(prefix), countOnly: true });
      return res.count;
    });
  }

  async compact(revision: number): Promise<void> {
    await this.timed('compact', async () => decodeHeaderRevision(await this.kv.call('/etcdserverpb.KV/Compact', encodeCompactionRequest(revision, true), false)));
  }

  /** Checks that etcd answers (for /healthz and componentstatuses). */
  async ping(): Promise<void> {
    await this.currentRevision();
  }

  async close(): Promise<void> {
    this.client.close();
    this.watchKv.close();
    this.kv.close();
  }
}
