/**
 * An in-memory ProxyHost for unit tests: it keeps iptables tables the way the kernel would after
 * `iptables-restore --noflush` and prints them like `iptables-save`, so proxier tests can check
 * the resulting rules, not just the text sent. It is strict where iptables is: a rule in or a
 * jump to a chain that does not exist, deleting a chain still referenced, or deleting or checking
 * (`-C`) a rule that is not there fails the whole table, which is left as it was.
 */
import { HostCommandError, type ConntrackFilter, type ProxyHost } from './host.js';
import { jumpTarget, splitArgs } from './iptables/restore.js';

const builtinChains: Record<string, string[]> = {
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
};
const builtinTargets = new Set(['ACCEPT', 'DROP', 'REJECT', 'RETURN', 'MARK', 'DNAT', 'SNAT', 'MASQUERADE', 'REDIRECT', 'LOG', 'CONNMARK']);

type Table = Map<string, string[][]>;

export class FakeProxyHost implements ProxyHost {
  readonly tables = new Map<string, Table>();
  /** Every payload given to restore, in order (including failed ones). */
  readonly restores: string[] = [];
  readonly saves: string[][] = [];
  readonly conntrackDeletes: ConntrackFilter[] = [];
  readonly sysctls = new Map<string, string>();
  private failures = 0;

  constructor() {
    for (const t of Object.keys(builtinChains)) this.resetTable(t);
  }

  /** The next `n` restores fail (as if iptables-restore was killed or the lock timed out). */
  failNextRestores(n: number): void {
    this.failures = n;
  }

  /**
   * Simulates `iptables -t <table> -F && iptables -t <table> -X`: our chains and jumps vanish.
   * With `keepChains`, only `-F`: every chain (built-in or not) is emptied but stays.
   */
  flushTable(table: string, opts: { keepChains?: boolean } = {}): void {
    if (!opts.keepChains) return this.resetTable(table);
    for (const rules of this.tables.get(table)?.values() ?? []) rules.length = 0;
  }

  private resetTable(table: string): void {
    const t: Table = new Map();
    for (const c of builtinChains[table] ?? []) t.set(c, []);
    this.tables.set(table, t);
  }

  async save(tables: readonly string[]): Promise<string> {
    this.saves.push([...tables]);
    return tables.map((t) => this.saveTable(t)).join('');
  }

  /** One table as iptables-save prints it (without counters and the date comments). */
  saveTable(table: string): string {
    const t = this.tables.get(table);
    if (!t) return '';
    const lines = [`*${table}`];
    // Built-in chains first, then user chains sorted by name, as iptables-legacy-save prints them.
    const builtins = builtinChains[table] ?? [];
    const order = [...builtins, ...[...t.keys()].filter((c) => !builtins.includes(c)).sort()];
    for (const c of order) lines.push(`:${c} ${builtins.includes(c) ? 'ACCEPT' : '-'} [0:0]`);
    for (const c of order) for (const r of t.get(c)!) lines.push(['-A', c, ...r.map(quote)].join(' '));
    lines.push('COMMIT', '');
    return lines.join('\n');
  }

  /** Rules of one chain as `-A CHAIN ...` lines. */
  chainRules(table: string, chain: string): string[] | undefined {
    return this.tables.get(table)?.get(chain)?.map((r) => ['-A', chain, ...r.map(quote)].join(' '));
  }

  chains(table: string): string[] {
    return [...(this.tables.get(table)?.keys() ?? [])];
  }

  async restore(payload: string): Promise<void> {
    this.restores.push(payload);
    if (this.failures > 0) {
      this.failures--;
      throw new HostCommandError('iptables-restore --noflush', 'iptables-restore: unable to initialize table (injected failure)', 1);
    }
    let work: Table | undefined;
    let tableName = '';
    const lines = payload.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!.trim();
      const fail = (msg: string): never => {
        throw new HostCommandError('iptables-restore --noflush', `iptables-restore: line ${i + 1} failed: ${msg}`, 1);
      };
      if (!line || line.startsWith('#')) continue;
      if (line.startsWith('*')) {
        tableName = line.slice(1);
        const cur = this.tables.get(tableName);
        if (!cur) fail(`unknown table ${tableName}`);
        work = new Map([...cur!].map(([k, v]) => [k, v.map((r) => [...r])]));
        continue;
      }
      if (!work) fail('rule outside a table');
      const w = work!;
      if (line === 'COMMIT') {
        this.tables.set(tableName, w);
        work = undefined;
        continue;
      }
      if (line.startsWith(':')) {
        const name = line.slice(1).split(' ')[0]!;
        w.set(name, []); // creates, or flushes an existing chain (noflush semantics)
        continue;
      }
      const args = splitArgs(line);
      const op = args[0];
      const chain = args[1] ?? '';
      if (op === '-X') {
        if (!w.has(chain)) fail(`chain ${chain} does not exist`);
        if ((builtinChains[tableName] ?? []).includes(chain)) fail(`cannot delete built-in chain ${chain}`);
        if ((w.get(chain) ?? []).length) fail(`chain ${chain} is not empty`);
        for (const [c, rules] of w) if (c !== chain && rules.some((r) => jumpTarget(r) === chain)) fail(`chain ${chain} is referenced by ${c}`);
        w.delete(chain);
        continue;
      }
      if (op === '-F') {
        if (!w.has(chain)) fail(`chain ${chain} does not exist`);
        w.set(chain, []);
        continue;
      }
      if (op !== '-A' && op !== '-I' && op !== '-D' && op !== '-C') fail(`unsupported command ${op}`);
      if (!w.has(chain)) fail(`chain ${chain} does not exist`);
      let rest = args.slice(2);
      let pos = 1;
      if (op === '-I' && /^\d+$/.test(rest[0] ?? '')) {
        pos = Number(rest[0]);
        rest = rest.slice(1);
      }
      const target = jumpTarget(rest);
      if (target && !builtinTargets.has(target) && !w.has(target)) fail(`Couldn't load target \`${target}'`);
      const rules = w.get(chain)!;
      const same = (r: string[]) => r.join('\u0000') === rest.join('\u0000');
      if (op === '-C') {
        if (!rules.some(same)) fail('Bad rule (does a matching rule exist in that chain?)');
      } else if (op === '-A') rules.push(rest);
      else if (op === '-I') rules.splice(pos - 1, 0, rest);
      else {
        const idx = rules.findIndex(same);
        if (idx < 0) fail(`rule to delete not found in ${chain}`);
        rules.splice(idx, 1);
      }
    }
    if (work) throw new HostCommandError('iptables-restore --noflush', 'iptables-restore: COMMIT expected at end of input', 1);
  }

  async deleteConntrack(filter: ConntrackFilter): Promise<number> {
    this.conntrackDeletes.push(filter);
    return 0;
  }

  async setSysctl(name: string, value: string): Promise<void> {
    this.sysctls.set(name, value);
  }
}

function quote(a: string): string {
  return /[\s"]/.test(a) ? `"${a.replace(/"/g, '\\"')}"` : a;
}
