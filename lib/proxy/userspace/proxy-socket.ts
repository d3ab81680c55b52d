/**
 * The listeners of userspace mode: one per service port, on a port the kernel picks. Every
 * connection (TCP) or flow (UDP, per client address) is relayed to the backend the balancer
 * names. This is the cost of userspace mode: every byte is copied through this process.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import type { Logger } from '../../base/index.js';
import type { RoundRobinBalancer } from './round-robin.js';

export interface ProxySocket {
  /** The local port the iptables rules redirect to. */
  readonly port: number;
  readonly protocol: 'TCP' | 'UDP';
  /** Stops listening and ends every relayed connection. */
  close(): Promise<void>;
}

export interface ProxySocketOptions {
  /** The balancer key (service port) to ask for backends. */
  key: string;
  listenAddress: string;
  balancer: RoundRobinBalancer;
  log: Logger;
}

/** Upstream's per-attempt dial timeouts: a dead backend costs at most 3.75 s before giving up. */
export const dialTimeoutsMs = [250, 500, 1000, 2000];

const plainIP = (a: string | undefined) => (a ?? '').replace(/^::ffff:/, '');

function split(endpoint: string): { host: string; port: number } {
  const i = endpoint.lastIndexOf(':');
  return { host: endpoint.slice(0, i), port: Number(endpoint.slice(i + 1)) };
}

function dial(endpoint: string, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ ...split(endpoint), allowHalfOpen: true });
    const t = setTimeout(() => {
      s.destroy();
      reject(new Error(`dial ${endpoint}: timeout after ${timeoutMs} ms`));
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(t);
      s.removeAllListeners('error');
      resolve(s);
    });
    s.once('error', (err) => {
      clearTimeout(t);
      reject(err);
    });
  });
}

export async function openTcpProxy(opts: ProxySocketOptions): Promise<ProxySocket> {
  const conns = new Set<net.Socket>();
  const log = opts.log.child({ servicePort: opts.key, protocol: 'TCP' });
  const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (client) => {
    conns.add(client);
    client.on('close', () => conns.delete(client));
    client.on('error', () => client.destroy());
    void relay(client);
  });

  async function relay(client: net.Socket): Promise<void> {
    const clientIP = plainIP(client.remoteAddress);
    let backend: net.Socket | undefined;
    for (const [i, timeout] of dialTimeoutsMs.entries()) {
      const endpoint = opts.balancer.next(opts.key, clientIP, i > 0);
      if (!endpoint) break;
      try {
        backend = await dial(endpoint, timeout);
        break;
      } catch (err) {
        log.debug({ err, endpoint, attempt: i + 1 }, 'backend did not answer');
      }
    }
    if (!backend || client.destroyed) {
      if (!backend) log.debug({ client: clientIP }, 'no backend for connection');
      backend?.destroy();
      client.destroy();
      return;
    }
    conns.add(backend);
    const b = backend;
    b.on('close', () => conns.delete(b));
    // Half-closes travel through: the client's FIN ends our write side to the backend and back.
    b.on('error', () => {
      b.destroy();
      client.destroy();
    });
    client.on('error', () => b.destroy());
    client.on('close', () => b.destroy());
    b.on('close', () => client.end());
    client.pipe(b);
    b.pipe(client);
    client.resume();
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, opts.listenAddress, () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    protocol: 'TCP',
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of conns) c.destroy();
        server.close(() => resolve());
      }),
  };
}

export async function openUdpProxy(opts: ProxySocketOptions & { idleTimeoutMs: number }): Promise<ProxySocket> {
  const log = opts.log.child({ servicePort: opts.key, protocol: 'UDP' });
  const sock = dgram.createSocket('udp4');
  /** One backend socket per client address:port, closed when the flow is idle. */
  const flows = new Map<string, { backend: dgram.Socket; timer: NodeJS.Timeout }>();

  const touch = (id: string) => {
    const f = flows.get(id);
    if (!f) return;
    clearTimeout(f.timer);
    f.timer = setTimeout(() => endFlow(id), opts.idleTimeoutMs);
  };
  const endFlow = (id: string) => {
    const f = flows.get(id);
    if (!f) return;
    clearTimeout(f.timer);
    flows.delete(id);
    f.backend.close();
  };

  sock.on('message', (msg, rinfo) => {
    const id = `${rinfo.address}:${rinfo.port}`;
    const f = flows.get(id);
    if (f) {
      f.backend.send(msg);
      touch(id);
      return;
    }
    const endpoint = opts.balancer.next(opts.key, plainIP(rinfo.address));
    if (!endpoint) return; // nothing to send it to: dropped, as a UDP packet may be
    const { host, port } = split(endpoint);
    const backend = dgram.createSocket('udp4');
    const flow = { backend, timer: setTimeout(() => endFlow(id), opts.idleTimeoutMs) };
    flows.set(id, flow);
    backend.on('message', (reply) => {
      sock.send(reply, rinfo.port, rinfo.address);
      touch(id);
    });
    backend.on('error', (err) => {
      log.debug({ err, endpoint }, 'udp backend error');
      endFlow(id);
    });
    backend.connect(port, host, () => backend.send(msg));
  });
  sock.on('error', (err) => log.warn({ err }, 'udp proxy socket error'));

  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(0, opts.listenAddress, () => resolve());
  });
  return {
    port: sock.address().port,
    protocol: 'UDP',
    close: () =>
      new Promise<void>((resolve) => {
        for (const id of [...flows.keys()]) endFlow(id);
        sock.close(() => resolve());
      }),
  };
}
