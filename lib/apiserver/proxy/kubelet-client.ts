/**
 * How the API server reaches kubelets: a node publishes its addresses (status.addresses) and
 * its kubelet port (status.daemonEndpoints.kubeletEndpoint.Port); the API server picks an
 * address by type preference (--kubelet-preferred-address-types) and speaks HTTPS to it.
 *
 * Every request opens its own connection (no agent, no keep-alive): a plain request costs a
 * TLS handshake, and an upgraded one can never be handed to another request (CVE-2018-1002105).
 *
 * Kubelets serve self-signed certificates unless the cluster issues them, so without a CA
 * (--kubelet-certificate-authority) the certificate is not verified. A client certificate
 * (--kubelet-client-certificate/--kubelet-client-key) is presented when configured.
 */
import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import type { Node } from '../../api/index.js';
import { newServiceUnavailable, type StatusError } from '../../machinery/index.js';

/** Upstream's default order of --kubelet-preferred-address-types. */
export const defaultKubeletAddressTypes = ['Hostname', 'InternalDNS', 'InternalIP', 'ExternalDNS', 'ExternalIP'];

export interface KubeletClientConfig {
  preferredAddressTypes?: string[];
  /** Port used when a node does not publish one (upstream --kubelet-port, 10250). */
  defaultPort?: number;
  /** Trust kubelet certificates signed by this CA; without one certificates are not verified. */
  ca?: Buffer;
  /** The API server's client certificate and key for kubelets. */
  cert?: Buffer;
  key?: Buffer;
  /** Time allowed to connect (and, for plain requests, to get the response head). Default 10s. */
  timeoutMs?: number;
}

export interface KubeletLocation {
  nodeName: string;
  host: string;
  port: number;
}

export function kubeletURL(loc: KubeletLocation, path: string): string {
  const host = loc.host.includes(':') ? `[${loc.host}]` : loc.host;
  return `https://${host}:${loc.port}${path}`;
}

/** The address and port of a node's kubelet. Throws 503 when the node publishes no usable address. */
export function locateKubelet(node: Node, cfg: KubeletClientConfig = {}): KubeletLocation {
  const addresses = node.status?.addresses ?? [];
  const order = cfg.preferredAddressTypes ?? defaultKubeletAddressTypes;
  let host: string | undefined;
  for (const type of order) {
    host = addresses.find((a) => a.type === type && a.address)?.address;
    if (host) break;
  }
  const name = node.metadata.name ?? '';
  if (!host) {
    throw newServiceUnavailable(`no preferred addresses found for node "${name}"; known addresses: [${addresses.map((a) => `${a.type}=${a.address}`).join(' ')}]`);
  }
  const published = node.status?.daemonEndpoints?.kubeletEndpoint?.Port;
  const port = published && published > 0 ? published : (cfg.defaultPort ?? 10250);
  return { nodeName: name, host, port };
}

/** A failure to reach a kubelet, as the client sees it. */
export function dialError(loc: KubeletLocation, err: Error): StatusError {
  return newServiceUnavailable(`error dialing backend: the kubelet of node "${loc.nodeName}" at ${kubeletURL(loc, '')} did not answer: ${err.message}`);
}

/** Response headers that describe one HTTP/1.1 connection and must not be relayed. */
const hopByHop = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-authenticate']);

/** Request headers the kubelet must never see: the user's credentials stay at the API server. */
const neverForwarded = new Set(['authorization', 'proxy-authorization', 'cookie', 'host', 'content-length']);

/** Copies request headers for a kubelet: no credentials, no impersonation, no hop-by-hop headers. */
export function forwardedHeaders(headers: http.IncomingHttpHeaders, keepUpgrade: boolean): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    const name = k.toLowerCase();
    if (neverForwarded.has(name) || name.startsWith('impersonate-')) continue;
    if (hopByHop.has(name) && !(keepUpgrade && (name === 'connection' || name === 'upgrade'))) continue;
    out[k] = v;
  }
  return out;
}

/** Response headers to relay from a kubelet. */
export function relayedHeaders(headers: http.IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !hopByHop.has(k.toLowerCase()) && k.toLowerCase() !== 'content-length') out[k] = v;
  return out;
}

export type UpgradeOutcome =
  | { kind: 'upgraded'; response: http.IncomingMessage; socket: Duplex; head: Buffer }
  | { kind: 'refused'; response: http.IncomingMessage; body: Buffer };

export class KubeletClient {
  /** Connections opened to kubelets so far (for tests and metrics). */
  connectionsOpened = 0;

  constructor(readonly cfg: KubeletClientConfig = {}) {}

  locate(node: Node): KubeletLocation {
    return locateKubelet(node, this.cfg);
  }

  private options(loc: KubeletLocation, path: string, method: string, headers: http.OutgoingHttpHeaders): https.RequestOptions {
    this.connectionsOpened++;
    return {
      host: loc.host,
      port: loc.port,
      path,
      method,
      headers,
      // One connection per request, never pooled.
      agent: false,
      servername: /^[\d.]+$|:/.test(loc.host) ? undefined : loc.host,
      rejectUnauthorized: !!this.cfg.ca,
      ...(this.cfg.ca ? { ca: this.cfg.ca } : {}),
      ...(this.cfg.cert && this.cfg.key ? { cert: this.cfg.cert, key: this.cfg.key } : {}),
    };
  }

  /**
   * Sends a request and resolves with the response head (the body is the caller's to read).
   * Rejects with 503 when the kubelet cannot be reached.
   */
  request(loc: KubeletLocation, path: string, opts: { method?: string; headers?: http.OutgoingHttpHeaders; body?: Buffer | NodeJS.ReadableStream; signal?: AbortSignal } = {}): Promise<http.IncomingMessage> {
    return new Promise((resolve, reject) => {
      const req = https.request(this.options(loc, path, opts.method ?? 'GET', opts.headers ?? {}));
      const timer = setTimeout(() => req.destroy(new Error(`no answer within ${(this.cfg.timeoutMs ?? 10_000) / 1000}s`)), this.cfg.timeoutMs ?? 10_000);
      opts.signal?.addEventListener('abort', () => req.destroy(new Error('request aborted')), { once: true });
      req.once('response', (res) => {
        clearTimeout(timer);
        resolve(res);
      });
      req.once('error', (err) => {
        clearTimeout(timer);
        reject(dialError(loc, err));
      });
      if (opts.body && !Buffer.isBuffer(opts.body)) opts.body.pipe(req);
      else req.end(opts.body);
    });
  }

  /** GETs JSON from a kubelet; rejects on a non-200 answer with its text. */
  async getJSON(loc: KubeletLocation, path: string, signal?: AbortSignal): Promise<unknown> {
    const res = await this.request(loc, path, { headers: { accept: 'application/json' }, signal });
    const body = await readBody(res, 64 << 20);
    if (res.statusCode !== 200) throw new Error(`kubelet of node "${loc.nodeName}" answered ${res.statusCode} to GET ${path}: ${body.toString().trim()}`);
    return JSON.parse(body.toString());
  }

  /**
   * Sends an upgrade request on a connection of its own. Resolves with the upgraded socket on
   * 101, or with the kubelet's refusal (status, headers, body); rejects with 503 when the
   * kubelet cannot be reached. The connection is never reused.
   */
  upgrade(loc: KubeletLocation, path: string, method: string, headers: http.OutgoingHttpHeaders): Promise<UpgradeOutcome> {
    return new Promise((resolve, reject) => {
      const req = https.request(this.options(loc, path, method, headers));
      const timer = setTimeout(() => req.destroy(new Error(`no answer within ${(this.cfg.timeoutMs ?? 10_000) / 1000}s`)), this.cfg.timeoutMs ?? 10_000);
      req.once('upgrade', (response, socket, head) => {
        clearTimeout(timer);
        resolve({ kind: 'upgraded', response, socket, head });
      });
      req.once('response', (response) => {
        clearTimeout(timer);
        readBody(response, 64 * 1024).then(
          (body) => resolve({ kind: 'refused', response, body }),
          (err: Error) => reject(dialError(loc, err)),
        );
      });
      req.once('error', (err) => {
        clearTimeout(timer);
        reject(dialError(loc, err));
      });
      req.end();
    });
  }
}

/** Reads a body up to `limit` bytes (the rest is dropped). */
export async function readBody(res: http.IncomingMessage, limit: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const c of res) {
    const b = c as Buffer;
    if (size < limit) parts.push(b.subarray(0, limit - size));
    size += b.length;
  }
  return Buffer.concat(parts);
}
