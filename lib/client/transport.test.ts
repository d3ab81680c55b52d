import http from 'node:http';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { generateKey, selfSignedCA, signedCertificate } from '../pki/openssl.js';
import { isNotFound, isTooManyRequests, StatusError } from '../machinery/index.js';
import type { WatchEvent } from './interface.js';
import { RESTClient, type RESTClientOptions } from './rest-client.js';
import { Resources } from './resources.js';
import { isTransportError } from './transport.js';
import { LineSplitter } from './watch.js';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, n: number) => void;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function server(handler: Handler): Promise<{ url: string; requests: () => number; connections: () => number }> {
  let n = 0;
  let conns = 0;
  const sockets = new Set<Socket>();
  const srv = http.createServer((req, res) => handler(req, res, n++));
  srv.on('connection', (s) => {
    conns++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        srv.close(() => r());
      }),
  );
  return { url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`, requests: () => n, connections: () => conns };
}

function client(url: string, o: Partial<RESTClientOptions> = {}): RESTClient {
  const c = new RESTClient({ config: { server: url, source: 'test', namespace: 'default' }, qps: 0, ...o });
  cleanups.push(() => c.close());
  return c;
}

/** The rejection of `p`; fails the test if `p` resolves. */
async function failure(p: Promise<unknown>): Promise<any> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected the request to fail');
}

const json = (res: http.ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(code, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

const notFound = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'pods "x" not found', reason: 'NotFound', code: 404 };

describe('requests', () => {
  test('URLs, query parameters and bodies of typed requests', async () => {
    const seen: { method: string; url: string; type?: string; body: string }[] = [];
    const s = await server((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        seen.push({ method: req.method!, url: req.url!, type: req.headers['content-type'], body });
        json(res, 200, { metadata: { name: 'x' } });
      });
    });
    const c = client(s.url);
    const pods = c.resource(Resources.pods, 'ns 1');
    await pods.get('web');
    await pods.list({ labelSelector: 'app=web', fieldSelector: 'spec.nodeName=n1', limit: 10, continue: 'tok', resourceVersion: '5' });
    await pods.patch('web', 'strategic', { metadata: { labels: { a: 'b' } } }, { fieldManager: 'me', dryRun: true });
    await pods.apply({ metadata: { name: 'web' } }, { fieldManager: 'me', force: true });
    await pods.delete('web', { gracePeriodSeconds: 0, preconditions: { uid: 'u' }, propagationPolicy: 'Foreground' });
    await c.resource(Resources.deployments, 'd').updateStatus({ metadata: { name: 'dep' } });
    await c.resource(Resources.nodes).get('n1');
    await pods.createSubresource('web', 'binding', { target: { name: 'n1' } });
    expect(seen.map((x) => `${x.method} ${decodeURIComponent(x.url)}`)).toEqual([
      'GET /api/v1/namespaces/ns 1/pods/web',
      'GET /api/v1/namespaces/ns 1/pods?labelSelector=app=web&fieldSelector=spec.nodeName=n1&limit=10&continue=tok&resourceVersion=5',
      'PATCH /api/v1/namespaces/ns 1/pods/web?dryRun=All&fieldManager=me',
      'PATCH /api/v1/namespaces/ns 1/pods/web?fieldManager=me&force=true',
      'DELETE /api/v1/namespaces/ns 1/pods/web',
      'PUT /apis/apps/v1/namespaces/d/deployments/dep/status',
      'GET /api/v1/nodes/n1',
      'POST /api/v1/namespaces/ns 1/pods/web/binding',
    ]);
    expect(seen[2]!.type).toBe('application/strategic-merge-patch+json');
    expect(seen[3]!.type).toBe('application/apply-patch+yaml');
    expect(JSON.parse(seen[3]!.body)).toMatchObject({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web' } });
    expect(JSON.parse(seen[4]!.body)).toEqual({ kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 0, preconditions: { uid: 'u' }, propagationPolicy: 'Foreground' });
    expect(JSON.parse(seen[5]!.body)).toMatchObject({ apiVersion: 'apps/v1', kind: 'Deployment' });
  });

  test('a namespaced request without a namespace is refused before it is sent', async () => {
    const s = await server((_req, res) => json(res, 200, {}));
    const c = client(s.url);
    await expect(c.resource(Resources.pods).get('web')).rejects.toThrow(/pods is namespaced/);
    expect(s.requests()).toBe(0);
  });

  test('error answers become StatusErrors the machinery predicates understand', async () => {
    const s = await server((_req, res, n) => (n === 0 ? json(res, 404, notFound) : (res.writeHead(502), res.end('bad gateway'))));
    const c = client(s.url);
    const err = await failure(c.resource(Resources.pods, 'default').get('x'));
    expect(isNotFound(err)).toBe(true);
    expect(err.message).toBe('pods "x" not found');
    const err2 = await failure(c.request({ path: '/x' }));
    expect(err2).toBeInstanceOf(StatusError);
    expect(err2.code).toBe(502);
    expect(err2.message).toBe('bad gateway');
  });

  test('connections are kept alive and reused', async () => {
    const s = await server((_req, res) => json(res, 200, {}));
    const c = client(s.url);
    for (let i = 0; i < 5; i++) await c.request({ path: '/version' });
    expect(s.requests()).toBe(5);
    expect(s.connections()).toBe(1);
  });

  test('a request without an answer times out', async () => {
    const s = await server(() => {
      /* never answers */
    });
    const c = client(s.url, { timeoutMs: 200, connectionRetries: 0 });
    const t = Date.now();
    const err = await failure(c.request({ path: '/slow' }));
    expect(isTransportError(err)).toBe(true);
    expect(err.code).toBe('ETIMEDOUT');
    expect(Date.now() - t).toBeGreaterThanOrEqual(190);
  });

  test('an aborted request rejects at once', async () => {
    const s = await server(() => {});
    const c = client(s.url);
    const ctl = new AbortController();
    const p = c.request({ path: '/slow', signal: ctl.signal });
    setTimeout(() => ctl.abort(), 20);
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('throttling and retries', () => {
  test('client-side QPS: with 20 qps and burst 1, six requests take at least 250ms', async () => {
    const s = await server((_req, res) => json(res, 200, {}));
    const c = client(s.url, { qps: 20, burst: 1 });
    const t = Date.now();
    for (let i = 0; i < 6; i++) await c.request({ path: '/version' });
    expect(Date.now() - t).toBeGreaterThanOrEqual(240);
  });

  test('a part of a program has its own budget and user agent suffix, over the same connections; closing the parent closes it', async () => {
    const agents: string[] = [];
    const s = await server((req, res) => {
      agents.push(req.headers['user-agent']!);
      json(res, 200, {});
    });
    // One request per 1000 s: the parent's single token is spent by its first request.
    const parent = client(s.url, { qps: 0.001, burst: 1, userAgent: 'tkube-controller-manager/0.1.0 (linux/amd64)' });
    await parent.request({ path: '/version' });
    const ctl = new AbortController();
    const blocked = parent.request({ path: '/version', signal: ctl.signal });
    const part = parent.forPart('replicaset');
    await part.request({ path: '/version' });
    expect(agents).toEqual(['tkube-controller-manager/0.1.0 (linux/amd64)', 'tkube-controller-manager/0.1.0 (linux/amd64)/replicaset']);
    expect(s.connections()).toBe(1);
    ctl.abort();
    await expect(blocked).rejects.toMatchObject({ name: 'AbortError' });
    parent.close();
    expect(isTransportError(await failure(part.request({ path: '/version' })))).toBe(true);
  });

  test('429 is retried after Retry-After, whatever the verb', async () => {
    const times: number[] = [];
    const s = await server((_req, res, n) => {
      times.push(Date.now());
      if (n < 2) json(res, 429, { kind: 'Status', code: 429, reason: 'TooManyRequests', message: 'slow down' }, { 'retry-after': '1' });
      else json(res, 201, { metadata: { name: 'made' } });
    });
    const c = client(s.url);
    const made = await c.resource(Resources.configMaps, 'default').create({ metadata: { name: 'made' } });
    expect(made.metadata.name).toBe('made');
    expect(times.length).toBe(3);
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(950);
  });

  test('429 retries are bounded', async () => {
    const s = await server((_req, res) => json(res, 429, { kind: 'Status', code: 429, reason: 'TooManyRequests', message: 'slow down' }, { 'retry-after': '0' }));
    const c = client(s.url, { maxRetries: 3 });
    const err = await failure(c.request({ path: '/busy' }));
    expect(isTooManyRequests(err)).toBe(true);
    expect(s.requests()).toBe(4);
  });

  test('a dropped connection is retried for GET but not for POST', async () => {
    const s = await server((req, res, n) => {
      if (n % 2 === 0) req.socket.destroy();
      else json(res, 200, { ok: true });
    });
    const c = client(s.url);
    expect(await c.request({ path: '/get' })).toEqual({ ok: true });
    expect(s.requests()).toBe(2);
    const err = await failure(c.request({ method: 'POST', path: '/post', body: {} }));
    expect(isTransportError(err)).toBe(true);
    expect(s.requests()).toBe(3);
  });

  test('connection refused is retried (the request never left), then reported', async () => {
    const s = await server(() => {});
    await cleanups.pop()!(); // stop the server: its port now refuses
    const c = client(s.url, { connectionRetries: 2 });
    const t = Date.now();
    const err = await failure(c.request({ method: 'POST', path: '/x', body: {} }));
    expect(isTransportError(err)).toBe(true);
    expect(err.code).toBe('ECONNREFUSED');
    expect(err.notSent).toBe(true);
    expect(Date.now() - t).toBeGreaterThanOrEqual(250); // two backoffs: ~100ms, ~200ms
  });
});

describe('watch', () => {
  test('events are decoded as lines arrive, even split across chunks; the stream ends with the response', async () => {
    const events = [
      { type: 'ADDED', object: { metadata: { name: 'a', resourceVersion: '2' }, data: { big: 'x'.repeat(100_000) } } },
      { type: 'MODIFIED', object: { metadata: { name: 'a', resourceVersion: '3' } } },
      { type: 'BOOKMARK', object: { metadata: { resourceVersion: '4' } } },
      { type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old' } },
    ];
    let query = '';
    const s = await server(async (req, res) => {
      query = req.url!;
      res.writeHead(200, { 'content-type': 'application/json' });
      const text = events.map((e) => JSON.stringify(e) + '\n').join('');
      for (let i = 0; i < text.length; i += 7777) {
        res.write(text.slice(i, i + 7777));
        await new Promise((r) => setTimeout(r, 1));
      }
      res.end();
    });
    const c = client(s.url);
    const w = await c.resource(Resources.configMaps, 'default').watch({ resourceVersion: '1', allowWatchBookmarks: true, timeoutSeconds: 30, labelSelector: 'a=b' });
    const got: WatchEvent<unknown>[] = [];
    for await (const ev of w) got.push(ev);
    expect(got.map((e) => e.type)).toEqual(['ADDED', 'MODIFIED', 'BOOKMARK', 'ERROR']);
    expect((got[0]!.object as { data: { big: string } }).data.big.length).toBe(100_000);
    expect(decodeURIComponent(query)).toBe('/api/v1/namespaces/default/configmaps?watch=true&labelSelector=a=b&resourceVersion=1&allowWatchBookmarks=true&timeoutSeconds=30');
  });

  test('stop() ends iteration quietly; a broken connection throws a TransportError', async () => {
    let sock: Socket | undefined;
    const s = await server((req, res) => {
      sock = req.socket;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'a' } } }) + '\n');
    });
    const c = client(s.url);
    const cms = c.resource(Resources.configMaps, 'default');
    const w1 = await cms.watch();
    const got1: string[] = [];
    for await (const ev of w1) {
      got1.push(ev.type);
      w1.stop();
    }
    expect(got1).toEqual(['ADDED']);
    const w2 = await cms.watch();
    const it = w2[Symbol.asyncIterator]();
    expect((await it.next()).value.type).toBe('ADDED');
    sock!.destroy();
    await expect(it.next()).rejects.toSatisfy(isTransportError);
  });

  test('a 410 before the stream starts rejects the watch call', async () => {
    const s = await server((_req, res) => json(res, 410, { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version: 1 (5)' }));
    const c = client(s.url);
    const err = await failure(c.resource(Resources.configMaps, 'default').watch({ resourceVersion: '1' }));
    expect(err).toBeInstanceOf(StatusError);
    expect(err.code).toBe(410);
  });

  test('LineSplitter keeps multi-byte characters split across chunks intact', () => {
    const ls = new LineSplitter();
    const buf = Buffer.from('{"a":"é"}\n{"b":1}');
    expect(ls.push(buf.subarray(0, 7))).toEqual([]);
    expect(ls.push(buf.subarray(7))).toEqual(['{"a":"é"}']);
    expect(ls.end()).toBe('{"b":1}');
  });
});

describe('TLS', () => {
  // A CA, a serving certificate for 127.0.0.1 and a client certificate, as a kubeconfig names them.
  const caKey = generateKey('ecdsa');
  const ca = selfSignedCA(caKey, { commonName: 'test-ca' }, 1);
  const serverKey = generateKey('ecdsa');
  const serverCert = signedCertificate(serverKey, { subject: { commonName: 'apiserver' }, ipAddresses: ['127.0.0.1'], usages: ['server'], days: 1 }, ca, caKey);
  const clientKey = generateKey('ecdsa');
  const clientCert = signedCertificate(clientKey, { subject: { commonName: 'alice', organizations: ['devs'] }, usages: ['client'], days: 1 }, ca, caKey);

  async function tlsServer(): Promise<{ url: string; peers: string[] }> {
    const peers: string[] = [];
    const srv = https.createServer({ cert: serverCert, key: serverKey, ca, requestCert: true, rejectUnauthorized: false }, (req, res) => {
      const s = req.socket as TLSSocket;
      peers.push(s.authorized ? String(s.getPeerCertificate().subject.CN) : 'anonymous');
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ kind: 'Namespace', apiVersion: 'v1', metadata: { name: 'default' } }));
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => (srv.closeAllConnections(), srv.close(() => r()))));
    return { url: `https://127.0.0.1:${(srv.address() as AddressInfo).port}`, peers };
  }

  test('the kubeconfig CA verifies the server on every connection, and each connection presents the client certificate', async () => {
    const s = await tlsServer();
    const c = client(s.url, { config: { server: s.url, source: 'test', namespace: 'default', caData: Buffer.from(ca), certData: Buffer.from(clientCert), keyData: Buffer.from(clientKey) } });
    // Concurrent requests open several connections of the pool.
    const got = await Promise.all(Array.from({ length: 6 }, () => c.resource(Resources.namespaces).get('default')));
    expect(got.map((n) => n.metadata.name)).toEqual(Array(6).fill('default'));
    expect(s.peers).toEqual(Array(6).fill('alice'));
  });

  test('a server whose certificate the kubeconfig CA did not sign is refused; insecure-skip-tls-verify lets it in', async () => {
    const s = await tlsServer();
    const otherKey = generateKey('ecdsa');
    const otherCA = selfSignedCA(otherKey, { commonName: 'other-ca' }, 1);
    const refused = client(s.url, { config: { server: s.url, source: 'test', namespace: 'default', caData: Buffer.from(otherCA) }, maxRetries: 0 });
    const err = await refused.resource(Resources.namespaces).get('default').catch((e: unknown) => e);
    expect(isTransportError(err)).toBe(true);
    expect(String((err as Error).message)).toMatch(/certificate/i);
    const insecure = client(s.url, { config: { server: s.url, source: 'test', namespace: 'default', insecureSkipTLSVerify: true } });
    expect((await insecure.resource(Resources.namespaces).get('default')).metadata.name).toBe('default');
    expect(s.peers).toEqual(['anonymous']);
  });
});
