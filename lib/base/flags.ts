/**
 * Command-line flags in the style of Kubernetes components: `--name=value` or `--name value`,
 * booleans as `--flag`, `--flag=true|false`. Unknown flags and bad values are errors that name
 * the flag. Every program gets `--help`, which lists each flag with its default.
 */

export type FlagType = 'string' | 'int' | 'bool' | 'duration' | 'stringList' | 'map' | 'float';

interface FlagValueTypes {
  string: string;
  int: number;
  float: number;
  bool: boolean;
  /** milliseconds */
  duration: number;
  stringList: string[];
  map: Record<string, string>;
}

export interface FlagSpec<T extends FlagType = FlagType> {
  type: T;
  default: FlagValueTypes[T];
  help: string;
  /** Optional check run after parsing; return an error message to refuse the value. */
  check?(v: FlagValueTypes[T]): string | undefined;
}

export type FlagSpecs = Record<string, FlagSpec>;
export type ParsedFlags<S extends FlagSpecs> = { [K in keyof S]: S[K] extends FlagSpec<infer T> ? FlagValueTypes[T] : never };

export class FlagError extends Error {
  override readonly name = 'FlagError';
}

/** Helper that keeps each spec's value type tied to its `type`. */
export function flag<T extends FlagType>(type: T, def: FlagValueTypes[T], help: string, check?: (v: FlagValueTypes[T]) => string | undefined): FlagSpec<T> {
  return { type, default: def, help, check };
}

/** Parses Go-style durations: "300ms", "10s", "1m30s", "1h". A bare number means seconds. */
export function parseDuration(s: string): number {
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  const unit: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  let m: RegExpExecArray | null;
  let consumed = 0;
  while ((m = re.exec(s)) !== null) {
    total += Number(m[1]) * unit[m[2]!]!;
    consumed = re.lastIndex;
  }
  if (consumed !== s.length || s.length === 0) throw new FlagError(`invalid duration "${s}" (examples: 500ms, 10s, 1m30s, 1h)`);
  return total;
}

export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1000) return `${ms}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = (ms % 60_000) / 1000;
  return `${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${s}s`;
}

function convert(name: string, spec: FlagSpec, raw: string): unknown {
  switch (spec.type) {
    case 'string':
      return raw;
    case 'int': {
      if (!/^-?\d+$/.test(raw)) throw new FlagError(`invalid value "${raw}" for flag --${name}: expected an integer`);
      return Number(raw);
    }
    case 'float': {
      const n = Number(raw);
      if (raw.trim() === '' || Number.isNaN(n)) throw new FlagError(`invalid value "${raw}" for flag --${name}: expected a number`);
      return n;
    }
    case 'bool': {
      if (raw === 'true' || raw === '1') return true;
      if (raw === 'false' || raw === '0') return false;
      throw new FlagError(`invalid value "${raw}" for flag --${name}: expected true or false`);
    }
    case 'duration':
      try {
        return parseDuration(raw);
      } catch (e) {
        throw new FlagError(`invalid value "${raw}" for flag --${name}: ${(e as Error).message}`);
      }
    case 'stringList':
      return raw === '' ? [] : raw.split(',').map((x) => x.trim()).filter((x) => x !== '');
    case 'map': {
      const out: Record<string, string> = {};
      for (const part of raw.split(',').filter((x) => x !== '')) {
        const eq = part.indexOf('=');
        if (eq <= 0) throw new FlagError(`invalid value "${raw}" for flag --${name}: expected key=value pairs separated by commas`);
        out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
      }
      return out;
    }
  }
}

function formatDefault(spec: FlagSpec): string {
  const d = spec.default as unknown;
  if (spec.type === 'duration') return formatDuration(d as number);
  if (Array.isArray(d)) return d.join(',');
  if (spec.type === 'map') return Object.entries(d as Record<string, string>).map(([k, v]) => `${k}=${v}`).join(',');
  return String(d);
}

/** The text `--help` prints. */
export function usage(program: string, description: string, specs: FlagSpecs): string {
  const lines = [`${program}: ${description}`, '', 'Usage:', `  ${program} [flags]`, '', 'Flags:'];
  const names = Object.keys(specs).sort();
  for (const name of names) {
    const spec = specs[name]!;
    const typ = spec.type === 'bool' ? '' : ` ${spec.type}`;
    const def = formatDefault(spec);
    lines.push(`      --${name}${typ}`);
    lines.push(`          ${spec.help}${def !== '' && def !== 'false' ? ` (default ${spec.type === 'string' ? JSON.stringify(def) : def})` : ''}`);
  }
  lines.push('  -h, --help', '          help for ' + program);
  return lines.join('\n') + '\n';
}

export interface ParseResult<S extends FlagSpecs> {
  flags: ParsedFlags<S>;
  /** Non-flag arguments, in order. */
  args: string[];
  /** Names of the flags given on the command line (as opposed to defaulted). */
  given: Set<string>;
}

/** Parses argv (without node and script). Throws FlagError; callers print it with usage. */
export function parseFlags<S extends FlagSpecs>(specs: S, argv: string[]): ParseResult<S> {
  const out: Record<string, unknown> = {};
  for (const [k, s] of Object.entries(specs)) {
    const d = s.default as unknown;
    out[k] = Array.isArray(d) ? [...d] : d !== null && typeof d === 'object' ? { ...d } : d;
  }
  const args: string[] = [];
  const given = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      args.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      args.push(a);
      continue;
    }
    const body = a.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    const spec = specs[name];
    if (!spec) throw new FlagError(`unknown flag: --${name}`);
    let raw: string;
    if (eq >= 0) raw = body.slice(eq + 1);
    else if (spec.type === 'bool') raw = 'true';
    else {
      if (i + 1 >= argv.length) throw new FlagError(`flag needs an argument: --${name}`);
      raw = argv[++i]!;
    }
    const v = convert(name, spec, raw);
    out[name] = v;
    given.add(name);
  }
  for (const [name, spec] of Object.entries(specs)) {
    const msg = spec.check?.(out[name] as never);
    if (msg) throw new FlagError(`invalid value for flag --${name}: ${msg}`);
  }
  return { flags: out as ParsedFlags<S>, args, given };
}

/**
 * Parses process.argv for a program: prints usage and exits 0 on --help, prints the error
 * and exits 2 on a bad flag.
 */
export function parseProgramFlags<S extends FlagSpecs>(program: string, description: string, specs: S, argv = process.argv.slice(2)): ParseResult<S> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(usage(program, description, specs));
    process.exit(0);
  }
  try {
    return parseFlags(specs, argv);
  } catch (e) {
    if (e instanceof FlagError) {
      process.stderr.write(`Error: ${e.message}\nRun '${program} --help' for usage.\n`);
      process.exit(2);
    }
    throw e;
  }
}
