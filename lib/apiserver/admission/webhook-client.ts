/**
 * Calling an admission webhook: where its clientConfig points (a URL, or a Service reached at its
 * cluster IP, or with `--enable-aggregator-routing` at one of its ready endpoints, as upstream's
 * two service resolvers), and one HTTPS POST of an AdmissionReview with the webhook's CA bundle,
 * the certificate checked against `<service>.<namespace>.svc`, and the `?timeout=` upstream sends.
 * Failures read as Go's client prints them (`Post "https://...": dial tcp ...: connect: connection
 * refused`), since users search for those texts.
 */
import https from 'node:https';
import { isIP } from 'node:net';
import tls from 'node:tls';
import type { EndpointSlice, Service } from '../../api/index.js';
import type { Registry } from '../../registry/index.js';
import { listCached, lookup } from './lookup.js';

export type WebhookRouting = 'clusterIP' | 'endpoints';

export interface ClientConfig {
  url?: string;
  service?: { namespace: string; name: string; path?: string; port?: number };
  caBundle?: string;
}

/** Where a call goes: the URL users see in errors, and the address actually dialed. */
export interface WebhookTarget {
  /** As Go prints it: a service's port always shown (`https://hooks.ns.svc:443/path?timeout=10s`). */
  href: string;
  /** Path and query sent. */
  path: string;
  host: string;
  port: number;
  /** Name the serving certificate must be for. */
  servername: string;
}

/** An error on the way to the webhook or in its answer: the failure policy decides what it does. */
export class WebhookCallError extends Error {
  constructor(
    readonly webhook: string,
    readonly reason: string,
  ) {
    super(`failed calling webhook "${webhook}": ${reason}`);
  }
}


/** Where to send a call; throws an Error whose message is the reason (`failed to call webhook: Post ...: ...`) when the service has nowhere to go. */
export async function resolveWebhook(registry: Registry, cc: ClientConfig, timeoutSeconds: number, routing: WebhookRouting): Promise<WebhookTarget> {
  const timeout = `timeout=${timeoutSeconds}s`;
  if (cc.url) {
    const url = new URL(cc.url);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const path = `${url.pathname}?${timeout}`;
    return { href: `${cc.url}?${timeout}`, path, host, port: Number(url.port || 443), servername: host };
  }
  const s = cc.service!;
  const servername = `${s.name}.${s.namespace}.svc`;
  const path = `${s.path || '/'}?${timeout}`;
  const href = `https://${servername}:${s.port ?? 443}${path}`;
  const fail = (why: string): never => {
    throw new Error(`failed to call webhook: Post "${href}": ${why}`);
  };
  const svc = await lookup<Service>(registry, '', 'services', s.namespace, s.name);
  if (!svc) return fail(`service "${s.name}" not found`);
  const port = s.port ?? 443;
  if (svc.spec?.type === 'ExternalName') return { href, path, host: svc.spec.externalName ?? '', port, servername };
  const svcPort = (svc.spec?.ports ?? []).find((p) => p.port === port);
  if (!svcPort) return fail(`no service port ${port} found for service "${s.name}"`);
  if (routing === 'clusterIP') {
    const ip = svc.spec?.clusterIP ?? '';
    if (!ip || ip === 'None') return fail(`cannot route to service with ClusterIP "${ip || 'None'}"`);
    return { href, path, host: ip, port, servername };
  }
  const candidates: Array<{ host: string; port: number }> = [];
  const slices = listCached<EndpointSlice>(registry, 'discovery.k8s.io', 'endpointslices', s.namespace).filter((e) => e.metadata.labels?.['kubernetes.io/service-name'] === s.name);
  for (const slice of slices) {
    const p = (slice.ports ?? []).find((x) => (x.name ?? '') === (svcPort.name ?? ''));
    if (p?.port === undefined) continue;
    for (const ep of slice.endpoints ?? []) if (ep.conditions?.ready !== false) for (const addr of ep.addresses ?? []) candidates.push({ host: addr, port: p.port });
  }
  if (candidates.length === 0) return fail(`no endpoints available for service "${s.name}"`);
  const pick = candidates[Math.floor(Math.random() * candidates.length)]!;
  return { href, path, host: pick.host, port: pick.port, servername };
}

/** Node's connection and TLS errors in the words of Go's HTTP client. */
function goError(err: NodeJS.ErrnoException & { reason?: string }, t: WebhookTarget): string {
  const where = `${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}`;
  switch (err.code) {
    case 'ECONNREFUSED':
      return `dial tcp ${where}: connect: connection refused`;
    case 'EHOSTUNREACH':
      return `dial tcp ${where}: connect: no route to host`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `dial tcp: lookup ${t.host}: no such host`;
    case 'ECONNRESET':
      return `read tcp ${where}: read: connection reset by peer`;
    case 'ABORT_ERR':
    case 'ETIMEDOUT':
      return 'context deadline exceeded';
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
      return 'tls: failed to verify certificate: x509: certificate signed by unknown authority';
    case 'CERT_HAS_EXPIRED':
      return 'tls: failed to verify certificate: x509: certificate has expired or is not yet valid';
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `tls: failed to verify certificate: x509: ${err.reason ?? err.message}`;
    default:
      return err.message;
  }
}

/**
 * POSTs `body` to the webhook and returns its parsed JSON answer. Any failure (connection, TLS,
 * timeout, a non-2xx answer, a body that is not JSON) throws an Error whose message is the reason
 * upstream gives after "failed calling webhook ...: ".
 */
export function postReview(t: WebhookTarget, caBundle: string | undefined, body: unknown, timeoutMs: number): Promise<unknown> {
  const payload = Buffer.from(JSON.stringify(body));
  const post = `Post "${t.href}"`;
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        method: 'POST',
        host: t.host,
        port: t.port,
        path: t.path,
        // SNI carries host names only.
        servername: isIP(t.servername) ? undefined : t.servername,
        ca: caBundle ? Buffer.from(caBundle, 'base64') : undefined,
        // The certificate must be for the service's DNS name (or the URL's host), whatever address was dialed.
        checkServerIdentity: (_host, cert) => tls.checkServerIdentity(t.servername, cert),
        headers: { 'Content-Type': 'application/json', Accept: 'application/json, */*', 'Content-Length': payload.length, 'User-Agent': 'tkube-apiserver/admission' },
        signal: AbortSignal.timeout(timeoutMs),
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err) => reject(new Error(`failed to call webhook: ${post}: ${goError(err, t)}`)));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const code = res.statusCode ?? 0;
          if (code < 200 || code > 299) {
            let message = '';
            try {
              const s = JSON.parse(text) as { kind?: string; message?: string };
              if (s.kind === 'Status' && s.message) message = s.message;
            } catch {
              /* not a Status */
            }
            const why = message || (text.trim() ? `an error on the server ("${text.trim().slice(0, 200)}") has prevented the request from succeeding` : `the server responded with the status code ${code} but did not return more information`);
            reject(new Error(`failed to call webhook: ${why}`));
            return;
          }
          try {
            resolve(JSON.parse(text));
          } catch (err) {
            reject(new Error(`received invalid webhook response: ${(err as Error).message}`));
          }
        });
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => {
      const timedOut = err.name === 'AbortError' || err.name === 'TimeoutError';
      reject(new Error(`failed to call webhook: ${post}: ${timedOut ? 'context deadline exceeded' : goError(err, t)}`));
    });
    req.end(payload);
  });
}

