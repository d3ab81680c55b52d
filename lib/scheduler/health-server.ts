/**
 * The scheduler's plain-HTTP endpoints: /healthz and /livez (the process serves), /readyz (the
 * informers have synced), /metrics (Prometheus text). Upstream serves these over HTTPS on
 * --secure-port; tkube serves them over HTTP on the same port, meant for loopback.
 */
import http from 'node:http';
import type { Logger } from 'pino';
import type { MetricsRegistry } from '../base/index.js';
import { silentLogger, type Runnable } from '../base/index.js';

export interface HealthCheck {
  name: string;
  /** Undefined when healthy, else what is wrong. */
  check(): string | undefined;
}

export interface HealthServerOptions {
  bindAddress: string;
  port: number;
  metrics: MetricsRegistry;
  /** Checks for /readyz (and /healthz). */
  readyChecks?: HealthCheck[];
  healthChecks?: HealthCheck[];
  log?: Logger;
}

function runChecks(checks: HealthCheck[], verbose: boolean): { ok: boolean; body: string } {
  const lines: string[] = [];
  let ok = true;
  for (const c of checks) {
    const err = c.check();
    if (err) {
      ok = false;
      lines.push(`[-]${c.name} failed: ${err}`);
    } else lines.push(`[+]${c.name} ok`);
  }
  if (!ok || verbose) return { ok, body: `${lines.join('\n')}\n${ok ? 'check passed' : 'check failed'}\n` };
  return { ok, body: 'ok' };
}

export class HealthServer implements Runnable {
  private server?: http.Server;
  /** The port actually listened on (useful with port 0). */
  port = 0;

  constructor(private readonly o: HealthServerOptions) {}

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const verbose = url.searchParams.has('verbose');
    const send = (code: number, body: string, type = 'text/plain; charset=utf-8') => {
      res.writeHead(code, { 'content-type': type, 'x-content-type-options': 'nosniff' });
      res.end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed\n');
    switch (url.pathname) {
      case '/healthz':
      case '/livez': {
        const r = runChecks([{ name: 'ping', check: () => undefined }, ...(this.o.healthChecks ?? [])], verbose);
        return send(r.ok ? 200 : 500, r.body);
      }
      case '/readyz': {
        const r = runChecks([{ name: 'ping', check: () => undefined }, ...(this.o.readyChecks ?? [])], verbose);
        return send(r.ok ? 200 : 500, r.body);
      }
      case '/metrics':
        return send(200, this.o.metrics.render(), 'text/plain; version=0.0.4; charset=utf-8');
      default:
        return send(404, '404 page not found\n');
    }
  }

  /** Listens; resolves once listening. */
  async listen(): Promise<void> {
    const server = http.createServer((req, res) => this.handle(req, res));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.o.port, this.o.bindAddress, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const addr = server.address();
    this.port = typeof addr === 'object' && addr ? addr.port : this.o.port;
    (this.o.log ?? silentLogger()).info({ address: `http://${this.o.bindAddress}:${this.port}` }, 'serving healthz and metrics');
  }

  async start(signal: AbortSignal): Promise<void> {
    if (!this.server) await this.listen();
    await new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
    await this.close();
  }

  close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return Promise.resolve();
    s.closeAllConnections();
    return new Promise((resolve) => s.close(() => resolve()));
  }
}
