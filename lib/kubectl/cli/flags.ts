/**
 * Command-line flags as kubectl (cobra and pflag) reads them: `--name=value`, `--name value`,
 * `-n value`, `-nvalue`, `-n=value`, grouped boolean shorthands (`-it`), `--bool=false`,
 * repeated flags (`-f a -f b`, `-L a,b`), positional arguments anywhere, and `--` to end the
 * flags. Errors carry pflag's wording, which kubectl users see as `error: unknown flag: --foo`.
 */
import { parseDuration } from '../../base/index.js';

export type FlagKind = 'string' | 'bool' | 'int' | 'duration' | 'stringArray' | 'stringSlice';

interface FlagValue {
  string: string;
  bool: boolean;
  int: number;
  /** milliseconds */
  duration: number;
  /** Each occurrence is one value (`-f a -f b`). */
  stringArray: string[];
  /** Each occurrence may hold several comma-separated values (`-L a,b -L c`). */
  stringSlice: string[];
}

export interface FlagDef<K extends FlagKind = FlagKind> {
  kind: K;
  /** One-letter shorthand (`n` for `-n`). */
  short?: string;
  default: FlagValue[K];
  usage: string;
  /** The value a bare `--flag` gives a non-bool flag (pflag's NoOptDefVal), e.g. `--cascade` = background. */
  noOptDefault?: string;
  /** Not listed in help (deprecated aliases). */
  hidden?: boolean;
}

export type FlagDefs = Record<string, FlagDef>;
export type FlagValues<D extends FlagDefs> = { [K in keyof D]: D[K] extends FlagDef<infer T> ? FlagValue[T] : never };

/** A flag the user got wrong: cobra prints it as `error: <message>` and points at --help. */
export class FlagParseError extends Error {
  override readonly name = 'FlagParseError';
}

export function f<K extends FlagKind>(kind: K, def: FlagValue[K], usage: string, extra: { short?: string; noOptDefault?: string; hidden?: boolean } = {}): FlagDef<K> {
  return { kind, default: def, usage, ...extra };
}

export interface ParsedArgs {
  /** Values of every defined flag (defaults filled in). */
  values: Record<string, unknown>;
  /** Names of the flags the user set. */
  changed: Set<string>;
  /** Positional arguments, in order, before `--`. */
  args: string[];
  /** Arguments after `--` (the command of `run`, `exec`). */
  dashArgs: string[];
  /** True when `--` was given. */
  hasDash: boolean;
}

function goQuote(s: string): string {
  return JSON.stringify(s);
}

function convert(name: string, def: FlagDef, raw: string, prev: unknown): unknown {
  switch (def.kind) {
    case 'string':
      return raw;
    case 'bool': {
      const t = ['1', 't', 'T', 'TRUE', 'true', 'True'];
      const fl = ['0', 'f', 'F', 'FALSE', 'false', 'False'];
      if (t.includes(raw)) return true;
      if (fl.includes(raw)) return false;
      throw new FlagParseError(`invalid argument ${goQuote(raw)} for "--${name}" flag: strconv.ParseBool: parsing ${goQuote(raw)}: invalid syntax`);
    }
    case 'int': {
      if (!/^[+-]?\d+$/.test(raw)) throw new FlagParseError(`invalid argument ${goQuote(raw)} for "--${name}" flag: strconv.ParseInt: parsing ${goQuote(raw)}: invalid syntax`);
      return Number(raw);
    }
    case 'duration': {
      try {
        return parseGoDuration(raw);
      } catch {
        throw new FlagParseError(`invalid argument ${goQuote(raw)} for "--${name}" flag: time: invalid duration ${goQuote(raw)}`);
      }
    }
    case 'stringArray':
      return [...((prev as string[] | undefined) ?? []), raw];
    case 'stringSlice':
      return [...((prev as string[] | undefined) ?? []), ...(raw === '' ? [] : raw.split(','))];
  }
}

/** Go's time.ParseDuration (a bare 0 allowed), in milliseconds. */
export function parseGoDuration(s: string): number {
  if (s === '0') return 0;
  const neg = s.startsWith('-');
  const v = parseDuration(neg ? s.slice(1) : s.replace(/^\+/, ''));
  if (/^\d+(\.\d+)?$/.test(s)) throw new Error('missing unit');
  return neg ? -v : v;
}

/**
 * Parses `argv` against `defs`. `interspersed` false stops at the first positional argument
 * (everything after it is positional), as `kubectl run NAME --image=x -- cmd` does not need.
 */
export function parseFlags(argv: string[], defs: FlagDefs): ParsedArgs {
  const values: Record<string, unknown> = {};
  for (const [n, d] of Object.entries(defs)) values[n] = Array.isArray(d.default) ? [...d.default] : d.default;
  const byShort = new Map<string, string>();
  for (const [n, d] of Object.entries(defs)) if (d.short) byShort.set(d.short, n);
  const changed = new Set<string>();
  const args: string[] = [];
  let dashArgs: string[] = [];
  let hasDash = false;

  const set = (name: string, raw: string) => {
    const d = defs[name]!;
    // The first occurrence of a list flag replaces its default; later ones add.
    const prev = changed.has(name) ? values[name] : [];
    values[name] = convert(name, d, raw, prev);
    changed.add(name);
  };

  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      hasDash = true;
      dashArgs = argv.slice(i + 1);
      break;
    }
    if (a.startsWith('--')) {
      const body = a.slice(2);
      const eq = body.indexOf('=');
      const name = eq >= 0 ? body.slice(0, eq) : body;
      const d = defs[name];
      if (!d) throw new FlagParseError(`unknown flag: --${name}`);
      if (eq >= 0) set(name, body.slice(eq + 1));
      else if (d.kind === 'bool') set(name, 'true');
      else if (d.noOptDefault !== undefined) set(name, d.noOptDefault);
      else if (i + 1 < argv.length) set(name, argv[++i]!);
      else throw new FlagParseError(`flag needs an argument: --${name}`);
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      // One or more shorthands: -it, -n ns, -nns, -n=ns, -oyaml
      let j = 1;
      while (j < a.length) {
        const c = a[j]!;
        const name = byShort.get(c);
        if (!name) throw new FlagParseError(`unknown shorthand flag: '${c}' in ${a}`);
        const d = defs[name]!;
        const rest = a.slice(j + 1);
        if (rest.startsWith('=')) {
          set(name, rest.slice(1));
          break;
        }
        if (d.kind === 'bool') {
          set(name, 'true');
          j++;
          continue;
        }
        if (rest !== '') {
          set(name, rest);
          break;
        }
        if (d.noOptDefault !== undefined) set(name, d.noOptDefault);
        else if (i + 1 < argv.length) set(name, argv[++i]!);
        else throw new FlagParseError(`flag needs an argument: '${c}' in -${c}`);
        break;
      }
      continue;
    }
    args.push(a);
  }
  return { values, changed, args, dashArgs, hasDash };
}

/** Help text for a set of flags, in kubectl's `Options:` layout (sorted by name). */
export function flagUsages(defs: FlagDefs): string {
  const lines: string[] = [];
  for (const name of Object.keys(defs).sort()) {
    const d = defs[name]!;
    if (d.hidden) continue;
    const head = d.short ? `-${d.short}, --${name}` : `--${name}`;
    lines.push(`    ${head}=${formatDefault(d)}:`);
    lines.push(`\t${d.usage}`);
    lines.push('');
  }
  return lines.join('\n');
}

function formatDefault(d: FlagDef): string {
  if (d.kind === 'stringArray' || d.kind === 'stringSlice') return `[${(d.default as string[]).join(',')}]`;
  if (d.kind === 'duration') {
    const ms = d.default as number;
    if (ms === 0) return '0s';
    if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h0m0s`;
    if (ms % 60_000 === 0) return `${ms / 60_000}m0s`;
    return `${ms / 1000}s`;
  }
  if (d.kind === 'string') return `'${String(d.default)}'`;
  return String(d.default);
}
