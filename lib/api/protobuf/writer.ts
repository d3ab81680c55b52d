/**
 * A minimal protobuf wire-format writer: the mirror of WireReader, used to build request
 * bodies by hand (tests, tools). It writes fields in the order they are given.
 */
import { protobufMagic } from './decode.js';
import { WireType } from './wire.js';

export class WireWriter {
  private chunks: number[] = [];

  private byte(b: number): this {
    this.chunks.push(b & 0xff);
    return this;
  }

  /** An unsigned varint from two 32-bit halves. */
  private varint64(lo: number, hi: number): this {
    lo >>>= 0;
    hi >>>= 0;
    while (hi !== 0 || lo > 0x7f) {
      this.byte((lo & 0x7f) | 0x80);
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    return this.byte(lo);
  }

  /** A varint for a JavaScript integer; negative values are sign-extended to ten bytes, as int32/int64 require. */
  varint(n: number): this {
    if (!Number.isSafeInteger(n)) throw new RangeError(`${n} is not a safe integer`);
    if (n >= 0) return this.varint64(n % 0x1_0000_0000, Math.floor(n / 0x1_0000_0000));
    const hi = Math.floor(n / 0x1_0000_0000);
    return this.varint64(n - hi * 0x1_0000_0000, hi);
  }

  tag(field: number, wireType: WireType): this {
    return this.varint(field * 8 + wireType);
  }

  int(field: number, n: number): this {
    return this.tag(field, WireType.Varint).varint(n);
  }

  bool(field: number, b: boolean): this {
    return this.int(field, b ? 1 : 0);
  }

  double(field: number, d: number): this {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, d, true);
    this.tag(field, WireType.Fixed64);
    for (const x of b) this.byte(x);
    return this;
  }

  fixed32(field: number, n: number): this {
    this.tag(field, WireType.Fixed32);
    for (let i = 0; i < 4; i++) this.byte(n >>> (8 * i));
    return this;
  }

  bytes(field: number, data: Uint8Array | number[]): this {
    this.tag(field, WireType.LengthDelimited).varint(data.length);
    for (const x of data) this.byte(x);
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }

  /** An embedded message, written by `build` into a fresh writer. */
  message(field: number, build: (w: WireWriter) => unknown): this {
    const w = new WireWriter();
    build(w);
    return this.bytes(field, w.finish());
  }

  /** A map<string, string> entry. */
  mapEntry(field: number, key: string, value: string): this {
    return this.message(field, (e) => e.string(1, key).string(2, value));
  }

  /** Appends bytes as they are: for building malformed input on purpose. */
  raw(data: Uint8Array | number[]): this {
    for (const x of data) this.byte(x);
    return this;
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.chunks);
  }
}

/** A whole Kubernetes protobuf body: magic, then runtime.Unknown around the object's bytes. */
export function encodeEnvelope(apiVersion: string, kind: string, raw: Uint8Array): Uint8Array {
  const env = new WireWriter()
    .message(1, (tm) => tm.string(1, apiVersion).string(2, kind))
    .bytes(2, raw)
    .finish();
  const out = new Uint8Array(protobufMagic.length + env.length);
  out.set(protobufMagic, 0);
  out.set(env, protobufMagic.length);
  return out;
}
