/**
 * The node's pod bridge (cbr0): an L2 switch joining the host ends of every pod's veth pair,
 * carrying the first address of the node's podCIDR, which is each pod's default gateway.
 */
import type { Logger } from '../../base/index.js';
import { isExistsError, isMissingError, type CommandRunner } from './command-runner.js';
import { gatewayAddress, type IPv4CIDR } from './ipv4.js';

export interface BridgeOptions {
  runner: CommandRunner;
  name: string;
  podCIDR: IPv4CIDR;
  mtu?: number;
  log?: Logger;
}

interface IpAddrInfo {
  family: string;
  local: string;
  prefixlen: number;
}
interface IpLink {
  ifname: string;
  flags?: string[];
  mtu?: number;
  linkinfo?: { info_kind?: string };
  addr_info?: IpAddrInfo[];
}

/** `ip -j -d addr show dev <name>`, or undefined when there is no such device. */
export async function showLink(runner: CommandRunner, name: string): Promise<IpLink | undefined> {
  try {
    const { stdout } = await runner.run(['ip', '-j', '-d', 'addr', 'show', 'dev', name]);
    const links = JSON.parse(stdout || '[]') as IpLink[];
    return links[0];
  } catch (err) {
    if (isMissingError(err)) return undefined;
    throw err;
  }
}

/**
 * Makes the bridge exist, carry exactly the gateway address of the podCIDR (other IPv4
 * addresses, left from an older podCIDR, are removed) and be up; turns on IPv4 forwarding.
 * Safe to call again; each step checks before it changes anything.
 */
export async function ensureBridge(opts: BridgeOptions): Promise<void> {
  const { runner, name } = opts;
  const want = `${gatewayAddress(opts.podCIDR)}/${opts.podCIDR.prefixLength}`;
  let link = await showLink(runner, name);
  if (link && link.linkinfo?.info_kind && link.linkinfo.info_kind !== 'bridge') {
    throw new Error(`${name} exists but is a ${link.linkinfo.info_kind} device, not a bridge; remove it or choose another bridge name`);
  }
  if (!link) {
    try {
      await runner.run(['ip', 'link', 'add', 'name', name, 'type', 'bridge']);
      opts.log?.info({ bridge: name }, 'bridge created');
    } catch (err) {
      if (!isExistsError(err)) throw err;
    }
    link = await showLink(runner, name);
  }
  for (const a of link?.addr_info ?? []) {
    if (a.family === 'inet' && `${a.local}/${a.prefixlen}` !== want) {
      await runner.run(['ip', 'addr', 'del', `${a.local}/${a.prefixlen}`, 'dev', name]);
      opts.log?.info({ bridge: name, address: `${a.local}/${a.prefixlen}` }, 'stale bridge address removed');
    }
  }
  if (!link?.addr_info?.some((a) => a.family === 'inet' && `${a.local}/${a.prefixlen}` === want)) {
    await runner.run(['ip', 'addr', 'replace', want, 'dev', name]);
  }
  if (opts.mtu && link?.mtu !== opts.mtu) await runner.run(['ip', 'link', 'set', 'dev', name, 'mtu', String(opts.mtu)]);
  if (!link?.flags?.includes('UP')) await runner.run(['ip', 'link', 'set', 'dev', name, 'up']);
  await runner.run(['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
}

/** Deletes the bridge (its ports are detached by the kernel). No error when it is gone. */
export async function deleteBridge(runner: CommandRunner, name: string): Promise<void> {
  try {
    await runner.run(['ip', 'link', 'del', 'dev', name]);
  } catch (err) {
    if (!isMissingError(err)) throw err;
  }
}
