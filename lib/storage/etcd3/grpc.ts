/**
 * Unary gRPC calls to etcd over Node's own HTTP/2 client, for the KV requests the API server
 * makes on every write and read (etcd3's grpc-js client spent ~220 µs of CPU per call, about a
 * quarter of a create; this path ~100 µs). Watches and leases stay on the etcd3 package.
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
import http2 from 'node:http2';

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

interface Session {
  h2: http2.ClientHttp2Session;
  /** It reached etcd (its 'connect' fired): a failure after this may follow a sent request. */
  connected: boolean;
}

interface Member {
  authority: string;
  session?: Session;
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

  constructor(private readonly opts: GrpcClientOptions) {
    const secure = !!opts.tls || opts.endpoints.some((e) => e.startsWith('https://'));
    this.members = opts.endpoints.map((e) => ({ authority: `${secure ? 'https' : 'http'}://${e.replace(/^https?:\/\//, '')}`, downUntil: 0 }));
    if (this.members.length === 0) throw new Error('etcd: no endpoints');
    this.timeoutMs = opts.timeoutMs ?? 10_000;
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
    const s = m.session?.h2;
    m.session = undefined;
    if (s && !s.destroyed) s.destroy();
  }

  private session(m: Member): Session {
    if (m.session && !m.session.h2.closed && !m.session.h2.destroyed) return m.session;
    const tls = this.opts.tls;
    const h2 = http2.connect(m.authority, {
      ...(tls ? { ca: tls.ca, cert: tls.cert, key: tls.key } : {}),
      // Large ranges (2,000 objects a page) arrive without waiting on flow-control updates.
      settings: { initialWindowSize: 16 * 1024 * 1024, enablePush: false },
      maxSessionMemory: 64,
    });
    const s: Session = { h2, connected: false };
    m.session = s;
    h2.on('connect', () => {
      s.connected = true;
      h2.setLocalWindowSize(64 * 1024 * 1024);
    });
    // Errors reach the streams (which fail their calls); the session itself is just forgotten.
    h2.on('error', () => {});
    const forget = () => {
      if (m.session === s) m.session = undefined;
    };
    h2.on('close', forget);
    h2.on('goaway', forget);
    if (this.inflight === 0) h2.unref();
    return s;
  }

  private once(m: Member, path: string, frame: Buffer): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      let session: Session;
      try {
        session = this.session(m);
      } catch (err) {
        return reject(new GrpcError(UNAVAILABLE, (err as Error).message, true, true));
      }
      let stream: http2.ClientHttp2Stream;
      try {
        stream = session.h2.request(
          { ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', 'grpc-timeout': `${this.timeoutMs}m` },
          { endStream: false },
        );
      } catch (err) {
        // The session is closing (a GOAWAY arrived) or gone: nothing was sent on it.
        if (m.session === session) m.session = undefined;
        return reject(new GrpcError(UNAVAILABLE, `${m.authority}: ${(err as Error).message}`, true, true));
      }
      if (this.inflight++ === 0) this.refAll();
      const chunks: Buffer[] = [];
      let size = 0;
      let status: number | undefined;
      let message = '';
      let settled = false;
      const finish = (err?: GrpcError, body?: Buffer) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (--this.inflight === 0) this.unrefAll();
        if (err) {
          if (!stream.destroyed) stream.close(http2.constants.NGHTTP2_CANCEL);
          reject(err);
        } else resolve(body!);
      };
      const timer = setTimeout(() => finish(new GrpcError(DEADLINE_EXCEEDED, `context deadline exceeded (${this.timeoutMs} ms)`)), this.timeoutMs);
      const readStatus = (h: http2.IncomingHttpHeaders) => {
        if (h['grpc-status'] !== undefined) {
          status = Number(h['grpc-status']);
          message = decodeGrpcMessage(String(h['grpc-message'] ?? ''));
        }
      };
      stream.on('response', (h) => {
        const httpStatus = Number(h[':status']);
        if (httpStatus !== 200) return finish(new GrpcError(UNAVAILABLE, `HTTP status ${httpStatus} from ${m.authority}`, false, true));
        readStatus(h);
      });
      stream.on('trailers', readStatus);
      stream.on('data', (c: Buffer) => {
        size += c.length;
        if (size > this.maxResponseBytes + 5) return finish(new GrpcError(8, `received message larger than max (${size} vs. ${this.maxResponseBytes})`));
        chunks.push(c);
      });
      stream.on('end', () => {
        if (status === undefined) return finish(new GrpcError(UNAVAILABLE, `stream from ${m.authority} ended without a status`, false, true));
        if (status !== 0) return finish(new GrpcError(status, message));
        const all = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
        if (all.length < 5) return finish(new GrpcError(13, 'reply without a message'));
        if (all[0] !== 0) return finish(new GrpcError(13, 'compressed reply not supported'));
        const len = all.readUInt32BE(1);
        if (all.length < 5 + len) return finish(new GrpcError(13, 'truncated reply'));
        finish(undefined, all.subarray(5, 5 + len));
      });
      stream.on('error', (err: Error) => {
        // Before the session ever connected the request cannot have been sent.
        finish(new GrpcError(UNAVAILABLE, `${m.authority}: ${err.message}`, !session.connected, true));
      });
      stream.on('close', () => {
        if (!settled) finish(new GrpcError(UNAVAILABLE, `${m.authority}: stream closed (code ${stream.rstCode ?? '?'})`, !session.connected, true));
      });
      stream.end(frame);
    });
  }

  private refAll(): void {
    for (const m of this.members) m.session?.h2.ref();
  }

  private unrefAll(): void {
    for (const m of this.members) m.session?.h2.unref();
  }

  close(): void {
    this.closed = true;
    for (const m of this.members) {
      const s = m.session?.h2;
      m.session = undefined;
      s?.close();
    }
  }
}

/** grpc-message is percent-encoded (gRPC over HTTP/2 spec). */
function decodeGrpcMessage(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
