/**
 * The node's packet filter rules for pod traffic, in chains of tkube's own:
 *
 *   filter FORWARD ──► TKUBE-FORWARD   ACCEPT from and to the cluster CIDR
 *                                      (Docker sets FORWARD's policy to DROP)
 *   nat POSTROUTING ─► TKUBE-POSTROUTING  MASQUERADE pod traffic leaving the cluster CIDR,
 *                                         so that replies to the outside find their way back,
 *                                         and packets marked by the host port rules (./hostports.ts)
 *
 * Our chains are rewritten whole with one `iptables-restore --noflush` (declaring a chain in
 * the input flushes it, other chains are left alone), which makes installing them idempotent
 * and atomic; the jumps from the built-in chains are checked with -C before being inserted.
 */
import type { Logger } from '../../base/index.js';
import { isMissingError, type CommandRunner } from './command-runner.js';
import { parseCIDR } from './ipv4.js';

export const forwardChain = 'TKUBE-FORWARD';
export const postroutingChain = 'TKUBE-POSTROUTING';

/** The mark TKUBE-POSTROUTING masquerades (the same bit kube-proxy uses for it); the host port rules set it. */
export const masqueradeMark = '0x4000/0x4000';

/** A rule in a built-in chain that jumps to one of ours. */
export interface Jump {
  table: 'filter' | 'nat';
  from: string;
  rule: string[];
}

const jumps: Jump[] = [
  { table: 'filter', from: 'FORWARD', rule: ['-m', 'comment', '--comment', 'tkube pod forwarding rules', '-j', forwardChain] },
  { table: 'nat', from: 'POSTROUTING', rule: ['-m', 'comment', '--comment', 'tkube pod masquerade rules', '-j', postroutingChain] },
];

/** The iptables-restore input that (re)writes tkube's chains for the cluster CIDR. */
export function renderPodNetworkRules(clusterCIDR: string): string {
  const c = parseCIDR(clusterCIDR).cidr;
  return [
    '*filter',
    `:${forwardChain} - [0:0]`,
    `-A ${forwardChain} -s ${c} -m comment --comment "tkube: forward pod traffic" -j ACCEPT`,
    `-A ${forwardChain} -d ${c} -m comment --comment "tkube: forward traffic to pods" -j ACCEPT`,
    'COMMIT',
    '*nat',
    `:${postroutingChain} - [0:0]`,
    `-A ${postroutingChain} -s ${c} ! -d ${c} -m comment --comment "tkube: masquerade pod traffic leaving the cluster" -j MASQUERADE`,
    `-A ${postroutingChain} -m mark --mark ${masqueradeMark} -m comment --comment "tkube: masquerade a pod reaching itself through its host port" -j MASQUERADE`,
    'COMMIT',
    '',
  ].join('\n');
}

/**
 * Installs tkube's chains and the jumps to them. Safe to call again (and cheap): the chains are
 * rewritten to the same content, jumps are added only when missing. The FORWARD jump goes
 * first so that it is seen before Docker's rules and the DROP policy.
 */
export async function ensurePodNetworkRules(runner: CommandRunner, clusterCIDR: string, log?: Logger): Promise<void> {
  await runner.run(['iptables-restore', '-w', '--noflush'], { input: renderPodNetworkRules(clusterCIDR) });
  await ensureJumps(runner, jumps, log);
}

/** Inserts each jump first in its chain, unless it is there already (checked with -C). */
export async function ensureJumps(runner: CommandRunner, list: readonly Jump[], log?: Logger): Promise<void> {
  for (const j of list) {
    const check = await runner.run(['iptables', '-w', '-t', j.table, '-C', j.from, ...j.rule], { okExitCodes: [1] });
    if (check.exitCode === 0) continue;
    await runner.run(['iptables', '-w', '-t', j.table, '-I', j.from, '1', ...j.rule]);
    log?.info({ table: j.table, chain: j.from }, 'iptables jump installed');
  }
}

/** Removes each jump, as often as it is found (inserted twice by hand or an old version). No error when gone. */
export async function removeJumps(runner: CommandRunner, list: readonly Jump[]): Promise<void> {
  for (const j of list) {
    for (let i = 0; i < 10; i++) {
      const check = await runner.run(['iptables', '-w', '-t', j.table, '-C', j.from, ...j.rule], { okExitCodes: [1, 2] });
      if (check.exitCode !== 0) break;
      await runner.run(['iptables', '-w', '-t', j.table, '-D', j.from, ...j.rule]);
    }
  }
}

/** Removes the jumps and tkube's chains. No error for what is already gone. */
export async function removePodNetworkRules(runner: CommandRunner): Promise<void> {
  await removeJumps(runner, jumps);
  for (const [table, chain] of [['filter', forwardChain], ['nat', postroutingChain]] as const) {
    for (const op of ['-F', '-X']) {
      try {
        await runner.run(['iptables', '-w', '-t', table, op, chain]);
      } catch (err) {
        if (!isMissingError(err)) throw err;
      }
    }
  }
}
