/**
 * A pod's link to the node: a veth pair whose host end is a port of the bridge and whose other
 * end lives in the pause container's network namespace as eth0.
 *
 *   pod netns (pause PID)           node netns
 *   ┌──────────────────┐            ┌───────────────────────────────┐
 *   │ lo               │            │ cbr0 10.244.1.1/24            │
 *   │ eth0 10.244.1.7 ─┼── veth ────┼─ veth1a2b3c4d5e6 (bridge port) │
 *   │ default via .1   │            └───────────────────────────────┘
 *   └──────────────────┘
 */
import { createHash } from 'node:crypto';
import type { Logger } from '../../base/index.js';
import { CommandError, isExistsError, isMissingError, saysMissing, type CommandRunner } from './command-runner.js';
import { showLink } from './bridge.js';
import { gatewayAddress, type IPv4CIDR } from './ipv4.js';

/** Linux caps interface names at 15 characters (IFNAMSIZ - 1). */
export const maxInterfaceNameLength = 15;

function hashHex(s: string, n: number): string {
  return createHash('sha256').update(s).digest('hex').slice(0, n);
}

/**
 * The host end's name for a sandbox: `veth` + 11 hex digits of a hash of the sandbox id, so
 * that teardown can find it from the id alone, after a kubelet restart too.
 */
export function hostVethName(sandboxId: string): string {
  return `veth${hashHex(sandboxId, maxInterfaceNameLength - 4)}`;
}

/** The pod end's name while it is still in the node's namespace, before it becomes eth0. */
export function peerTempName(sandboxId: string): string {
  return `vtmp${hashHex(`peer/${sandboxId}`, maxInterfaceNameLength - 4)}`;
}

export const podInterfaceName = 'eth0';

export interface AttachOptions {
  /** Runner for the node's namespace (where the bridge is). */
  runner: CommandRunner;
  bridge: string;
  podCIDR: IPv4CIDR;
  sandboxId: string;
  /** PID (host PID namespace) of the sandbox's PID 1, whose network namespace gets eth0. */
  pid: number;
  ip: string;
  mtu?: number;
  /** Let a packet leave the bridge port it came in on (a pod reaching itself through a Service). */
  hairpin?: boolean;
  /**
   * The sandbox was started just now and its namespace holds only lo: there is no eth0 to look
   * for, so the look is skipped (one process less per pod).
   */
  fresh?: boolean;
  log?: Logger;
}

export interface PodInterface {
  hostVeth: string;
  interface: string;
  ip: string;
  prefixLength: number;
  gateway: string;
}

/**
 * Creates and wires the veth pair. Idempotent: when eth0 already exists in the pod's namespace
 * (a retried setup), only its address, state and route are made right. A failure half-way
 * removes the pair again.
 *
 * Every step goes through `ip -batch`, so that a pod costs three processes (look at the pod's
 * namespace, make the pair on the node, configure eth0 in the pod; two for a fresh sandbox)
 * instead of one per step: on a busy node each exec (and nsenter) is what a pod waits for.
 */
export async function attachPodInterface(o: AttachOptions): Promise<PodInterface> {
  const pod = o.runner.inNetnsOfPid(o.pid);
  const hostVeth = hostVethName(o.sandboxId);
  const gateway = gatewayAddress(o.podCIDR);
  const result: PodInterface = { hostVeth, interface: podInterfaceName, ip: o.ip, prefixLength: o.podCIDR.prefixLength, gateway };
  const want = `${o.ip}/${o.podCIDR.prefixLength}`;

  const eth0 = o.fresh ? undefined : await showLink(pod, podInterfaceName);
  const podSide: string[][] = [];
  if (!eth0) {
    const tmp = peerTempName(o.sandboxId);
    await createPair(o, hostVeth, tmp);
    podSide.push(['link', 'set', 'dev', tmp, 'name', podInterfaceName]);
  } else {
    for (const a of eth0.addr_info ?? []) {
      if (a.family === 'inet' && `${a.local}/${a.prefixlen}` !== want) podSide.push(['addr', 'del', `${a.local}/${a.prefixlen}`, 'dev', podInterfaceName]);
    }
  }
  podSide.push(
    ['addr', 'replace', want, 'dev', podInterfaceName],
    ['link', 'set', 'dev', 'lo', 'up'],
    ['link', 'set', 'dev', podInterfaceName, 'up'],
    ['route', 'replace', 'default', 'via', gateway, 'dev', podInterfaceName],
  );
  try {
    await runIpBatch(pod, podSide);
  } catch (err) {
    // A pair this call made goes again (its pod end with it); an eth0 found in place stays.
    if (!eth0) await deleteLink(o.runner, hostVeth).catch(() => undefined);
    throw err;
  }
  o.log?.debug({ sandboxId: o.sandboxId, hostVeth, ip: o.ip }, 'pod interface attached');
  return result;
}

/**
 * Makes the pair on the node: the host end a port of the bridge (hairpin on), up; the other
 * end moved into the pod's namespace under its temporary name. A pair left by a failed attempt
 * (the add finds the names taken) is removed and the pair made again, once. On failure nothing
 * of the pair is left.
 */
async function createPair(o: AttachOptions, hostVeth: string, tmp: string): Promise<void> {
  const mtu = o.mtu ? ['mtu', String(o.mtu)] : [];
  const steps = [
    ['link', 'add', 'name', hostVeth, ...mtu, 'type', 'veth', 'peer', 'name', tmp, ...mtu],
    ['link', 'set', 'dev', tmp, 'netns', String(o.pid)],
    ['link', 'set', 'dev', hostVeth, 'master', o.bridge],
    ...((o.hairpin ?? true) ? [['link', 'set', 'dev', hostVeth, 'type', 'bridge_slave', 'hairpin', 'on']] : []),
    ['link', 'set', 'dev', hostVeth, 'up'],
  ];
  for (let attempt = 0; ; attempt++) {
    try {
      await runIpBatch(o.runner, steps);
      return;
    } catch (err) {
      await deleteLink(o.runner, hostVeth).catch(() => undefined);
      await deleteLink(o.runner, tmp).catch(() => undefined);
      if (attempt > 0 || !isExistsError(err)) throw err;
      o.log?.debug({ sandboxId: o.sandboxId, hostVeth }, 'a veth pair left from an earlier attempt was removed');
    }
  }
}

/**
 * Runs `ip` commands as one process (`ip -batch -`): they run in order and the first failure
 * stops the rest; the error names the failed line ("Command failed -:N") and the kernel's
 * answer. Arguments must not contain spaces (names and addresses never do).
 */
export async function runIpBatch(runner: CommandRunner, commands: readonly (readonly string[])[]): Promise<void> {
  for (const c of commands) {
    if (c.some((a) => a === '' || /\s/.test(a))) throw new Error(`ip batch argument with white space in: ${c.join(' ')}`);
  }
  await runner.run(['ip', '-batch', '-'], { input: commands.map((c) => c.join(' ')).join('\n') + '\n' });
}

/**
 * Removes the pair by deleting its host end (the kernel deletes the peer with it). No error
 * when it is already gone, e.g. because the pod's namespace died and took the pair along.
 */
export async function detachPodInterface(runner: CommandRunner, sandboxId: string): Promise<void> {
  // One process for both names: -force runs every line and fails at the end if one failed; a
  // failure other than "no such device" is an error.
  const names = [hostVethName(sandboxId), peerTempName(sandboxId)];
  const r = await runner.run(['ip', '-force', '-batch', '-'], { input: names.map((n) => `link del dev ${n}\n`).join(''), okExitCodes: [1] });
  if (r.exitCode === 0) return;
  const problems = r.stderr.split('\n').filter((l) => l.trim() !== '' && !/^Command failed /.test(l) && !saysMissing(l));
  if (problems.length) throw new CommandError(['ip', '-force', '-batch', '-'], runner.where, r.exitCode, r.stderr);
}

async function deleteLink(runner: CommandRunner, name: string): Promise<void> {
  try {
    await runner.run(['ip', 'link', 'del', 'dev', name]);
  } catch (err) {
    if (!isMissingError(err)) throw err;
  }
}
