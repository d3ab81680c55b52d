/**
 * The one door through which the pod network touches the host: every `ip`, `iptables`,
 * `sysctl` and `nsenter` command goes through a CommandRunner. The real one runs them as child
 * processes (runProcess), optionally inside a given network namespace (how the e2e tests keep the host clean);
 * the fake one records them (how the unit tests check what would have run).
 */
import { runProcess } from '../../base/process.js';

export interface CommandResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface RunOptions {
  /** Written to the command's standard input. */
  input?: string;
  /**
   * Exit codes other than 0 that are answers rather than failures (e.g. 1 from `iptables -C`
   * for "no such rule"). A run ending with one of them resolves instead of throwing.
   */
  okExitCodes?: number[];
}

/**
 * Runs host commands in one network namespace.
 *
 * Contract: `run` resolves with the result when the command exits 0 (or with an exit code in
 * `okExitCodes`), and rejects with a CommandError naming the command, its exit code and its
 * stderr otherwise, or when it cannot be started. Commands run one process each; a runner holds
 * no state between runs and may be used concurrently.
 */
export interface CommandRunner {
  /** Where this runner's commands run, for logs and errors ("host", "netns /run/netns/x", "netns of pid 42"). */
  readonly where: string;
  run(argv: readonly string[], opts?: RunOptions): Promise<CommandResult>;
  /**
   * A runner for the network namespace of process `pid` (a pause container's PID 1), reached
   * with `nsenter -t <pid> -n`. PIDs are those of the host's PID namespace.
   */
  inNetnsOfPid(pid: number): CommandRunner;
}

export class CommandError extends Error {
  override readonly name = 'CommandError';
  constructor(
    readonly argv: readonly string[],
    readonly where: string,
    readonly exitCode: number | undefined,
    readonly stderr: string,
    options?: { cause?: unknown },
  ) {
    const what = exitCode === undefined ? 'could not be run' : `failed with exit code ${exitCode}`;
    super(`\`${argv.join(' ')}\` (${where}) ${what}${stderr ? `: ${stderr.trim()}` : ''}`, options);
  }
}

/** True when a failed `ip` command said the object is already there. */
export function isExistsError(err: unknown): boolean {
  return err instanceof CommandError && /File exists|already exists/i.test(err.stderr);
}

/** True when a failed `ip`/`iptables` command said the object is not there. */
export function isMissingError(err: unknown): boolean {
  return err instanceof CommandError && saysMissing(err.stderr);
}

/** True when an `ip`/`iptables` message says the object is not there. */
export function saysMissing(message: string): boolean {
  return /Cannot find device|does not exist|No such process|No such file or directory|No chain\/target\/match by that name|Bad rule|Cannot delete/i.test(message);
}

export interface ProcessCommandRunnerOptions {
  /**
   * A network namespace file (e.g. /run/netns/tkube-test-ab12) whose namespace the commands run
   * in, entered with `nsenter --net=<path>`. Unset: the runner's own namespace (the host's).
   */
  netnsPath?: string;
  /** How long one command may take before it is killed; default 30s. */
  timeoutMs?: number;
}

/** Runs commands as child processes. */
export class ProcessCommandRunner implements CommandRunner {
  readonly where: string;
  private readonly prefix: string[];
  private readonly timeoutMs: number;

  constructor(opts: ProcessCommandRunnerOptions = {}, prefix?: string[], where?: string) {
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    if (prefix) {
      this.prefix = prefix;
      this.where = where ?? 'host';
    } else if (opts.netnsPath) {
      // nsenter --net only switches the network namespace; unlike `ip netns exec` it leaves the
      // mount namespace (and so /sys and the cgroup mounts) alone.
      this.prefix = ['nsenter', `--net=${opts.netnsPath}`];
      this.where = `netns ${opts.netnsPath}`;
    } else {
      this.prefix = [];
      this.where = 'host';
    }
  }

  inNetnsOfPid(pid: number): CommandRunner {
    if (!Number.isInteger(pid) || pid <= 0) throw new Error(`invalid pid ${pid}: a running container's PID is needed to enter its network namespace`);
    return new ProcessCommandRunner({ timeoutMs: this.timeoutMs }, ['nsenter', '-t', String(pid), '-n'], `netns of pid ${pid}`);
  }

  async run(argv: readonly string[], opts: RunOptions = {}): Promise<CommandResult> {
    const full = [...this.prefix, ...argv];
    const [file, ...args] = full as [string, ...string[]];
    let r;
    try {
      r = await runProcess(file, args, { input: opts.input, timeoutMs: this.timeoutMs, env: { LC_ALL: 'C' } });
    } catch (err) {
      throw new CommandError(argv, this.where, undefined, (err as Error).message, { cause: err });
    }
    if (r.exitCode === undefined) {
      throw new CommandError(argv, this.where, undefined, r.timedOut ? `timed out after ${this.timeoutMs}ms` : r.stderr || `killed by ${r.signal}`);
    }
    const exitCode = r.exitCode;
    const result = { stdout: r.stdout, stderr: r.stderr, exitCode };
    if (exitCode !== 0 && !(opts.okExitCodes ?? []).includes(exitCode)) throw new CommandError(argv, this.where, exitCode, result.stderr);
    return result;
  }
}
