/**
 * The built tkube programs (dist/cmd/<name>/main.js) for tests that run them as real processes:
 * building dist/ when it is older than the sources, and starting a program with its stderr kept
 * for the failure message.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const root = path.resolve(import.meta.dirname, '../..');

/** The built entry point of a program, e.g. `bin('tkube-scheduler')`. */
export const bin = (name: string): string => path.join(root, 'dist/cmd', name, 'main.js');

function newestSource(dir: string): number {
  let newest = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, fs.statSync(p).mtimeMs);
  }
  return newest;
}

/** Builds dist/ unless every named program is newer than every source (npm test builds first). */
export async function ensureBuilt(programs: string[]): Promise<void> {
  const sources = Math.max(newestSource(path.join(root, 'lib')), newestSource(path.join(root, 'cmd')));
  const stale = programs.some((p) => !fs.existsSync(bin(p)) || fs.statSync(bin(p)).mtimeMs < sources);
  if (stale) await promisify(execFile)(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root });
}

export interface RunningProgram {
  name: string;
  proc: ChildProcess;
  /** The last 20,000 characters the program wrote to stderr (its pino log). */
  stderr(): string;
  /** Resolves with the exit code (or signal) once the program has exited. */
  exited: Promise<number | NodeJS.Signals | null>;
  /** SIGKILL: the program dies without cleaning up, as on a crash. */
  kill(): Promise<void>;
  /** SIGTERM, then SIGKILL if it is still there after 10 s. */
  stop(): Promise<void>;
}

export function startProgram(name: string, args: string[]): RunningProgram {
  const proc = spawn(process.execPath, [bin(name), ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-20_000);
  });
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) => proc.once('exit', (code, signal) => resolve(code ?? signal)));
  const gone = () => proc.exitCode !== null || proc.signalCode !== null;
  return {
    name,
    proc,
    stderr: () => err,
    exited,
    async kill() {
      if (!gone()) proc.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (gone()) return;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
