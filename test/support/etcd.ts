/**
 * Starts real etcd processes (the Debian `etcd` binary) for tests: one member or a cluster of
 * three, on free loopback ports with temporary data directories, removed on stop. With `tls`,
 * clients reach it over https and must present a certificate of the given CA (--client-cert-auth).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './ports.js';

export interface EtcdMember {
  name: string;
  clientURL: string;
  peerURL: string;
  dataDir: string;
  proc?: ChildProcess;
}

/** PEM files: etcd's serving pair, the CA it trusts for clients, and a client pair (for its health checks). */
export interface EtcdTLS {
  caFile: string;
  certFile: string;
  keyFile: string;
  clientCertFile: string;
  clientKeyFile: string;
}

export interface EtcdCluster {
  members: EtcdMember[];
  /** Client endpoints, comma-separable for --etcd-servers. */
  endpoints: string[];
  kill(index: number): Promise<void>;
  restart(index: number): Promise<void>;
  stop(): Promise<void>;
}

function etcdBinary(): string {
  for (const p of ['/usr/bin/etcd', '/usr/local/bin/etcd']) if (fs.existsSync(p)) return p;
  return 'etcd';
}

function healthOverTLS(url: string, tls: EtcdTLS): Promise<{ ok: boolean; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(`${url}/health`, { ca: fs.readFileSync(tls.caFile), cert: fs.readFileSync(tls.clientCertFile), key: fs.readFileSync(tls.clientKeyFile) }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ ok: res.statusCode === 200, body }));
    });
    req.on('error', reject);
    // Whatever holds the port may never answer (another process took it before etcd).
    req.setTimeout(2000, () => req.destroy(new Error('no answer within 2s')));
  });
}

async function waitHealthy(url: string, tls?: EtcdTLS, timeoutMs = 20_000, giveUp?: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    if (giveUp?.()) throw new Error(`etcd at ${url} will not become healthy: a member lost its port to another process`);
    try {
      const res = tls ? await healthOverTLS(url, tls) : await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) }).then(async (r) => ({ ok: r.ok, body: await r.text() }));
      if (res.ok) {
        const body = JSON.parse(res.body) as { health?: string };
        if (body.health === 'true') return;
      }
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`etcd at ${url} did not become healthy: ${String(last)}`);
}

function startMember(m: EtcdMember, initialCluster: string, state: 'new' | 'existing', tls?: EtcdTLS): ChildProcess {
  const args = [
    `--name=${m.name}`,
    `--data-dir=${m.dataDir}`,
    `--listen-client-urls=${m.clientURL}`,
    `--advertise-client-urls=${m.clientURL}`,
    `--listen-peer-urls=${m.peerURL}`,
    `--initial-advertise-peer-urls=${m.peerURL}`,
    `--initial-cluster=${initialCluster}`,
    `--initial-cluster-state=${state}`,
    '--initial-cluster-token=tkube-test',
    '--log-level=error',
    '--logger=zap',
    // The watch progress notifications the watch cache relies on to stay current.
    '--experimental-watch-progress-notify-interval=5s',
    ...(tls ? [`--cert-file=${tls.certFile}`, `--key-file=${tls.keyFile}`, '--client-cert-auth=true', `--trusted-ca-file=${tls.caFile}`] : []),
  ];
  const proc = spawn(etcdBinary(), args, { stdio: ['ignore', 'ignore', 'pipe'] }) as MemberProcess;
  proc.stderrTail = '';
  proc.stderr?.on('data', (d: Buffer) => {
    proc.stderrTail = (proc.stderrTail + d.toString()).slice(-4000);
  });
  proc.on('exit', (code) => {
    if (code && code !== 0 && !proc.expectedExit) process.stderr.write(`etcd ${m.name} exited ${code}: ${proc.stderrTail}\n`);
  });
  return proc;
}

type MemberProcess = ChildProcess & { stderrTail: string; expectedExit?: boolean };

/** A member that died because another process took its port between freePort() and its bind. */
function lostPortRace(p: ChildProcess | undefined): boolean {
  const m = p as MemberProcess | undefined;
  return !!m && m.exitCode !== null && /address already in use/.test(m.stderrTail);
}

export async function startEtcd(opts: { members?: number; tls?: EtcdTLS; /** Where ports come from (tests of the race below). */ port?: () => Promise<number> } = {}): Promise<EtcdCluster> {
  const port = opts.port ?? freePort;
  const scheme = opts.tls ? 'https' : 'http';
  const n = opts.members ?? 1;
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'tkube-etcd-'));
  let members: EtcdMember[] = [];
  let initialCluster = '';
  // Tests run in parallel: a port found free can be taken before etcd binds it. Such a start
  // is thrown away and made again on other ports.
  for (let attempt = 1; ; attempt++) {
    members = [];
    for (let i = 0; i < n; i++) {
      members.push({
        name: `m${i}`,
        clientURL: `${scheme}://127.0.0.1:${await port()}`,
        peerURL: `http://127.0.0.1:${await port()}`,
        dataDir: path.join(base, `a${attempt}-m${i}`),
      });
    }
    initialCluster = members.map((m) => `${m.name}=${m.peerURL}`).join(',');
    for (const m of members) m.proc = startMember(m, initialCluster, 'new', opts.tls);
    try {
      await Promise.all(members.map((m) => waitHealthy(m.clientURL, opts.tls, 20_000, () => members.some((x) => lostPortRace(x.proc)))));
      break;
    } catch (err) {
      const raced = members.some((x) => lostPortRace(x.proc));
      for (const m of members) {
        (m.proc as MemberProcess).expectedExit = true;
        m.proc?.kill('SIGKILL');
      }
      if (!raced || attempt >= 5) {
        fs.rmSync(base, { recursive: true, force: true });
        throw err;
      }
    }
  }

  const kill = async (i: number) => {
    const m = members[i]!;
    if (!m.proc || m.proc.exitCode !== null || m.proc.signalCode !== null) return;
    (m.proc as MemberProcess).expectedExit = true;
    const exited = new Promise((r) => m.proc!.once('exit', r));
    m.proc.kill('SIGKILL');
    await exited;
  };
  return {
    members,
    endpoints: members.map((m) => m.clientURL),
    kill,
    async restart(i: number) {
      await kill(i);
      members[i]!.proc = startMember(members[i]!, initialCluster, 'existing', opts.tls);
      await waitHealthy(members[i]!.clientURL, opts.tls);
    },
    async stop() {
      await Promise.all(members.map((_, i) => kill(i)));
      fs.rmSync(base, { recursive: true, force: true });
    },
  };
}
