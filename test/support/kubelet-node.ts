/**
 * A node for end-to-end tests of tkube-kubelet: the real program (dist/cmd/tkube-kubelet) runs
 * inside a fresh network namespace (entered with `nsenter --net`), so that its bridge, veth
 * pairs, routes and iptables rules stay there; it uses the host's Docker engine and reaches the
 * test API server through a relay, since a process in another network namespace cannot reach
 * the host's loopback:
 *
 *   kubelet ─► 127.0.0.1:6443 (in the netns) ─ relay process ─► unix socket ─ this process ─► API server (host loopback)
 *
 * With a host link (for tests where the API server must reach the kubelet's own API, as it
 * does for logs, exec, port-forward and metrics), the node's uplink veth has its peer in this
 * machine's namespace, and the pair gets a /30 of its own from 198.18.0.0/15 (the benchmarking
 * range, RFC 2544): the node's address is the second of it, and nothing else is routed there.
 *
 * Everything is named after the node (netns tkube-test-<id>, containers labelled
 * io.tkube.node=<node>) and removed by `cleanup()`, pass or fail: containers, tmpfs mounts
 * under the root dir, the netns (which takes the bridge, veths, routes and rules with it), the
 * temporary folder.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { execa } from 'execa';
import { listMountPoints, nodeNameLabel } from '../../lib/kubelet/index.js';
import { createTestNetns, randomSuffix, waitFor, type TestNetns } from './node-host.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The built program: <repo>/dist/cmd/... from the sources, or ../../cmd/... when this file runs from dist/ (the bench). */
const kubeletMain = [path.resolve(here, '..', '..', 'dist', 'cmd', 'tkube-kubelet', 'main.js'), path.resolve(here, '..', '..', 'cmd', 'tkube-kubelet', 'main.js')].find((p) => fsSync.existsSync(p)) ?? 'dist/cmd/tkube-kubelet/main.js';

/** The port the API server answers on inside a test node's network namespace. */
export const relayPort = 6443;
/** The node's own address (on eth0 in its namespace). */
export const testNodeIP = '192.0.2.10';

/** The relay inside the namespace: TCP 127.0.0.1:<port> → the unix socket given. */
const relayScript = [
  "const net=require('net');const [port,sock]=process.argv.slice(1);",
  "net.createServer((c)=>{const u=net.connect(sock);c.pipe(u);u.pipe(c);const end=()=>{c.destroy();u.destroy();};c.on('error',end);u.on('error',end);c.on('close',end);u.on('close',end);})",
  ".listen(+port,'127.0.0.1',()=>process.stdout.write('ready\\n'));",
].join('');

/** A /30 for a host link: the host end's address and the node's. */
export interface HostLink {
  hostIP: string;
  nodeIP: string;
}

/** A random /30 in 198.18.0.0/15, so that concurrent tests never share addresses. */
export function randomHostLink(): HostLink {
  const b = randomBytes(3);
  const prefix = `198.${18 + (b[0]! & 1)}.${b[1]!}`;
  const base = (b[2]! & 0x3f) * 4;
  return { hostIP: `${prefix}.${base + 1}`, nodeIP: `${prefix}.${base + 2}` };
}

export interface KubeletProcessOptions {
  /** Extra flags, e.g. ['--cluster-dns=10.96.0.10']. */
  args?: string[];
  /** TKUBE_LOG_LEVEL for the process (default info). */
  logLevel?: string;
}

export class TestKubeletNode {
  readonly id = randomSuffix();
  readonly nodeName: string;
  netns!: TestNetns;
  tmp!: string;
  rootDir!: string;
  kubeconfig!: string;
  manifestDir!: string;
  /** Lines the kubelet wrote to stderr (its pino log), for failure messages. */
  readonly output: string[] = [];
  proc?: ChildProcess;
  private relayProc?: ChildProcess;
  private sockServer?: net.Server;
  private readonly docker = new Docker();

  /** The node's address (--node-ip): the host link's when there is one. */
  readonly nodeIP: string;
  /** The host end of the host link (tkh<id>), if any. */
  private readonly hostLinkName?: string;

  constructor(
    private readonly apiURL: string,
    name?: string,
    private readonly hostLink?: HostLink,
  ) {
    this.nodeName = name ?? `node-${this.id}`;
    this.nodeIP = hostLink?.nodeIP ?? testNodeIP;
    if (hostLink) this.hostLinkName = `tkh${this.id}`;
  }

  /** Creates the namespace, the relay and the folders. */
  async setUp(): Promise<void> {
    this.tmp = await fs.mkdtemp(path.join(os.tmpdir(), `tkube-kubelet-${this.id}-`));
    this.rootDir = path.join(this.tmp, 'root');
    this.manifestDir = path.join(this.tmp, 'manifests');
    await fs.mkdir(this.manifestDir, { recursive: true });
    this.netns = await createTestNetns(`tkube-test-${this.id}`);
    const r = this.netns.runner;
    // The node's "uplink": a veth pair kept inside the namespace (this kernel has no dummy links).
    if (this.hostLink && this.hostLinkName) {
      await execa('ip', ['link', 'add', this.hostLinkName, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', this.netns.name]);
      await execa('ip', ['addr', 'add', `${this.hostLink.hostIP}/30`, 'dev', this.hostLinkName]);
      await execa('ip', ['link', 'set', this.hostLinkName, 'up']);
      await r.run(['ip', 'addr', 'add', `${this.hostLink.nodeIP}/30`, 'dev', 'eth0']);
    } else {
      await r.run(['ip', 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0-peer']);
      await r.run(['ip', 'link', 'set', 'eth0-peer', 'up']);
    }
    await r.run(['ip', 'addr', 'add', `${testNodeIP}/24`, 'dev', 'eth0']);
    await r.run(['ip', 'link', 'set', 'eth0', 'up']);

    const api = new URL(this.apiURL);
    const sock = path.join(this.tmp, 'api.sock');
    this.sockServer = net.createServer((c) => {
      const u = net.connect(Number(api.port), api.hostname);
      c.pipe(u);
      u.pipe(c);
      const end = () => {
        c.destroy();
        u.destroy();
      };
      c.on('error', end);
      u.on('error', end);
      c.on('close', end);
      u.on('close', end);
    });
    await new Promise<void>((res) => this.sockServer!.listen(sock, res));
    this.relayProc = spawn('nsenter', [`--net=${this.netns.path}`, process.execPath, '-e', relayScript, String(relayPort), sock], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((res, rej) => {
      this.relayProc!.stdout!.once('data', () => res());
      this.relayProc!.once('exit', (code) => rej(new Error(`the API relay exited with ${code}`)));
    });
    this.kubeconfig = path.join(this.tmp, 'kubeconfig');
    await fs.writeFile(
      this.kubeconfig,
      `apiVersion: v1\nkind: Config\nclusters:\n- name: t\n  cluster:\n    server: http://127.0.0.1:${relayPort}\ncontexts:\n- name: t\n  context: {cluster: t, user: u}\ncurrent-context: t\nusers:\n- name: u\n  user: {}\n`,
    );
  }

  /** Starts tkube-kubelet in the namespace. */
  startKubelet(o: KubeletProcessOptions = {}): ChildProcess {
    const args = [
      `--net=${this.netns.path}`,
      process.execPath,
      kubeletMain,
      `--kubeconfig=${this.kubeconfig}`,
      `--hostname-override=${this.nodeName}`,
      `--node-ip=${this.nodeIP}`,
      `--root-dir=${this.rootDir}`,
      `--pod-manifest-path=${this.manifestDir}`,
      '--cluster-cidr=10.244.0.0/16',
      ...(o.args ?? []),
    ];
    const proc = spawn('nsenter', args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, TKUBE_LOG_LEVEL: o.logLevel ?? 'info' } });
    let partial = '';
    proc.stderr!.on('data', (d: Buffer) => {
      partial += d.toString();
      const lines = partial.split('\n');
      partial = lines.pop()!;
      for (const l of lines) {
        this.output.push(l);
        if (process.env.TKUBE_TEST_LOG) process.stderr.write(`[${this.nodeName}] ${l}\n`);
      }
      if (this.output.length > 20_000) this.output.splice(0, 10_000);
    });
    this.proc = proc;
    return proc;
  }

  /** Ends the kubelet: SIGTERM (a clean stop) or SIGKILL (a crash); resolves once it exited. */
  async stopKubelet(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return p?.exitCode ?? null;
    const exited = new Promise<number | null>((r) => p.once('exit', (code) => r(code)));
    p.kill(signal);
    const t = setTimeout(() => p.kill('SIGKILL'), 15_000);
    const code = await exited;
    clearTimeout(t);
    return code;
  }

  /** The kubelet's log lines mentioning `text` (for assertions and failure messages). */
  logLines(text: string): string[] {
    return this.output.filter((l) => l.includes(text));
  }

  /** Waits for a kubelet log line containing `text`. */
  async waitForLog(text: string, timeoutMs = 30_000): Promise<void> {
    await waitFor(`kubelet log "${text}"`, () => this.output.some((l) => l.includes(text)), timeoutMs, 100);
  }

  /** Containers of this node (its label), with their labels. */
  async containers(): Promise<Docker.ContainerInfo[]> {
    return this.docker.listContainers({ all: true, filters: { label: [`${nodeNameLabel}=${this.nodeName}`] } });
  }

  async cleanup(): Promise<void> {
    await this.stopKubelet('SIGKILL').catch(() => undefined);
    this.relayProc?.kill('SIGKILL');
    await new Promise<void>((r) => (this.sockServer ? this.sockServer.close(() => r()) : r()));
    const rows = await this.containers().catch(() => [] as Docker.ContainerInfo[]);
    // App containers before the sandboxes whose namespaces they use.
    rows.sort((a, b) => Number(a.Labels['io.kubernetes.docker.type'] === 'podsandbox') - Number(b.Labels['io.kubernetes.docker.type'] === 'podsandbox'));
    for (const c of rows) await this.docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined);
    if (this.tmp) {
      const mounts = (await listMountPoints().catch(() => [] as string[])).filter((m) => m.startsWith(this.tmp + '/')).sort((a, b) => b.length - a.length);
      for (const m of mounts) await execa('umount', ['-l', m], { reject: false });
    }
    await this.netns?.remove();
    // Removing the namespace removes the pair; this catches a setUp that failed half-way.
    if (this.hostLinkName) await execa('ip', ['link', 'del', this.hostLinkName], { reject: false });
    if (this.tmp) await fs.rm(this.tmp, { recursive: true, force: true });
  }
}
