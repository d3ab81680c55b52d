/**
 * Runs a short program (ip, mount, nsenter ...) to its end and collects what it printed. The
 * kubelet runs a few of these for every pod it starts, and on a busy node their cost is CPU the
 * containers being started need:
 *
 * - node:child_process directly, not execa (~4 ms of the caller's CPU a run for its stream and
 *   option machinery, against ~1 ms for the spawn itself);
 * - and the spawn happens in a small launcher process, not in the caller. fork() copies the
 *   page tables of the process that forks and write-protects all its memory, and Node's spawn
 *   waits for the child's exec: in a kubelet of ~115 MB that was ~4.5 ms of CPU and ~8 ms of a
 *   stalled event loop a program, in the launcher (~40 MB, nothing else to do) ~1.3 ms, and the
 *   caller only sends a message and waits.
 *
 *   caller ──{id, file, args, options}──► launcher (node, its own process) ──spawn──► program
 *          ◄──{id, result | error}────────┘
 *
 * The launcher starts with the first program and exits with its parent (its IPC channel
 * closes); it never keeps the parent alive. Should it die, the requests it had fail (a program
 * may or may not have run: callers retry as for any failed command) and the next one starts a
 * new launcher. Where it cannot start at all, programs are spawned here.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface ProcessOptions {
  /** Written to the program's standard input, which is then closed; without it stdin is /dev/null. */
  input?: string;
  /** Killed (SIGKILL) when still running after this long. */
  timeoutMs?: number;
  /** Added to (and overriding) the environment (this process's as it was when the launcher started). */
  env?: Record<string, string>;
}

export interface ProcessResult {
  /** Its output, less one final newline (as a shell's `$(...)` would). */
  stdout: string;
  stderr: string;
  /** Undefined when it was ended by a signal. */
  exitCode: number | undefined;
  signal: NodeJS.Signals | undefined;
  timedOut: boolean;
}

/** Resolves once the program has exited and its output is read; rejects only when it cannot be started. */
export function runProcess(file: string, args: readonly string[], opts: ProcessOptions = {}): Promise<ProcessResult> {
  return launcher.run(file, args, opts);
}

/**
 * Spawns one program and collects its output. Self-contained on purpose: the launcher process
 * runs this very function from its source text, so it may use only its parameters.
 */
function spawnAndCollect(
  spawnFn: typeof spawn,
  file: string,
  args: readonly string[],
  opts: ProcessOptions,
  done: (err: (Error & { code?: string }) | undefined, result?: ProcessResult) => void,
): void {
  const text = (chunks: Buffer[]): string => {
    const s = Buffer.concat(chunks).toString('utf8');
    if (s.endsWith('\r\n')) return s.slice(0, -2);
    return s.endsWith('\n') ? s.slice(0, -1) : s;
  };
  let child: ReturnType<typeof spawn>;
  try {
    child = spawnFn(file, args, {
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      env: opts.env ? { ...process.env, ...opts.env } : process.env,
    });
  } catch (err) {
    done(err as Error);
    return;
  }
  const out: Buffer[] = [];
  const errOut: Buffer[] = [];
  let timedOut = false;
  let settled = false;
  const timer =
    opts.timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true;
          child.kill('SIGKILL');
        }, opts.timeoutMs);
  child.stdout!.on('data', (b: Buffer) => out.push(b));
  child.stderr!.on('data', (b: Buffer) => errOut.push(b));
  child.once('error', (e) => {
    // Only a failed start leaves the child without a pid; later errors (a failed kill) end in 'close'.
    if (settled || child.pid !== undefined) return;
    settled = true;
    clearTimeout(timer);
    done(e);
  });
  child.once('close', (code, signal) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    done(undefined, { stdout: text(out), stderr: text(errOut), exitCode: code ?? undefined, signal: signal ?? undefined, timedOut });
  });
  if (opts.input !== undefined) {
    // A program that exits without reading all of its input closes the pipe: not an error here.
    child.stdin!.on('error', () => undefined);
    child.stdin!.end(opts.input);
  }
}

function spawnHere(file: string, args: readonly string[], opts: ProcessOptions): Promise<ProcessResult> {
  return new Promise((resolve, reject) => spawnAndCollect(spawn, file, args, opts, (err, r) => (err ? reject(err) : resolve(r!))));
}

/** A start failure as the launcher reports it: message and errno code, as spawn's own error has them. */
interface SentError {
  message: string;
  code?: string;
}

type Request = { id: number; file: string; args: readonly string[]; opts: ProcessOptions };
type Reply = { id: number; result?: ProcessResult; error?: SentError };

/** The launcher's program: a loop around spawnAndCollect (CommonJS, run with `node -e`). */
const launcherSource = `'use strict';
const { spawn } = require('node:child_process');
const spawnAndCollect = ${spawnAndCollect.toString()};
process.on('disconnect', () => process.exit(0));
process.on('message', (m) => {
  spawnAndCollect(spawn, m.file, m.args, m.opts, (err, result) => {
    if (!process.connected) return;
    process.send(err ? { id: m.id, error: { message: err.message, code: err.code } } : { id: m.id, result });
  });
});
`;

export class ProcessLauncher {
  private child?: ChildProcess;
  /** The launcher could not be started, or died before it ever answered: spawn here from now on. */
  private unavailable = false;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: ProcessResult) => void; reject: (e: Error) => void }>();

  /** `source`: the launcher's program (tests give a broken one). */
  constructor(private readonly source = launcherSource) {}

  run(file: string, args: readonly string[], opts: ProcessOptions): Promise<ProcessResult> {
    const child = this.launcher();
    if (!child) return spawnHere(file, args, opts);
    const id = this.nextId++;
    return new Promise<ProcessResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.hold(child);
      const request: Request = { id, file, args, opts };
      child.send(request, (err) => {
        if (!err) return;
        this.settle(child, id)?.reject(new Error(`the process launcher did not take ${file}: ${err.message}`));
      });
    });
  }

  /** PID of the launcher process, once started. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  private launcher(): ChildProcess | undefined {
    if (this.child || this.unavailable) return this.child;
    let child: ChildProcess;
    try {
      // Its own small heap, and none of this process's flags (a --cpu-prof or --inspect of ours).
      child = spawn(process.execPath, ['--max-old-space-size=256', '--max-semi-space-size=1', '-e', this.source], {
        stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
        serialization: 'json',
      });
    } catch {
      this.unavailable = true;
      return undefined;
    }
    this.child = child;
    let answered = false;
    child.on('message', (m: Reply) => {
      answered = true;
      const p = this.settle(child, m.id);
      if (!p) return;
      // JSON leaves out what is undefined: put every field back.
      if (m.result) p.resolve({ stdout: m.result.stdout, stderr: m.result.stderr, exitCode: m.result.exitCode ?? undefined, signal: m.result.signal ?? undefined, timedOut: m.result.timedOut });
      else p.reject(Object.assign(new Error(m.error?.message ?? 'the program could not be started'), m.error?.code ? { code: m.error.code } : {}));
    });
    const gone = (why: string) => {
      if (this.child !== child) return;
      this.child = undefined;
      // One that never answered cannot run here (a broken install, code instrumented for coverage...).
      if (!answered) this.unavailable = true;
      const failed = [...this.pending.values()];
      this.pending.clear();
      for (const p of failed) p.reject(new Error(`the process launcher ${why} before the program's result came back`));
    };
    child.once('error', (err) => {
      // Not started at all (no pid): spawn here from now on.
      if (child.pid === undefined) this.unavailable = true;
      gone(`failed (${err.message})`);
    });
    child.once('exit', (code, signal) => gone(signal ? `was killed by ${signal}` : `exited with code ${code}`));
    this.release(child);
    return child;
  }

  private settle(child: ChildProcess, id: number) {
    const p = this.pending.get(id);
    if (!p) return undefined;
    this.pending.delete(id);
    if (this.pending.size === 0) this.release(child);
    return p;
  }

  /** Waiting for a result keeps this process alive; an idle launcher does not. */
  private hold(child: ChildProcess): void {
    child.ref();
    child.channel?.ref();
  }

  private release(child: ChildProcess): void {
    child.unref();
    child.channel?.unref();
  }
}

const launcher = new ProcessLauncher();

/** The launcher's PID (undefined before the first program, or where programs are spawned here). */
export function processLauncherPid(): number | undefined {
  return launcher.pid;
}
