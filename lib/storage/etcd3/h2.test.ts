/**
 * The HTTP/2 client connection against Node's own HTTP/2 server (nghttp2) on loopback: header
 * compression as a real server does it, flow control both ways, and the ways a stream or the
 * connection can end.
 */
import http2 from 'node:http2';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { H2Connection, type H2Error, type H2Reply } from './h2.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Listens on a loopback port; after the test, destroys what `open` holds and closes the server. */
async function listen(srv: net.Server, open: Iterable<{ destroy(): void }>): Promise<number> {
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        for (const o of open) o.destroy();
        srv.close(() => r());
      }),
  );
  return (srv.address() as AddressInfo).port;
}

type Handler = (stream: http2.ServerHttp2Stream, body: Buffer, headers: http2.IncomingHttpHeaders, session: http2.ServerHttp2Session) => void;

async function server(handler: Handler, settings: http2.Settings = {}): Promise<{ port: number; sessions: Set<http2.ServerHttp2Session> }> {
  const srv = http2.createServer({ settings });
  const sessions = new Set<http2.ServerHttp2Session>();
  srv.on('session', (s) => sessions.add(s));
  srv.on('stream', (stream, headers) => {
    // Streams the tests reset or abandon report it here; nothing to do about it.
    stream.on('error', () => {});
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => handler(stream, Buffer.concat(chunks), headers, stream.session as http2.ServerHttp2Session));
  });
  return { port: await listen(srv, sessions), sessions };
}

function connect(port: number, maxStreamId?: number): H2Connection {
  const c = new H2Connection({ host: '127.0.0.1', port, maxStreamId });
  cleanups.push(() => c.destroy());
  return c;
}

function call(c: H2Connection, path: string, body: Buffer, limit = 1 << 30): Promise<H2Reply> {
  return new Promise((resolve, reject) => c.request(path, [['content-type', 'application/grpc']], body, limit, (err, reply) => (err ? reject(err) : resolve(reply!))));
}

const get = (fields: [string, string][], name: string) => fields.find(([n]) => n === name)?.[1];

describe('H2Connection', () => {
  test('headers, body and trailers arrive as sent, over many calls sharing the header tables', async () => {
    const { port } = await server((stream, body, headers) => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'x-path': String(headers[':path']) }, { waitForTrailers: true });
      // Values that change per call and ones that repeat: nghttp2 indexes and Huffman-codes them.
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0', 'grpc-message': `done ${body.length} ~!@#$%^&*()_+{}|:"<>?`, 'x-repeat': 'same value every time' }));
      stream.end(Buffer.concat([body, body]));
    });
    const c = connect(port);
    const replies = await Promise.all(Array.from({ length: 200 }, (_, i) => call(c, `/svc/M${i % 7}`, Buffer.from(`request ${i}`))));
    replies.forEach((r, i) => {
      expect(get(r.headers, ':status')).toBe('200');
      expect(get(r.headers, 'x-path')).toBe(`/svc/M${i % 7}`);
      expect(Buffer.concat(r.data).toString()).toBe(`request ${i}request ${i}`);
      expect(get(r.trailers, 'grpc-message')).toBe(`done ${`request ${i}`.length} ~!@#$%^&*()_+{}|:"<>?`);
      expect(get(r.trailers, 'x-repeat')).toBe('same value every time');
    });
  });

  test('a request body larger than the server window waits for its updates; a reply larger than ours is acknowledged as read', async () => {
    const { port } = await server(
      (stream, body) => {
        stream.respond({ ':status': 200 });
        // Reply with 20 MiB (above our 16 MiB stream window) derived from what arrived.
        const digest = Buffer.from(`${body.length}:${body[0]}:${body[body.length - 1]}`);
        const big = Buffer.alloc(20 * 1024 * 1024, 7);
        digest.copy(big);
        stream.end(big);
      },
      { initialWindowSize: 16_384 },
    );
    const c = connect(port);
    const body = Buffer.alloc(3 * 1024 * 1024, 1);
    body[0] = 2;
    body[body.length - 1] = 3;
    const r = await call(c, '/big', body);
    const all = Buffer.concat(r.data);
    expect(all.length).toBe(20 * 1024 * 1024);
    const expected = `${body.length}:2:3`;
    expect(all.subarray(0, expected.length).toString()).toBe(expected);
  });

  test('a reply over the caller limit fails that call only; the connection goes on', async () => {
    const { port } = await server((stream, body) => {
      stream.respond({ ':status': 200 });
      stream.end(body.toString() === 'big' ? Buffer.alloc(100_000) : body);
    });
    const c = connect(port);
    await expect(call(c, '/x', Buffer.from('big'), 50_000)).rejects.toMatchObject({ tooLarge: true });
    expect(Buffer.concat((await call(c, '/x', Buffer.from('small'), 50_000)).data).toString()).toBe('small');
  });

  test('the server PINGs and gets its answer', async () => {
    const { port, sessions } = await server((stream, body) => {
      stream.respond({ ':status': 200 });
      stream.end(body);
    });
    const c = connect(port);
    await call(c, '/x', Buffer.from('hi'));
    const [s] = [...sessions];
    const rtt = await new Promise<number>((resolve, reject) => s!.ping((err, ms) => (err ? reject(err) : resolve(ms))));
    expect(rtt).toBeGreaterThanOrEqual(0);
  });

  test('a stream the server refuses was not processed; one it resets otherwise may have been', async () => {
    const { port } = await server((stream, body) => stream.close(body.toString() === 'refuse' ? http2.constants.NGHTTP2_REFUSED_STREAM : http2.constants.NGHTTP2_INTERNAL_ERROR));
    const c = connect(port);
    await expect(call(c, '/x', Buffer.from('refuse'))).rejects.toMatchObject({ notSent: true });
    await expect(call(c, '/x', Buffer.from('other'))).rejects.toMatchObject({ notSent: false });
  });

  test('GOAWAY: streams above the last one the server took fail as not sent; the ones below finish', async () => {
    let held: http2.ServerHttp2Stream | undefined;
    const { port } = await server((stream, body, _h, session) => {
      if (body.toString() === 'first') {
        held = stream;
        return;
      }
      // The second call's arrival: say goodbye with the first stream as the last one processed.
      session.goaway(http2.constants.NGHTTP2_NO_ERROR, held!.id!);
      held!.respond({ ':status': 200 });
      held!.end('first done');
    });
    const c = connect(port);
    const first = call(c, '/x', Buffer.from('first'));
    await new Promise((r) => setTimeout(r, 50));
    const second = call(c, '/x', Buffer.from('second'));
    await expect(second).rejects.toMatchObject({ notSent: true });
    expect(Buffer.concat((await first).data).toString()).toBe('first done');
    expect(c.closing).toBe(true);
    await expect(call(c, '/x', Buffer.from('third'))).rejects.toMatchObject({ notSent: true });
  });

  test('a connection dropped while a call is open fails it as possibly sent; a refused connection as not sent', async () => {
    const { port, sessions } = await server(() => {
      for (const s of sessions) s.destroy();
    });
    const c = connect(port);
    const err = (await call(c, '/x', Buffer.from('x')).catch((e: H2Error) => e)) as H2Error;
    expect(err.notSent).toBe(false);

    const closed = net.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const freePort = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const refused = connect(freePort);
    await expect(call(refused, '/x', Buffer.from('x'))).rejects.toMatchObject({ notSent: true });
  });

  test('when stream ids run out the connection takes no more requests (as not sent) and says it is gone', async () => {
    const { port } = await server((stream, body) => {
      stream.respond({ ':status': 200 });
      stream.end(body);
    });
    const c = connect(port, 5);
    let gone = 0;
    c.onGone = () => gone++;
    for (const id of [1, 3, 5]) expect(Buffer.concat((await call(c, '/x', Buffer.from(`r${id}`))).data).toString()).toBe(`r${id}`);
    await expect(call(c, '/x', Buffer.from('r7'))).rejects.toMatchObject({ notSent: true });
    expect(c.closing).toBe(true);
    expect(gone).toBeGreaterThan(0);
  });

  test('a stream: messages both ways as they come, split across frames or several in one, then the server\'s status', async () => {
    const framed = (text: string) => {
      const b = Buffer.alloc(5 + Buffer.byteLength(text));
      b.writeUInt32BE(b.length - 5, 1);
      b.write(text, 5);
      return b;
    };
    const srv = http2.createServer();
    srv.on('stream', (stream) => {
      stream.on('error', () => {});
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.on('data', (c: Buffer) => {
        const text = c.subarray(5).toString();
        if (text === 'end') return stream.end();
        // One message in two writes (a frame boundary inside it), then two messages in one write.
        const big = framed(`${text}:${'x'.repeat(40_000)}`);
        stream.write(big.subarray(0, 3));
        stream.write(big.subarray(3));
        stream.write(Buffer.concat([framed(`${text}:a`), framed(`${text}:b`)]));
      });
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => srv.close(() => r())));
    const c = connect((srv.address() as AddressInfo).port);
    const got: string[] = [];
    const ended = new Promise<H2Reply>((resolve, reject) => {
      const h = c.openStream('/svc/Stream', [['content-type', 'application/grpc']], (m) => {
        got.push(m.toString().replace(/x+$/, 'x…'));
        if (got.length === 3) h.send(framed('second'));
        if (got.length === 6) h.send(framed('end'));
      }, (err, reply) => (err ? reject(err) : resolve(reply!)));
      h.send(framed('first'));
    });
    const reply = await ended;
    expect(got).toEqual(['first:x…', 'first:a', 'first:b', 'second:x…', 'second:a', 'second:b']);
    expect(get(reply.trailers, 'grpc-status')).toBe('0');
  });

  test('a server speaking something else than HTTP/2 fails the calls instead of hanging them', async () => {
    const socks: net.Socket[] = [];
    const junk = net.createServer((sock) => {
      socks.push(sock);
      sock.on('error', () => {});
      sock.end(Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n'));
    });
    const c = connect(await listen(junk, socks));
    await expect(call(c, '/x', Buffer.from('x'))).rejects.toThrow();
  });
});
