/**
 * The real tkube-controller-manager (from dist/) as a child process of a test, against a test
 * API server: its last lines of output for failure messages, and a stop that waits for it.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../..');

export interface RunningControllerManager {
  /** The last few thousand characters it printed. */
  log(): string;
  stop(): Promise<void>;
}

/** Starts it with `--kubeconfig`, no leader election and no health port, plus `args`. */
export function startControllerManager(kubeconfig: string, args: string[]): RunningControllerManager {
  const cm = spawn(process.execPath, [path.join(root, 'dist/cmd/tkube-controller-manager/main.js'), `--kubeconfig=${kubeconfig}`, '--leader-elect=false', '--secure-port=0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (d: Buffer) => (out = (out + d.toString()).slice(-6000));
  cm.stdout.on('data', keep);
  cm.stderr.on('data', keep);
  return {
    log: () => out,
    async stop() {
      if (cm.exitCode !== null || cm.signalCode !== null) return;
      const exited = new Promise((r) => cm.once('exit', r));
      cm.kill('SIGTERM');
      await exited;
    },
  };
}
