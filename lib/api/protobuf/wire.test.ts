import { describe, expect, it } from 'vitest';
import { ProtobufDecodeError, WireReader, WireType } from './wire.js';
import { WireWriter } from './writer.js';

const bytes = (...b: number[]) => Uint8Array.from(b);
/** Ten-byte varint of a negative int32/int64: ff ff ... 01. */
const minusOne = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];

describe('WireReader varints', () => {
  it.each([
    { name: 'one byte', input: [0x08], int32: 8, int64: 8 },
    { name: '300 in two bytes', input: [0xac, 0x02], int32: 300, int64: 300 },
    { name: 'int32 max', input: [0xff, 0xff, 0xff, 0xff, 0x07], int32: 2147483647, int64: 2147483647 },
    { name: '-1 sign-extended to ten bytes', input: minusOne, int32: -1, int64: -1 },
    { name: 'int32 min', input: [0x80, 0x80, 0x80, 0x80, 0xf8, 0xff, 0xff, 0xff, 0xff, 0x01], int32: -2147483648, int64: -2147483648 },
    { name: '2^40', input: [0x80, 0x80, 0x80, 0x80, 0x80, 0x20], int32: 0, int64: 2 ** 40 },
    { name: '-5000000000', input: [0x80, 0x9c, 0xe8, 0xaf, 0xed, 0xff, 0xff, 0xff, 0xff, 0x01], int32: -705032704, int64: -5_000_000_000 },
  ])('$name', ({ input, int32, int64 }) => {
    expect(new WireReader(Uint8Array.from(input)).readInt32()).toBe(int32);
    const r = new WireReader(Uint8Array.from(input));
    expect(r.readInt64()).toBe(int64);
    expect(r.done).toBe(true);
  });

  it('agrees with the writer for negative and large values', () => {
    for (const n of [0, 1, -1, 127, 128, -128, 2 ** 31 - 1, -(2 ** 31), 2 ** 52, -(2 ** 52), 1234567890123]) {
      const buf = new WireWriter().varint(n).finish();
      expect(new WireReader(buf).readInt64(), String(n)).toBe(n);
    }
  });

  it('reads bools from any non-zero varint', () => {
    expect(new WireReader(bytes(0x01)).readBool()).toBe(true);
    expect(new WireReader(bytes(0x00)).readBool()).toBe(false);
    expect(new WireReader(bytes(0x80, 0x01)).readBool()).toBe(true);
  });

  it('fails on a varint cut short, naming where it started', () => {
    const r = new WireReader(bytes(0x08, 0x96));
    r.readTag();
    expect(() => r.readInt32()).toThrow(expect.objectContaining({ name: 'ProtobufDecodeError', message: 'truncated varint at byte 1', offset: 1 }));
  });

  it('fails on a varint longer than ten bytes', () => {
    expect(() => new WireReader(Uint8Array.from([...Array(10).fill(0x80), 0x01])).readInt64()).toThrow(/varint longer than 10 bytes at byte 0/);
  });
});

describe('WireReader fields', () => {
  it('reads tags, strings and nested messages', () => {
    // field 1 "hi", field 2 { field 1 = 150 }
    const r = new WireReader(bytes(0x0a, 0x02, 0x68, 0x69, 0x12, 0x03, 0x08, 0x96, 0x01));
    expect(r.readTag()).toEqual({ field: 1, wireType: WireType.LengthDelimited });
    expect(r.readString()).toBe('hi');
    expect(r.readTag()).toEqual({ field: 2, wireType: WireType.LengthDelimited });
    const sub = r.readMessage();
    expect(r.done).toBe(true);
    expect(sub.readTag()).toEqual({ field: 1, wireType: WireType.Varint });
    expect(sub.readInt32()).toBe(150);
    expect(sub.done).toBe(true);
  });

  it('reads UTF-8 strings', () => {
    const text = 'grüße 🚀';
    const r = new WireReader(new WireWriter().string(1, text).finish());
    r.readTag();
    expect(r.readString()).toBe(text);
  });

  it('reads little-endian doubles and fixed32', () => {
    const r = new WireReader(new WireWriter().double(1, 2.5).fixed32(2, 0x01020304).finish());
    expect(r.readTag().wireType).toBe(WireType.Fixed64);
    expect(r.readDouble()).toBe(2.5);
    expect(r.readTag().wireType).toBe(WireType.Fixed32);
    expect(r.readFixed32()).toBe(0x01020304);
  });

  it('fails when a length runs past the end', () => {
    const r = new WireReader(bytes(0x0a, 0x05, 0x61, 0x62));
    r.readTag();
    expect(() => r.readBytes()).toThrow(/length 5 runs past the end of the message at byte 1/);
  });

  it('fails when a nested length runs past the end of its parent, even if the buffer goes on', () => {
    // field 1 { field 1: length 4 } with only 2 bytes inside the parent, then more bytes outside it.
    const r = new WireReader(bytes(0x0a, 0x02, 0x0a, 0x04, 0x61, 0x62, 0x63, 0x64));
    r.readTag();
    const sub = r.readMessage();
    sub.readTag();
    expect(() => sub.readBytes()).toThrow(/runs past the end/);
  });

  it('fails on fixed-width values cut short', () => {
    expect(() => new WireReader(bytes(1, 2, 3)).readFixed32()).toThrow(/4 bytes expected but only 3 left/);
    expect(() => new WireReader(bytes(1, 2, 3, 4, 5, 6, 7)).readDouble()).toThrow(/8 bytes expected but only 7 left/);
  });

  it('rejects field number 0 and wire types 6 and 7', () => {
    expect(() => new WireReader(bytes(0x02)).readTag()).toThrow(/field number 0/);
    expect(() => new WireReader(bytes(0x0e)).readTag()).toThrow(/unknown wire type 6/);
    expect(() => new WireReader(bytes(0x0f)).readTag()).toThrow(/unknown wire type 7/);
  });

  it('skips values of every wire type, landing on the next field', () => {
    const buf = new WireWriter()
      .int(1, -1)
      .double(2, 1.5)
      .fixed32(3, 7)
      .string(4, 'skipped')
      .tag(5, WireType.StartGroup)
      .int(1, 3)
      .tag(6, WireType.StartGroup)
      .string(1, 'inner')
      .tag(6, WireType.EndGroup)
      .tag(5, WireType.EndGroup)
      .string(9, 'kept')
      .finish();
    const r = new WireReader(buf);
    for (;;) {
      const t = r.readTag();
      if (t.field === 9) break;
      r.skip(t.wireType, t.field);
    }
    expect(r.readString()).toBe('kept');
    expect(r.done).toBe(true);
  });

  it('fails on groups that are not closed or closed by the wrong field', () => {
    const open = new WireReader(new WireWriter().tag(5, WireType.StartGroup).int(1, 1).finish());
    let t = open.readTag();
    expect(() => open.skip(t.wireType, t.field)).toThrow(/group of field 5 is not closed/);
    const crossed = new WireReader(new WireWriter().tag(5, WireType.StartGroup).tag(6, WireType.EndGroup).finish());
    t = crossed.readTag();
    expect(() => crossed.skip(t.wireType, t.field)).toThrow(/end-group tag of field 6 closes the group of field 5/);
  });
});
