/**
 * Network namespaces for tests that touch iptables, routes or sockets. Each test creates its own
 * namespaces (`tkube-px-<random>-<role>`), enters them with `nsenter --net=/run/netns/<name>` and
 * removes them at the end, killing the processes it started there. Nothing touches the host's
 * own tables.
 *
 * `createServiceTopology` builds the picture of one node:
 *
 *      client (192.168.77.2) ──veth── node ns (192.168.77.1, cbr0 10.244.1.1/24) ──bridge── pod-a 10.244.1.2
 *                                     (default route: uplink0, to nowhere)          ├──────── pod-b 10.244.1.3
 *                                                                                 └──────── pod-c 10.244.1.4
 * Each pod runs `busybox nc -ll` answering every TCP connection on `podPort` with its own name,
 * and a small Node.js "whoami" server answering `<name> <client address>` on TCP `whoamiPort`
 * and UDP `udpPort`, to see which source address a backend gets.
 */
import { execa, type ResultPromise } from 'execa';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';

/** Root with nsenter and iptables: the namespace tests can run. */
export function netnsAvailable(): boolean {
  return process.getuid?.() === 0 && existsSync('/usr/bin/nsenter') && (existsSync('/usr/sbin/iptables') || existsSync('/sbin/iptables'));
}

export class Netns {
  private readonly children: ResultPromise[] = [];
  private destroyed = false;

  private constructor(readonly name: string) {}

  static async create(name: string): Promise<Netns> {
    await execa('ip', ['netns', 'add', name]);
    const ns = new Netns(name);
    await ns.run(['ip', 'link', 'set', 'lo', 'up']);
    return ns;
  }

  get path(): string {
    return `/run/netns/${this.name}`;
  }

  /** Runs a command inside the namespace to completion; rejects on a non-zero exit. */
  run(argv: string[], opts: { input?: string; timeout?: number } = {}) {
    return execa('nsenter', [`--net=${this.path}`, ...argv], { ...(opts.input !== undefined ? { input: opts.input } : {}), timeout: opts.timeout ?? 30_000 });
  }

  /** Starts a long-running command inside the namespace; it is killed by `destroy`. */
  spawn(argv: string[]): ResultPromise {
    const child = execa('nsenter', [`--net=${this.path}`, ...argv], { reject: false, stdin: 'ignore' });
    this.children.push(child);
    return child;
  }

  /** Runs a Node.js script (ES module source) inside the namespace and returns its stdout. */
  async node(source: string, args: string[] = [], timeout = 60_000): Promise<string> {
    const r = await execa('nsenter', [`--net=${this.path}`, process.execPath, '--input-type=module', '-e', source, '--', ...args], { timeout });
    return String(r.stdout);
  }

  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const c of this.children) {
      if (c.pid !== undefined && c.exitCode === null) {
        try {
          process.kill(c.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
      await c.catch(() => undefined);
    }
    // Children of those (busybox nc -e forks) are ours too: end what is still in the namespace, by pid.
    const pids = await execa('ip', ['netns', 'pids', this.name], { reject: false });
    for (const pid of String(pids.stdout).split(/\s+/).filter(Boolean).map(Number)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await execa('ip', ['netns', 'del', this.name], { reject: false });
  }
}

/** A unique prefix for one test's namespaces. */
export function testPrefix(): string {
  return `tkube-px-${randomBytes(3).toString('hex')}`;
}

export interface PodNs {
  name: string;
  ns: Netns;
  ip: string;
}

export interface ServiceTopology {
  node: Netns;
  client: Netns;
  pods: PodNs[];
  /** Node address on the client link. */
  nodeIP: string;
  /** Node address on the pod bridge (the pods' gateway). */
  bridgeIP: string;
  clientIP: string;
  clusterCIDR: string;
  /** Port the pods' `busybox nc` servers listen on. */
  podPort: number;
  /** TCP port of the whoami servers (answer `<name> <client address>`). */
  whoamiPort: number;
  /** UDP port of the whoami servers. */
  udpPort: number;
  destroy(): Promise<void>;
}

/** Builds the topology in the file comment. Destroys what it made if any step fails. */
export async function createServiceTopology(opts: { pods?: string[]; podPort?: number } = {}): Promise<ServiceTopology> {
  const prefix = testPrefix();
  const made: Netns[] = [];
  const make = async (role: string) => {
    const ns = await Netns.create(`${prefix}-${role}`);
    made.push(ns);
    return ns;
  };
  const podPort = opts.podPort ?? 8080;
  const whoamiPort = 8081;
  const udpPort = 8082;
  try {
    const node = await make('node');
    const client = await make('cl');
    const n = (...a: string[]) => node.run(['ip', ...a]);
    await node.run(['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    await n('link', 'add', 'cbr0', 'type', 'bridge');
    await n('addr', 'add', '10.244.1.1/24', 'dev', 'cbr0');
    await n('link', 'set', 'cbr0', 'up');

    await n('link', 'add', 'veth-cl', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', client.path);
    await n('addr', 'add', '192.168.77.1/24', 'dev', 'veth-cl');
    await n('link', 'set', 'veth-cl', 'up');
    await client.run(['ip', 'addr', 'add', '192.168.77.2/24', 'dev', 'eth0']);
    await client.run(['ip', 'link', 'set', 'eth0', 'up']);
    await client.run(['ip', 'route', 'add', 'default', 'via', '192.168.77.1']);
    // The node's default route leads to "the rest of the world", a link to nowhere (a veth pair
    // with both ends here; no dummy module on every host): service IPs are routable (DNAT happens
    // before the packet gets there) and nothing bounces back to the client.
    await n('link', 'add', 'uplink0', 'type', 'veth', 'peer', 'name', 'uplink1');
    await n('link', 'set', 'uplink1', 'up');
    await n('addr', 'add', '203.0.113.1/24', 'dev', 'uplink0');
    await n('link', 'set', 'uplink0', 'up');
    await n('route', 'add', 'default', 'via', '203.0.113.254', 'dev', 'uplink0');

    const pods: PodNs[] = [];
    const names = opts.pods ?? ['pod-a', 'pod-b', 'pod-c'];
    for (const [i, name] of names.entries()) {
      const ns = await make(name);
      const ip = `10.244.1.${i + 2}`;
      const veth = `veth-${i}`;
      await n('link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns.path);
      await n('link', 'set', veth, 'master', 'cbr0', 'up');
      // As kubelet's hairpin-veth mode: with br_netfilter, a pod reaching itself through a service
      // is DNATed on the bridge and must be sent back out the port it came in on.
      await n('link', 'set', veth, 'type', 'bridge_slave', 'hairpin', 'on');
      await ns.run(['ip', 'addr', 'add', `${ip}/24`, 'dev', 'eth0']);
      await ns.run(['ip', 'link', 'set', 'eth0', 'up']);
      await ns.run(['ip', 'route', 'add', 'default', 'via', '10.244.1.1']);
      ns.spawn(['busybox', 'nc', '-ll', '-p', String(podPort), '-e', 'echo', name]);
      ns.spawn([process.execPath, '--input-type=module', '-e', whoamiSource, '--', name, String(whoamiPort), String(udpPort)]);
      pods.push({ name, ns, ip });
    }
    // Wait until every server answers from the node.
    for (const p of pods) {
      await waitForAnswer(node, p.ip, podPort, p.name);
      await waitForAnswer(node, p.ip, whoamiPort, `${p.name} 10.244.1.1`);
    }

    return {
      node,
      client,
      pods,
      nodeIP: '192.168.77.1',
      bridgeIP: '10.244.1.1',
      clientIP: '192.168.77.2',
      clusterCIDR: '10.244.0.0/16',
      podPort,
      whoamiPort,
      udpPort,
      destroy: async () => {
        for (const ns of made.reverse()) await ns.destroy();
      },
    };
  } catch (err) {
    for (const ns of made.reverse()) await ns.destroy();
    throw err;
  }
}

/** The whoami server: `<name> <client address>` over TCP and UDP. */
const whoamiSource = `
import net from 'node:net';
import dgram from 'node:dgram';
const [name, tcpPort, udpPort] = process.argv.slice(1);
net.createServer((s) => { s.on('error', () => {}); s.end(name + ' ' + s.remoteAddress.replace(/^::ffff:/, '') + '\\n'); }).listen(Number(tcpPort), '0.0.0.0');
const u = dgram.createSocket('udp4');
u.on('message', (m, r) => u.send(name + ' ' + r.address, r.port, r.address));
u.bind(Number(udpPort), '0.0.0.0');
`;

/**
 * Node.js source that makes `count` TCP connections to host:port one after another, reads what
 * each returns (trimmed) and prints a JSON object: { answers: string[], failures: number }.
 * Options: local address to bind (for session affinity tests), per-connection timeout.
 */
export const connectManySource = `
import net from 'node:net';
const [host, port, count, timeoutMs, localAddress] = process.argv.slice(1);
const answers = [];
let failures = 0;
for (let i = 0; i < Number(count); i++) {
  const got = await new Promise((resolve) => {
    let buf = '';
    const s = net.connect({ host, port: Number(port), ...(localAddress ? { localAddress } : {}) });
    const t = setTimeout(() => { s.destroy(); resolve(null); }, Number(timeoutMs));
    s.on('data', (d) => (buf += d));
    s.on('error', () => { clearTimeout(t); resolve(null); });
    s.on('close', () => { clearTimeout(t); resolve(buf.trim() || null); });
    s.end();
  });
  if (got === null) failures++; else answers.push(got);
}
process.stdout.write(JSON.stringify({ answers, failures }));
`;

export interface ConnectResult {
  answers: string[];
  failures: number;
}

/** Makes `count` sequential connections from inside `from`. */
export async function connectMany(from: Netns, host: string, port: number, count: number, opts: { timeoutMs?: number; localAddress?: string } = {}): Promise<ConnectResult> {
  const out = await from.node(connectManySource, [host, String(port), String(count), String(opts.timeoutMs ?? 2000), opts.localAddress ?? ''], 120_000);
  return JSON.parse(out) as ConnectResult;
}

/**
 * Node.js source sending one UDP datagram from a fixed local port and printing the reply (or
 * "timeout"): the same source port twice gives the same conntrack entry.
 */
const udpAskSource = `
import dgram from 'node:dgram';
const [host, port, localPort, timeoutMs] = process.argv.slice(1);
const s = dgram.createSocket({ type: 'udp4', reuseAddr: true });
s.bind(Number(localPort), () => {
  const t = setTimeout(() => { process.stdout.write('timeout'); s.close(); }, Number(timeoutMs));
  s.on('message', (m) => { clearTimeout(t); process.stdout.write(String(m)); s.close(); });
  s.send('ping', Number(port), host);
});
`;

/** One UDP request/reply from `from`, sent from `localPort`. */
export async function udpAsk(from: Netns, host: string, port: number, localPort: number, timeoutMs = 2000): Promise<string> {
  return from.node(udpAskSource, [host, String(port), String(localPort), String(timeoutMs)]);
}

export function tally(answers: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const a of answers) out[a] = (out[a] ?? 0) + 1;
  return out;
}

async function waitForAnswer(from: Netns, host: string, port: number, expected: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const r = await connectMany(from, host, port, 1, { timeoutMs: 1000 });
    if (r.answers[0] === expected) return;
    if (Date.now() > deadline) throw new Error(`server ${host}:${port} did not answer ${expected} (got ${JSON.stringify(r)})`);
    await new Promise((res) => setTimeout(res, 100));
  }
}
