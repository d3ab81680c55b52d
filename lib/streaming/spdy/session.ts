/**
 * A SPDY/3.1 connection carrying many streams, as Kubernetes uses it for exec, attach and
 * port-forward: the client opens streams (SYN_STREAM with headers such as `streamtype: stdout`),
 * the server accepts each one (SYN_REPLY), data flows both ways in DATA frames, and either side
 * half-closes its direction with FLAG_FIN or aborts a stream with RST_STREAM.
 *
 * Life of a stream, seen from one end:
 *
 *   opened ──(SYN_REPLY sent/received)──► open ──FIN sent──► half-closed (local) ──┐
 *     │                                    └───FIN received─► half-closed (remote) ─┴─► closed
 *     └──────────────── RST_STREAM (either way) ──────────────────────────────────────► closed
 *
 * Flow control: SPDY/3.1 defines per-stream and per-session windows, but the peers Kubernetes
 * uses (Go's moby/spdystream) never send WINDOW_UPDATE and ignore the ones they receive. A
 * sender that honoured windows would stall after 64 KiB, so windows are ignored here too, and
 * back-pressure comes from TCP: when a stream's reader falls behind, the socket stops reading.
 *
 * Contract: frames leave in the order they were queued (header compression is asynchronous, so
 * every frame goes through one send queue); frames are handled in the order they arrived;
 * streams opened by the peer are announced through `onStream`, which must accept() or reset()
 * them. The session never throws to its caller: protocol errors end the connection with GOAWAY.
 */
import { EventEmitter } from 'node:events';
import { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { HeaderCompressor, HeaderDecompressor } from './compression.js';
import {
  FrameReader,
  GoAwayStatus,
  RstStatus,
  SpdyProtocolError,
  decodeHeaderBlock,
  encodeFrame,
  encodeHeaderBlock,
  flagFin,
  type SpdyFrame,
  type SpdyHeaders,
} from './frames.js';

/** Data frames are cut to this size so that one stream cannot hold the connection for long. */
const maxDataFrame = 32 * 1024;

export interface SpdySessionOptions {
  /** The server answers streams with odd ids and opens even ones; the client the reverse. */
  role: 'client' | 'server';
  /** Streams the peer opens; the callee must accept() or reset() each one. */
  onStream?: (stream: SpdyStream) => void;
  log?: Logger;
  /** After close(), how long to wait for the peer to hang up before destroying the socket. */
  closeGraceMs?: number;
}


export class SpdySession extends EventEmitter {
  readonly role: 'client' | 'server';
  /** Resolves once the connection is gone. */
  readonly closed: Promise<void>;
  private readonly socket: Duplex;
  /** Streams that may still see frames (not yet closed both ways nor reset). */
  private readonly streams = new Map<number, SpdyStream>();
  private readonly reader = new FrameReader();
  private readonly compressor = new HeaderCompressor();
  private readonly decompressor = new HeaderDecompressor();
  private readonly onStream?: (stream: SpdyStream) => void;
  private readonly log?: Logger;
  private readonly closeGraceMs: number;
  private nextStreamId: number;
  private nextPingId: number;
  private lastPeerStreamId = 0;
  private readonly pings = new Map<number, () => void>();
  private sendQueue: Promise<boolean> = Promise.resolve(true);
  private readonly inbox: SpdyFrame[] = [];
  private processing = false;
  /** Streams whose readers are full: the socket is paused while there are any. */
  private readonly blocked = new Set<SpdyStream>();
  private goAwaySent = false;
  private peerGoneAway = false;
  private closing = false;
  private isClosed = false;
  private resolveClosed!: () => void;

  constructor(socket: Duplex, opts: SpdySessionOptions) {
    super();
    this.socket = socket;
    this.role = opts.role;
    this.onStream = opts.onStream;
    this.log = opts.log;
    this.closeGraceMs = opts.closeGraceMs ?? 2000;
    this.nextStreamId = opts.role === 'client' ? 1 : 2;
    this.nextPingId = opts.role === 'client' ? 1 : 2;
    this.closed = new Promise((r) => (this.resolveClosed = r));
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.onSocketGone());
    socket.on('close', () => this.onSocketGone());
    socket.on('error', (err) => {
      this.log?.debug({ err }, 'spdy connection failed');
      this.onSocketGone();
    });
  }

  /** Streams open now (not yet closed both ways nor reset). */
  get streamCount(): number {
    return this.streams.size;
  }

  get isGone(): boolean {
    return this.isClosed;
  }

  /** Opens a stream and waits for the peer's SYN_REPLY; rejects on RST_STREAM or timeout. */
  async openStream(headers: SpdyHeaders, opts: { fin?: boolean; timeoutMs?: number } = {}): Promise<SpdyStream> {
    if (this.isClosed || this.goAwaySent || this.peerGoneAway) throw new Error('cannot open a stream: the SPDY connection is closing');
    const id = this.nextStreamId;
    this.nextStreamId += 2;
    const stream = new SpdyStream(this, id, headers, true, !!opts.fin);
    this.streams.set(id, stream);
    const block = encodeHeaderBlock(headers);
    void this.queue(async () => encodeFrame({ type: 'syn_stream', streamId: id, associatedStreamId: 0, priority: 0, slot: 0, flags: opts.fin ? flagFin : 0, headerBlock: await this.compressor.compress(block) }));
    if (opts.fin) stream.end();
    const timeoutMs = opts.timeoutMs ?? 30_000;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        stream.replied,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no reply to stream ${id} within ${timeoutMs}ms`)), timeoutMs);
        }),
      ]);
    } catch (err) {
      stream.reset(RstStatus.Cancel);
      throw err;
    } finally {
      clearTimeout(timer);
    }
    return stream;
  }

  /** Sends a PING and resolves with the round trip in milliseconds. */
  ping(timeoutMs = 10_000): Promise<number> {
    const id = this.nextPingId;
    this.nextPingId = (this.nextPingId + 2) & 0x7fffffff || (this.role === 'client' ? 1 : 2);
    const start = performance.now();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pings.delete(id);
        reject(new Error(`no answer to PING ${id} within ${timeoutMs}ms`));
      }, timeoutMs);
      this.pings.set(id, () => {
        clearTimeout(timer);
        resolve(performance.now() - start);
      });
      void this.queue(() => encodeFrame({ type: 'ping', id }));
    });
  }

  /** Tells the peer no new streams will be accepted; streams already open go on. */
  async goAway(status: number = GoAwayStatus.Ok): Promise<void> {
    if (this.goAwaySent || this.isClosed) return;
    this.goAwaySent = true;
    await this.queue(() => encodeFrame({ type: 'goaway', lastGoodStreamId: this.lastPeerStreamId, status }));
  }

  /**
   * Ends the connection gracefully: GOAWAY, everything queued is sent, our side of the socket is
   * closed, and the socket is destroyed if the peer has not hung up after the grace period.
   */
  close(): void {
    if (this.isClosed || this.closing) return;
    this.closing = true;
    void this.goAway().then(() => {
      this.socket.end();
      setTimeout(() => this.destroy(), this.closeGraceMs).unref();
    });
  }

  /** Drops the connection at once. */
  destroy(): void {
    this.socket.destroy();
    this.onSocketGone();
  }

  // ---- Sending ---------------------------------------------------------------------------------

  /**
   * Queues a frame (built when its turn comes). Resolves true once the socket took it, false
   * when the connection is closed; never rejects.
   */
  queue(build: () => Buffer | Promise<Buffer>): Promise<boolean> {
    const next = this.sendQueue.then(async () => {
      if (this.isClosed || this.socket.destroyed || this.socket.writableEnded) return false;
      let frame: Buffer;
      try {
        frame = await build();
      } catch (err) {
        this.log?.debug({ err }, 'spdy frame could not be built');
        this.destroy();
        return false;
      }
      if (this.socket.destroyed || this.socket.writableEnded) return false;
      if (!this.socket.write(frame)) {
        await new Promise<void>((resolve) => {
          const done = () => {
            this.socket.off('drain', done);
            this.socket.off('close', done);
            resolve();
          };
          this.socket.on('drain', done);
          this.socket.on('close', done);
        });
      }
      return true;
    });
    this.sendQueue = next;
    return next;
  }

  /** @internal */
  async sendData(stream: SpdyStream, data: Buffer, fin: boolean): Promise<boolean> {
    if (data.length === 0) return this.queue(() => encodeFrame({ type: 'data', streamId: stream.id, flags: fin ? flagFin : 0, data }));
    let sent: Promise<boolean> = Promise.resolve(true);
    for (let off = 0; off < data.length; off += maxDataFrame) {
      const part = data.subarray(off, off + maxDataFrame);
      const last = off + maxDataFrame >= data.length;
      sent = this.queue(() => encodeFrame({ type: 'data', streamId: stream.id, flags: fin && last ? flagFin : 0, data: part }));
    }
    return sent;
  }

  /** @internal */
  sendReply(stream: SpdyStream, headers: SpdyHeaders): Promise<boolean> {
    const block = encodeHeaderBlock(headers);
    return this.queue(async () => encodeFrame({ type: 'syn_reply', streamId: stream.id, flags: 0, headerBlock: await this.compressor.compress(block) }));
  }

  /** @internal */
  sendReset(stream: SpdyStream, status: number): void {
    void this.queue(() => encodeFrame({ type: 'rst_stream', streamId: stream.id, status }));
  }

  /** @internal: the stream is over (closed both ways or reset); later frames for it are dropped. */
  settle(stream: SpdyStream): void {
    if (this.streams.get(stream.id) === stream) this.streams.delete(stream.id);
    this.unblock(stream);
    if (this.peerGoneAway && this.streams.size === 0) this.close();
  }

  /** @internal: a stream's reader is full; stop reading the socket until it drains. */
  block(stream: SpdyStream): void {
    this.blocked.add(stream);
    this.socket.pause();
  }

  /** @internal */
  unblock(stream: SpdyStream): void {
    if (this.blocked.delete(stream) && this.blocked.size === 0 && !this.isClosed) this.socket.resume();
  }

  // ---- Receiving -------------------------------------------------------------------------------

  private onData(chunk: Buffer): void {
    let frames: SpdyFrame[];
    try {
      frames = this.reader.push(chunk);
    } catch (err) {
      this.protocolError(err as Error);
      return;
    }
    this.inbox.push(...frames);
    void this.drainInbox();
  }

  /** Handles frames one at a time, in order; only header blocks make a frame wait. */
  private async drainInbox(): Promise<void> {
    if (this.processing) return;
    this.processing = true;
    try {
      while (this.inbox.length > 0 && !this.isClosed) {
        const f = this.inbox.shift()!;
        const pending = this.handle(f);
        if (pending) await pending;
      }
    } catch (err) {
      this.protocolError(err as Error);
    } finally {
      this.processing = false;
    }
  }

  private handle(f: SpdyFrame): Promise<void> | undefined {
    switch (f.type) {
      case 'data': {
        const s = this.streams.get(f.streamId);
        if (!s) return undefined; // a stream already reset or finished: late data is dropped
        s.receive(f.data, (f.flags & flagFin) !== 0);
        return undefined;
      }
      case 'syn_stream':
        // Header blocks are decoded even for streams that will be refused: the zlib context
        // of the direction must see every block.
        return this.decode(f.headerBlock).then((headers) => this.onSynStream(f.streamId, headers, (f.flags & flagFin) !== 0));
      case 'syn_reply':
        return this.decode(f.headerBlock).then((headers) => {
          const s = this.streams.get(f.streamId);
          if (!s) return;
          s.onReply(headers);
          if (f.flags & flagFin) s.receive(Buffer.alloc(0), true);
        });
      case 'headers':
        return this.decode(f.headerBlock).then((headers) => {
          const s = this.streams.get(f.streamId);
          if (!s) return;
          s.emit('headers', headers);
          if (f.flags & flagFin) s.receive(Buffer.alloc(0), true);
        });
      case 'rst_stream':
        this.streams.get(f.streamId)?.onReset(f.status);
        return undefined;
      case 'ping':
        if ((f.id & 1) === (this.nextPingId & 1)) {
          const answer = this.pings.get(f.id);
          this.pings.delete(f.id);
          answer?.();
        } else {
          void this.queue(() => encodeFrame({ type: 'ping', id: f.id }));
        }
        return undefined;
      case 'goaway':
        this.peerGoneAway = true;
        this.emit('goaway', f.status);
        if (this.streams.size === 0) this.close();
        return undefined;
      case 'settings':
      case 'window_update':
      case 'unknown':
        // No flow control (see above); unknown control frames are ignored, as the spec says.
        return undefined;
    }
  }

  private decode(compressed: Buffer): Promise<SpdyHeaders> {
    return this.decompressor.decompress(compressed).then(decodeHeaderBlock);
  }

  private onSynStream(id: number, headers: SpdyHeaders, fin: boolean): void {
    const peerParity = this.role === 'server' ? 1 : 0;
    if ((id & 1) !== peerParity || id <= this.lastPeerStreamId) {
      // An id the peer may not use, or one going backwards: refuse the stream.
      void this.queue(() => encodeFrame({ type: 'rst_stream', streamId: id, status: RstStatus.ProtocolError }));
      return;
    }
    this.lastPeerStreamId = id;
    if (this.goAwaySent) {
      void this.queue(() => encodeFrame({ type: 'rst_stream', streamId: id, status: RstStatus.RefusedStream }));
      return;
    }
    const stream = new SpdyStream(this, id, headers, false, false);
    this.streams.set(id, stream);
    if (fin) stream.receive(Buffer.alloc(0), true);
    if (this.onStream) this.onStream(stream);
    else stream.reset(RstStatus.RefusedStream);
  }

  private protocolError(err: Error): void {
    this.log?.debug({ err }, 'spdy protocol error');
    if (this.isClosed) return;
    void this.goAway(GoAwayStatus.ProtocolError).then(() => this.destroy());
  }

  private onSocketGone(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    const streams = [...this.streams.values()];
    this.streams.clear();
    for (const s of streams) s.onConnectionGone();
    this.pings.clear();
    this.compressor.close();
    this.decompressor.close();
    // The peer may only have ended its side: finish ours once what is queued is written.
    if (!this.socket.destroyed) void this.sendQueue.then(() => this.socket.destroy());
    this.emit('close');
    this.resolveClosed();
  }
}

/**
 * One SPDY stream as a Node Duplex: what is written goes out in DATA frames, end() sends
 * FLAG_FIN, and the peer's data is read. `headers` are those of its SYN_STREAM. A reset
 * (either side) ends the readable side after what was received, and drops later writes.
 * Errors are never fatal: a stream has a listener for them.
 */
export class SpdyStream extends Duplex {
  /** Resolves when the stream is accepted (SYN_REPLY sent for the peer's, received for ours). */
  readonly replied: Promise<SpdyHeaders>;
  private resolveReplied!: (h: SpdyHeaders) => void;
  private rejectReplied!: (err: Error) => void;
  private accepted = false;
  private remoteClosed = false;
  private localClosed: boolean;
  private wasReset = false;
  private settled = false;

  constructor(
    private readonly session: SpdySession,
    readonly id: number,
    readonly headers: SpdyHeaders,
    /** True for streams this end opened. */
    readonly local: boolean,
    /** The SYN_STREAM carried FLAG_FIN: nothing is sent on this stream. */
    finOnOpen: boolean,
  ) {
    super({ allowHalfOpen: true });
    this.localClosed = finOnOpen;
    this.replied = new Promise((resolve, reject) => {
      this.resolveReplied = resolve;
      this.rejectReplied = reject;
    });
    this.replied.catch(() => undefined);
    this.on('error', () => undefined);
  }

  /** The first value of a header of the stream's SYN_STREAM. */
  header(name: string): string | undefined {
    return this.headers[name.toLowerCase()]?.[0];
  }

  /** Accepts a stream the peer opened (sends SYN_REPLY). */
  async accept(headers: SpdyHeaders = {}): Promise<void> {
    if (this.local || this.accepted || this.wasReset) return;
    this.accepted = true;
    if (await this.session.sendReply(this, headers)) this.resolveReplied(headers);
    else this.rejectReplied(new Error(`stream ${this.id}: the connection is closed`));
  }

  /** Aborts the stream in both directions (RST_STREAM). */
  reset(status: number = RstStatus.Cancel): void {
    if (this.wasReset || this.settled) return;
    this.wasReset = true;
    this.session.sendReset(this, status);
    this.rejectReplied(new Error(`stream ${this.id} was reset`));
    this.release();
  }

  /** True once the stream was reset by either side (or its connection went away). */
  get isReset(): boolean {
    return this.wasReset;
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.wasReset) return cb();
    this.replied.then(
      () => this.session.sendData(this, chunk, false).then(() => cb()),
      () => cb(),
    );
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (this.wasReset || this.localClosed) {
      this.localClosed = true;
      this.maybeSettle();
      return cb();
    }
    this.replied.then(
      () =>
        this.session.sendData(this, Buffer.alloc(0), true).then(() => {
          this.localClosed = true;
          this.maybeSettle();
          cb();
        }),
      () => cb(),
    );
  }

  override _read(): void {
    this.session.unblock(this);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    // Destroyed before both sides finished: tell the peer.
    if (!this.settled && !this.wasReset) {
      this.wasReset = true;
      this.session.sendReset(this, RstStatus.Cancel);
    }
    this.rejectReplied(new Error(`stream ${this.id} was closed`));
    this.settled = true;
    this.session.settle(this);
    cb(err);
  }

  /** @internal */
  receive(data: Buffer, fin: boolean): void {
    if (this.remoteClosed || this.wasReset || this.destroyed) return;
    if (data.length > 0 && !this.push(data)) this.session.block(this);
    if (fin) {
      this.remoteClosed = true;
      this.push(null);
      this.maybeSettle();
    }
  }

  /** @internal */
  onReply(headers: SpdyHeaders): void {
    this.resolveReplied(headers);
  }

  /** @internal */
  onReset(status: number): void {
    if (this.wasReset) return;
    this.wasReset = true;
    this.rejectReplied(new Error(`stream ${this.id} was reset by the peer (status ${status})`));
    this.emit('reset', status);
    this.release();
  }

  /** @internal */
  onConnectionGone(): void {
    this.wasReset = true;
    this.rejectReplied(new Error(`stream ${this.id}: the connection is gone`));
    this.release();
  }

  private maybeSettle(): void {
    if (this.settled || !(this.localClosed && this.remoteClosed)) return;
    this.settled = true;
    this.session.settle(this);
  }

  /**
   * What is left after a reset or a lost connection: readers get the end after what was
   * received, writes are dropped, and the stream frees itself once both sides are over.
   */
  private release(): void {
    if (!this.settled) {
      this.settled = true;
      this.session.settle(this);
    }
    if (!this.remoteClosed) {
      this.remoteClosed = true;
      this.push(null);
    }
    if (!this.writableEnded) this.end();
  }
}
