/**
 * `iptables-restore` input from a RuleModel, and the little parsing of `iptables-save` output the
 * proxier needs (which chains exist, which rules sit in the built-in chains).
 *
 * All input is meant for `iptables-restore --noflush`: a `:CHAIN - [0:0]` line creates the chain
 * or flushes it if it exists, so each chain written is replaced as a whole, atomically per table,
 * while chains not mentioned (other programs', or our unchanged ones) are left alone.
 */
import { isProxyOwnedChain } from './chain-names.js';
import { formatRule, type JumpRule, type RuleModel } from './rules.js';

export interface RenderOptions {
  /**
   * Services (`namespace/name`) whose per-service chains are written. Undefined: a full sync,
   * every chain is written. Top-level chains and the filter table are written either way.
   */
  changedServices?: ReadonlySet<string>;
  /** Chains to flush and delete, per table (stale service chains, leftovers of earlier runs). */
  deleteChains?: { filter?: readonly string[]; nat?: readonly string[] };
  /**
   * Rules that must already be there, checked (`-C`) in sections of their own ahead of the rest:
   * when one is missing, iptables-restore fails there, quickly and before anything is written.
   */
  checkRules?: readonly JumpRule[];
  /** Rules to remove from built-in chains first (`-D`), e.g. jumps to chains being deleted. */
  deleteRules?: readonly JumpRule[];
  /** Jump rules missing from built-in chains, inserted at the top (`-I`). */
  insertJumps?: readonly JumpRule[];
}

/** The restore payload for a model: the checks' sections if any, then `*filter ... COMMIT` and `*nat ... COMMIT`. */
export function renderRestore(model: RuleModel, opts: RenderOptions = {}): string {
  // Loops and one join: a full sync at 5,000 services renders some 50,000 lines.
  const out: string[] = [];
  for (const table of ['filter', 'nat'] as const) {
    const checks = (opts.checkRules ?? []).filter((r) => r.table === table);
    if (checks.length) out.push(`*${table}`, ...checks.map((r) => formatRule('-C', r.chain, r.args)), 'COMMIT');
  }
  for (const table of ['filter', 'nat'] as const) {
    out.push(`*${table}`);
    const top = table === 'filter' ? model.filter : model.nat;
    const services = table === 'nat' ? model.services.filter((s) => !opts.changedServices || opts.changedServices.has(s.serviceKey)) : [];
    const written = new Set(top.chains);
    for (const c of top.chains) out.push(`:${c} - [0:0]`);
    for (const s of services) {
      for (const c of s.chains) {
        written.add(c);
        out.push(`:${c} - [0:0]`);
      }
    }
    const deleting = (opts.deleteChains?.[table] ?? []).filter((c) => !written.has(c));
    for (const c of deleting) out.push(`:${c} - [0:0]`); // flushes it, so that -X below succeeds
    for (const r of opts.deleteRules ?? []) if (r.table === table) out.push(formatRule('-D', r.chain, r.args));
    // Inserted in reverse so that the first jump of the list ends up on top.
    const inserts = opts.insertJumps ?? [];
    for (let i = inserts.length - 1; i >= 0; i--) if (inserts[i]!.table === table) out.push(formatRule('-I', inserts[i]!.chain, inserts[i]!.args));
    for (const r of top.rules) out.push(r);
    for (const s of services) for (const r of s.rules) out.push(r);
    for (const c of deleting) out.push(`-X ${c}`);
    out.push('COMMIT');
  }
  out.push('');
  return out.join('\n');
}

/** What `iptables-save` shows of one table. */
export interface SavedTable {
  /** Every chain, built-in or not. */
  chains: Set<string>;
  /** Rules of each chain as printed (`-A CHAIN` stripped, arguments split). */
  rules: Map<string, string[][]>;
}

export type SavedTables = Map<string, SavedTable>;

/** Splits one iptables-save rule line into arguments, honouring double quotes. */
export function splitArgs(line: string): string[] {
  const args: string[] = [];
  let cur = '';
  let inQuote = false;
  let has = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (inQuote) {
      if (ch === '\\' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') inQuote = false;
      else cur += ch;
    } else if (ch === '"') {
      inQuote = true;
      has = true;
    } else if (ch === ' ' || ch === '\t') {
      if (has || cur) args.push(cur);
      cur = '';
      has = false;
    } else {
      cur += ch;
      has = true;
    }
  }
  if (has || cur) args.push(cur);
  return args;
}

/** Parses `iptables-save` output (any tables). */
export function parseSave(text: string): SavedTables {
  const tables: SavedTables = new Map();
  let cur: SavedTable | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    if (line.startsWith('*')) {
      cur = { chains: new Set(), rules: new Map() };
      tables.set(line.slice(1), cur);
    } else if (!cur) continue;
    else if (line.startsWith(':')) cur.chains.add(line.slice(1).split(' ')[0]!);
    else if (line.startsWith('-A ')) {
      const args = splitArgs(line);
      const chain = args[1]!;
      let list = cur.rules.get(chain);
      if (!list) cur.rules.set(chain, (list = []));
      list.push(args.slice(2));
    }
  }
  return tables;
}

/** The target of a rule's `-j`, if any. */
export function jumpTarget(args: readonly string[]): string | undefined {
  const i = args.indexOf('-j');
  return i >= 0 ? args[i + 1] : undefined;
}

/** Jump rules of `wanted` with no rule in their built-in chain jumping to their target. */
export function missingJumps(saved: SavedTables, wanted: readonly JumpRule[]): JumpRule[] {
  return wanted.filter((j) => {
    const rules = saved.get(j.table)?.rules.get(j.chain) ?? [];
    return !rules.some((r) => jumpTarget(r) === j.target && sameComment(r, j.args));
  });
}

function commentOf(args: readonly string[]): string | undefined {
  const i = args.indexOf('--comment');
  return i >= 0 ? args[i + 1] : undefined;
}

function sameComment(a: readonly string[], b: readonly string[]): boolean {
  return commentOf(a) === commentOf(b);
}

/**
 * Rules in built-in chains (upper-case names that we do not own) which jump to a chain we own,
 * as `-D`-able JumpRules: what must go before those chains can be deleted.
 */
export function jumpsIntoOwnedChains(saved: SavedTables, tables: readonly ('filter' | 'nat')[], targets?: ReadonlySet<string>): JumpRule[] {
  const out: JumpRule[] = [];
  for (const table of tables) {
    const t = saved.get(table);
    if (!t) continue;
    for (const [chain, rules] of t.rules) {
      if (isProxyOwnedChain(table, chain)) continue;
      for (const args of rules) {
        const target = jumpTarget(args);
        if (!target || !isProxyOwnedChain(table, target)) continue;
        if (targets && !targets.has(target)) continue;
        out.push({ table, chain, target, args });
      }
    }
  }
  return out;
}

/** Owned chains present in the saved tables. */
export function ownedChains(saved: SavedTables, table: 'filter' | 'nat'): string[] {
  return [...(saved.get(table)?.chains ?? [])].filter((c) => isProxyOwnedChain(table, c));
}
