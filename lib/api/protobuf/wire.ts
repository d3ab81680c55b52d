/**
 * A reader for the protobuf wire format (https://protobuf.dev/programming-guides/encoding/):
 * tags, varints, fixed 32/64-bit values and length-delimited fields. It knows nothing of
 * messages; decode.ts gives the bytes their meaning.
 *
 * Every read checks the bounds first, so malformed input (a varint that never ends, a length
 * past the end of the buffer) raises a ProtobufDecodeError instead of reading garbage.
 */

export const WireType = {
  Varint: 0,
  Fixed64: 1,
  LengthDelimited: 2,
  StartGroup: 3,
  EndGroup: 4,
  Fixed32: 5,
} as const;
export type WireType = (typeof WireType)[keyof typeof WireType];

const wireTypeNames = ['varint', 'fixed64', 'length-delimited', 'start-group', 'end-group', 'fixed32'];

export function wireTypeName(t: number): string {
  return wireTypeNames[t] ?? `wire type ${t}`;
}

/** Malformed protobuf input. `offset` is the byte position in the buffer being read. */
export class ProtobufDecodeError extends Error {
  override name = 'ProtobufDecodeError';
  constructor(
    message: string,
    readonly offset?: number,
  ) {
    super(message);
  }
}

export interface Tag {
  field: number;
  wireType: WireType;
}

const two32 = 0x1_0000_0000;
const maxGroupDepth = 32;
const utf8 = new TextDecoder('utf-8');

/**
 * Reads one message's bytes, front to back. A reader over a sub-range (`sub`) shares the
 * buffer and reports offsets relative to the whole buffer, which makes errors easy to place.
 */
export class WireReader {
  private pos: number;

  constructor(
    private readonly buf: Uint8Array,
    start = 0,
    private readonly end = buf.length,
  ) {
    this.pos = start;
  }

  get offset(): number {
    return this.pos;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  private fail(message: string, at = this.pos): never {
    throw new ProtobufDecodeError(`${message} at byte ${at}`, at);
  }

  /** Reads a varint as two unsigned 32-bit halves (JavaScript numbers lose precision past 2^53). */
  readVarint64(): { lo: number; hi: number } {
    const start = this.pos;
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.fail('truncated varint', start);
      const b = this.buf[this.pos++]!;
      const bits = b & 0x7f;
      if (i < 4) lo |= bits << (7 * i);
      else if (i === 4) {
        lo |= (bits & 0x0f) << 28;
        hi |= bits >>> 4;
      } else hi |= bits << (7 * i - 32);
      if ((b & 0x80) === 0) return { lo: lo >>> 0, hi: hi >>> 0 };
    }
    this.fail('varint longer than 10 bytes', start);
  }

  /** uint32, or any varint whose high bits do not matter (lengths, tags). */
  readUint32(): number {
    return this.readVarint64().lo;
  }

  /** int32: negative values arrive sign-extended to ten bytes; the low 32 bits carry the value. */
  readInt32(): number {
    return this.readVarint64().lo | 0;
  }

  /** int64 as a number: exact up to 2^53, which covers every count and duration Kubernetes uses. */
  readInt64(): number {
    const { lo, hi } = this.readVarint64();
    return hi >= 0x8000_0000 ? (hi - two32) * two32 + lo : hi * two32 + lo;
  }

  readUint64(): number {
    const { lo, hi } = this.readVarint64();
    return hi * two32 + lo;
  }

  readBool(): boolean {
    const { lo, hi } = this.readVarint64();
    return lo !== 0 || hi !== 0;
  }

  private take(n: number): number {
    const at = this.pos;
    if (n > this.end - this.pos) this.fail(`${n} bytes expected but only ${this.end - this.pos} left`, at);
    this.pos += n;
    return at;
  }

  readFixed32(): number {
    const at = this.take(4);
    return new DataView(this.buf.buffer, this.buf.byteOffset + at, 4).getUint32(0, true);
  }

  readFloat(): number {
    const at = this.take(4);
    return new DataView(this.buf.buffer, this.buf.byteOffset + at, 4).getFloat32(0, true);
  }

  readDouble(): number {
    const at = this.take(8);
    return new DataView(this.buf.buffer, this.buf.byteOffset + at, 8).getFloat64(0, true);
  }

  /** The payload of a length-delimited field, as a view into the buffer (not a copy). */
  readBytes(): Uint8Array {
    const lenAt = this.pos;
    const { lo, hi } = this.readVarint64();
    if (hi !== 0 || lo > this.end - this.pos) this.fail(`length ${hi !== 0 ? 'over 4 GiB' : lo} runs past the end of the message`, lenAt);
    const at = this.take(lo);
    return this.buf.subarray(at, at + lo);
  }

  /** Strings are UTF-8; invalid sequences become U+FFFD, as Go's JSON encoder would print them. */
  readString(): string {
    return utf8.decode(this.readBytes());
  }

  /** A reader over the payload of a length-delimited field (an embedded message). */
  readMessage(): WireReader {
    const bytes = this.readBytes();
    return new WireReader(this.buf, bytes.byteOffset - this.buf.byteOffset, bytes.byteOffset - this.buf.byteOffset + bytes.length);
  }

  readTag(): Tag {
    const at = this.pos;
    const { lo, hi } = this.readVarint64();
    if (hi !== 0) this.fail('field number out of range', at);
    const field = lo >>> 3;
    const wireType = lo & 7;
    if (field === 0) this.fail('field number 0 is not allowed', at);
    if (wireType > 5) this.fail(`unknown wire type ${wireType}`, at);
    return { field, wireType: wireType as WireType };
  }

  /** Skips the value of a field whose tag was just read (unknown fields are not an error). */
  skip(wireType: WireType, field = 0, depth = 0): void {
    switch (wireType) {
      case WireType.Varint:
        this.readVarint64();
        return;
      case WireType.Fixed64:
        this.take(8);
        return;
      case WireType.Fixed32:
        this.take(4);
        return;
      case WireType.LengthDelimited:
        this.readBytes();
        return;
      case WireType.StartGroup:
        // Groups are long deprecated and Kubernetes never writes them, but they still have
        // a well-defined extent: everything up to the matching end-group tag.
        if (depth >= maxGroupDepth) this.fail(`groups nested deeper than ${maxGroupDepth}`);
        for (;;) {
          if (this.done) this.fail(`group of field ${field} is not closed`);
          const t = this.readTag();
          if (t.wireType === WireType.EndGroup) {
            if (t.field !== field) this.fail(`end-group tag of field ${t.field} closes the group of field ${field}`);
            return;
          }
          this.skip(t.wireType, t.field, depth + 1);
        }
      case WireType.EndGroup:
        this.fail(`unexpected end-group tag of field ${field}`);
    }
  }
}
