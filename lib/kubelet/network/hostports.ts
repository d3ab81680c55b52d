/**
 * Host ports: a container port with `hostPort` answers on the node's own addresses (or on its
 * `hostIP` only), as upstream's CNI portmap plugin (and kubenet's hostport manager before it)
 * does it, with DNAT rules in the nat table:
 *
 *   nat PREROUTING ─┐ (to a local address)
 *   nat OUTPUT ─────┴► TKUBE-HOSTPORTS   one rule per host port, by protocol and port
 *                         └► TKUBE-HP-<hash>   mark a pod reaching itself for masquerade
 *                                              (TKUBE-POSTROUTING, ./iptables.ts),
 *                                              DNAT to <pod IP>:<container port>
 *
 * The chains are rewritten whole from what the manager holds (every pod of this node with a
 * host port) with one `iptables-restore --noflush`; chains of ports no longer held are deleted
 * in the same input. Connections from the node itself to 127.0.0.1 are not forwarded (as the
 * portmap plugin without its snat option); the node's other addresses are.
 */
import { createHash } from 'node:crypto';
import type { Logger } from '../../base/index.js';
import type { CommandRunner } from './command-runner.js';
import { ensureJumps, masqueradeMark, removeJumps, type Jump } from './iptables.js';

export const hostPortsChain = 'TKUBE-HOSTPORTS';
const perPortPrefix = 'TKUBE-HP-';

export interface HostPortMapping {
  hostPort: number;
  containerPort: number;
  protocol: 'TCP' | 'UDP' | 'SCTP';
  /** Only this node address; unset or 0.0.0.0: every local address. */
  hostIP?: string;
}

export interface PodHostPorts {
  namespace: string;
  name: string;
  ip: string;
  mappings: HostPortMapping[];
}

/** The host ports a pod asks for: its containers' ports with a hostPort (upstream reads containers, not init containers). */
export function hostPortMappings(spec: { containers?: { ports?: { hostPort?: number; containerPort?: number; protocol?: string; hostIP?: string }[] }[] } | undefined): HostPortMapping[] {
  const out: HostPortMapping[] = [];
  for (const c of spec?.containers ?? []) {
    for (const p of c.ports ?? []) {
      if (!p.hostPort || !p.containerPort) continue;
      const protocol = (p.protocol ?? 'TCP') as HostPortMapping['protocol'];
      out.push({ hostPort: p.hostPort, containerPort: p.containerPort, protocol, ...(p.hostIP && p.hostIP !== '0.0.0.0' ? { hostIP: p.hostIP } : {}) });
    }
  }
  return out;
}

function chainFor(uid: string, m: HostPortMapping): string {
  const h = createHash('sha256').update(`${uid}/${m.protocol}/${m.hostIP ?? ''}/${m.hostPort}`).digest('hex');
  return perPortPrefix + h.slice(0, 16).toUpperCase();
}

/**
 * The iptables-restore input (nat table) for these pods' host ports; `existing` are the
 * TKUBE-HP-* chains the table has now, of which those no longer wanted are deleted.
 */
export function renderHostPortRules(pods: ReadonlyMap<string, PodHostPorts>, existing: readonly string[]): string {
  const chains: string[] = [];
  const rules: string[] = [];
  for (const [uid, p] of [...pods].sort((a, b) => a[0].localeCompare(b[0]))) {
    for (const m of p.mappings) {
      const chain = chainFor(uid, m);
      const proto = m.protocol.toLowerCase();
      const comment = `"${p.namespace}/${p.name}: hostPort ${m.hostPort}/${proto}"`;
      chains.push(chain);
      rules.push(`-A ${hostPortsChain}${m.hostIP ? ` -d ${m.hostIP}/32` : ''} -p ${proto} -m ${proto} --dport ${m.hostPort} -m comment --comment ${comment} -j ${chain}`);
      rules.push(`-A ${chain} -s ${p.ip}/32 -m comment --comment "tkube: a pod reaching itself through its host port" -j MARK --set-xmark ${masqueradeMark}`);
      rules.push(`-A ${chain} -p ${proto} -m ${proto} -m comment --comment ${comment} -j DNAT --to-destination ${p.ip}:${m.containerPort}`);
    }
  }
  const stale = existing.filter((c) => c.startsWith(perPortPrefix) && !chains.includes(c));
  return ['*nat', `:${hostPortsChain} - [0:0]`, ...[...chains, ...stale].map((c) => `:${c} - [0:0]`), ...rules, ...stale.map((c) => `-X ${c}`), 'COMMIT', ''].join('\n');
}

const jumps: Jump[] = [
  { table: 'nat', from: 'PREROUTING', rule: ['-m', 'addrtype', '--dst-type', 'LOCAL', '-m', 'comment', '--comment', 'tkube pod host ports', '-j', hostPortsChain] },
  { table: 'nat', from: 'OUTPUT', rule: ['!', '-d', '127.0.0.0/8', '-m', 'addrtype', '--dst-type', 'LOCAL', '-m', 'comment', '--comment', 'tkube pod host ports', '-j', hostPortsChain] },
];

/**
 * The host ports of this node's pods. Contract: `set` and `remove` resolve once the rules say
 * what they were asked (calls are serialised); a pod without host ports costs no command.
 */
export class HostPortManager {
  private readonly pods = new Map<string, PodHostPorts>();
  private queue: Promise<unknown> = Promise.resolve();
  private jumpsChecked = false;

  constructor(private readonly o: { runner: CommandRunner; log: Logger }) {}

  /** The pod's host ports now (an empty list removes them). */
  set(podUID: string, entry: PodHostPorts): Promise<void> {
    if (entry.mappings.length === 0) return this.remove(podUID);
    const before = this.pods.get(podUID);
    if (before && JSON.stringify(before) === JSON.stringify(entry)) return this.queue.then(() => undefined);
    this.pods.set(podUID, entry);
    return this.sync();
  }

  remove(podUID: string): Promise<void> {
    if (!this.pods.delete(podUID)) return Promise.resolve();
    return this.sync();
  }

  /** Removes the jumps and every host port chain (taking the node apart). No error for what is gone. */
  async removeAll(): Promise<void> {
    const { runner } = this.o;
    this.pods.clear();
    await this.queue;
    await removeJumps(runner, jumps);
    this.jumpsChecked = false;
    const ours = (await this.natChains()).filter((c) => c === hostPortsChain || c.startsWith(perPortPrefix));
    if (ours.length) await runner.run(['iptables-restore', '-w', '--noflush'], { input: ['*nat', ...ours.map((c) => `:${c} - [0:0]`), ...ours.map((c) => `-X ${c}`), 'COMMIT', ''].join('\n') });
  }

  /** What the manager holds, by pod uid. */
  held(): ReadonlyMap<string, PodHostPorts> {
    return this.pods;
  }

  private sync(): Promise<void> {
    const run = this.queue.then(() => this.write());
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async write(): Promise<void> {
    const { runner, log } = this.o;
    await runner.run(['iptables-restore', '-w', '--noflush'], { input: renderHostPortRules(this.pods, await this.natChains()) });
    if (!this.jumpsChecked) {
      await ensureJumps(runner, jumps, log);
      this.jumpsChecked = true;
    }
    log.debug({ pods: this.pods.size }, 'host port rules written');
  }

  /** The chains of the nat table now (stale per-port chains are found among them). */
  private async natChains(): Promise<string[]> {
    const saved = await this.o.runner.run(['iptables-save', '-t', 'nat']);
    return [...saved.stdout.matchAll(/^:(\S+)/gm)].map((m) => m[1]!);
  }
}
