/** Taints and tolerations: which taint a pod's tolerations let it past. */
import type { Taint, Toleration } from '../api/index.js';

/** Taint keys the cluster itself sets on nodes. */
export const taintNodeUnschedulable = 'node.kubernetes.io/unschedulable';
export const taintNodeNotReady = 'node.kubernetes.io/not-ready';
export const taintNodeUnreachable = 'node.kubernetes.io/unreachable';

/**
 * A toleration matches a taint when the effects agree (an empty effect matches all), the keys
 * agree (an empty key with operator Exists matches every key) and, for Equal (the default), the
 * values are equal.
 */
export function toleratesTaint(t: Toleration, taint: Pick<Taint, 'key' | 'value' | 'effect'>): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  const op = t.operator ?? 'Equal';
  if ((t.key ?? '') !== taint.key && !(op === 'Exists' && !t.key)) return false;
  if (op === 'Exists') return true;
  return (t.value ?? '') === (taint.value ?? '');
}

export function tolerationsTolerateTaint(tolerations: readonly Toleration[] | undefined, taint: Pick<Taint, 'key' | 'value' | 'effect'>): boolean {
  for (const t of tolerations ?? []) if (toleratesTaint(t, taint)) return true;
  return false;
}

/** The first taint with one of `effects` that no toleration matches. */
export function findUntoleratedTaint(taints: readonly Taint[] | undefined, tolerations: readonly Toleration[] | undefined, effects: readonly Taint['effect'][]): Taint | undefined {
  for (const taint of taints ?? []) {
    if (!effects.includes(taint.effect)) continue;
    if (!tolerationsTolerateTaint(tolerations, taint)) return taint;
  }
  return undefined;
}
