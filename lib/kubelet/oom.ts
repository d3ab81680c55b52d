/**
 * OOM score adjustments (/proc/<pid>/oom_score_adj, from -1000 to 1000): which process the
 * kernel kills first when memory runs out. Upstream's policy gives Guaranteed containers -997,
 * Burstable ones 2..999 by their memory request, BestEffort ones 1000, and the kubelet itself
 * -999 (--oom-score-adj).
 *
 * Some kernels refuse negative values even to root (seen on a Firecracker guest, which answers
 * EIO). There a container created with -997 never starts: runc fails with "can't get final
 * child's PID from pipe". So the kubelet asks the kernel once, at start, and gives containers
 * the lowest value it takes instead.
 */
import fs from 'node:fs';
import { runProcess } from '../base/process.js';

/** The lowest adjustment with no clamping: the kernel's own minimum. */
export const oomScoreAdjMin = -1000;

/**
 * The lowest adjustment a new process may set on this kernel: -1000 when negative values are
 * allowed, else 0 (the value every process starts with). Asked of a short-lived child, so that
 * the caller's own score stays as it is.
 */
export async function probeOOMScoreAdjFloor(): Promise<number> {
  const r = await runProcess('sh', ['-c', 'echo -998 > /proc/self/oom_score_adj'], { timeoutMs: 10_000 }).catch(() => undefined);
  return r?.exitCode === 0 ? oomScoreAdjMin : 0;
}

/** Sets this process's own adjustment (the kubelet's --oom-score-adj); resolves with the error message on failure. */
export function applyOwnOOMScoreAdj(value: number): string | undefined {
  try {
    fs.writeFileSync('/proc/self/oom_score_adj', `${value}\n`);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}
