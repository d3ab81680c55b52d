/**
 * Pod failure backoff of jobs (upstream backoffStore): after failures, the next pod is created
 * only after 10s, 20s, 40s, ... capped at 6 minutes since the last failure. A success resets
 * the count; only failures after the last success count.
 */
import type { Pod } from '../../api/index.js';
import { parseTime } from '../replicaset/index.js';

export const defaultPodFailureBackoffMs = 10_000;
export const maxPodFailureBackoffMs = 6 * 60_000;

export interface BackoffRecord {
  failuresAfterLastSuccess: number;
  lastFailureTime?: number;
}

/** When a pod finished: its containers' last finish, else when it stopped being ready, else its deletion, else its creation. */
export function finishedTime(p: Pod): number {
  const statuses = [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])];
  if (statuses.length > 0 && statuses.every((s) => s.state?.terminated)) {
    const t = Math.max(...statuses.map((s) => parseTime(s.state!.terminated!.finishedAt) ?? -Infinity));
    if (Number.isFinite(t)) return t;
  }
  const ready = p.status?.conditions?.find((c) => c.type === 'Ready' && c.status === 'False');
  const readyAt = parseTime(ready?.lastTransitionTime);
  if (readyAt !== undefined) return readyAt;
  const deleted = parseTime(p.metadata.deletionTimestamp);
  if (deleted !== undefined) return deleted - (p.metadata.deletionGracePeriodSeconds ?? 0) * 1000;
  return parseTime(p.metadata.creationTimestamp) ?? 0;
}

export class BackoffStore {
  private readonly records = new Map<string, BackoffRecord>();

  get(key: string): BackoffRecord {
    return this.records.get(key) ?? { failuresAfterLastSuccess: 0 };
  }

  /** The record after these newly finished pods (not stored until `set`). */
  next(key: string, succeeded: Pod[], failed: Pod[]): BackoffRecord {
    const r = { ...this.get(key) };
    const byTime = (a: Pod, b: Pod) => finishedTime(a) - finishedTime(b);
    const s = [...succeeded].sort(byTime);
    const f = [...failed].sort(byTime);
    if (s.length === 0) {
      if (f.length === 0) return r;
      return { failuresAfterLastSuccess: r.failuresAfterLastSuccess + f.length, lastFailureTime: finishedTime(f[f.length - 1]!) };
    }
    const out: BackoffRecord = { failuresAfterLastSuccess: 0 };
    const lastSuccess = finishedTime(s[s.length - 1]!);
    for (let i = f.length - 1; i >= 0; i--) {
      const t = finishedTime(f[i]!);
      if (t <= lastSuccess) break;
      out.lastFailureTime ??= t;
      out.failuresAfterLastSuccess++;
    }
    return out;
  }

  set(key: string, r: BackoffRecord): void {
    this.records.set(key, r);
  }

  remove(key: string): void {
    this.records.delete(key);
  }
}

/** How long until the next pod may be created: base · 2^(failures-1), capped, minus the time since the last failure. */
export function remainingBackoff(r: BackoffRecord, now: number, baseMs = defaultPodFailureBackoffMs, maxMs = maxPodFailureBackoffMs): number {
  if (r.failuresAfterLastSuccess === 0 || r.lastFailureTime === undefined) return 0;
  let d = baseMs;
  for (let i = 1; i < r.failuresAfterLastSuccess; i++) {
    d *= 2;
    if (d >= maxMs) {
      d = maxMs;
      break;
    }
  }
  const elapsed = now - r.lastFailureTime;
  return d < elapsed ? 0 : d - elapsed;
}
