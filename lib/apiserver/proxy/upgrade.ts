/**
 * Proxying upgraded (exec, attach, port-forward) connections to a backend such as a kubelet,
 * without CVE-2018-1002105's hole: there, a backend that refused an upgrade left the API
 * server's authenticated connection to it open and reusable, and the client went on sending
 * requests over it, as the API server.
 *
 * The rules this helper keeps:
 *   - every upgrade request dials its own backend connection (no agent, no pool, no keep-alive);
 *   - a backend that answers anything but 101 gets its answer relayed, and then both the
 *     client's and the backend's connections are closed: nothing more travels on either;
 *   - after a 101 the two sockets are spliced until either side ends, and then both are
 *     destroyed; the backend socket is never handed to anything else;
 *   - the client's credentials and impersonation headers are not forwarded: the API server
 *     speaks to the backend with its own (the kubelet client certificate).
 *
 * Use: from the HTTP server's 'upgrade' event (or a hijacked fastify reply), after the request
 * has been authenticated and authorized for the pods/exec-style subresource:
 *
 *   await proxyUpgrade(req, socket, head, { url: new URL(`https://${nodeIP}:10250/exec/...`),
 *     tls: { ca, cert, key } }, log);
 */
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';

export interface BackendTarget {
  url: URL;
  /** TLS towards the backend: its CA and the client certificate to present. */
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer; servername?: string; rejectUnauthorized?: boolean };
  /** Extra headers for the backend request. */
  headers?: Record<string, string>;
  /** How long to wait for the backend's answer. */
  timeoutMs?: number;
}

/** Headers never passed to the backend: hop-by-hop ones, and the client's credentials. */
const dropped = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'host', 'authorization', 'proxy-authorization', 'cookie']);

export function backendHeaders(req: IncomingMessage, extra: Record<string, string> = {}): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined || dropped.has(k) || k.startsWith('impersonate-')) continue;
    out[k] = v;
  }
  // The websocket bearer token subprotocol carries the client's credentials too.
  const protos = req.headers['sec-websocket-protocol'];
  if (typeof protos === 'string') {
    const kept = protos.split(',').map((p) => p.trim()).filter((p) => !p.startsWith('base64url.bearer.authorization.k8s.io.'));
    if (kept.length) out['sec-websocket-protocol'] = kept.join(', ');
    else delete out['sec-websocket-protocol'];
  }
  return { ...out, ...extra, connection: 'Upgrade', upgrade: String(req.headers.upgrade ?? '') };
}

/** The status line and headers of a backend answer; `closing` answers are framed by the connection closing. */
function statusBlock(res: IncomingMessage, closing = false): string {
  const lines = [`HTTP/1.1 ${res.statusCode} ${res.statusMessage ?? ''}`];
  for (let i = 0; i < res.rawHeaders.length; i += 2) {
    const name = res.rawHeaders[i]!;
    if (closing && /^(transfer-encoding|content-length|connection|keep-alive)$/i.test(name)) continue;
    lines.push(`${name}: ${res.rawHeaders[i + 1]}`);
  }
  if (closing) lines.push('Connection: close');
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/**
 * Proxies one upgrade request. Resolves when both connections are gone. The client socket is
 * always ended by the time this resolves.
 */
export function proxyUpgrade(req: IncomingMessage, client: Duplex, head: Buffer, target: BackendTarget, log?: Logger): Promise<void> {
  return new Promise((resolve) => {
    const secure = target.url.protocol === 'https:';
    const opts: https.RequestOptions = {
      method: req.method,
      host: target.url.hostname,
      port: target.url.port || (secure ? 443 : 80),
      path: `${target.url.pathname}${target.url.search}`,
      headers: backendHeaders(req, target.headers),
      // One connection for this request alone: never pooled, never kept alive.
      agent: false,
      ...(secure ? { ca: target.tls?.ca, cert: target.tls?.cert, key: target.tls?.key, servername: target.tls?.servername, rejectUnauthorized: target.tls?.rejectUnauthorized ?? true } : {}),
    };
    let settled = false;
    const finish = (backend?: Duplex) => {
      if (settled) return;
      settled = true;
      backend?.destroy();
      if (!client.destroyed) client.end();
      client.destroy();
      resolve();
    };
    const r = (secure ? https : http).request(opts);
    r.setTimeout(target.timeoutMs ?? 30_000, () => r.destroy(new Error('the backend did not answer in time')));
    r.on('upgrade', (res, backend, backendHead) => {
      client.write(statusBlock(res));
      if (backendHead.length) client.write(backendHead);
      if (head.length) backend.write(head);
      backend.pipe(client);
      client.pipe(backend);
      const done = () => finish(backend);
      for (const s of [backend, client]) {
        s.on('end', done);
        s.on('close', done);
        s.on('error', done);
      }
    });
    r.on('response', (res) => {
      // No upgrade: relay the answer, then close both sides. Nothing else may use either.
      log?.debug({ code: res.statusCode, url: target.url.pathname }, 'backend refused the upgrade');
      client.write(statusBlock(res, true));
      res.on('data', (d: Buffer) => client.write(d));
      res.on('end', () => finish(res.socket));
      res.on('error', () => finish(res.socket));
    });
    r.on('error', (err) => {
      log?.warn({ err, url: target.url.pathname }, 'backend connection for an upgrade failed');
      if (!settled && client.writable) {
        const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `error dialing backend: ${err.message}`, reason: 'ServiceUnavailable', code: 503 });
        client.write(`HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
      }
      finish();
    });
    client.on('error', () => r.destroy());
    r.end();
  });
}
