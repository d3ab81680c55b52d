/**
 * The HTTP/2 gRPC client against stand-in etcd members on loopback that fail in chosen ways:
 * failover, which calls are retried (reads always, writes only when they never reached a member),
 * statuses and deadlines.
 */
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { freePort } from '../../../test/support/ports.js';
import { GrpcClient, GrpcError } from './grpc.js';

type Behaviour = (stream: http2.ServerHttp2Stream, body: Buffer, session: http2.Http2Session, headers: http2.IncomingHttpHeaders) => void;

interface Member {
  endpoint: string;
  calls: string[];
  close(): Promise<void>;
}

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const c of open.splice(0)) await c.close();
});

function frame(payload: Buffer): Buffer {
  const out = Buffer.alloc(5 + payload.length);
  out.writeUInt32BE(payload.length, 1);
  payload.copy(out, 5);
  return out;
}

/** Replies with the request's own payload, as a successful call. */
const echo: Behaviour = (stream, body) => {
  stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
  stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
  stream.end(body);
};

async function member(behaviour: Behaviour): Promise<Member> {
  const server = http2.createServer();
  const calls: string[] = [];
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => sessions.add(s));
  server.on('stream', (stream, headers) => {
    calls.push(String(headers[':path']));
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => behaviour(stream, Buffer.concat(chunks), stream.session!, headers));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const m = {
    endpoint: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sessions) s.destroy();
        server.close(() => r());
      }),
  };
  open.push(m);
  return m;
}

function client(endpoints: string[], timeoutMs?: number): GrpcClient {
  const c = new GrpcClient({ endpoints, timeoutMs });
  open.push({ close: async () => c.close() });
  return c;
}

const msg = frame(Buffer.from('hello'));

describe('GrpcClient', () => {
  test('a call returns the reply message without its frame header', async () => {
    const m = await member(echo);
    const out = await client([m.endpoint]).call('/etcdserverpb.KV/Range', msg, true);
    expect(out.toString()).toBe('hello');
    expect(m.calls).toEqual(['/etcdserverpb.KV/Range']);
  });

  test('a member that refuses connections is skipped, even for a write (it never reached etcd)', async () => {
    const dead = `127.0.0.1:${await freePort()}`;
    const m = await member(echo);
    const out = await client([dead, m.endpoint]).call('/etcdserverpb.KV/Txn', msg, false);
    expect(out.toString()).toBe('hello');
    expect(m.calls).toHaveLength(1);
  });

  test('a connection lost after the request was sent: a read goes to the next member, a write fails once', async () => {
    const dropping = await member((_stream, _body, session) => session.destroy());
    const m = await member(echo);
    const c = client([dropping.endpoint, m.endpoint]);
    expect((await c.call('/etcdserverpb.KV/Range', msg, true)).toString()).toBe('hello');
    expect(dropping.calls).toHaveLength(1);
    expect(m.calls).toHaveLength(1);

    // The dropping member is left alone for a second; then a write reaches it again and is not retried.
    const c2 = client([dropping.endpoint, m.endpoint]);
    const err = await c2.call('/etcdserverpb.KV/Txn', msg, false).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GrpcError);
    expect((err as GrpcError).code).toBe(14);
    expect(dropping.calls).toHaveLength(2);
    expect(m.calls).toHaveLength(1);
  });

  test('"no leader" (refused before proposing) sends even a write to the next member', async () => {
    const noLeader = await member((stream) => stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '14', 'grpc-message': 'etcdserver: no leader' }, { endStream: true }));
    const m = await member(echo);
    const out = await client([noLeader.endpoint, m.endpoint]).call('/etcdserverpb.KV/Txn', msg, false);
    expect(out.toString()).toBe('hello');
    expect(noLeader.calls).toHaveLength(1);
  });

  test('an error status is returned with its decoded message and not retried', async () => {
    const compacted = await member((stream) => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '11', 'grpc-message': 'etcdserver: mvcc: required revision has been compacted%21' }));
      stream.end();
    });
    const m = await member(echo);
    const err = (await client([compacted.endpoint, m.endpoint]).call('/etcdserverpb.KV/Range', msg, true).catch((e: unknown) => e)) as GrpcError;
    expect(err.code).toBe(11);
    expect(err.details).toBe('etcdserver: mvcc: required revision has been compacted!');
    expect(err.message).toBe('11 OUT_OF_RANGE: etcdserver: mvcc: required revision has been compacted!');
    expect(m.calls).toHaveLength(0);
  });

  test('a member that never answers fails the call at its deadline', async () => {
    const silent = await member(() => {});
    const c = client([silent.endpoint], 300);
    const started = Date.now();
    const err = (await c.call('/etcdserverpb.KV/Txn', msg, false).catch((e: unknown) => e)) as GrpcError;
    expect(err.code).toBe(4);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(silent.calls).toHaveLength(1);
  });

  test('the grpc-timeout header carries the deadline', async () => {
    let seen: string | undefined;
    const m = await member((stream, body, session, headers) => {
      seen = String(headers['grpc-timeout']);
      echo(stream, body, session, headers);
    });
    await client([m.endpoint], 1234).call('/etcdserverpb.KV/Range', msg, true);
    expect(seen).toBe('1234m');
  });

  test('a closed client refuses calls', async () => {
    const m = await member(echo);
    const c = client([m.endpoint]);
    c.close();
    await expect(c.call('/etcdserverpb.KV/Range', msg, true)).rejects.toThrow(/client closed/);
  });
});

describe('GrpcClient after a GOAWAY', () => {
  test('a member that said goodbye gets a new connection; nothing fails', async () => {
    const m = await member((stream, body, session, headers) => {
      echo(stream, body, session, headers);
      // Every session says goodbye after its first call, as etcd does when it shuts a connection.
      (session as http2.ServerHttp2Session).goaway();
    });
    const c = client([m.endpoint]);
    for (let i = 0; i < 5; i++) expect((await c.call('/etcdserverpb.KV/Txn', msg, false)).toString()).toBe('hello');
    expect(m.calls).toHaveLength(5);
  });
});
