/**
 * The one door through which volumes touch the host's mount table: tmpfs for emptyDir volumes
 * with medium Memory. The real Mounter runs mount(8)/umount(8) (the kubelet runs as root in
 * the host's mount namespace); FakeMounter records calls for unit tests.
 */
import fs from 'node:fs/promises';
import { runProcess } from '../../base/process.js';

export interface Mounter {
  /** Mounts a tmpfs at `dir` (which exists) limited to `sizeBytes` when given. Idempotent. */
  mountTmpfs(dir: string, sizeBytes?: number): Promise<void>;
  /** Unmounts whatever is mounted at `dir`; no error when nothing is. */
  unmount(dir: string): Promise<void>;
  /** True when `dir` is a mount point. */
  isMountPoint(dir: string): Promise<boolean>;
}

/** Mount points from /proc/self/mountinfo (field 5, with octal escapes such as \040 decoded). */
export async function listMountPoints(): Promise<string[]> {
  const text = await fs.readFile('/proc/self/mountinfo', 'utf8');
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => l.split(' ')[4]!.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8))));
}

/** How long mount(8) or umount(8) may take before it is killed. */
const mountTimeoutMs = 30_000;

export class ExecMounter implements Mounter {
  async isMountPoint(dir: string): Promise<boolean> {
    const real = await fs.realpath(dir).catch(() => dir);
    return (await listMountPoints()).includes(real);
  }

  async mountTmpfs(dir: string, sizeBytes?: number): Promise<void> {
    if (await this.isMountPoint(dir)) return;
    const opts = ['mode=0777', ...(sizeBytes ? [`size=${sizeBytes}`] : [])].join(',');
    const r = await runProcess('mount', ['-t', 'tmpfs', '-o', opts, 'tmpfs', dir], { timeoutMs: mountTimeoutMs });
    if (r.exitCode !== 0) throw new Error(`mounting a tmpfs on ${dir} failed: ${r.stderr.trim() || (r.timedOut ? 'timed out' : `exit code ${r.exitCode}`)}`);
  }

  async unmount(dir: string): Promise<void> {
    if (!(await this.isMountPoint(dir))) return;
    const r = await runProcess('umount', [dir], { timeoutMs: mountTimeoutMs });
    if (r.exitCode !== 0) {
      // Busy: detach it now; the kernel frees it when the last user goes.
      const lazy = await runProcess('umount', ['-l', dir], { timeoutMs: mountTimeoutMs });
      if (lazy.exitCode !== 0) throw new Error(`unmounting ${dir} failed: ${r.stderr.trim()}`);
    }
  }
}

export class FakeMounter implements Mounter {
  readonly mounts = new Map<string, number | undefined>();
  readonly calls: string[] = [];
  async isMountPoint(dir: string): Promise<boolean> {
    return this.mounts.has(dir);
  }
  async mountTmpfs(dir: string, sizeBytes?: number): Promise<void> {
    this.calls.push(`mount tmpfs ${dir}${sizeBytes ? ` size=${sizeBytes}` : ''}`);
    this.mounts.set(dir, sizeBytes);
  }
  async unmount(dir: string): Promise<void> {
    if (!this.mounts.has(dir)) return;
    this.calls.push(`umount ${dir}`);
    this.mounts.delete(dir);
  }
}
