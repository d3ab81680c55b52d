import { describe, expect, test } from 'vitest';
import { encodeHeaders, HpackDecoder, HpackError, huffmanDecode } from './hpack.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** A literal with incremental indexing and a new name, without Huffman (RFC 7541 6.2.1). */
function indexedLiteral(name: string, value: string): Buffer {
  return Buffer.concat([Buffer.from([0x40, name.length]), Buffer.from(name), Buffer.from([value.length]), Buffer.from(value)]);
}

describe('HPACK decoding', () => {
  test('the RFC 7541 C.4 requests (Huffman strings, the dynamic table carried from one block to the next)', () => {
    const d = new HpackDecoder();
    expect(d.decode(hex('8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff'))).toEqual([
      [':method', 'GET'],
      [':scheme', 'http'],
      [':path', '/'],
      [':authority', 'www.example.com'],
    ]);
    // 0xbe is dynamic index 62: the :authority the first block added.
    expect(d.decode(hex('8286 84be 5886 a8eb 1064 9cbf'))).toEqual([
      [':method', 'GET'],
      [':scheme', 'http'],
      [':path', '/'],
      [':authority', 'www.example.com'],
      ['cache-control', 'no-cache'],
    ]);
  });

  test('entries are evicted oldest first when the table is full; an evicted index is an error', () => {
    const d = new HpackDecoder(100);
    d.decode(indexedLiteral('a', 'x'.repeat(20))); // 53 bytes
    d.decode(indexedLiteral('b', 'y'.repeat(20))); // 53 bytes: 'a' goes
    expect(d.decode(Buffer.from([0x80 | 62]))).toEqual([['b', 'y'.repeat(20)]]);
    expect(() => d.decode(Buffer.from([0x80 | 63]))).toThrow(HpackError);
  });

  test('a table size update shrinks the table; one above what we announced is refused', () => {
    const d = new HpackDecoder(4096);
    d.decode(indexedLiteral('grpc-status', '0'));
    expect(d.decode(Buffer.from([0x80 | 62]))).toEqual([['grpc-status', '0']]);
    d.decode(Buffer.from([0x20])); // size 0: everything evicted
    expect(() => d.decode(Buffer.from([0x80 | 62]))).toThrow(/out of range/);
    // 0x3f 0xe1 0x1f: 31 + 0x61 + 0x1f*128 = 4096, the limit: allowed; 4097 is not.
    expect(() => d.decode(hex('3fe11f'))).not.toThrow();
    expect(() => d.decode(hex('3fe21f'))).toThrow(/above the announced/);
  });

  test('truncated blocks and bad Huffman padding are errors, not garbage', () => {
    expect(() => new HpackDecoder().decode(hex('0f'))).toThrow(HpackError);
    expect(() => new HpackDecoder().decode(hex('4005'))).toThrow(/truncated string/);
    // 'a' is 00011 (5 bits): padded with zeros instead of ones.
    expect(() => huffmanDecode(Buffer.from([0b00011000]), 0, 1)).toThrow(/padding/);
    expect(huffmanDecode(Buffer.from([0b00011111]), 0, 1)).toBe('a');
  });

  test('what we encode decodes to the same list, long values and names outside the static table included', () => {
    const headers: [string, string][] = [
      [':method', 'POST'],
      [':path', '/etcdserverpb.KV/Txn'],
      ['content-type', 'application/grpc'],
      ['te', 'trailers'],
      ['grpc-timeout', '10000m'],
      ['x-long', 'v'.repeat(300)],
      ['www-authenticate', 'w'],
    ];
    expect(new HpackDecoder().decode(encodeHeaders(headers))).toEqual(headers);
  });
});
