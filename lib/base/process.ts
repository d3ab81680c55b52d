/**
 * Runs a short program (ip, mount, nsenter ...) to its end and collects what it printed, with
 * node:child_process directly. The kubelet runs a few of these for every pod it starts; execa,
 * which the rest of tkube uses for such commands, costs ~4 ms of the caller's CPU a run (its
 * stream and option machinery), this ~1 ms (the spawn itself), and on a busy node that is CPU
 * the containers being started need.
 */
import { spawn } from 'node:child_process';

export interface ProcessOptions {
  /** Written to the program's standard input, which is then closed; without it stdin is /dev/null. */
  input?: string;
  /** Killed (SIGKILL) when still running after this long. */
  timeoutMs?: number;
  /** Added to (and overriding) this process's environment. */
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
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      env: opts.env ? { ...process.env, ...opts.env } : process.env,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
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
    child.stderr!.on('data', (b: Buffer) => err.push(b));
    child.once('error', (e) => {
      // Only a failed start leaves the child without a pid; later errors (a failed kill) end in 'close'.
      if (settled || child.pid !== undefined) return;
      settled = true;
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code, signal) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ stdout: text(out), stderr: text(err), exitCode: code ?? undefined, signal: signal ?? undefined, timedOut });
    });
    if (opts.input !== undefined) {
      // A program that exits without reading all of its input closes the pipe: not an error here.
      child.stdin!.on('error', () => undefined);
      child.stdin!.end(opts.input);
    }
  });
}

function text(chunks: Buffer[]): string {
  const s = Buffer.concat(chunks).toString('utf8');
  if (s.endsWith('\r\n')) return s.slice(0, -2);
  return s.endsWith('\n') ? s.slice(0, -1) : s;
}
