/**
 * The small HTTP endpoint every daemon exposes next to its work: /healthz, /livez, /readyz
 * (200 "ok" or 500 listing failed checks) and /metrics (Prometheus text).
 */
import http from 'node:http';
import type { Logger } from 'pino';
import type { MetricsRegistry } from './metrics.js';

export interface StatusCheck {
  name: string;
  /** Throws (or rejects) when unhealthy. */
  check(): void | Promise<void>;
}

export interface StatusServerOptions {
  /** host:port, e.g. 127.0.0.1:10249; port 0 picks a free one. */
  address: string;
  metrics?: MetricsRegistry;
  checks?: StatusCheck[];
  log: Logger;
  /** Extra handlers by path (e.g. kube-proxy's JSON /healthz). Return true when handled. */
  handlers?: Record<string, (req: http.IncomingMessage, res: http.ServerResponse) => void | Promise<void>>;
}

export function parseHostPort(address: string, defaultPort: number): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  if (i < 0) return { host: address || '0.0.0.0', port: defaultPort };
  return { host: address.slice(0, i) || '0.0.0.0', port: Number(address.slice(i + 1)) };
}

async function runChecks(checks: StatusCheck[]): Promise<string[]> {
  const failed: string[] = [];
  for (const c of checks) {
    try {
      await c.check();
    } catch (err) {
      failed.push(`[-]${c.name} failed: ${(err as Error).message}`);
    }
  }
  return failed;
}

/** Starts the server; it closes when `signal` aborts. Resolves with the bound address. */
export async function startStatusServer(o: StatusServerOptions, signal: AbortSignal): Promise<{ host: string; port: number; server: http.Server }> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    void (async () => {
      const custom = o.handlers?.[path];
      if (custom) return custom(req, res);
      if (path === '/metrics' && o.metrics) {
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
        return res.end(o.metrics.render());
      }
      if (path === '/healthz' || path === '/livez' || path === '/readyz') {
        const failed = await runChecks(path === '/livez' ? [] : (o.checks ?? []));
        res.writeHead(failed.length ? 500 : 200, { 'content-type': 'text/plain; charset=utf-8' });
        return res.end(failed.length ? `${failed.join('\n')}\n${path.slice(1)} check failed\n` : 'ok');
      }
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('404 page not found\n');
    })().catch((err: unknown) => {
      o.log.error({ err }, 'status endpoint failed');
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  const { host, port } = parseHostPort(o.address, 0);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  signal.addEventListener('abort', () => server.close(), { once: true });
  const a = server.address() as { address: string; port: number };
  return { host: a.address, port: a.port, server };
}
