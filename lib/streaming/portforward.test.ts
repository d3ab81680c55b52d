import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { parsePortsQuery, servePortForward, StreamPairer, type StreamPair } from './portforward.js';
import { SpdySession, type SpdyStream } from './spdy/session.js';
import type { SpdyHeaders } from './spdy/frames.js';
import { collect, spdyClient, webSocketByteStream } from './testing.js';
import { newWebSocketServer } from './upgrade.js';

describe('port-forward data/error stream pairing', () => {
  async function sessions(onStream: (s: SpdyStream) => void) {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
    const client = new SpdySession(net.connect((server.address() as AddressInfo).port, '127.0.0.1'), { role: 'client' });
    const srv = new SpdySession(await accepted, { role: 'server', onStream });
    return { client, close: () => (client.destroy(), srv.destroy(), server.close()) };
  }

  it('pairs by request id in any order, refuses bad headers, and falls back to stream ids', async () => {
    const pairs: StreamPair[] = [];
    const refusals: string[] = [];
    const pairer = new StreamPairer({ timeoutMs: 5000, onPair: (p) => pairs.push(p), onFailure: () => undefined });
    const { client, close } = await sessions((s) => {
      const why = pairer.add(s);
      if (why) {
        refusals.push(why);
        s.reset();
      } else void s.accept();
    });
    await client.openStream({ streamtype: ['data'], port: ['80'], requestid: ['1'] });
    await client.openStream({ streamtype: ['error'], port: ['80'], requestid: ['0'] });
    expect(pairs).toHaveLength(0);
    await client.openStream({ streamtype: ['data'], port: ['80'], requestid: ['0'] });
    await client.openStream({ streamtype: ['error'], port: ['80'], requestid: ['1'] });
    expect(pairs.map((p) => [p.requestId, p.port, p.data.header('streamtype'), p.error.header('streamtype')])).toEqual([
      ['0', 80, 'data', 'error'],
      ['1', 80, 'data', 'error'],
    ]);
    // Old clients send no request id: an error stream with id N pairs with data stream N+2.
    const e = await client.openStream({ streamtype: ['error'], port: ['8080'] });
    await client.openStream({ streamtype: ['data'], port: ['8080'] });
    expect(pairs[2]).toMatchObject({ requestId: String(e.id), port: 8080 });
    const bads: SpdyHeaders[] = [{ streamtype: ['data'] }, { streamtype: ['data'], port: ['0'] }, { streamtype: ['data'], port: ['http'] }, { port: ['80'] }, { streamtype: ['stdin'], port: ['80'] }];
    for (const bad of bads) {
      await expect(client.openStream(bad, { timeoutMs: 500 })).rejects.toThrow(/reset/);
    }
    await client.openStream({ streamtype: ['data'], port: ['81'], requestid: ['9'] });
    await expect(client.openStream({ streamtype: ['data'], port: ['81'], requestid: ['9'] }, { timeoutMs: 500 })).rejects.toThrow(/reset/);
    expect(refusals).toEqual([
      '"port" header is required',
      'unable to parse "0" as a port',
      'unable to parse "http" as a port',
      '"streamType" header is required',
      'invalid stream type "stdin"',
      'data stream already assigned',
    ]);
    pairer.stop();
    close();
  });

  it('reports a pair that never completes on its error stream', async () => {
    const pairer = new StreamPairer({
      timeoutMs: 50,
      onPair: () => undefined,
      onFailure: (err, message) => err?.end(message),
    });
    const { client, close } = await sessions((s) => {
      pairer.add(s);
      void s.accept();
    });
    const err = await client.openStream({ streamtype: ['error'], port: ['80'], requestid: ['5'] });
    expect((await collect(err)).toString()).toBe('timed out waiting for streams of request 5');
    expect(pairer.waiting).toBe(0);
    close();
  });

  it('parses the ports query of the WebSocket protocol', () => {
    expect(parsePortsQuery(new URLSearchParams('ports=80,443&ports=8080'))).toEqual([80, 443, 8080]);
    expect(parsePortsQuery(new URLSearchParams('port=80&port=81'))).toEqual([80, 81]);
    expect(() => parsePortsQuery(new URLSearchParams(''))).toThrow('query parameter "port" is required');
    expect(() => parsePortsQuery(new URLSearchParams('ports=70000'))).toThrow('unable to parse "70000" as a port');
  });
});

/** A server forwarding to an in-memory "pod" whose port 80 answers with "pong:<what it got>". */
describe('port-forward transports', () => {
  let server: http.Server;
  let port: number;
  const wss = newWebSocketServer();
  const forward = async (p: number, stream: Duplex) => {
    if (p !== 80) throw new Error(`connect ECONNREFUSED 127.0.0.1:${p}`);
    // Not collect(): a for-await loop destroys the stream when the reading is done.
    const parts: Buffer[] = [];
    stream.on('data', (d: Buffer) => parts.push(d));
    await new Promise((r) => stream.once('end', r));
    await new Promise<void>((r) => stream.end(`pong:${Buffer.concat(parts).toString()}`, () => r()));
  };

  beforeAll(async () => {
    server = http.createServer();
    server.on('upgrade', (req, socket, head) => {
      void servePortForward({ req, socket, head }, new URL(req.url!, 'http://x').searchParams, { wss, forward, podDescription: 'web_default, uid 123' });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => {
    server.close();
    wss.close();
  });

  async function exchange(session: SpdySession, requestId: string, p: number, send: string) {
    const error = await session.openStream({ streamtype: ['error'], port: [String(p)], requestid: [requestId] });
    const data = await session.openStream({ streamtype: ['data'], port: [String(p)], requestid: [requestId] });
    const answer = collect(data);
    const err = collect(error);
    data.end(send);
    return { answer: (await answer).toString(), error: (await err).toString() };
  }

  it('SPDY (portforward.k8s.io): one pair per connection, errors on the error stream', async () => {
    const c = await spdyClient({ host: '127.0.0.1', port, path: '/portForward/default/web', protocols: ['portforward.k8s.io'] });
    if (!('session' in c)) throw new Error(`refused: ${c.status}`);
    expect(c.protocol).toBe('portforward.k8s.io');
    expect(await exchange(c.session, '0', 80, 'ping')).toEqual({ answer: 'pong:ping', error: '' });
    expect(await exchange(c.session, '1', 80, 'again')).toEqual({ answer: 'pong:again', error: '' });
    const failed = await exchange(c.session, '2', 81, 'x');
    expect(failed).toEqual({ answer: '', error: 'error forwarding port 81 to pod web_default, uid 123: connect ECONNREFUSED 127.0.0.1:81' });
    c.session.destroy();
  });

  it('SPDY tunnelled in a WebSocket (SPDY/3.1+portforward.k8s.io)', async () => {
    const c = await webSocketByteStream({ host: '127.0.0.1', port, path: '/portForward/default/web', protocols: ['SPDY/3.1+portforward.k8s.io'] });
    if (!('stream' in c)) throw new Error(`refused: ${c.status} ${c.body}`);
    expect(c.protocol).toBe('SPDY/3.1+portforward.k8s.io');
    const session = new SpdySession(c.stream, { role: 'client' });
    expect(await session.ping()).toBeGreaterThanOrEqual(0);
    expect(await exchange(session, '0', 80, 'through the tunnel')).toEqual({ answer: 'pong:through the tunnel', error: '' });
    session.destroy();
  });

  it('WebSocket channels (v4.channel.k8s.io): the port first on both channels, then data', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/portForward/default/web?ports=80,81`, ['v4.channel.k8s.io']);
    const got = new Map<number, Buffer[]>();
    ws.on('message', (d: Buffer) => got.set(d[0]!, [...(got.get(d[0]!) ?? []), d.subarray(1)]));
    const closed = new Promise((r) => ws.once('close', r));
    await new Promise((r) => ws.once('open', r));
    await new Promise((r) => setTimeout(r, 50));
    ws.send(Buffer.from([0, ...Buffer.from('hi')]));
    // v4 has no half-close: the pod's side ends when the socket does; close after the port 81 error.
    await new Promise((r) => setTimeout(r, 100));
    ws.close();
    await closed;
    const le = (n: number) => Buffer.from([n & 0xff, n >> 8]);
    expect(got.get(0)![0]).toEqual(le(80));
    expect(got.get(1)![0]).toEqual(le(80));
    expect(got.get(2)![0]).toEqual(le(81));
    expect(Buffer.concat(got.get(3)!.slice(1)).toString()).toBe('error forwarding port 81 to pod web_default, uid 123: connect ECONNREFUSED 127.0.0.1:81');
  });

  it('WebSocket channels need ?port=', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/portForward/default/web`, ['v4.channel.k8s.io']);
    const status = await new Promise<number>((r) => ws.once('unexpected-response', (_req, res) => r(res.statusCode!)));
    expect(status).toBe(400);
  });
});
