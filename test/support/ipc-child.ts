/**
 * Runs a compiled child program inside a network namespace with an IPC channel: request/reply
 * messages carry an `id`; the child announces `{ type: 'ready' }` first.
 */
import { fork, type ChildProcess } from 'node:child_process';

export class IpcChild {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (m: Record<string, unknown>) => void; reject: (e: Error) => void }>();

  private constructor(readonly child: ChildProcess) {
    child.on('message', (raw) => {
      const m = raw as { type: string; id?: number; message?: string };
      const p = m.id !== undefined ? this.pending.get(m.id) : undefined;
      if (!p) return;
      this.pending.delete(m.id!);
      if (m.type === 'error') p.reject(new Error(m.message));
      else p.resolve(m);
    });
    child.on('exit', (code) => {
      for (const p of this.pending.values()) p.reject(new Error(`child exited with ${code}`));
      this.pending.clear();
    });
  }

  /** Starts `entry` (compiled JS) with `node` inside the namespace at `netnsPath`; resolves on its ready message. */
  static start(entry: string, netnsPath: string, env: Record<string, string> = {}): Promise<{ child: IpcChild; ready: Record<string, unknown> }> {
    const cp = fork(entry, [], {
      execPath: 'nsenter',
      execArgv: [`--net=${netnsPath}`, process.execPath],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, ...env },
    });
    return new Promise((resolve, reject) => {
      cp.once('error', reject);
      cp.once('exit', (code) => reject(new Error(`child ${entry} exited with ${code} before it was ready`)));
      cp.on('message', (raw) => {
        const m = raw as Record<string, unknown>;
        if (m.type === 'ready') resolve({ child: new IpcChild(cp), ready: m });
      });
    });
  }

  call(msg: Record<string, unknown>): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      this.pending.set(id, { resolve, reject });
      this.child.send({ ...msg, id });
    });
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}
