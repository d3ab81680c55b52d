/**
 * HTTP(S) to one API server: a keep-alive connection pool, TLS and credentials from a
 * ClientConfig, a user agent, request timeouts, client-side QPS/burst throttling and bounded
 * retries. Everything above (resource clients, watches, raw streams) goes through `send`.
 *
 * Retries, as client-go's: a 429 (or a 5xx carrying Retry-After) is retried after the delay the
 * server asks for, up to `maxRetries` times, whatever the verb (the server did not act on it).
 * A connection failure is retried with a short backoff up to `connectionRetries` times when the
 * request cannot have reached the server (connect refused, DNS), or for idempotent verbs (GET,
 * HEAD, PUT, DELETE) whatever broke. POST and PATCH that may have been received are not
 * repeated: a create with generateName could otherwise run twice.
 */
import fs from 'node:fs';
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import os from 'node:os';
import type { Logger } from 'pino';
import { Backoff, realClock, silentLogger, type Clock } from '../base/index.js';
import { statusErrorFromBody, type StatusError } from '../machinery/index.js';
import type { ClientConfig } from './kubeconfig.js';
import { TokenBucket } from './flowcontrol.js';

export type HTTPMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface HTTPRequest {
  method: HTTPMethod;
  /** Absolute path, e.g. `/api/v1/namespaces/default/pods`. */
  path: string;
  query?: URLSearchParams;
  /** An object is sent as JSON; a string or Buffer as is. */
  body?: unknown;
  contentType?: string;
  accept?: string;
  headers?: Record<string, string>;
  /** Overrides the transport's timeout; 0: none. For streams it bounds the wait for the response headers. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface HTTPResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A request that got no HTTP answer: connection refused or reset, timeout, TLS failure. */
export class TransportError extends Error {
  override readonly name = 'TransportError';
  constructor(
    message: string,
    /** The system error code (ECONNREFUSED, ECONNRESET, ETIMEDOUT...), if any. */
    readonly code: string | undefined,
    /** True when the request certainly never reached the server. */
    readonly notSent: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const isTransportError = (err: unknown): err is TransportError => err instanceof TransportError;

/** The request was aborted by its caller's signal. */
export class AbortError extends Error {
  override readonly name = 'AbortError';
  constructor(message = 'the request was aborted') {
    super(message);
  }
}

export const isAbortError = (err: unknown): err is AbortError => err instanceof Error && err.name === 'AbortError';

const notSentCodes = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);
const idempotent = new Set<HTTPMethod>(['GET', 'HEAD', 'PUT', 'DELETE']);

export interface TransportOptions {
  config: ClientConfig;
  userAgent: string;
  /** Default request timeout (ms); 0: none. */
  timeoutMs: number;
  /** Client-side rate limit; qps <= 0 disables it. */
  qps: number;
  burst: number;
  maxRetries: number;
  connectionRetries: number;
  log?: Logger;
  clock?: Clock;
  /**
   * Another transport whose connection pool this one shares (client-go shares its transports the
   * same way); its rate limiter stays its own, and closing this transport leaves the pool open.
   */
  shareConnectionsOf?: Transport;
  /** Gives the bearer token of each request, ahead of the config's credentials (a token that is renewed while the client lives). */
  tokenSource?: () => string | undefined;
}

/** Builds the user agent string: `tkube-<component>/<version> (<os>/<arch>)`. */
export function defaultUserAgent(component: string, version: string): string {
  const arch = os.arch() === 'x64' ? 'amd64' : os.arch();
  const name = component.startsWith('tkube') ? component : `tkube-${component}`;
  return `${name}/${version} (${os.platform()}/${arch})`;
}

const tokenFileRefreshMs = 60_000;

function retryAfterMs(headers: IncomingHttpHeaders): number | undefined {
  const v = headers['retry-after'];
  if (v === undefined) return undefined;
  const s = Number(v);
  if (Number.isFinite(s) && s >= 0) return s * 1000;
  const t = Date.parse(String(v));
  return Number.isFinite(t) ? Math.max(0, t - Date.now()) : undefined;
}

/** Turns an error response into a StatusError. */
export function errorFromResponse(status: number, body: Buffer): StatusError {
  const text = body.toString('utf8');
  let parsed: unknown = text.trim();
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON: keep the text */
  }
  return statusErrorFromBody(parsed === '' ? undefined : parsed, status);
}

function newAgent(base: URL, config: ClientConfig): http.Agent {
  const agentOpts = { keepAlive: true, keepAliveMsecs: 30_000, scheduling: 'lifo' as const };
  return base.protocol === 'https:'
    ? new https.Agent({
        ...agentOpts,
        // One TLS context for every connection of the pool: given ca/cert/key instead, Node
        // parses them again for each new connection (about 1.3 ms of CPU each, and a burst of
        // concurrent requests opens dozens).
        secureContext: tls.createSecureContext({ ca: config.caData, cert: config.certData, key: config.keyData }),
        rejectUnauthorized: !config.insecureSkipTLSVerify,
        servername: config.tlsServerName,
      })
    : new http.Agent(agentOpts);
}

export class Transport {
  readonly base: URL;
  /** The connection pool, owned unless shared from another transport. */
  readonly agent: http.Agent;
  private readonly ownsAgent: boolean;
  private readonly limiter: TokenBucket;
  private readonly log: Logger;
  private readonly clock: Clock;
  private token?: { value: string; readAt: number };
  private closed = false;

  constructor(private readonly o: TransportOptions) {
    this.base = new URL(o.config.server);
    this.log = o.log ?? silentLogger();
    this.clock = o.clock ?? realClock;
    this.limiter = new TokenBucket(o.qps, o.burst, this.clock);
    this.ownsAgent = !o.shareConnectionsOf;
    this.agent = o.shareConnectionsOf?.agent ?? newAgent(this.base, o.config);
  }

  /** Destroys pooled connections; open streams are cut. */
  close(): void {
    this.closed = true;
    if (this.ownsAgent) this.agent.destroy();
  }

  private bearerToken(): string | undefined {
    const c = this.o.config;
    if (this.o.tokenSource) return this.o.tokenSource();
    if (c.token) return c.token;
    if (!c.tokenFile) return undefined;
    const now = this.clock.now();
    if (!this.token || now - this.token.readAt > tokenFileRefreshMs) {
      try {
        this.token = { value: fs.readFileSync(c.tokenFile, 'utf8').trim(), readAt: now };
      } catch (err) {
        // Keep using the last token read; a rotation in progress may briefly remove the file.
        if (!this.token) throw new TransportError(`cannot read the token file ${c.tokenFile}: ${(err as Error).message}`, undefined, true, { cause: err });
        this.log.warn({ err, tokenFile: c.tokenFile }, 'token file unreadable; using the last token read');
      }
    }
    return this.token?.value;
  }

  private headers(req: HTTPRequest, body: Buffer | undefined): Record<string, string | string[]> {
    const c = this.o.config;
    const h: Record<string, string | string[]> = { 'User-Agent': this.o.userAgent, Accept: req.accept ?? 'application/json', ...(req.headers ?? {}) };
    const token = this.bearerToken();
    if (token) h.Authorization = `Bearer ${token}`;
    else if (c.username !== undefined && c.password !== undefined) h.Authorization = `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
    if (c.impersonateUser) h['Impersonate-User'] = c.impersonateUser;
    if (c.impersonateGroups?.length) h['Impersonate-Group'] = c.impersonateGroups;
    if (body !== undefined) {
      h['Content-Type'] = req.contentType ?? 'application/json';
      h['Content-Length'] = String(body.length);
    }
    return h;
  }

  private url(req: HTTPRequest): URL {
    const u = new URL(this.base.href.replace(/\/+$/, '') + req.path);
    if (req.query) for (const [k, v] of req.query) u.searchParams.append(k, v);
    return u;
  }

  /**
   * Sends a request and reads the whole answer. Error responses (>= 400) reject with a
   * StatusError; failures to get one reject with a TransportError (or AbortError).
   */
  async send(req: HTTPRequest): Promise<HTTPResponse> {
    const out = await this.exchange(req, false);
    return out as HTTPResponse;
  }

  /**
   * Sends a request and hands back the response stream once the headers are in (status < 400).
   * The caller owns the stream and must consume or destroy it.
   */
  async stream(req: HTTPRequest): Promise<IncomingMessage> {
    return (await this.exchange(req, true)) as IncomingMessage;
  }

  private async exchange(req: HTTPRequest, streaming: boolean): Promise<HTTPResponse | IncomingMessage> {
    let body: Buffer | undefined;
    if (req.body !== undefined) body = Buffer.isBuffer(req.body) ? req.body : Buffer.from(typeof req.body === 'string' ? req.body : JSON.stringify(req.body));
    const backoff = new Backoff(100, 2000, 2, 0.2);
    let throttleRetries = 0;
    let connRetries = 0;
    for (;;) {
      if (this.closed || this.o.shareConnectionsOf?.closed) throw new TransportError('the client is closed', undefined, true);
      await this.limiter.wait(req.signal);
      if (req.signal?.aborted) throw new AbortError();
      const started = this.clock.now();
      try {
        const res = await this.once(req, body, streaming);
        const status = 'status' in res ? res.status : res.statusCode!;
        const headers = res.headers;
        this.log.debug({ verb: req.method, path: req.path, code: status, latencyMs: this.clock.now() - started }, 'request');
        if (status < 400) return res;
        const after = retryAfterMs(headers);
        const errBody = (res as HTTPResponse).body;
        if ((status === 429 || (status >= 500 && after !== undefined)) && throttleRetries < this.o.maxRetries) {
          throttleRetries++;
          const wait = Math.min(after ?? 1000, 60_000);
          this.log.debug({ verb: req.method, path: req.path, code: status, retryInMs: wait }, 'server asked to retry');
          await this.clock.sleep(wait, req.signal);
          if (req.signal?.aborted) throw new AbortError();
          continue;
        }
        throw errorFromResponse(status, errBody);
      } catch (err) {
        if (!(err instanceof TransportError)) throw err;
        const retryable = err.notSent || idempotent.has(req.method);
        if (!retryable || connRetries >= this.o.connectionRetries || req.signal?.aborted) throw err;
        connRetries++;
        const wait = backoff.next();
        this.log.debug({ verb: req.method, path: req.path, err: err.message, retryInMs: Math.round(wait) }, 'request failed; retrying');
        await this.clock.sleep(wait, req.signal);
        if (req.signal?.aborted) throw new AbortError();
      }
    }
  }

  private once(req: HTTPRequest, body: Buffer | undefined, streaming: boolean): Promise<HTTPResponse | IncomingMessage> {
    const url = this.url(req);
    const headers = this.headers(req, body);
    const timeoutMs = req.timeoutMs ?? this.o.timeoutMs;
    const mod = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      const finish = (fn: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req.signal?.removeEventListener('abort', onAbort);
        fn();
      };
      const r = mod.request(url, {
        method: req.method,
        headers,
        agent: this.agent,
        ...(this.o.config.tlsServerName ? { servername: this.o.config.tlsServerName } : {}),
      });
      const onAbort = () => {
        finish(() => reject(new AbortError()));
        r.destroy();
      };
      if (req.signal) {
        if (req.signal.aborted) return onAbort();
        req.signal.addEventListener('abort', onAbort, { once: true });
      }
      if (timeoutMs > 0) {
        timer = setTimeout(() => {
          finish(() => reject(new TransportError(`${req.method} ${url.pathname}: no answer within ${timeoutMs}ms`, 'ETIMEDOUT', false)));
          r.destroy();
        }, timeoutMs);
      }
      r.on('error', (err: NodeJS.ErrnoException) => {
        const code = err.code;
        const notSent = code !== undefined && notSentCodes.has(code);
        finish(() => reject(new TransportError(`${req.method} ${url.origin}${url.pathname}: ${err.message}`, code, notSent, { cause: err })));
      });
      r.on('response', (res) => {
        const status = res.statusCode ?? 0;
        if (streaming && status < 400) {
          finish(() => resolve(res));
          return;
        }
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => finish(() => resolve({ status, headers: res.headers, body: Buffer.concat(chunks) })));
        res.on('error', (err: NodeJS.ErrnoException) => {
          finish(() => reject(new TransportError(`${req.method} ${url.pathname}: the response broke off: ${err.message}`, err.code ?? 'ECONNRESET', false, { cause: err })));
        });
        res.on('aborted', () => {
          finish(() => reject(new TransportError(`${req.method} ${url.pathname}: the response broke off`, 'ECONNRESET', false)));
        });
      });
      r.end(body);
    });
  }
}
