/**
 * The protobuf wire format of the few etcd KV messages the API server sends on every request
 * (Range, Txn, Compaction; see etcd's api/etcdserverpb/rpc.proto and mvccpb/kv.proto), written
 * out by hand: a create is one Txn, and encoding it with a reflection-based codec cost more than
 * the rest of the call. Revisions are JavaScript numbers (etcd's are int64 counters far below
 * 2^53); lease IDs are decimal strings, as they use all 64 bits.
 *
 * Wire format, in short: each field is a varint tag (field number << 3 | wire type) followed by
 * a varint (type 0) or a varint length and that many bytes (type 2: bytes, strings and nested
 * messages). Fields left at their default are omitted, except inside a oneof, where presence
 * counts (Compare's mod_revision 0 means "the key does not exist").
 */

export interface KeyValue {
  key: Buffer;
  value: Buffer;
  createRevision: number;
  modRevision: number;
  version: number;
  /** The key's lease ID, decimal; "0" without a lease. */
  lease: string;
}

export interface RangeRequest {
  key: Buffer;
  rangeEnd?: Buffer;
  limit?: number;
  revision?: number;
  countOnly?: boolean;
}

export interface RangeResponse {
  revision: number;
  kvs: KeyValue[];
  more: boolean;
  count: number;
}

/** The operations of a transaction branch tkube uses. */
export type RequestOp = { put: { key: Buffer; value: Buffer; lease?: string } } | { range: RangeRequest } | { deleteRange: { key: Buffer } };

export interface TxnRequest {
  /** Every compare is "the key's mod revision equals modRevision" (0: the key does not exist). */
  compare: { key: Buffer; modRevision: number }[];
  success: RequestOp[];
  failure: RequestOp[];
}

export interface TxnResponse {
  revision: number;
  succeeded: boolean;
  /** One per operation of the branch taken; only ranges carry a body tkube reads. */
  responses: { range?: RangeResponse }[];
}

// ---- encoding ------------------------------------------------------------------------------

/** Bytes of a message under construction: one growable buffer, appended to in field order. */
class Writer {
  private buf: Buffer;
  private pos: number;

  /** `sizeHint`: the bytes expected, so that one allocation usually suffices; `reserve` bytes are left free in front. */
  constructor(sizeHint: number, reserve = 0) {
    this.buf = Buffer.allocUnsafe(Math.max(64, sizeHint + reserve));
    this.pos = reserve;
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  varint(n: number): void {
    this.room(10);
    while (n > 0x7f) {
      this.buf[this.pos++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.buf[this.pos++] = n;
  }

  /** A varint of a decimal int64 (lease IDs): BigInt only when it does not fit a double exactly. */
  varint64(decimal: string): void {
    const n = Number(decimal);
    if (Number.isSafeInteger(n) && n >= 0) return this.varint(n);
    let b = BigInt.asUintN(64, BigInt(decimal));
    this.room(10);
    while (b > 0x7fn) {
      this.buf[this.pos++] = Number(b & 0x7fn) | 0x80;
      b >>= 7n;
    }
    this.buf[this.pos++] = Number(b);
  }

  tag(field: number, wireType: 0 | 2): void {
    this.varint((field << 3) | wireType);
  }

  uint(field: number, n: number): void {
    this.tag(field, 0);
    this.varint(n);
  }

  bytes(field: number, b: Buffer): void {
    this.tag(field, 2);
    this.varint(b.length);
    this.room(b.length);
    b.copy(this.buf, this.pos);
    this.pos += b.length;
  }

  /**
   * A nested message, written in place: five bytes are kept for its length, and once the
   * length is known the message moves back over the ones its varint does not need.
   */
  message(field: number, write: (w: Writer) => void): void {
    this.tag(field, 2);
    this.room(5);
    const lenAt = this.pos;
    this.pos += 5;
    write(this);
    const len = this.pos - lenAt - 5;
    let size = 1;
    for (let n = len; n > 0x7f; n = Math.floor(n / 0x80)) size++;
    if (size < 5) this.buf.copyWithin(lenAt + size, lenAt + 5, this.pos);
    // The length goes into the room kept for it (no growing here: that would copy only up to pos).
    let at = lenAt;
    let n = len;
    while (n > 0x7f) {
      this.buf[at++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.buf[at++] = n;
    this.pos = at + len;
  }

  /** The message in gRPC's frame: a compression flag (0) and its 4-byte big-endian length in the 5 reserved bytes. */
  framed(): Buffer {
    this.buf[0] = 0;
    this.buf.writeUInt32BE(this.pos - 5, 1);
    return this.buf.subarray(0, this.pos);
  }
}

function writeRange(w: Writer, r: RangeRequest): void {
  w.bytes(1, r.key);
  if (r.rangeEnd) w.bytes(2, r.rangeEnd);
  if (r.limit) w.uint(3, r.limit);
  if (r.revision) w.uint(4, r.revision);
  if (r.countOnly) w.uint(9, 1);
}

/** The body of one RequestOp: the request in its oneof field. */
function writeOp(w: Writer, op: RequestOp): void {
  if ('put' in op) {
    w.message(2, (p) => {
      p.bytes(1, op.put.key);
      p.bytes(2, op.put.value);
      if (op.put.lease && op.put.lease !== '0') {
        p.tag(3, 0);
        p.varint64(op.put.lease);
      }
    });
  } else if ('range' in op) {
    w.message(1, (r) => writeRange(r, op.range));
  } else {
    w.message(3, (d) => d.bytes(1, op.deleteRange.key));
  }
}

export function encodeRangeRequest(r: RangeRequest): Buffer {
  const w = new Writer(r.key.length + (r.rangeEnd?.length ?? 0) + 32, 5);
  writeRange(w, r);
  return w.framed();
}

/** Bytes an op's keys and values take, for the writer's first allocation. */
function opBytes(op: RequestOp): number {
  if ('put' in op) return op.put.key.length + op.put.value.length;
  if ('range' in op) return op.range.key.length + (op.range.rangeEnd?.length ?? 0);
  return op.deleteRange.key.length;
}

export function encodeTxnRequest(t: TxnRequest): Buffer {
  let hint = 0;
  for (const c of t.compare) hint += c.key.length + 24;
  for (const op of [...t.success, ...t.failure]) hint += opBytes(op) + 32;
  const w = new Writer(hint, 5);
  for (const c of t.compare) {
    w.message(1, (m) => {
      // result EQUAL (0) is the default and omitted; target MOD = 2.
      m.uint(2, 2);
      m.bytes(3, c.key);
      m.uint(6, c.modRevision);
    });
  }
  // Each branch is a list of RequestOp messages: success is field 2, failure field 3.
  for (const op of t.success) w.message(2, (m) => writeOp(m, op));
  for (const op of t.failure) w.message(3, (m) => writeOp(m, op));
  return w.framed();
}

export function encodeCompactionRequest(revision: number, physical: boolean): Buffer {
  const w = new Writer(16, 5);
  w.uint(1, revision);
  if (physical) w.uint(2, 1);
  return w.framed();
}

// ---- decoding ------------------------------------------------------------------------------

/** A cursor over one message's bytes. */
class Reader {
  pos: number;
  constructor(
    readonly buf: Buffer,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  more(): boolean {
    return this.pos < this.end;
  }

  varint(): number {
    let n = 0;
    let mul = 1;
    for (;;) {
      if (this.pos >= this.end) throw new Error('protobuf: truncated varint');
      const b = this.buf[this.pos++]!;
      n += (b & 0x7f) * mul;
      if (b < 0x80) return n;
      mul *= 0x80;
    }
  }

  /** An int64 as a decimal string, exact for every 64-bit value (lease IDs). */
  varint64(): string {
    const start = this.pos;
    const n = this.varint();
    if (this.pos - start < 8) return String(n);
    let b = 0n;
    for (let i = this.pos - 1; i >= start; i--) b = (b << 7n) | BigInt(this.buf[i]! & 0x7f);
    return String(BigInt.asIntN(64, b));
  }

  /** A length-delimited field: its [start, end) within buf. */
  span(): [number, number] {
    const len = this.varint();
    const start = this.pos;
    this.pos += len;
    if (this.pos > this.end) throw new Error('protobuf: truncated field');
    return [start, this.pos];
  }

  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 2) this.span();
    else if (wireType === 1) this.pos += 8;
    else if (wireType === 5) this.pos += 4;
    else throw new Error(`protobuf: unsupported wire type ${wireType}`);
  }
}

/**
 * Calls `field` for each field of the message in [start, end); fields it does not take (it
 * returns false) are skipped, as protobuf readers must for fields they do not know.
 */
function eachField(buf: Buffer, start: number, end: number, field: (tag: number, r: Reader) => boolean): void {
  const r = new Reader(buf, start, end);
  while (r.more()) {
    const tag = r.varint();
    if (!field(tag, r)) r.skip(tag & 7);
  }
}

/** The revision of a message whose field 1 is a ResponseHeader (every etcd reply). */
function headerRevision(buf: Buffer, start: number, end: number): number {
  let revision = 0;
  eachField(buf, start, end, (tag, r) => {
    if (tag !== ((1 << 3) | 2)) return false;
    eachField(buf, ...r.span(), (t, h) => t === 3 << 3 && ((revision = h.varint()), true));
    return true;
  });
  return revision;
}

function readKeyValue(buf: Buffer, start: number, end: number): KeyValue {
  const kv: KeyValue = { key: EMPTY, value: EMPTY, createRevision: 0, modRevision: 0, version: 0, lease: '0' };
  eachField(buf, start, end, (tag, r) => {
    if (tag === ((1 << 3) | 2)) kv.key = buf.subarray(...r.span());
    else if (tag === 2 << 3) kv.createRevision = r.varint();
    else if (tag === 3 << 3) kv.modRevision = r.varint();
    else if (tag === 4 << 3) kv.version = r.varint();
    else if (tag === ((5 << 3) | 2)) kv.value = buf.subarray(...r.span());
    else if (tag === 6 << 3) kv.lease = r.varint64();
    else return false;
    return true;
  });
  return kv;
}

const EMPTY = Buffer.alloc(0);

function readRangeResponse(buf: Buffer, start: number, end: number): RangeResponse {
  const out: RangeResponse = { revision: headerRevision(buf, start, end), kvs: [], more: false, count: 0 };
  eachField(buf, start, end, (tag, r) => {
    if (tag === ((2 << 3) | 2)) out.kvs.push(readKeyValue(buf, ...r.span()));
    else if (tag === 3 << 3) out.more = r.varint() !== 0;
    else if (tag === 4 << 3) out.count = r.varint();
    else return false;
    return true;
  });
  return out;
}

/**
 * Decodes a RangeResponse. The key-values point into `buf` (no copies): keep `buf` unchanged
 * while they are used.
 */
export function decodeRangeResponse(buf: Buffer): RangeResponse {
  return readRangeResponse(buf, 0, buf.length);
}

export function decodeTxnResponse(buf: Buffer): TxnResponse {
  const out: TxnResponse = { revision: headerRevision(buf, 0, buf.length), succeeded: false, responses: [] };
  eachField(buf, 0, buf.length, (tag, r) => {
    if (tag === 2 << 3) out.succeeded = r.varint() !== 0;
    else if (tag === ((3 << 3) | 2)) {
      // A ResponseOp: only a range (field 1) carries what tkube reads.
      const res: { range?: RangeResponse } = {};
      eachField(buf, ...r.span(), (t, op) => t === ((1 << 3) | 2) && ((res.range = readRangeResponse(buf, ...op.span())), true));
      out.responses.push(res);
    } else return false;
    return true;
  });
  return out;
}

/** A reply that only carries a header (Compaction): its revision. */
export function decodeHeaderRevision(buf: Buffer): number {
  return headerRevision(buf, 0, buf.length);
}

// ---- watch ---------------------------------------------------------------------------------

/** A WatchCreateRequest (sent wrapped in a WatchRequest, field 1). */
export interface WatchCreate {
  key: Buffer;
  rangeEnd?: Buffer;
  /** First revision to send; 0 or absent: changes after the current one. */
  startRevision?: number;
  /** Ask for progress notifications (empty responses carrying the watch's revision). */
  progressNotify?: boolean;
  /** Send each event's previous key-value. */
  prevKv?: boolean;
}

export function encodeWatchCreateRequest(c: WatchCreate): Buffer {
  const w = new Writer(c.key.length + (c.rangeEnd?.length ?? 0) + 32, 5);
  w.message(1, (m) => {
    m.bytes(1, c.key);
    if (c.rangeEnd) m.bytes(2, c.rangeEnd);
    if (c.startRevision) m.uint(3, c.startRevision);
    if (c.progressNotify) m.uint(4, 1);
    if (c.prevKv) m.uint(6, 1);
  });
  return w.framed();
}

export interface WatchEvent {
  type: 'PUT' | 'DELETE';
  kv: KeyValue;
  prevKv?: KeyValue;
}

export interface WatchResponse {
  /** The header's revision: for a progress notification, every change up to it was sent. */
  revision: number;
  watchId: number;
  created: boolean;
  canceled: boolean;
  /** Set when the requested start revision was compacted: the oldest revision still held. */
  compactRevision: number;
  cancelReason: string;
  events: WatchEvent[];
}

function readEvent(buf: Buffer, start: number, end: number): WatchEvent {
  const ev: WatchEvent = { type: 'PUT', kv: readKeyValue(buf, end, end) };
  eachField(buf, start, end, (tag, r) => {
    if (tag === 1 << 3) ev.type = r.varint() === 1 ? 'DELETE' : 'PUT';
    else if (tag === ((2 << 3) | 2)) ev.kv = readKeyValue(buf, ...r.span());
    else if (tag === ((3 << 3) | 2)) ev.prevKv = readKeyValue(buf, ...r.span());
    else return false;
    return true;
  });
  return ev;
}

/** Decodes a WatchResponse; key-values point into `buf`, as for ranges. */
export function decodeWatchResponse(buf: Buffer): WatchResponse {
  const out: WatchResponse = { revision: headerRevision(buf, 0, buf.length), watchId: 0, created: false, canceled: false, compactRevision: 0, cancelReason: '', events: [] };
  eachField(buf, 0, buf.length, (tag, r) => {
    if (tag === 2 << 3) out.watchId = r.varint();
    else if (tag === 3 << 3) out.created = r.varint() !== 0;
    else if (tag === 4 << 3) out.canceled = r.varint() !== 0;
    else if (tag === 5 << 3) out.compactRevision = r.varint();
    else if (tag === ((6 << 3) | 2)) out.cancelReason = buf.toString('utf8', ...r.span());
    else if (tag === ((11 << 3) | 2)) out.events.push(readEvent(buf, ...r.span()));
    else return false;
    return true;
  });
  return out;
}
