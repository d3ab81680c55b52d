/**
 * The Kubernetes WebSocket channel protocols (apimachinery wsstream; KEP-4006 for v5): several
 * byte streams over one WebSocket, each message prefixed with its channel number.
 *
 *   channel.k8s.io, v4.channel.k8s.io, v5.channel.k8s.io   binary messages: [channel, ...data]
 *   base64.channel.k8s.io, v4.base64.channel.k8s.io        text messages: '0'+channel, base64(data)
 *
 * For exec and attach the channels are 0 stdin, 1 stdout, 2 stderr, 3 error, 4 resize. v4 makes
 * the error channel carry a JSON Status (with the exit code); v5 adds the CLOSE signal, a message
 * [255, channel] that half-closes one channel (stdin reaching EOF), which v4 cannot express.
 * For port forwarding (v4.channel.k8s.io and friends) each port has a data channel 2i and an
 * error channel 2i+1, and the first message of each carries the port (16 bits, little endian).
 */
import { Readable, Writable } from 'node:stream';
import type { WebSocket } from 'ws';

export const ChannelProtocol = {
  v1: 'channel.k8s.io',
  v1Base64: 'base64.channel.k8s.io',
  v4: 'v4.channel.k8s.io',
  v4Base64: 'v4.base64.channel.k8s.io',
  v5: 'v5.channel.k8s.io',
} as const;

/** Channel numbers of exec and attach. */
export const RemoteCommandChannel = { stdin: 0, stdout: 1, stderr: 2, error: 3, resize: 4 } as const;

/** First byte of a v5 CLOSE signal; the second names the channel. */
export const closeSignal = 255;

export function isBase64Protocol(protocol: string): boolean {
  return protocol.includes('base64.');
}

/** Whether the protocol has the v5 CLOSE signal. */
export function supportsCloseSignal(protocol: string): boolean {
  return protocol === ChannelProtocol.v5;
}

/**
 * The subprotocol to answer with: the first the client offered that the server supports, as
 * upstream's handshake does. A client that offers none gets '' (the unversioned protocol) when
 * the server allows it; undefined means refuse.
 */
export function negotiateSubprotocol(offered: readonly string[], supported: readonly string[]): string | undefined {
  if (offered.length === 0) return supported.includes('') ? '' : undefined;
  return offered.find((p) => p !== '' && supported.includes(p));
}

/** Splits a Sec-WebSocket-Protocol header (one or more, comma-separated) into names. */
export function parseProtocolHeader(value: string | string[] | undefined): string[] {
  const all = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return all.flatMap((v) => v.split(',')).map((p) => p.trim()).filter((p) => p !== '');
}

export type ChannelMessage = { kind: 'data'; channel: number; data: Buffer } | { kind: 'close'; channel: number };

export function encodeChannelMessage(channel: number, data: Buffer, base64: boolean): Buffer | string {
  if (base64) return String.fromCharCode(48 + channel) + data.toString('base64');
  const out = Buffer.allocUnsafe(data.length + 1);
  out[0] = channel;
  data.copy(out, 1);
  return out;
}

/** Decodes a received message; undefined for an empty one (which carries nothing). */
export function decodeChannelMessage(msg: Buffer, opts: { base64: boolean; closeSignal: boolean }): ChannelMessage | undefined {
  if (msg.length === 0) return undefined;
  if (opts.closeSignal && msg[0] === closeSignal) {
    if (msg.length !== 2) throw new Error(`a CLOSE signal carries one channel byte, got ${msg.length - 1}`);
    return { kind: 'close', channel: msg[1]! };
  }
  if (opts.base64) {
    const channel = msg[0]! - 48;
    return { kind: 'data', channel, data: Buffer.from(msg.subarray(1).toString('latin1'), 'base64') };
  }
  return { kind: 'data', channel: msg[0]!, data: msg.subarray(1) };
}

/** A readable channel: what the client sent on it. */
class ChannelReader extends Readable {
  ended = false;
  constructor(private readonly onDrain: () => void) {
    super();
    this.on('error', () => undefined);
  }

  override _read(): void {
    this.onDrain();
  }

  /** Returns false when the reader is full. */
  deliver(data: Buffer): boolean {
    return this.ended ? true : this.push(data);
  }

  finish(): void {
    if (this.ended) return;
    this.ended = true;
    this.push(null);
  }
}

/** A writable channel: each write becomes one message. */
class ChannelWriter extends Writable {
  constructor(
    private readonly owner: WebSocketChannels,
    private readonly channel: number,
  ) {
    super();
    this.on('error', () => undefined);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.owner.send(this.channel, chunk).then(() => cb(), () => cb());
  }
}

/**
 * The channels of one WebSocket. Readers end when the client sends CLOSE for their channel
 * (v5) or the socket closes; writers send one message per write. Messages for channels that
 * are not readable are dropped, as upstream does.
 */
export class WebSocketChannels {
  readonly protocol: string;
  /** Resolves once the WebSocket is closed. */
  readonly closed: Promise<void>;
  private readonly base64: boolean;
  private readonly readers = new Map<number, ChannelReader>();
  private readonly paused = new Set<number>();

  constructor(
    private readonly ws: WebSocket,
    protocol: string,
    opts: { readable: number[] },
  ) {
    this.protocol = protocol;
    this.base64 = isBase64Protocol(protocol);
    const close = supportsCloseSignal(protocol);
    for (const ch of opts.readable) {
      // A full reader pauses the socket; reading from it again lets the socket go on.
      this.readers.set(ch, new ChannelReader(() => {
        if (this.paused.delete(ch) && this.paused.size === 0) ws.resume();
      }));
    }
    this.closed = new Promise((resolve) => {
      ws.on('close', () => {
        for (const r of this.readers.values()) r.finish();
        resolve();
      });
    });
    ws.on('error', () => undefined);
    ws.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
      const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      let msg: ChannelMessage | undefined;
      try {
        msg = decodeChannelMessage(buf, { base64: this.base64, closeSignal: close });
      } catch {
        ws.close(1002, 'protocol error');
        return;
      }
      if (!msg) return;
      const r = this.readers.get(msg.channel);
      if (!r || r.ended) return;
      if (msg.kind === 'close') return void r.finish();
      if (!r.deliver(msg.data)) {
        this.paused.add(msg.channel);
        ws.pause();
      }
    });
  }

  /** What the client sends on a channel. */
  reader(channel: number): Readable {
    const r = this.readers.get(channel);
    if (!r) throw new Error(`channel ${channel} is not readable`);
    return r;
  }

  /** A stream whose writes go to the client on a channel. */
  writer(channel: number): Writable {
    return new ChannelWriter(this, channel);
  }

  /** Sends one message; resolves once the socket took it (or at once if it is closed). */
  send(channel: number, data: Buffer): Promise<void> {
    if (this.ws.readyState !== this.ws.OPEN) return Promise.resolve();
    const msg = encodeChannelMessage(channel, data, this.base64);
    return new Promise((resolve) => this.ws.send(msg, { binary: !this.base64 }, () => resolve()));
  }

  /** Closes the WebSocket normally (the client reads the end of every channel). */
  close(code = 1000, reason = ''): void {
    if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING) this.ws.close(code, reason);
  }
}
