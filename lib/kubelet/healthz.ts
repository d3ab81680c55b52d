/**
 * The kubelet's local health endpoint (--healthz-port, 127.0.0.1:10248 by default): /healthz
 * answers "ok" while the kubelet is healthy (its relist of the runtime is fresh), /metrics
 * serves Prometheus text. Ownership: `start(signal)` listens until the signal aborts.
 */
import http from 'node:http';
import type { Logger } from 'pino';
import type { MetricsRegistry } from '../base/index.js';

export interface HealthzServerOptions {
  address: string;
  port: number;
  log: Logger;
  registry: MetricsRegistry;
  /** Undefined when healthy, else what is wrong. */
  problem(): string | undefined;
}

export class HealthzServer {
  private server?: http.Server;

  constructor(private readonly o: HealthzServerOptions) {}

  /** The bound port (after start), for tests using port 0. */
  get port(): number | undefined {
    const a = this.server?.address();
    return a && typeof a === 'object' ? a.port : undefined;
  }

  /** Listens; resolves once listening, with `closed`, which resolves after the signal aborted and the server closed. */
  async listen(signal: AbortSignal): Promise<{ closed: Promise<void> }> {
    const server = http.createServer((req, res) => {
      const url = (req.url ?? '/').split('?')[0];
      if (url === '/healthz' || url === '/healthz/ping' || url === '/livez' || url === '/readyz') {
        const p = url === '/healthz/ping' ? undefined : this.o.problem();
        res.writeHead(p ? 500 : 200, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(p ? `[-]${p}\nhealthz check failed\n` : 'ok');
      } else if (url === '/metrics') {
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
        res.end(this.o.registry.render());
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('404 page not found\n');
      }
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.o.port, this.o.address, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.o.log.info({ address: this.o.address, port: this.port }, 'healthz server listening');
    const closed = new Promise<void>((resolve) => {
      const close = () => {
        server.close(() => resolve());
        server.closeAllConnections();
      };
      if (signal.aborted) close();
      else signal.addEventListener('abort', close, { once: true });
    });
    return { closed };
  }
}
