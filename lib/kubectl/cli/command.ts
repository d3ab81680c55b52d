/**
 * Commands as kubectl's cobra tree has them: a name, help text, local flags, subcommands and a
 * run function. `execute` finds the command a command line names, parses its flags together
 * with the global ones, prints help on `-h/--help`, and turns whatever a command throws into
 * kubectl's message and exit code.
 */
import { Factory, globalFlags, globalOptionsFrom } from '../factory.js';
import { errorText, ReportedError, UsageError } from './errors.js';
import { FlagParseError, flagUsages, parseFlags, type FlagDefs } from './flags.js';
import type { IOStreams } from './io.js';

export const programName = 'tkubectl';

export interface CommandContext {
  f: Factory;
  io: IOStreams;
  /** Positional arguments (after the command path). */
  args: string[];
  /** Arguments after `--`. */
  dashArgs: string[];
  hasDash: boolean;
  /** Flag values, local and global. */
  flags: Record<string, unknown>;
  /** Flags the user set. */
  changed: Set<string>;
  /** `tkubectl create deployment`: for messages. */
  path: string;
  /** Writes to stdout. */
  out(text: string): void;
  /** Writes to stderr. */
  err(text: string): void;
}

export interface Command {
  name: string;
  aliases?: string[];
  /** One line, for the command list. */
  short: string;
  long?: string;
  /** Usage line after the command path, e.g. `[TYPE] NAME [flags]`. */
  usage?: string;
  examples?: string;
  flags?: FlagDefs;
  subcommands?: Command[];
  /** Returns the exit code (0 when omitted). */
  run?(ctx: CommandContext): Promise<number | void>;
  /** Help groups the command under this heading in the root's list. */
  group?: string;
}

function findSub(cmd: Command, name: string): Command | undefined {
  return cmd.subcommands?.find((c) => c.name === name || c.aliases?.includes(name));
}

/** Walks argv to the command it names; returns the command, its path and argv without the path. */
function locate(root: Command, argv: string[]): { cmd: Command; path: Command[]; rest: string[] } {
  let cmd = root;
  const path = [root];
  const rest = [...argv];
  const valueFlags = new Set<string>();
  const valueShorts = new Set<string>();
  const note = (defs: FlagDefs | undefined) => {
    for (const [n, d] of Object.entries(defs ?? {})) {
      if (d.kind === 'bool' || d.noOptDefault !== undefined) continue;
      valueFlags.add(n);
      if (d.short) valueShorts.add(d.short);
    }
  };
  note(globalFlags);
  note(cmd.flags);
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (a === '--') break;
    if (a.startsWith('--')) {
      if (!a.includes('=') && valueFlags.has(a.slice(2))) i++;
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      if (a.length === 2 && valueShorts.has(a[1]!)) i++;
      continue;
    }
    const sub = findSub(cmd, a);
    if (!sub) break;
    cmd = sub;
    path.push(sub);
    note(sub.flags);
    rest.splice(i, 1);
    i--;
  }
  return { cmd, path, rest };
}

export function commandPath(path: Command[]): string {
  return [programName, ...path.slice(1).map((c) => c.name)].join(' ');
}

/** The help text of a command, in kubectl's layout. */
export function helpText(path: Command[]): string {
  const cmd = path[path.length - 1]!;
  const full = commandPath(path);
  const parts: string[] = [];
  parts.push((cmd.long ?? cmd.short).trim(), '');
  if (cmd.examples) parts.push('Examples:', cmd.examples.replace(/\s+$/, ''), '');
  if (cmd.subcommands?.length) {
    const groups = new Map<string, Command[]>();
    for (const c of cmd.subcommands) {
      const g = c.group ?? 'Available Commands:';
      groups.set(g, [...(groups.get(g) ?? []), c]);
    }
    const width = Math.max(...cmd.subcommands.map((c) => c.name.length)) + 2;
    for (const [g, cs] of groups) {
      parts.push(g);
      for (const c of cs) parts.push(`  ${c.name.padEnd(width)}${c.short}`);
      parts.push('');
    }
  }
  if (cmd.flags && Object.keys(cmd.flags).length) parts.push('Options:', flagUsages(cmd.flags));
  parts.push('Usage:', `  ${full} ${cmd.usage ?? (cmd.subcommands?.length && !cmd.run ? '[command]' : '[flags]')} [options]`, '');
  if (cmd.subcommands?.length) parts.push(`Use "${full} <command> --help" for more information about a given command.`);
  parts.push(`Use "${programName} options" for a list of global command-line options (applies to all commands).`, '');
  return parts.join('\n');
}

/** Runs one command line; returns the exit code. Nothing is thrown. */
export async function execute(root: Command, argv: string[], io: IOStreams): Promise<number> {
  const { cmd, path, rest } = locate(root, argv);
  const full = commandPath(path);
  const write = (s: NodeJS.WritableStream, text: string) => {
    s.write(text);
  };
  let f: Factory | undefined;
  try {
    const defs: FlagDefs = { ...globalFlags, ...(cmd.flags ?? {}) };
    let parsed;
    try {
      parsed = parseFlags(rest, defs);
    } catch (err) {
      if (err instanceof FlagParseError) {
        write(io.stderr, `Error: ${err.message}\nSee '${full} --help' for usage.\n`);
        return 1;
      }
      throw err;
    }
    if (parsed.values.help) {
      write(io.stdout, helpText(path));
      return 0;
    }
    if (!cmd.run) {
      if (parsed.args.length > 0 && cmd.subcommands?.length) {
        write(io.stderr, `error: unknown command "${parsed.args[0]}" for "${full}"\nRun '${full} --help' for usage.\n`);
        return 1;
      }
      write(io.stdout, helpText(path));
      return 0;
    }
    f = new Factory(io, globalOptionsFrom(parsed.values));
    const ctx: CommandContext = {
      f,
      io,
      args: parsed.args,
      dashArgs: parsed.dashArgs,
      hasDash: parsed.hasDash,
      flags: parsed.values,
      changed: parsed.changed,
      path: full,
      out: (t) => write(io.stdout, t),
      err: (t) => write(io.stderr, t),
    };
    const code = await cmd.run(ctx);
    return code ?? 0;
  } catch (err) {
    if (err instanceof ReportedError) return err.exitCode;
    const text = err instanceof UsageError ? `error: ${err.message}\nSee '${full} -h' for help and examples` : errorText(err, full);
    if (text) write(io.stderr, `${text}\n`);
    return (err as { exitCode?: number }).exitCode ?? 1;
  } finally {
    f?.close();
  }
}
