/** The restore payload that removes everything tkube-proxy installed, in either mode. */
import { jumpsIntoOwnedChains, ownedChains, type SavedTables } from './restore.js';
import { formatRule } from './rules.js';

/**
 * From an `iptables-save` of filter and nat: delete the jumps from other chains into ours, flush
 * and delete all our chains. Empty string when there is nothing of ours.
 */
export function renderCleanup(saved: SavedTables): string {
  const out: string[] = [];
  let any = false;
  for (const table of ['filter', 'nat'] as const) {
    const chains = ownedChains(saved, table);
    const jumps = jumpsIntoOwnedChains(saved, [table]);
    if (chains.length === 0 && jumps.length === 0) continue;
    any = true;
    out.push(`*${table}`);
    for (const c of chains) out.push(`:${c} - [0:0]`);
    for (const j of jumps) out.push(formatRule('-D', j.chain, j.args));
    for (const c of chains) out.push(`-X ${c}`);
    out.push('COMMIT');
  }
  return any ? out.join('\n') + '\n' : '';
}
