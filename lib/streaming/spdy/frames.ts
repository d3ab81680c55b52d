/**
 * SPDY/3.1 frames on the wire (the SPDY/3 draft with 3.1's session flow-control frame).
 * Kubernetes streams (exec, attach, port-forward) run over SPDY/3.1 between kubectl, the API
 * server and the kubelet, with header blocks compressed by one zlib context per direction.
 *
 * Every frame starts with 8 bytes:
 *
 *   control frame:  |1| version (15) | type (16) |  flags (8) | length (24) | payload ...
 *   data frame:     |0| stream id (31)          |  flags (8) | length (24) | data ...
 *
 * This module is pure framing: it turns bytes into frames and back. Header blocks stay
 * compressed here; compression.ts holds the zlib contexts and session.ts the streams.
 */

export const spdyVersion = 3;

/** The largest payload a frame can carry (24-bit length). */
export const maxFramePayload = 0xffffff;

export const ControlType = {
  SynStream: 1,
  SynReply: 2,
  RstStream: 3,
  Settings: 4,
  Ping: 6,
  GoAway: 7,
  Headers: 8,
  WindowUpdate: 9,
} as const;

/** FLAG_FIN on data frames, SYN_STREAM, SYN_REPLY and HEADERS: the sender's half is closed. */
export const flagFin = 0x01;
/** FLAG_UNIDIRECTIONAL on SYN_STREAM: the receiver may not send on the stream. */
export const flagUnidirectional = 0x02;

/** RST_STREAM status codes. */
export const RstStatus = {
  ProtocolError: 1,
  InvalidStream: 2,
  RefusedStream: 3,
  UnsupportedVersion: 4,
  Cancel: 5,
  InternalError: 6,
  FlowControlError: 7,
  StreamInUse: 8,
  StreamAlreadyClosed: 9,
  FrameTooLarge: 11,
} as const;

/** GOAWAY status codes. */
export const GoAwayStatus = { Ok: 0, ProtocolError: 1, InternalError: 2 } as const;

export type SpdyFrame =
  | { type: 'data'; streamId: number; flags: number; data: Buffer }
  | { type: 'syn_stream'; streamId: number; associatedStreamId: number; priority: number; slot: number; flags: number; headerBlock: Buffer }
  | { type: 'syn_reply'; streamId: number; flags: number; headerBlock: Buffer }
  | { type: 'rst_stream'; streamId: number; status: number }
  | { type: 'settings'; flags: number; entries: Array<{ flags: number; id: number; value: number }> }
  | { type: 'ping'; id: number }
  | { type: 'goaway'; lastGoodStreamId: number; status: number }
  | { type: 'headers'; streamId: number; flags: number; headerBlock: Buffer }
  | { type: 'window_update'; streamId: number; delta: number }
  /** A control frame of a type this implementation does not know (the spec says: ignore it). */
  | { type: 'unknown'; version: number; controlType: number; flags: number; payload: Buffer };

/** A frame that breaks the framing rules: the connection cannot go on (GOAWAY PROTOCOL_ERROR). */
export class SpdyProtocolError extends Error {
  override readonly name = 'SpdyProtocolError';
  constructor(
    message: string,
    readonly streamId = 0,
  ) {
    super(message);
  }
}

const streamIdMask = 0x7fffffff;

function header8(first: number, flags: number, length: number): Buffer {
  if (length > maxFramePayload) throw new RangeError(`SPDY frame payload of ${length} bytes is over the 24-bit limit`);
  const b = Buffer.alloc(8);
  b.writeUInt32BE(first >>> 0, 0);
  b.writeUInt32BE(((flags & 0xff) << 24 | length) >>> 0, 4);
  return b;
}

function control(type: number, flags: number, payload: Buffer): Buffer {
  return Buffer.concat([header8((0x8000 | spdyVersion) << 16 | type, flags, payload.length), payload]);
}

function u32(...values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => b.writeUInt32BE(v >>> 0, i * 4));
  return b;
}

/** Encodes one frame (header blocks must already be compressed). */
export function encodeFrame(f: SpdyFrame): Buffer {
  switch (f.type) {
    case 'data':
      return Buffer.concat([header8(f.streamId & streamIdMask, f.flags, f.data.length), f.data]);
    case 'syn_stream': {
      const fixed = Buffer.alloc(10);
      fixed.writeUInt32BE(f.streamId & streamIdMask, 0);
      fixed.writeUInt32BE(f.associatedStreamId & streamIdMask, 4);
      fixed.writeUInt8((f.priority & 0x7) << 5, 8);
      fixed.writeUInt8(f.slot & 0xff, 9);
      return control(ControlType.SynStream, f.flags, Buffer.concat([fixed, f.headerBlock]));
    }
    case 'syn_reply':
      return control(ControlType.SynReply, f.flags, Buffer.concat([u32(f.streamId & streamIdMask), f.headerBlock]));
    case 'headers':
      return control(ControlType.Headers, f.flags, Buffer.concat([u32(f.streamId & streamIdMask), f.headerBlock]));
    case 'rst_stream':
      return control(ControlType.RstStream, 0, u32(f.streamId & streamIdMask, f.status));
    case 'settings': {
      const body = Buffer.alloc(4 + f.entries.length * 8);
      body.writeUInt32BE(f.entries.length, 0);
      f.entries.forEach((e, i) => {
        body.writeUInt32BE(((e.flags & 0xff) << 24 | (e.id & 0xffffff)) >>> 0, 4 + i * 8);
        body.writeUInt32BE(e.value >>> 0, 8 + i * 8);
      });
      return control(ControlType.Settings, f.flags, body);
    }
    case 'ping':
      return control(ControlType.Ping, 0, u32(f.id));
    case 'goaway':
      return control(ControlType.GoAway, 0, u32(f.lastGoodStreamId & streamIdMask, f.status));
    case 'window_update':
      return control(ControlType.WindowUpdate, 0, u32(f.streamId & streamIdMask, f.delta & streamIdMask));
    case 'unknown':
      return Buffer.concat([header8((0x8000 | f.version) << 16 | f.controlType, f.flags, f.payload.length), f.payload]);
  }
}

function need(payload: Buffer, n: number, what: string): void {
  if (payload.length < n) throw new SpdyProtocolError(`${what} frame of ${payload.length} bytes is too short (want ${n})`);
}

/** Decodes one frame from its 8-byte header fields and payload. */
function decodeFrame(word0: number, flags: number, payload: Buffer): SpdyFrame {
  if ((word0 & 0x80000000) === 0) {
    const streamId = word0 & streamIdMask;
    if (streamId === 0) throw new SpdyProtocolError('data frame on stream 0');
    return { type: 'data', streamId, flags, data: payload };
  }
  const version = (word0 >>> 16) & 0x7fff;
  const controlType = word0 & 0xffff;
  if (version !== spdyVersion) throw new SpdyProtocolError(`unsupported SPDY version ${version} (want ${spdyVersion})`);
  switch (controlType) {
    case ControlType.SynStream: {
      need(payload, 10, 'SYN_STREAM');
      const streamId = payload.readUInt32BE(0) & streamIdMask;
      if (streamId === 0) throw new SpdyProtocolError('SYN_STREAM for stream 0');
      return {
        type: 'syn_stream',
        streamId,
        associatedStreamId: payload.readUInt32BE(4) & streamIdMask,
        priority: payload.readUInt8(8) >> 5,
        slot: payload.readUInt8(9),
        flags,
        headerBlock: payload.subarray(10),
      };
    }
    case ControlType.SynReply:
    case ControlType.Headers: {
      const name = controlType === ControlType.SynReply ? 'SYN_REPLY' : 'HEADERS';
      need(payload, 4, name);
      const streamId = payload.readUInt32BE(0) & streamIdMask;
      if (streamId === 0) throw new SpdyProtocolError(`${name} for stream 0`);
      return { type: controlType === ControlType.SynReply ? 'syn_reply' : 'headers', streamId, flags, headerBlock: payload.subarray(4) };
    }
    case ControlType.RstStream: {
      if (payload.length !== 8) throw new SpdyProtocolError(`RST_STREAM of ${payload.length} bytes (want 8)`);
      const streamId = payload.readUInt32BE(0) & streamIdMask;
      if (streamId === 0) throw new SpdyProtocolError('RST_STREAM for stream 0');
      return { type: 'rst_stream', streamId, status: payload.readUInt32BE(4) };
    }
    case ControlType.Settings: {
      need(payload, 4, 'SETTINGS');
      const n = payload.readUInt32BE(0);
      if (payload.length !== 4 + n * 8) throw new SpdyProtocolError(`SETTINGS frame announces ${n} entries in ${payload.length} bytes`);
      const entries = [];
      for (let i = 0; i < n; i++) {
        const w = payload.readUInt32BE(4 + i * 8);
        entries.push({ flags: w >>> 24, id: w & 0xffffff, value: payload.readUInt32BE(8 + i * 8) });
      }
      return { type: 'settings', flags, entries };
    }
    case ControlType.Ping:
      if (payload.length !== 4) throw new SpdyProtocolError(`PING of ${payload.length} bytes (want 4)`);
      return { type: 'ping', id: payload.readUInt32BE(0) };
    case ControlType.GoAway:
      if (payload.length !== 8) throw new SpdyProtocolError(`GOAWAY of ${payload.length} bytes (want 8)`);
      return { type: 'goaway', lastGoodStreamId: payload.readUInt32BE(0) & streamIdMask, status: payload.readUInt32BE(4) };
    case ControlType.WindowUpdate:
      if (payload.length !== 8) throw new SpdyProtocolError(`WINDOW_UPDATE of ${payload.length} bytes (want 8)`);
      return { type: 'window_update', streamId: payload.readUInt32BE(0) & streamIdMask, delta: payload.readUInt32BE(4) & streamIdMask };
    default:
      return { type: 'unknown', version, controlType, flags, payload };
  }
}

/**
 * Cuts a byte stream into frames. Feed it what arrives; it returns the frames completed so far
 * and keeps the rest. Throws SpdyProtocolError on bytes that cannot be SPDY/3.
 */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): SpdyFrame[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: SpdyFrame[] = [];
    let off = 0;
    while (this.buf.length - off >= 8) {
      const word0 = this.buf.readUInt32BE(off);
      const word1 = this.buf.readUInt32BE(off + 4);
      const length = word1 & 0xffffff;
      if (this.buf.length - off - 8 < length) break;
      // Copy the payload out: the frame may outlive the (reused) receive buffer.
      const payload = Buffer.from(this.buf.subarray(off + 8, off + 8 + length));
      out.push(decodeFrame(word0, word1 >>> 24, payload));
      off += 8 + length;
    }
    this.buf = off === this.buf.length ? Buffer.alloc(0) : this.buf.subarray(off);
    return out;
  }

  /** Bytes received that do not make a whole frame yet. */
  get pending(): number {
    return this.buf.length;
  }
}

// ---- Header blocks -----------------------------------------------------------------------------

/** Header names (lower case) to values; one name may carry several values. */
export type SpdyHeaders = Record<string, string[]>;

/**
 * The name/value block before compression: a 32-bit count of pairs, then for each a 32-bit
 * length and the name, a 32-bit length and the value. Several values of one name travel as one
 * value joined by NUL bytes. Names are lower case (HTTP/1.1 names are case-insensitive).
 */
export function encodeHeaderBlock(headers: SpdyHeaders): Buffer {
  const entries = Object.entries(headers).filter(([, v]) => v.length > 0);
  const parts: Buffer[] = [u32(entries.length)];
  for (const [name, values] of entries) {
    const n = Buffer.from(name.toLowerCase(), 'utf8');
    const v = Buffer.from(values.join('\0'), 'utf8');
    parts.push(u32(n.length), n, u32(v.length), v);
  }
  return Buffer.concat(parts);
}

export function decodeHeaderBlock(block: Buffer): SpdyHeaders {
  const fail = (why: string): never => {
    throw new SpdyProtocolError(`malformed header block: ${why}`);
  };
  if (block.length < 4) fail('shorter than its count');
  const count = block.readUInt32BE(0);
  const out: SpdyHeaders = {};
  let off = 4;
  const take = (what: string): Buffer => {
    if (block.length - off < 4) fail(`no length for a ${what}`);
    const len = block.readUInt32BE(off);
    off += 4;
    if (block.length - off < len) fail(`${what} of ${len} bytes runs past the block`);
    const b = block.subarray(off, off + len);
    off += len;
    return b;
  };
  for (let i = 0; i < count; i++) {
    const name = take('name').toString('utf8');
    if (name === '') fail('empty header name');
    if (name !== name.toLowerCase()) fail(`header name ${JSON.stringify(name)} is not lower case`);
    if (out[name]) fail(`header ${JSON.stringify(name)} appears twice`);
    out[name] = take('value').toString('utf8').split('\0');
  }
  if (off !== block.length) fail(`${block.length - off} bytes after the last pair`);
  return out;
}

/** The first value of a header, as Go's http.Header.Get. */
export function headerValue(headers: SpdyHeaders, name: string): string | undefined {
  return headers[name.toLowerCase()]?.[0];
}
