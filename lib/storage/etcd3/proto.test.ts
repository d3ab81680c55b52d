/**
 * The hand-written etcd codec against the reference one: etcd's own .proto files (shipped with
 * the etcd3 package) compiled by protobufjs through @grpc/proto-loader, which is what the etcd3
 * client sends. Requests we encode must decode there to the same fields, and replies encoded
 * there must decode here to the same values.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { decodeHeaderRevision, decodeRangeResponse, decodeTxnResponse, decodeWatchResponse, encodeCompactionRequest, encodeRangeRequest, encodeTxnRequest, encodeWatchCreateRequest } from './proto.js';

const require = createRequire(import.meta.url);
const loader = require('@grpc/proto-loader') as typeof import('@grpc/proto-loader');
const protoFile = path.join(path.dirname(require.resolve('etcd3/package.json')), 'proto', 'rpc.proto');
const def = loader.loadSync(protoFile, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
const kv = def['etcdserverpb.KV'] as unknown as Record<string, { requestDeserialize(b: Buffer): any; responseSerialize(v: unknown): Buffer }>;
const watchSvc = def['etcdserverpb.Watch'] as unknown as Record<string, { requestDeserialize(b: Buffer): any; responseSerialize(v: unknown): Buffer }>;

/** Our frames carry gRPC's 5-byte prefix: check it and strip it. */
function unframe(b: Buffer): Buffer {
  expect(b[0]).toBe(0);
  expect(b.readUInt32BE(1)).toBe(b.length - 5);
  return b.subarray(5);
}

const big = Buffer.from('x'.repeat(70_000)); // a length that needs a 3-byte varint

describe('requests decode in etcd\'s schema as sent', () => {
  test('a create: compare mod_revision = 0 (present, as a oneof), put with a 64-bit lease', () => {
    const lease = '7587869393263330308'; // above 2^53: must survive exactly
    const frame = encodeTxnRequest({ compare: [{ key: Buffer.from('/registry/pods/a/b'), modRevision: 0 }], success: [{ put: { key: Buffer.from('/registry/pods/a/b'), value: big, lease } }], failure: [] });
    const t = kv.Txn!.requestDeserialize(unframe(frame));
    expect(t.compare).toHaveLength(1);
    expect(t.compare[0]).toMatchObject({ result: 'Equal', target: 'Mod', target_union: 'mod_revision', mod_revision: '0' });
    expect(t.compare[0].key.toString()).toBe('/registry/pods/a/b');
    expect(t.success).toHaveLength(1);
    expect(t.success[0].request).toBe('request_put');
    expect(t.success[0].request_put.value.equals(big)).toBe(true);
    expect(t.success[0].request_put.lease).toBe(lease);
    expect(t.failure).toEqual([]);
  });

  test('an update and a delete: compare a large mod revision, failure branch reads the key', () => {
    const key = Buffer.from('/registry/configmaps/ns/c');
    const upd = kv.Txn!.requestDeserialize(unframe(encodeTxnRequest({ compare: [{ key, modRevision: 2 ** 40 + 3 }], success: [{ put: { key, value: Buffer.from('{}') } }], failure: [{ range: { key } }] })));
    expect(upd.compare[0].mod_revision).toBe(String(2 ** 40 + 3));
    expect(upd.success[0].request_put.lease).toBe('0');
    expect(upd.failure[0].request).toBe('request_range');
    expect(upd.failure[0].request_range.key.toString()).toBe(key.toString());
    const del = kv.Txn!.requestDeserialize(unframe(encodeTxnRequest({ compare: [{ key, modRevision: 9 }], success: [{ deleteRange: { key } }], failure: [{ range: { key } }] })));
    expect(del.success[0].request).toBe('request_delete_range');
    expect(del.success[0].request_delete_range.key.toString()).toBe(key.toString());
  });

  test('ranges: prefix with limit and revision, count only; compaction', () => {
    const r = kv.Range!.requestDeserialize(unframe(encodeRangeRequest({ key: Buffer.from('/registry/pods/'), rangeEnd: Buffer.from('/registry/pods0'), limit: 2000, revision: 123456 })));
    expect(r).toMatchObject({ limit: '2000', revision: '123456', count_only: false });
    expect(r.range_end.toString()).toBe('/registry/pods0');
    const c = kv.Range!.requestDeserialize(unframe(encodeRangeRequest({ key: Buffer.from('a'), countOnly: true })));
    expect(c).toMatchObject({ count_only: true, limit: '0', revision: '0' });
    expect(kv.Compact!.requestDeserialize(unframe(encodeCompactionRequest(77, true)))).toMatchObject({ revision: '77', physical: true });
  });
});

describe('replies encoded by etcd\'s schema decode to the same values', () => {
  const header = { cluster_id: '14841639068965178418', member_id: '10276657743932975437', revision: '9007199254740', raft_term: '5' };
  const kvOf = (name: string, lease = '0') => ({ key: Buffer.from(name), value: Buffer.from(`{"n":"${name}"}`), create_revision: '10', mod_revision: '300', version: '4', lease });

  test('a range: every key-value field, more, count; unknown fields skipped', () => {
    const bytes = kv.Range!.responseSerialize({ header, kvs: [kvOf('a', '7587869393263330308'), kvOf('b')], more: true, count: '70000' });
    const r = decodeRangeResponse(bytes);
    expect(r.revision).toBe(9007199254740);
    expect(r.more).toBe(true);
    expect(r.count).toBe(70000);
    expect(r.kvs.map((k) => ({ ...k, key: k.key.toString(), value: k.value.toString() }))).toEqual([
      { key: 'a', value: '{"n":"a"}', createRevision: 10, modRevision: 300, version: 4, lease: '7587869393263330308' },
      { key: 'b', value: '{"n":"b"}', createRevision: 10, modRevision: 300, version: 4, lease: '0' },
    ]);
    expect(decodeRangeResponse(kv.Range!.responseSerialize({ header, kvs: [], more: false, count: '0' }))).toEqual({ revision: 9007199254740, kvs: [], more: false, count: 0 });
  });

  test('a failed transaction carries the current value in its range response', () => {
    const failed = decodeTxnResponse(kv.Txn!.responseSerialize({ header, succeeded: false, responses: [{ response_range: { header, kvs: [kvOf('c')], more: false, count: '1' } }] }));
    expect(failed.succeeded).toBe(false);
    expect(failed.revision).toBe(9007199254740);
    expect(failed.responses[0]!.range!.kvs[0]!.value.toString()).toBe('{"n":"c"}');
    const ok = decodeTxnResponse(kv.Txn!.responseSerialize({ header, succeeded: true, responses: [{ response_put: { header } }] }));
    expect(ok).toEqual({ revision: 9007199254740, succeeded: true, responses: [{}] });
    expect(decodeHeaderRevision(kv.Compact!.responseSerialize({ header }))).toBe(9007199254740);
  });

  test('a truncated reply is an error, not a half-read object', () => {
    const bytes = kv.Range!.responseSerialize({ header, kvs: [kvOf('a')], more: false, count: '1' });
    expect(() => decodeRangeResponse(bytes.subarray(0, bytes.length - 3))).toThrow(/truncated/);
  });
});

describe('nested messages of every length-varint size', () => {
  test.each([0, 1, 127, 128, 16_383, 16_384, 2_097_152])('a put of a %i-byte value decodes as sent', (n) => {
    const value = Buffer.alloc(n, 0x61);
    const key = Buffer.from('/k');
    const t = kv.Txn!.requestDeserialize(unframe(encodeTxnRequest({ compare: [{ key, modRevision: 5 }], success: [{ put: { key, value } }], failure: [{ range: { key, rangeEnd: Buffer.from('/l'), limit: 3 } }] })));
    expect(t.success[0].request_put.value.length).toBe(n);
    expect(t.success[0].request_put.value.equals(value)).toBe(true);
    expect(t.failure[0].request_range).toMatchObject({ limit: '3' });
    expect(t.failure[0].request_range.range_end.toString()).toBe('/l');
  });
});

describe('watch messages', () => {
  test('a watch create request decodes in etcd\'s schema with every field we set', () => {
    const frame = encodeWatchCreateRequest({ key: Buffer.from('/registry/pods/'), rangeEnd: Buffer.from('/registry/pods0'), startRevision: 2 ** 40 + 3, progressNotify: true, prevKv: true });
    const w = watchSvc.Watch!.requestDeserialize(unframe(frame));
    expect(w.request_union).toBe('create_request');
    expect(w.create_request.key.toString()).toBe('/registry/pods/');
    expect(w.create_request.range_end.toString()).toBe('/registry/pods0');
    expect(w.create_request.start_revision).toBe(String(2 ** 40 + 3));
    expect(w.create_request.progress_notify).toBe(true);
    expect(w.create_request.prev_kv).toBe(true);
    // Without a start revision and options: only the key is written.
    const bare = watchSvc.Watch!.requestDeserialize(unframe(encodeWatchCreateRequest({ key: Buffer.from('/k') })));
    expect(bare.create_request).toMatchObject({ start_revision: '0', progress_notify: false, prev_kv: false });
  });

  test('watch responses encoded by etcd\'s schema decode here: events with previous values, creation, cancellation', () => {
    const kvOf = (key: string, value: string, mod: number, version: number) => ({ key: Buffer.from(key), value: Buffer.from(value), create_revision: '5', mod_revision: String(mod), version: String(version), lease: '0' });
    const events = watchSvc.Watch!.responseSerialize({
      header: { revision: '901' },
      watch_id: '7',
      events: [
        { type: 'Put', kv: kvOf('/a', big.toString(), 900, 2), prev_kv: kvOf('/a', 'old', 800, 1) },
        { type: 'Delete', kv: kvOf('/b', '', 901, 0), prev_kv: kvOf('/b', 'gone', 850, 3) },
      ],
    });
    const r = decodeWatchResponse(events);
    expect(r).toMatchObject({ revision: 901, watchId: 7, created: false, canceled: false, compactRevision: 0 });
    expect(r.events.map((e) => [e.type, e.kv.key.toString(), e.kv.modRevision, e.kv.version, e.prevKv?.value.toString()])).toEqual([
      ['PUT', '/a', 900, 2, 'old'],
      ['DELETE', '/b', 901, 0, 'gone'],
    ]);
    expect(r.events[0]!.kv.value.equals(big)).toBe(true);
    expect(decodeWatchResponse(watchSvc.Watch!.responseSerialize({ header: { revision: '10' }, watch_id: '0', created: true }))).toMatchObject({ revision: 10, created: true, events: [] });
    const cancelled = decodeWatchResponse(watchSvc.Watch!.responseSerialize({ header: { revision: '10' }, canceled: true, compact_revision: '6', cancel_reason: 'mvcc: required revision has been compacted' }));
    expect(cancelled).toMatchObject({ canceled: true, compactRevision: 6, cancelReason: 'mvcc: required revision has been compacted' });
  });
});
