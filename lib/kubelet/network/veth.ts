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
import { isMissingError, type CommandRunner } from './command-runner.js';
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
 */
export async function attachPodInterface(o: AttachOptions): Promise<PodInterface> {
  const pod = o.runner.inNetnsOfPid(o.pid);
  const hostVeth = hostVethName(o.sandboxId);
  const gateway = gatewayAddress(o.podCIDR);
  const result: PodInterface = { hostVeth, interface: podInterfaceName, ip: o.ip, prefixLength: o.podCIDR.prefixLength, gateway };

  if (!(await showLink(pod, podInterfaceName))) {
    const tmp = peerTempName(o.sandboxId);
    // A host end without a pod end is left from a failed attempt; start over.
    await deleteLink(o.runner, hostVeth);
    await deleteLink(o.runner, tmp);
    const mtu = o.mtu ? ['mtu', String(o.mtu)] : [];
    await o.runner.run(['ip', 'link', 'add', 'name', hostVeth, ...mtu, 'type', 'veth', 'peer', 'name', tmp, ...mtu]);
    try {
      await o.runner.run(['ip', 'link', 'set', 'dev', tmp, 'netns', String(o.pid)]);
      await pod.run(['ip', 'link', 'set', 'dev', tmp, 'name', podInterfaceName]);
      await o.runner.run(['ip', 'link', 'set', 'dev', hostVeth, 'master', o.bridge]);
      if (o.hairpin ?? true) await o.runner.run(['ip', 'link', 'set', 'dev', hostVeth, 'type', 'bridge_slave', 'hairpin', 'on']);
      await o.runner.run(['ip', 'link', 'set', 'dev', hostVeth, 'up']);
    } catch (err) {
      await deleteLink(o.runner, hostVeth).catch(() => undefined);
      throw err;
    }
  }
  const eth0 = await showLink(pod, podInterfaceName);
  const want = `${o.ip}/${o.podCIDR.prefixLength}`;
  for (const a of eth0?.addr_info ?? []) {
    if (a.family === 'inet' && `${a.local}/${a.prefixlen}` !== want) await pod.run(['ip', 'addr', 'del', `${a.local}/${a.prefixlen}`, 'dev', podInterfaceName]);
  }
  await pod.run(['ip', 'addr', 'replace', want, 'dev', podInterfaceName]);
  await pod.run(['ip', 'link', 'set', 'dev', 'lo', 'up']);
  await pod.run(['ip', 'link', 'set', 'dev', podInterfaceName, 'up']);
  await pod.run(['ip', 'route', 'replace', 'default', 'via', gateway, 'dev', podInterfaceName]);
  o.log?.debug({ sandboxId: o.sandboxId, hostVeth, ip: o.ip }, 'pod interface attached');
  return result;
}

/**
 * Removes the pair by deleting its host end (the kernel deletes the peer with it). No error
 * when it is already gone, e.g. because the pod's namespace died and took the pair along.
 */
export async function detachPodInterface(runner: CommandRunner, sandboxId: string): Promise<void> {
  await deleteLink(runner, hostVethName(sandboxId));
  await deleteLink(runner, peerTempName(sandboxId));
}

async function deleteLink(runner: CommandRunner, name: string): Promise<void> {
  try {
    await runner.run(['ip', 'link', 'del', 'dev', name]);
  } catch (err) {
    if (!isMissingError(err)) throw err;
  }
}
