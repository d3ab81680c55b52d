/**
 * gRPC calls to etcd: unary ones for the KV requests the API server makes on every write and read,
 * over our own small HTTP/2 connection (./h2.ts). CPU per call, measured in the API server's
 * create path: etcd3's grpc-js client ~220 µs, Node's http2 client ~100 µs, ./h2.ts with the
 * calls of one event-loop turn written together ~35 µs. Watch streams go the same way
 * (`stream`); leases stay on the etcd3 package.
 *
 * gRPC over HTTP/2, as used here: a POST to /<package>.<Service>/<Method> with
 * `content-type: application/grpc` and `te: trailers`, the request as one length-prefixed frame;
 * the reply is length-prefixed frames, then trailers carrying `grpc-status` (0 is OK) and a
 * percent-encoded `grpc-message`. A failure before any reply may come as headers alone.
 *
 * Failover as etcd's own Go client (clientv3): one member at a time; a member that cannot be
 * reached is left for a second and the next one tried. Reads are retried on any transport
 * failure; writes only when they surely never reached etcd (no connection, or etcd answered
 * "no leader" before proposing), so a write is never applied twice.
 */
import { H2Connection, type H2Error, type H2Reply, type H2StreamHandle } from './h2.js';
import type { HeaderList } from './hpack.js';

/** Headers every gRPC call carries. */
const grpcHeaders: HeaderList = [
  ['content-type', 'application/grpc'],
  ['te', 'trailers'],
];

/** gRPC status codes (google.golang.org/grpc/codes) that matter here. */
const UNAVAILABLE = 14;
const DEADLINE_EXCEEDED = 4;
const codeNames: Record<number, string> = {
  1: 'CANCELLED',
  2: 'UNKNOWN',
  3: 'INVALID_ARGUMENT',
  4: 'DEADLINE_EXCEEDED',
  5: 'NOT_FOUND',
  6: 'ALREADY_EXISTS',
  7: 'PERMISSION_DENIED',
  8: 'RESOURCE_EXHAUSTED',
  9: 'FAILED_PRECONDITION',
  10: 'ABORTED',
  11: 'OUT_OF_RANGE',
  12: 'UNIMPLEMENTED',
  13: 'INTERNAL',
  14: 'UNAVAILABLE',
  15: 'DATA_LOSS',
  16: 'UNAUTHENTICATED',
};

/** A failed call: the gRPC status code and etcd's message ("etcdserver: ...", "mvcc: ..."). */
export class GrpcError extends Error {
  constructor(
    readonly code: number,
    readonly details: string,
    /** True when the request surely never reached etcd, so that even a write may be retried. */
    readonly notSent = false,
    /** The connection failed (rather than etcd answering with this status). */
    readonly transport = false,
  ) {
    super(`${code} ${codeNames[code] ?? 'UNKNOWN'}: ${details}`);
    this.name = 'GrpcError';
  }
}

export interface GrpcClientOptions {
  /** host:port, http://host:port or https://host:port, one per member. */
  endpoints: string[];
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer };
  /** Per-call deadline, sent as grpc-timeout and enforced here (default 10 s). */
  timeoutMs?: number;
  /** Largest reply accepted (default 512 MiB; ranges are paged well below it). */
  maxResponseBytes?: number;
}

interface Member {
  host: string;
  port: number;
  session?: H2Connection;
  /** Not tried again before this time (ms since epoch) unless every member is down. */
  downUntil: number;
}

export class GrpcClient {
  private readonly members: Member[];
  private current = 0;
  private inflight = 0;
  private closed = false;
  private readonly timeoutMs: number;
  private readonly maxResponseBytes: number;
  private readonly secure: boolean;
  private readonly extraHeaders: HeaderList;

  constructor(private readonly opts: GrpcClientOptions) {
    this.secure = !!opts.tls || opts.endpoints.some((e) => e.startsWith('https://'));
    this.members = opts.endpoints.map((e) => {
      const u = new URL(`http://${e.replace(/^https?:\/\//, '')}`);
      return { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 2379), downUntil: 0 };
    });
    if (this.members.length === 0) throw new Error('etcd: no endpoints');
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.extraHeaders = [...grpcHeaders, ['grpc-timeout', `${this.timeoutMs}m`]];
    this.maxResponseBytes = opts.maxResponseBytes ?? 512 * 1024 * 1024;
  }

  /**
   * One unary call: `path` is /etcdserverpb.KV/Range and the like, `frame` the request already
   * framed. `idempotent` calls (reads, compaction) are retried on any transport failure.
   */
  async call(path: string, frame: Buffer, idempotent: boolean): Promise<Buffer> {
    if (this.closed) throw new GrpcError(UNAVAILABLE, 'client closed', true, true);
    const attempts = Math.max(3, this.members.length * 2);
    let delay = 50;
    for (let attempt = 1; ; attempt++) {
      const m = this.pick();
      try {
        return await this.once(m, path, frame);
      } catch (err) {
        const e = err as GrpcError;
        const unavailable = e.code === UNAVAILABLE;
        // A broken connection is dropped; a member that answers "unavailable" is only left for a while.
        if (e.transport) this.markDown(m);
        else if (unavailable) m.downUntil = Date.now() + 1000;
        const retry = unavailable && (idempotent || e.notSent || /no leader/.test(e.details));
        if (!retry || attempt >= attempts || this.closed) throw e;
        // Straight to the next member; wait only once every member was tried.
        if (attempt % this.members.length === 0) {
          await new Promise((r) => setTimeout(r, delay));
          delay = Math.min(delay * 2, 1000);
        }
      }
    }
  }

  /**
   * Opens a streaming call (a watch) on the current member. `onMessage` gets each message the
   * member sends; `onEnd` is called once when the stream is over, whatever the reason (the
   * member's status, a lost connection, or `cancel`). Nothing is retried here: the caller knows
   * where to resume.
   */
  stream(path: string, headers: HeaderList, onMessage: (message: Buffer) => void, onEnd: (err: GrpcError) => void): H2StreamHandle {
    if (this.closed) {
      onEnd(new GrpcError(UNAVAILABLE, 'client closed', true, true));
      return { send: () => {}, cancel: () => {} };
    }
    const m = this.pick();
    const conn = this.session(m);
    if (this.inflight++ === 0) this.refAll();
    let ended = false;
    const end = (err: GrpcError) => {
      if (ended) return;
      ended = true;
      if (--this.inflight === 0) this.unrefAll();
      // A broken connection is dropped and its member left for a while; a stream the member
      // ended (no leader, shutting down) only sends the next attempt elsewhere.
      if (err.transport && conn.closed) this.markDown(m);
      else if (err.code === UNAVAILABLE) m.downUntil = Date.now() + 1000;
      onEnd(err);
    };
    const h = conn.openStream(path, [...grpcHeaders, ...headers], onMessage, (err?: H2Error, reply?: H2Reply) => {
      if (err) return end(new GrpcError(UNAVAILABLE, err.message, err.notSent, true));
      end(replyError(conn.authority, reply!) ?? new GrpcError(UNAVAILABLE, `stream ended by ${conn.authority}`));
    });
    return {
      send: h.send,
      cancel: () => {
        h.cancel();
        end(new GrpcError(1, 'cancelled'));
      },
    };
  }

  /** The member to use: the current one unless it is down, else the next that is not. */
  private pick(): Member {
    const now = Date.now();
    for (let i = 0; i < this.members.length; i++) {
      const idx = (this.current + i) % this.members.length;
      if (this.members[idx]!.downUntil <= now) {
        this.current = idx;
        return this.members[idx]!;
      }
    }
    // Every member is down: try the next one anyway.
    this.current = (this.current + 1) % this.members.length;
    return this.members[this.current]!;
  }

  /** Leaves a member whose connection broke for a second, and drops that connection. */
  private markDown(m: Member): void {
    m.downUntil = Date.now() + 1000;
    const s = m.session;
    m.session = undefined;
    s?.destroy();
  }

  private session(m: Member): H2Connection {
    if (m.session && !m.session.closing) return m.session;
    const tls = this.opts.tls ?? (this.secure ? {} : undefined);
    const conn = new H2Connection({ host: m.host, port: m.port, tls });
    m.session = conn;
    conn.onGone = () => {
      if (m.session === conn) m.session = undefined;
    };
    if (this.inflight === 0) conn.unref();
    return conn;
  }

  private once(m: Member, path: string, frame: Buffer): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      const conn = this.session(m);
      if (this.inflight++ === 0) this.refAll();
      let settled = false;
      const finish = (err?: GrpcError, body?: Buffer) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (--this.inflight === 0) this.unrefAll();
        if (err) reject(err);
        else resolve(body!);
      };
      const timer = setTimeout(() => {
        conn.cancel(id);
        finish(new GrpcError(DEADLINE_EXCEEDED, `context deadline exceeded (${this.timeoutMs} ms)`));
      }, this.timeoutMs);
      const id = conn.request(path, this.extraHeaders, frame, this.maxResponseBytes, (err?: H2Error, reply?: H2Reply) => {
        if (err?.tooLarge) return finish(new GrpcError(8, err.message));
        if (err) return finish(new GrpcError(UNAVAILABLE, err.message, err.notSent, true));
        finish(...grpcResult(conn.authority, reply!));
      });
    });
  }

  private refAll(): void {
    for (const m of this.members) m.session?.ref();
  }

  private unrefAll(): void {
    for (const m of this.members) m.session?.unref();
  }

  close(): void {
    this.closed = true;
    for (const m of this.members) {
      const s = m.session;
      m.session = undefined;
      s?.close();
    }
  }
}

/** A finished HTTP/2 exchange as a gRPC result: the message, or the status etcd sent. */
function grpcResult(authority: string, reply: H2Reply): [GrpcError | undefined, Buffer?] {
  const err = replyError(authority, reply);
  if (err) return [err];
  const all = reply.data.length === 1 ? reply.data[0]! : Buffer.concat(reply.data, reply.dataBytes);
  if (all.length < 5) return [new GrpcError(13, 'reply without a message')];
  if (all[0] !== 0) return [new GrpcError(13, 'compressed reply not supported')];
  const len = all.readUInt32BE(1);
  if (all.length < 5 + len) return [new GrpcError(13, 'truncated reply')];
  return [undefined, all.subarray(5, 5 + len)];
}

/** The error a finished exchange ended with, or undefined for status 0 (OK). */
function replyError(authority: string, reply: H2Reply): GrpcError | undefined {
  const status = header(reply.headers, ':status');
  if (status !== '200') return new GrpcError(UNAVAILABLE, `HTTP status ${status} from ${authority}`, false, true);
  // A failure before any reply comes as headers alone ("trailers-only").
  const grpcStatus = header(reply.trailers, 'grpc-status') ?? header(reply.headers, 'grpc-status');
  if (grpcStatus === undefined) return new GrpcError(UNAVAILABLE, `stream from ${authority} ended without a status`, false, true);
  const code = Number(grpcStatus);
  if (code === 0) return undefined;
  const message = header(reply.trailers, 'grpc-message') ?? header(reply.headers, 'grpc-message') ?? '';
  return new GrpcError(code, decodeGrpcMessage(message));
}

function header(fields: HeaderList, name: string): string | undefined {
  for (const [n, v] of fields) if (n === name) return v;
  return undefined;
}

/** grpc-message is percent-encoded (gRPC over HTTP/2 spec). */
function decodeGrpcMessage(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
