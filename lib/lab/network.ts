/**
 * The single-machine lab's network: one bridge on the host (tkube-lab0, the host at .1) and one
 * network namespace per cluster host, plugged into the bridge with a veth pair (eth0 inside,
 * <bridge>-<n> on the bridge), as the VMs are plugged into Vagrant's private network.
 *
 *   host netns: tkube-lab0 192.168.56.1/24 ──┬── tkube-lab0-0 ══ eth0 192.168.56.10  netns tkube-lab-cp
 *                                            └── tkube-lab0-1 ══ eth0 192.168.56.11  netns tkube-lab-worker
 *
 * Docker on the host sets the FORWARD policy to DROP, and with br_netfilter bridged traffic
 * goes through it: one chain of ours (TKL-<bridge>), jumped to first from FORWARD, accepts
 * traffic between the lab's hosts and out of the lab; its namesake in the nat table, jumped
 * to from POSTROUTING, masquerades what leaves the lab (labRules). Nothing else on the host
 * is changed.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';

export interface LabNetworkOptions {
  bridge: string;
  gatewayIP: string;
  prefixLength: number;
  netnsPrefix: string;
}

export class CommandError extends Error {
  override readonly name = 'CommandError';
}

export function sh(cmd: string, args: string[], input?: string): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  if (r.error) throw new CommandError(`${cmd} ${args.join(' ')}: ${r.error.message}`, { cause: r.error });
  if (r.status !== 0) throw new CommandError(`${cmd} ${args.join(' ')} failed (exit ${r.status}): ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

function ok(cmd: string, args: string[]): boolean {
  return spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
}

export const maxBridgeNameLength = 11;

export function validateBridgeName(name: string): string | undefined {
  if (!/^[a-zA-Z][a-zA-Z0-9_-]*$/.test(name)) return 'letters, digits, - and _ only, starting with a letter';
  if (name.length > maxBridgeNameLength) return `at most ${maxBridgeNameLength} characters (its veths are named <bridge>-<n>, and Linux allows 15)`;
  return undefined;
}

/** The host-side FORWARD chain of a lab bridge. */
export function forwardChain(bridge: string): string {
  return `TKL-${bridge}`;
}

export function netnsName(prefix: string, host: string): string {
  return `${prefix}-${host}`;
}

export function netnsPath(name: string): string {
  return `/run/netns/${name}`;
}

export function vethName(bridge: string, index: number): string {
  return `${bridge}-${index}`;
}

export function linkExists(name: string, netns?: string): boolean {
  return ok('ip', [...(netns ? ['-n', netns] : []), 'link', 'show', 'dev', name]);
}

export function netnsExists(name: string): boolean {
  return fs.existsSync(netnsPath(name));
}

/** The bridge with the gateway address, up. Idempotent. */
export function ensureBridge(o: LabNetworkOptions): boolean {
  const created = !linkExists(o.bridge);
  if (created) sh('ip', ['link', 'add', o.bridge, 'type', 'bridge']);
  const addr = `${o.gatewayIP}/${o.prefixLength}`;
  if (!sh('ip', ['-o', '-4', 'addr', 'show', 'dev', o.bridge]).includes(` ${addr} `)) sh('ip', ['addr', 'add', addr, 'dev', o.bridge]);
  sh('ip', ['link', 'set', o.bridge, 'up']);
  return created;
}

/** One rule of the lab's: in `chain` (ours) of `table`, jumped to from `hook`. */
export interface LabRule {
  table: 'filter' | 'nat';
  hook: 'FORWARD' | 'POSTROUTING';
  rule: string[];
}

/**
 * What the host does for the lab, as a VM host does for its VMs: forward between the lab's
 * hosts, and let them out to what this machine reaches (their resolvers, the cluster DNS's
 * upstream), masqueraded behind this machine's address (Vagrant's NAT interface).
 */
export function labRules(bridge: string, networkCIDR: string): LabRule[] {
  const c = (text: string) => ['-m', 'comment', '--comment', `tkube-lab ${bridge}: ${text}`];
  return [
    { table: 'filter', hook: 'FORWARD', rule: ['-i', bridge, '-o', bridge, ...c("between the lab's hosts"), '-j', 'ACCEPT'] },
    { table: 'filter', hook: 'FORWARD', rule: ['-i', bridge, '!', '-o', bridge, ...c('out of the lab'), '-j', 'ACCEPT'] },
    { table: 'filter', hook: 'FORWARD', rule: ['-o', bridge, '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', ...c('replies into the lab'), '-j', 'ACCEPT'] },
    { table: 'nat', hook: 'POSTROUTING', rule: ['-s', networkCIDR, '!', '-o', bridge, ...c('out of the lab, as this machine'), '-j', 'MASQUERADE'] },
  ];
}

/** The lab's chains (TKL-<bridge> in filter and nat) with labRules, hooked first. Idempotent. */
export function ensureForwardRules(bridge: string, networkCIDR: string): void {
  const chain = forwardChain(bridge);
  const rules = labRules(bridge, networkCIDR);
  for (const table of new Set(rules.map((r) => r.table))) {
    if (!ok('iptables', ['-w', '-t', table, '-n', '-L', chain])) sh('iptables', ['-w', '-t', table, '-N', chain]);
  }
  for (const r of rules) if (!ok('iptables', ['-w', '-t', r.table, '-C', chain, ...r.rule])) sh('iptables', ['-w', '-t', r.table, '-A', chain, ...r.rule]);
  for (const hooked of new Set(rules.map((r) => `${r.table} ${r.hook}`))) {
    const [table, hook] = hooked.split(' ') as [string, string];
    if (!ok('iptables', ['-w', '-t', table, '-C', hook, '-j', chain])) sh('iptables', ['-w', '-t', table, '-I', hook, '1', '-j', chain]);
  }
}

/** Removes the lab's chains and the jumps to them (whatever network they were made for). */
export function removeForwardRules(bridge: string): boolean {
  const chain = forwardChain(bridge);
  let removed = false;
  for (const [table, hook] of [['filter', 'FORWARD'], ['nat', 'POSTROUTING']] as const) {
    while (ok('iptables', ['-w', '-t', table, '-D', hook, '-j', chain])) removed = true;
    if (ok('iptables', ['-w', '-t', table, '-n', '-L', chain])) {
      ok('iptables', ['-w', '-t', table, '-F', chain]);
      ok('iptables', ['-w', '-t', table, '-X', chain]);
      removed = true;
    }
  }
  return removed;
}

export interface LabHostLink {
  netns: string;
  veth: string;
  ip: string;
}

/** A host's namespace, plugged into the bridge, with its address and a default route via the gateway. Idempotent. */
export function ensureHostNetns(o: LabNetworkOptions, link: LabHostLink): void {
  if (!netnsExists(link.netns)) sh('ip', ['netns', 'add', link.netns]);
  sh('ip', ['-n', link.netns, 'link', 'set', 'lo', 'up']);
  if (!linkExists('eth0', link.netns)) {
    if (linkExists(link.veth)) sh('ip', ['link', 'del', link.veth]);
    sh('ip', ['link', 'add', link.veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', link.netns]);
  }
  sh('ip', ['link', 'set', link.veth, 'master', o.bridge, 'up']);
  const addr = `${link.ip}/${o.prefixLength}`;
  if (!sh('ip', ['-n', link.netns, '-o', '-4', 'addr', 'show', 'dev', 'eth0']).includes(` ${addr} `)) sh('ip', ['-n', link.netns, 'addr', 'add', addr, 'dev', 'eth0']);
  sh('ip', ['-n', link.netns, 'link', 'set', 'eth0', 'up']);
  sh('ip', ['-n', link.netns, 'route', 'replace', 'default', 'via', o.gatewayIP, 'dev', 'eth0']);
}

/**
 * A host's own UTS namespace, with the host's name as its hostname (as a VM has), kept alive by a
 * bind mount on `file` (under the lab's state folder, which down unmounts). Components started
 * in it identify themselves by that name: the scheduler's and controller manager's leader
 * election identity is <hostname>_<uuid>, so `kubectl get lease` tells which host leads.
 * Idempotent.
 */
export function ensureHostUTS(file: string, hostname: string): void {
  if (mountsUnder(file).includes(file)) {
    if (sh('nsenter', [`--uts=${file}`, '--', 'hostname']).trim() === hostname) return;
    sh('nsenter', [`--uts=${file}`, '--', 'hostname', hostname]);
    return;
  }
  fs.writeFileSync(file, '');
  sh('unshare', [`--uts=${file}`, '--', 'hostname', hostname]);
}

/** Pids of processes in a namespace. */
export function netnsPids(name: string): number[] {
  const r = spawnSync('ip', ['netns', 'pids', name], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.split(/\s+/).filter(Boolean).map(Number) : [];
}

/** Kills what is left in a namespace (by pid) and deletes it with everything in it (veths, routes, iptables). */
export function removeHostNetns(name: string, veth: string): boolean {
  let removed = false;
  if (netnsExists(name)) {
    for (const pid of netnsPids(name)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    ok('ip', ['netns', 'del', name]);
    removed = true;
  }
  if (linkExists(veth)) {
    ok('ip', ['link', 'del', veth]);
    removed = true;
  }
  return removed;
}

export function removeBridge(bridge: string): boolean {
  if (!linkExists(bridge)) return false;
  sh('ip', ['link', 'del', bridge]);
  return true;
}

/**
 * A resolv.conf for the lab's hosts: the host's nameservers that are reachable from a
 * namespace (not loopback), and its search domains.
 */
export function labResolvConf(hostResolvConf = '/etc/resolv.conf'): string {
  let text = '';
  try {
    text = fs.readFileSync(hostResolvConf, 'utf8');
  } catch {
    /* none */
  }
  const lines = text.split('\n').filter((l) => /^\s*(nameserver|search|options)\s/.test(l) && !/^\s*nameserver\s+(127\.|::1)/.test(l));
  return `# tkube-lab: the host's resolvers that a lab host can reach\n${lines.join('\n')}\n`;
}

/** Mount points at or under a folder, deepest first (from /proc/self/mountinfo). */
export function mountsUnder(dir: string): string[] {
  const text = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const mp = line.split(' ')[4];
    if (!mp) continue;
    const p = mp.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (p === dir || p.startsWith(dir.endsWith('/') ? dir : `${dir}/`)) out.push(p);
  }
  return [...new Set(out)].sort((a, b) => b.length - a.length);
}

/** Unmounts everything under a folder (lazily when busy). */
export function unmountUnder(dir: string): string[] {
  const done: string[] = [];
  for (let round = 0; round < 3; round++) {
    const mounts = mountsUnder(dir);
    if (mounts.length === 0) break;
    for (const m of mounts) if (ok('umount', [m]) || ok('umount', ['-l', m])) done.push(m);
  }
  return done;
}

export function execOut(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8' });
}
