/**
 * The kubelet's HTTPS API (--port, 10250): what the API server proxies to for logs, exec,
 * attach, port-forward and node stats, and what monitoring reads.
 *
 *   GET       /healthz                                   "ok" (no authentication)
 *   GET       /pods                                      the pods this kubelet runs (PodList)
 *   GET       /stats/summary                             node, pod and container CPU/memory
 *   GET       /metrics                                   the server's own Prometheus metrics
 *   GET       /containerLogs/{ns}/{pod}/{container}      follow, tailLines, sinceSeconds, sinceTime,
 *                                                        timestamps, previous, limitBytes
 *   GET|POST  /exec/{ns}/{pod}[/{uid}]/{container}       command=..., input, output, error, tty (=1)
 *   GET|POST  /attach/{ns}/{pod}[/{uid}]/{container}     input, output, error, tty
 *   GET|POST  /portForward/{ns}/{pod}[/{uid}]            ports=... (WebSocket channels only)
 *
 * exec, attach and portForward are upgrades: WebSocket (v5/v4/v1 channel protocols, and the
 * SPDY tunnel for port-forward) or SPDY/3.1. Every request but /healthz is authenticated and
 * then authorized as a verb on nodes/<subresource>; errors are plain text, as upstream:
 * "Unauthorized" (401), "Forbidden (user=..., verb=..., resource=nodes, subresource=...)" (403),
 * "Authorization error (...)" (500) when the authorizer itself fails.
 *
 * With `readOnly` (upstream's --read-only-port) the server speaks plain HTTP, asks no one, and
 * serves only /healthz, /pods, /stats/summary and /metrics.
 */
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { MetricsRegistry, waitForAbort, type Runnable } from '../../base/index.js';
import {
  OptionsError,
  acceptRemoteCommand,
  isUpgradeRequest,
  newWebSocketServer,
  parseRemoteCommandOptions,
  servePortForward,
  writeRawResponse,
  type RemoteCommandSession,
  type UpgradeRequest,
} from '../../streaming/index.js';
import type { LogOptions, StreamSession } from '../runtime/index.js';
import { kubeletAlwaysAllow, kubeletAnonymousUser, kubeletSubresource, kubeletVerb, type KubeletAuthenticator, type KubeletAuthorizer, type KubeletUser } from './auth.js';
import { loadOrCreateServingCertificate } from './certs.js';
import { KubeletHttpError, logContainer, runningContainer } from './containers.js';
import type { KubeletPodRef, KubeletServerHost } from './host.js';
import { StatsProvider } from './stats.js';

export interface KubeletServerOptions {
  host: KubeletServerHost;
  log: Logger;
  /** --address; default 0.0.0.0. */
  address?: string;
  /** --port; default 10250, 0 for any free port. */
  port?: number;
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
  /** --cert-dir: where a self-signed certificate is made when no files are given; default <rootDir>/pki. */
  certDir?: string;
  /** --root-dir (default /var/lib/kubelet). */
  rootDir?: string;
  /** Addresses the self-signed certificate names (the node's addresses). */
  certAddresses?: string[];
  /** --client-ca-file contents: request client certificates and trust those it signed. */
  clientCA?: Buffer;
  /** Tried in order; the first that knows the request's credentials decides. */
  authenticators?: KubeletAuthenticator[];
  /** --anonymous-auth: let requests without credentials in as system:anonymous. Default false. */
  anonymousAuth?: boolean;
  /** --authorization-mode; default AlwaysAllow. */
  authorizer?: KubeletAuthorizer;
  /** How long a SPDY client may take to open its streams (upstream: 30s). */
  streamCreationTimeoutMs?: number;
  /** --streaming-connection-idle-timeout: close exec/attach/port-forward connections idle this long (default 4h, 0: never). */
  streamingIdleTimeoutMs?: number;
  /** How long /stats/summary waits for a second CPU sample of something new (default 1s). */
  statsSecondSampleDelayMs?: number;
  /** --read-only-port: plain HTTP, no authentication or authorization, read-only endpoints only. */
  readOnly?: boolean;
}

/** The endpoints the read-only port serves (upstream: its default handlers, no debugging handlers). */
const readOnlyPaths = new Set(['pods', 'stats', 'metrics', 'spec']);

/** The parts of a kubelet API path after the handler name. */
function pathParts(path: string): string[] {
  return path.split('/').filter(Boolean).map((p) => decodeURIComponent(p));
}

function flag(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  return v === 'true' || v === '1';
}

/** Reads an integer query parameter; undefined when absent. */
function intQuery(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!/^-?\d+$/.test(v)) throw new KubeletHttpError(400, `invalid value for ${name}: ${JSON.stringify(v)} is not an integer`);
  return Number(v);
}

/** Log options from the query, validated as upstream's ValidatePodLogOptions. */
export function parseLogQuery(q: URLSearchParams, now = Date.now()): Omit<LogOptions, 'signal'> {
  const tail = intQuery(q, 'tailLines');
  const limitBytes = intQuery(q, 'limitBytes');
  const sinceSeconds = intQuery(q, 'sinceSeconds');
  const sinceTime = q.get('sinceTime');
  if (tail !== undefined && tail < 0) throw new KubeletHttpError(400, 'tailLines: Invalid value: must be greater than or equal to 0');
  if (limitBytes !== undefined && limitBytes < 1) throw new KubeletHttpError(400, 'limitBytes: Invalid value: must be greater than 0');
  if (sinceSeconds !== undefined && sinceTime) throw new KubeletHttpError(400, 'at most one of `sinceTime` or `sinceSeconds` may be specified');
  if (sinceSeconds !== undefined && sinceSeconds < 1) throw new KubeletHttpError(400, 'sinceSeconds: Invalid value: must be greater than 0');
  let since: Date | undefined;
  if (sinceSeconds !== undefined) since = new Date(now - sinceSeconds * 1000);
  if (sinceTime) {
    since = new Date(sinceTime);
    if (Number.isNaN(since.getTime())) throw new KubeletHttpError(400, `sinceTime: Invalid value: ${JSON.stringify(sinceTime)}: not an RFC 3339 time`);
  }
  return {
    follow: flag(q, 'follow'),
    previous: flag(q, 'previous'),
    timestamps: flag(q, 'timestamps'),
    ...(tail !== undefined ? { tail } : {}),
    ...(limitBytes !== undefined ? { limitBytes } : {}),
    ...(since ? { since } : {}),
  };
}

export class KubeletServer implements Runnable {
  private readonly o: KubeletServerOptions;
  private readonly log: Logger;
  private readonly wss = newWebSocketServer();
  private readonly stats: StatsProvider;
  private server?: http.Server;
  /** Upgraded connections: they outlive the HTTP server's own bookkeeping. */
  private readonly upgraded = new Set<Duplex>();
  readonly metrics = new MetricsRegistry();
  private readonly requests = this.metrics.counter('kubelet_http_requests_total', 'Requests to the kubelet API by method, path prefix and code.');
  private readonly streams = this.metrics.gauge('kubelet_http_inflight_streams', 'Open exec, attach and port-forward connections.');
  private openStreams = 0;
  /** TLS connections accepted so far (each upgraded request must arrive on one of its own). */
  connectionsAccepted = 0;
  /** The address bound (useful with port 0). */
  address?: { host: string; port: number };
  private resolveListening!: (a: { host: string; port: number }) => void;
  private readonly listeningP: Promise<{ host: string; port: number }>;

  constructor(o: KubeletServerOptions) {
    this.o = o;
    this.log = o.log;
    this.stats = new StatsProvider(o.host, { secondSampleDelayMs: o.statsSecondSampleDelayMs });
    this.listeningP = new Promise((r) => (this.resolveListening = r));
    this.streams.collect(() => [[{}, this.openStreams]]);
  }

  /** Exec, attach and port-forward connections open now. */
  get streamingConnections(): number {
    return this.openStreams;
  }

  /** Resolves with the bound address once the server listens. */
  listening(): Promise<{ host: string; port: number }> {
    return this.listeningP;
  }

  /** Where the server listens (or is to), for messages. */
  describeAddress(): string {
    return `${this.o.readOnly ? 'http' : 'https'}://${this.o.address ?? '0.0.0.0'}:${this.o.port ?? 10250}`;
  }

  private createServer(): http.Server {
    const o = this.o;
    if (o.readOnly) return http.createServer();
    const certDir = o.certDir ?? path.join(o.rootDir ?? '/var/lib/kubelet', 'pki');
    const cert = loadOrCreateServingCertificate({ tlsCertFile: o.tlsCertFile, tlsPrivateKeyFile: o.tlsPrivateKeyFile, certDir, nodeName: o.host.nodeName, addresses: o.certAddresses });
    if (cert.generated) this.log.info({ cert: cert.certFile, key: cert.keyFile }, 'generated a self-signed serving certificate');
    const server = https.createServer({ cert: cert.cert, key: cert.key, ...(o.clientCA ? { ca: o.clientCA, requestCert: true, rejectUnauthorized: false } : {}) });
    server.on('secureConnection', () => this.connectionsAccepted++);
    return server;
  }

  async start(signal: AbortSignal): Promise<void> {
    const o = this.o;
    const server = this.createServer();
    this.server = server;
    server.on('request', (req, res) => void this.serve(req, res));
    server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void this.serveUpgrade({ req, socket, head }));
    server.on('clientError', (_err, socket) => socket.destroy());
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.port ?? 10250, o.address ?? '0.0.0.0', () => resolve());
    });
    const a = server.address() as { address: string; port: number };
    this.address = { host: a.address, port: a.port };
    this.resolveListening(this.address);
    this.log.info({ address: `${o.readOnly ? 'http' : 'https'}://${a.address}:${a.port}`, readOnly: !!o.readOnly }, 'kubelet API serving');
    await waitForAbort(signal);
    for (const s of this.upgraded) s.destroy();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    this.wss.close();
  }

  // ---- Authentication and authorization ------------------------------------------------------

  private async admit(req: http.IncomingMessage, path: string): Promise<KubeletUser> {
    if (this.o.readOnly) {
      if (!readOnlyPaths.has(path.split('/')[1] ?? '') || (req.method !== 'GET' && req.method !== 'HEAD')) throw new KubeletHttpError(404, '404 page not found');
      return kubeletAnonymousUser;
    }
    let user: KubeletUser | null = null;
    try {
      for (const a of this.o.authenticators ?? []) {
        user = await a.authenticate(req);
        if (user) break;
      }
    } catch (err) {
      this.log.debug({ err }, 'authentication failed');
      throw new KubeletHttpError(401, 'Unauthorized');
    }
    if (!user) {
      if (!this.o.anonymousAuth) throw new KubeletHttpError(401, 'Unauthorized');
      user = kubeletAnonymousUser;
    }
    const attrs = { user, verb: kubeletVerb(req.method ?? 'GET'), resource: 'nodes' as const, subresource: kubeletSubresource(path), name: this.o.host.nodeName, path };
    const what = `(user=${user.name}, verb=${attrs.verb}, resource=nodes, subresource=${attrs.subresource})`;
    let decision: { allowed: boolean; reason?: string };
    try {
      decision = await (this.o.authorizer ?? kubeletAlwaysAllow).authorize(attrs);
    } catch (err) {
      this.log.error({ err, user: user.name, verb: attrs.verb, subresource: attrs.subresource }, 'kubelet API authorization failed');
      throw new KubeletHttpError(500, `Authorization error ${what}`);
    }
    if (!decision.allowed) {
      this.log.debug({ user: user.name, verb: attrs.verb, subresource: attrs.subresource, reason: decision.reason }, 'kubelet API request forbidden');
      throw new KubeletHttpError(403, `Forbidden ${what}`);
    }
    return user;
  }

  private async findPod(ns: string | undefined, name: string | undefined, uid?: string): Promise<KubeletPodRef> {
    if (!ns || !name) throw new KubeletHttpError(400, 'namespace and pod name are required in the path');
    const ref = await this.o.host.findPod(ns, name, uid);
    if (!ref) throw new KubeletHttpError(404, `pod "${name}" does not exist`);
    return ref;
  }

  // ---- Plain requests ------------------------------------------------------------------------

  private async serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://kubelet');
    const prefix = url.pathname.split('/')[1] ?? '';
    res.on('finish', () => this.requests.inc({ method: req.method ?? '', path: prefix, code: String(res.statusCode) }));
    try {
      if (url.pathname === '/healthz') return void res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' }).end('ok');
      await this.admit(req, url.pathname);
      const parts = pathParts(url.pathname);
      switch (parts[0]) {
        case 'pods':
          if (parts.length !== 1) break;
          return this.json(res, { kind: 'PodList', apiVersion: 'v1', metadata: {}, items: await this.o.host.listPods() });
        case 'stats':
          if (parts[1] === 'summary' && parts.length === 2) return this.json(res, await this.stats.summary());
          break;
        case 'metrics':
          if (parts.length !== 1) break;
          return void res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' }).end(this.metrics.render());
        case 'containerLogs':
          if (parts.length !== 4) break;
          return await this.serveLogs(req, res, parts[1]!, parts[2]!, parts[3]!, url.searchParams);
        case 'exec':
        case 'attach':
        case 'portForward':
          // Only reachable without an upgrade.
          throw new KubeletHttpError(400, 'Upgrade request required: use WebSocket (Connection: Upgrade, Upgrade: websocket) or SPDY/3.1');
      }
      throw new KubeletHttpError(404, '404 page not found');
    } catch (err) {
      this.fail(res, err);
    }
  }

  private json(res: http.ServerResponse, body: unknown): void {
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
  }

  private fail(res: http.ServerResponse, err: unknown): void {
    const code = err instanceof KubeletHttpError ? err.code : 500;
    if (code === 500) this.log.error({ err }, 'kubelet API request failed');
    if (res.headersSent) return void res.destroy();
    res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' }).end(`${(err as Error).message}\n`);
  }

  private async serveLogs(req: http.IncomingMessage, res: http.ServerResponse, ns: string, name: string, container: string, q: URLSearchParams): Promise<void> {
    const opts = parseLogQuery(q);
    const ref = await this.findPod(ns, name);
    const id = await logContainer(ref, container, !!opts.previous, this.o.host.runtime);
    const abort = new AbortController();
    res.on('close', () => abort.abort());
    // The previous instance was resolved above: read its logs as they are.
    const stream = await this.o.host.runtime.logs(id, { ...opts, previous: false, signal: abort.signal });
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-cache' });
    res.flushHeaders();
    stream.on('data', (d: Buffer) => {
      if (!res.write(d)) {
        stream.pause();
        res.once('drain', () => stream.resume());
      }
    });
    await new Promise<void>((resolve) => {
      stream.once('end', resolve);
      stream.once('close', resolve);
      stream.once('error', (err) => {
        this.log.debug({ err, pod: `${ns}/${name}`, container }, 'log stream failed');
        resolve();
      });
      res.once('close', resolve);
    });
    stream.destroy();
    if (!res.writableEnded) res.end();
  }

  // ---- Upgrades ------------------------------------------------------------------------------

  private async serveUpgrade(up: UpgradeRequest): Promise<void> {
    const url = new URL(up.req.url ?? '/', 'https://kubelet');
    const parts = pathParts(url.pathname);
    this.upgraded.add(up.socket);
    this.openStreams++;
    up.socket.once('close', () => {
      this.upgraded.delete(up.socket);
      this.openStreams--;
    });
    up.socket.on('error', () => undefined);
    if (this.o.streamingIdleTimeoutMs !== 0) {
      (up.socket as Duplex & { setTimeout?: (ms: number, cb: () => void) => void }).setTimeout?.(this.o.streamingIdleTimeoutMs ?? 4 * 3600_000, () => up.socket.destroy());
    }
    let code = 101;
    try {
      await this.admit(up.req, url.pathname);
      if (!isUpgradeRequest(up.req)) throw new KubeletHttpError(400, 'Upgrade request required');
      switch (parts[0]) {
        case 'exec':
        case 'attach': {
          // {ns}/{pod}/{container} or {ns}/{pod}/{uid}/{container}
          if (parts.length !== 4 && parts.length !== 5) break;
          const uid = parts.length === 5 ? parts[3] : undefined;
          return await this.serveRemoteCommand(up, parts[0], parts[1]!, parts[2]!, uid, parts.at(-1)!, url.searchParams);
        }
        case 'portForward': {
          if (parts.length !== 3 && parts.length !== 4) break;
          return await this.servePortForward(up, parts[1]!, parts[2]!, parts[3], url.searchParams);
        }
      }
      throw new KubeletHttpError(404, '404 page not found');
    } catch (err) {
      code = err instanceof KubeletHttpError ? err.code : 500;
      if (code === 500) this.log.error({ err }, 'kubelet API stream request failed');
      writeRawResponse(up.socket, code, `${(err as Error).message}\n`);
    } finally {
      this.requests.inc({ method: up.req.method ?? '', path: parts[0] ?? '', code: String(code) });
    }
  }

  private async serveRemoteCommand(up: UpgradeRequest, kind: 'exec' | 'attach', ns: string, name: string, uid: string | undefined, container: string, q: URLSearchParams): Promise<void> {
    let opts;
    try {
      opts = parseRemoteCommandOptions(q);
    } catch (err) {
      if (err instanceof OptionsError) throw new KubeletHttpError(400, err.message);
      throw err;
    }
    const cmd = q.getAll('command');
    if (kind === 'exec' && cmd.length === 0) throw new KubeletHttpError(400, 'you must specify at least one command for the container');
    const ref = await this.findPod(ns, name, uid);
    const runtime = this.o.host.runtime;
    const id = await runningContainer(ref, container, runtime);
    const session = await acceptRemoteCommand(up, opts, { wss: this.wss, streamCreationTimeoutMs: this.o.streamCreationTimeoutMs, log: this.log });
    if (!session) return;
    const log = this.log.child({ pod: `${ns}/${name}`, container, kind, transport: session.transport, protocol: session.protocol });
    log.debug('stream session started');
    let rs: StreamSession;
    try {
      // A TTY starts at the client's size: it sends that first, right after the handshake.
      const size = opts.tty ? await session.initialSize(500) : undefined;
      const streamOpts = { stdin: session.stdin, stdout: session.stdout, stderr: session.stderr, tty: opts.tty, ...(size ? { size } : {}) };
      rs = kind === 'exec' ? await runtime.exec(id, { ...streamOpts, cmd }) : await runtime.attach(id, streamOpts);
    } catch (err) {
      log.debug({ err }, 'stream session could not start');
      await session.finish({ kind: 'error', message: `error ${kind === 'exec' ? 'executing command in' : 'attaching to'} container: ${(err as Error).message}` });
      return;
    }
    await this.runSession(session, rs, kind, cmd, log);
  }

  /** Wires an accepted client session to a runtime session until either ends. */
  private async runSession(session: RemoteCommandSession, rs: StreamSession, kind: 'exec' | 'attach', cmd: string[], log: Logger): Promise<void> {
    session.onResize((size) => void rs.resize(size).catch((err) => log.debug({ err }, 'resize failed')));
    // The client went away: end the runtime side (an attached container keeps running).
    void session.gone.then(() => rs.close());
    let outcome: Parameters<RemoteCommandSession['finish']>[0];
    try {
      const result = await rs.done;
      outcome = kind === 'exec' && result.exitCode !== undefined && result.exitCode !== 0 ? { kind: 'exit', code: result.exitCode, command: cmd } : { kind: 'success' };
    } catch (err) {
      outcome = { kind: 'error', message: `error ${kind === 'exec' ? 'executing command in' : 'attaching to'} container: ${(err as Error).message}` };
    }
    log.debug({ outcome: outcome.kind }, 'stream session ended');
    await session.finish(outcome);
  }

  private async servePortForward(up: UpgradeRequest, ns: string, name: string, uid: string | undefined, q: URLSearchParams): Promise<void> {
    const ref = await this.findPod(ns, name, uid);
    const sandboxId = ref.sandboxId;
    if (!sandboxId) throw new KubeletHttpError(400, `pod "${name}" has no running sandbox to forward to`);
    const runtime = this.o.host.runtime;
    await servePortForward(up, q, {
      wss: this.wss,
      forward: (port, stream) => runtime.portForward(sandboxId, port, stream),
      podDescription: `${name}_${ns}, uid ${ref.pod.metadata.uid ?? ''}`,
      streamCreationTimeoutMs: this.o.streamCreationTimeoutMs,
      log: this.log.child({ pod: `${ns}/${name}` }),
    });
  }
}
