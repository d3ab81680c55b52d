/**
 * The proxy's host side effects: iptables-save/-restore, conntrack and sysctl. Everything the
 * proxiers do to the kernel goes through a `ProxyHost`, so that tests run the real commands inside
 * a network namespace (`ExecProxyHost` with `netns`) or swap in `FakeProxyHost` (fake-host.ts).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { execa } from 'execa';
import type { Logger } from '../base/index.js';

/** Which conntrack entries to delete, as `conntrack -D` filters. Protocol defaults to udp. */
export interface ConntrackFilter {
  protocol?: 'udp' | 'tcp' | 'sctp';
  /** Original destination address (`--orig-dst`). */
  origDst?: string;
  /** Original destination port (`--dport`). */
  origPortDst?: number;
  /** Address the connection was DNATed to (`--dst-nat`). */
  dstNat?: string;
}

/**
 * Contract: every method runs one command to completion. Failures reject with a
 * `HostCommandError` carrying the command and its stderr; nothing is retried here (the proxier
 * decides). Calls may run concurrently; `iptables-restore` and `iptables-save` wait for the
 * xtables lock.
 */
export interface ProxyHost {
  /** `iptables-save` of the given tables (each `-t table`), concatenated. */
  save(tables: readonly string[]): Promise<string>;
  /** `iptables-restore --noflush` with `payload` on stdin. */
  restore(payload: string): Promise<void>;
  /** `conntrack -D` with the filter; resolves with the number of entries deleted (0 when none matched). */
  deleteConntrack(filter: ConntrackFilter): Promise<number>;
  /** Writes a sysctl (`net/ipv4/conf/all/route_localnet` or dotted form). */
  setSysctl(name: string, value: string): Promise<void>;
}

export class HostCommandError extends Error {
  constructor(
    readonly command: string,
    readonly stderr: string,
    readonly exitCode: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(`${command} failed${exitCode !== undefined ? ` (exit ${exitCode})` : ''}: ${stderr.trim() || 'no output'}`, options);
    this.name = 'HostCommandError';
  }

  /** For iptables-restore: the 1-based line of the payload it rejected, when it says so. */
  get line(): number | undefined {
    const m = /line:? (\d+)/i.exec(this.stderr);
    return m ? Number(m[1]) : undefined;
  }
}

export interface ExecProxyHostOptions {
  /** Run every command inside this named network namespace (`nsenter --net=/run/netns/<name>`). */
  netns?: string;
  /** Seconds to wait for the xtables lock. Default 5. */
  lockWaitSeconds?: number;
  log?: Logger;
}

/** The sections (`*table` … `COMMIT`) of an iptables-save output for these tables, in the order saved. */
export function keepTables(saved: string, tables: readonly string[]): string {
  const want = new Set(tables);
  const out: string[] = [];
  let keep = false;
  for (const line of saved.split('\n')) {
    if (line.startsWith('*')) keep = want.has(line.slice(1).trim());
    if (keep) out.push(line);
    if (line === 'COMMIT') keep = false;
  }
  return out.join('\n') + '\n';
}

/** Runs the real commands with execa, optionally inside a named network namespace. */
export class ExecProxyHost implements ProxyHost {
  private readonly prefix: string[];
  private readonly wait: string;

  constructor(private readonly opts: ExecProxyHostOptions = {}) {
    this.prefix = opts.netns ? ['nsenter', `--net=/run/netns/${opts.netns}`] : [];
    this.wait = String(opts.lockWaitSeconds ?? 5);
  }

  /** Runs a command to completion; never rejects on a non-zero exit (callers decide). */
  private async run(argv: string[], input?: string): Promise<{ exitCode: number | undefined; stdout: string; stderr: string }> {
    const [cmd, ...args] = [...this.prefix, ...argv];
    const r = await execa(cmd!, args, { reject: false, ...(input !== undefined ? { input } : {}) });
    return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr };
  }

  async save(tables: readonly string[]): Promise<string> {
    if (tables.length === 1) {
      const r = await this.run(['iptables-save', '-t', tables[0]!]);
      if (r.exitCode !== 0) throw new HostCommandError(`iptables-save -t ${tables[0]}`, r.stderr, r.exitCode);
      return r.stdout + '\n';
    }
    // Several tables: one iptables-save of all of them (one process, one read of the ruleset:
    // it is on every full sync's path), keeping only the sections asked for.
    const r = await this.run(['iptables-save']);
    if (r.exitCode !== 0) throw new HostCommandError('iptables-save', r.stderr, r.exitCode);
    return keepTables(r.stdout, tables);
  }

  async restore(payload: string): Promise<void> {
    const r = await this.run(['iptables-restore', '-w', this.wait, '--noflush'], payload);
    if (r.exitCode !== 0) throw new HostCommandError('iptables-restore --noflush', r.stderr, r.exitCode);
  }

  async deleteConntrack(f: ConntrackFilter): Promise<number> {
    const args = ['conntrack', '-D', '-p', f.protocol ?? 'udp'];
    if (f.origDst) args.push('--orig-dst', f.origDst);
    if (f.origPortDst) args.push('--dport', String(f.origPortDst));
    if (f.dstNat) args.push('--dst-nat', f.dstNat);
    const r = await this.run(args);
    const text = `${r.stdout}\n${r.stderr}`;
    const m = /(\d+) flow entries have been deleted/.exec(text);
    // conntrack exits 1 when nothing matched; that is success for us.
    if (r.exitCode === 0 || (m && Number(m[1]) === 0)) return m ? Number(m[1]) : 0;
    throw new HostCommandError(args.join(' '), r.stderr, r.exitCode);
  }

  async setSysctl(name: string, value: string): Promise<void> {
    const path = `/proc/sys/${name.replace(/\./g, '/')}`;
    if (!this.opts.netns) {
      const current = (await readFile(path, 'utf8').catch(() => '')).trim();
      if (current === value) return;
      await writeFile(path, value);
      return;
    }
    const r = await this.run(['sh', '-c', `echo ${value} > ${path}`]);
    if (r.exitCode !== 0) throw new HostCommandError(`sysctl ${name}=${value}`, r.stderr, r.exitCode);
  }
}
