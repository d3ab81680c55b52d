/**
 * Runs one probe or lifecycle handler against a container: exec in the container, an HTTP GET
 * or a TCP connection to the pod's address (from the node's network namespace, where the
 * kubelet runs), as upstream's prober does. The answer is success or failure with the output
 * that explains it; nothing here throws for a failing check.
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Container } from '../../api/index.js';
import type { HTTPGetAction } from '../api-types.js';
import type { ContainerRuntime } from '../runtime/index.js';

export type ProbeOutcome = 'success' | 'failure' | 'unknown';

export interface ProbeAnswer {
  result: ProbeOutcome;
  /** What the check said: command output, HTTP status, the connection error. */
  output: string;
}

/** The bits of output kept for messages. */
const maxOutput = 10 * 1024;

/** A probe or hook action: exactly one of exec, httpGet, tcpSocket (and grpc, sleep elsewhere). */
export interface ProbeAction {
  exec?: { command?: string[] };
  httpGet?: HTTPGetAction;
  tcpSocket?: { port: number | string; host?: string };
  grpc?: { port: number; service?: string };
}

export interface ProbeTarget {
  containerId: string;
  container: Container;
  /** The pod's IP (the node's for host-network pods). */
  podIP: string;
}

/** Resolves a port given by number or by the name of one of the container's ports. */
export function resolvePort(port: number | string, container: Container): number {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  const p = (container.ports ?? []).find((x) => x.name === port);
  if (!p) throw new Error(`port "${port}" is not a named port of container ${container.name}`);
  return p.containerPort;
}

export interface ProberOptions {
  runtime: ContainerRuntime;
  /** `kube-probe/1.32`, sent as the User-Agent of HTTP checks. */
  userAgent: string;
}

export class Prober {
  constructor(private readonly o: ProberOptions) {}

  async run(action: ProbeAction, target: ProbeTarget, timeoutMs: number): Promise<ProbeAnswer> {
    try {
      if (action.exec) return await this.exec(action.exec.command ?? [], target, timeoutMs);
      if (action.httpGet) return await this.httpGet(action.httpGet, target, timeoutMs);
      if (action.tcpSocket) return await tcpCheck(action.tcpSocket.host || target.podIP, resolvePort(action.tcpSocket.port, target.container), timeoutMs);
      if (action.grpc) return { result: 'unknown', output: 'gRPC probes are not supported by tkube-kubelet' };
      return { result: 'unknown', output: 'the probe names no action' };
    } catch (err) {
      return { result: 'failure', output: (err as Error).message };
    }
  }

  private async exec(cmd: string[], target: ProbeTarget, timeoutMs: number): Promise<ProbeAnswer> {
    const r = await this.o.runtime.execSync(target.containerId, cmd, { timeoutMs });
    if (r.timedOut) return { result: 'failure', output: `command ${JSON.stringify(cmd.join(' '))} timed out` };
    const output = Buffer.concat([r.stdout, r.stderr]).subarray(0, maxOutput).toString().trim();
    return { result: r.exitCode === 0 ? 'success' : 'failure', output: r.exitCode === 0 ? output : output || `command ${JSON.stringify(cmd.join(' '))} exited with ${r.exitCode}` };
  }

  private httpGet(a: HTTPGetAction, target: ProbeTarget, timeoutMs: number): Promise<ProbeAnswer> {
    const host = a.host || target.podIP;
    const port = resolvePort(a.port, target.container);
    const scheme = (a.scheme ?? 'HTTP').toLowerCase();
    let p = a.path ?? '/';
    if (!p.startsWith('/')) p = `/${p}`;
    const url = `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}${p}`;
    return httpCheck(url, { 'User-Agent': this.o.userAgent, Accept: '*/*', ...Object.fromEntries((a.httpHeaders ?? []).map((h) => [h.name, h.value])) }, timeoutMs);
  }
}

/** GET `url`; 200-399 is success (redirects are not followed). */
export function httpCheck(url: string, headers: Record<string, string>, timeoutMs: number): Promise<ProbeAnswer> {
  return new Promise((resolve) => {
    const lib = url.startsWith('https:') ? https : http;
    const req = lib.get(url, { headers, agent: false, timeout: timeoutMs, rejectUnauthorized: false } as https.RequestOptions, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        if (size < maxOutput) chunks.push(c);
        size += c.length;
      });
      res.on('end', () => {
        const code = res.statusCode ?? 0;
        const body = Buffer.concat(chunks).subarray(0, maxOutput).toString();
        if (code >= 200 && code < 400) resolve({ result: 'success', output: body });
        else resolve({ result: 'failure', output: `HTTP probe failed with statuscode: ${code}` });
      });
      res.on('error', (err) => resolve({ result: 'failure', output: `Get "${url}": ${err.message}` }));
    });
    req.on('timeout', () => {
      req.destroy(new Error(`context deadline exceeded (Client.Timeout exceeded while awaiting headers)`));
    });
    req.on('error', (err) => resolve({ result: 'failure', output: `Get "${url}": ${err.message}` }));
  });
}

/** Opens a TCP connection and closes it again; connecting is success. */
export function tcpCheck(host: string, port: number, timeoutMs: number): Promise<ProbeAnswer> {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    const done = (a: ProbeAnswer) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(a);
    };
    const timer = setTimeout(() => done({ result: 'failure', output: `dial tcp ${host}:${port}: i/o timeout` }), timeoutMs);
    sock.on('connect', () => done({ result: 'success', output: '' }));
    sock.on('error', (err) => done({ result: 'failure', output: `dial tcp ${host}:${port}: ${err.message}` }));
  });
}
