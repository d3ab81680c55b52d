import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { backendHeaders, proxyUpgrade } from './upgrade.js';

/** A backend (the kubelet's stand-in): /echo upgrades and echoes; anything else answers 400. */
function startBackend() {
  const sockets: net.Socket[] = [];
  /** Backend sockets whose peer (the proxy) has gone. */
  const hungUp = new Set<net.Socket>();
  const seenHeaders: http.IncomingHttpHeaders[] = [];
  const server = http.createServer((req, res) => {
    seenHeaders.push(req.headers);
    res.writeHead(400, { 'content-type': 'text/plain' });
    res.end('upgrade refused');
  });
  server.on('connection', (s) => {
    sockets.push(s);
    for (const ev of ['end', 'close', 'error']) s.on(ev, () => hungUp.add(s));
  });
  server.on('upgrade', (req, socket) => {
    seenHeaders.push(req.headers);
    if (req.url !== '/echo') {
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 4\r\n\r\nnope');
      return;
    }
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: tkube-test\r\nConnection: Upgrade\r\n\r\n');
    socket.on('data', (d) => socket.write(Buffer.concat([Buffer.from('echo:'), d])));
  });
  return new Promise<{ port: number; sockets: net.Socket[]; hungUp: Set<net.Socket>; seenHeaders: http.IncomingHttpHeaders[]; close(): Promise<void> }>((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        port: (server.address() as net.AddressInfo).port,
        sockets,
        hungUp,
        seenHeaders,
        close: () => new Promise((r) => (sockets.forEach((x) => x.destroy()), server.closeAllConnections(), server.close(() => r()))),
      }),
    ),
  );
}

/** The API server's stand-in: every upgrade request is proxied to the backend path it names. */
function startFront(backendPort: number) {
  const server = http.createServer((_req, res) => res.end());
  server.on('upgrade', (req, socket, head) => void proxyUpgrade(req, socket, head, { url: new URL(`http://127.0.0.1:${backendPort}${req.url}`) }));
  return new Promise<{ port: number; close(): Promise<void> }>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ port: (server.address() as net.AddressInfo).port, close: () => new Promise((r) => (server.closeAllConnections(), server.close(() => r()))) })),
  );
}

function rawClient(port: number) {
  const socket = net.connect(port, '127.0.0.1');
  let received = '';
  socket.on('data', (d) => (received += d.toString()));
  const closed = new Promise<void>((r) => socket.on('close', () => r()));
  return {
    socket,
    closed,
    received: () => received,
    async waitFor(text: string) {
      for (let i = 0; i < 100 && !received.includes(text); i++) await new Promise((r) => setTimeout(r, 20));
      return received;
    },
  };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

describe('proxyUpgrade', () => {
  test('splices an upgraded connection, on a backend connection of its own each time', async () => {
    const backend = await startBackend();
    const front = await startFront(backend.port);
    cleanups.push(front.close, backend.close);
    for (const n of [1, 2]) {
      const c = rawClient(front.port);
      c.socket.write('GET /echo HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tkube-test\r\nAuthorization: Bearer secret\r\nImpersonate-User: alice\r\n\r\n');
      expect(await c.waitFor('101 Switching Protocols')).toContain('HTTP/1.1 101 Switching Protocols');
      c.socket.write(`hello ${n}`);
      expect(await c.waitFor(`echo:hello ${n}`)).toContain(`echo:hello ${n}`);
      c.socket.end();
      await c.closed;
      expect(backend.sockets.length).toBe(n);
    }
    // The client's credentials never reach the backend.
    expect(backend.seenHeaders.every((h) => h.authorization === undefined && h['impersonate-user'] === undefined)).toBe(true);
    // After the client went away, the backend connections are closed too.
    for (let i = 0; i < 50 && backend.hungUp.size < 2; i++) await new Promise((r) => setTimeout(r, 20));
    expect(backend.hungUp.size).toBe(2);
  });

  test('a refused upgrade is relayed, then both connections are closed: nothing more can be sent over them', async () => {
    const backend = await startBackend();
    const front = await startFront(backend.port);
    cleanups.push(front.close, backend.close);
    const c = rawClient(front.port);
    c.socket.write('GET /refuse HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tkube-test\r\n\r\n');
    await c.closed;
    expect(c.received()).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/);
    expect(c.received()).toContain('Connection: close');
    expect(c.received().endsWith('nope')).toBe(true);
    for (let i = 0; i < 50 && backend.hungUp.size < 1; i++) await new Promise((r) => setTimeout(r, 20));
    expect(backend.sockets.length).toBe(1);
    expect(backend.hungUp.has(backend.sockets[0]!)).toBe(true);
  });

  test('an unreachable backend: 503 with a Status, and the client connection is closed', async () => {
    const free = await new Promise<number>((r) => {
      const srv = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as net.AddressInfo).port;
        srv.close(() => r(p));
      });
    });
    const front = await startFront(free);
    cleanups.push(front.close);
    const c = rawClient(front.port);
    c.socket.write('GET /echo HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tkube-test\r\n\r\n');
    await c.closed;
    expect(c.received()).toMatch(/^HTTP\/1\.1 503 Service Unavailable/);
    expect(c.received()).toContain('"reason":"ServiceUnavailable"');
  });

  test('backendHeaders drops hop-by-hop headers and credentials, also the websocket bearer subprotocol', () => {
    const req = { headers: { authorization: 'Bearer x', 'impersonate-group': 'g', cookie: 'a', upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-protocol': 'base64url.bearer.authorization.k8s.io.eA, v5.channel.k8s.io', 'x-stream-protocol-version': 'v4' } } as unknown as http.IncomingMessage;
    expect(backendHeaders(req)).toEqual({ 'sec-websocket-protocol': 'v5.channel.k8s.io', 'x-stream-protocol-version': 'v4', connection: 'Upgrade', upgrade: 'websocket' });
  });
});
