/**
 * Completion indexes of Indexed jobs: sets of integers kept as ordered intervals and written
 * as status.completedIndexes does ("1,3-5,7").
 */
import type { Pod } from '../../api/index.js';

export const completionIndexAnnotation = 'batch.kubernetes.io/job-completion-index';
export const unknownIndex = -1;

export type Interval = { first: number; last: number };

/** The completion index a pod carries in its annotation, or -1. */
export function completionIndexOf(pod: Pod): number {
  const v = pod.metadata.annotations?.[completionIndexAnnotation];
  if (v === undefined || !/^\d+$/.test(v)) return unknownIndex;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : unknownIndex;
}

/** Parses "1,3-5" (ignoring what is out of [0, completions) or malformed). */
export function parseIndexes(s: string | undefined, completions: number): Interval[] {
  const out: Interval[] = [];
  if (!s) return out;
  for (const part of s.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) continue;
    const first = Number(m[1]);
    let last = m[2] !== undefined ? Number(m[2]) : first;
    if (first >= completions || last < first) continue;
    last = Math.min(last, completions - 1);
    const prev = out[out.length - 1];
    if (prev && prev.last + 1 >= first) prev.last = Math.max(prev.last, last);
    else out.push({ first, last });
  }
  return out;
}

export function formatIndexes(iv: Interval[]): string {
  return iv.map((i) => (i.first === i.last ? String(i.first) : `${i.first}-${i.last}`)).join(',');
}

export function totalIndexes(iv: Interval[]): number {
  return iv.reduce((n, i) => n + i.last - i.first + 1, 0);
}

export function hasIndex(iv: Interval[], x: number): boolean {
  return iv.some((i) => i.first <= x && x <= i.last);
}

/** The union of the intervals and the (sorted) indexes. */
export function withIndexes(iv: Interval[], indexes: number[]): Interval[] {
  const all = new Set<number>();
  for (const i of iv) for (let x = i.first; x <= i.last; x++) all.add(x);
  for (const x of indexes) all.add(x);
  const sorted = [...all].sort((a, b) => a - b);
  const out: Interval[] = [];
  for (const x of sorted) {
    const prev = out[out.length - 1];
    if (prev && prev.last + 1 === x) prev.last = x;
    else out.push({ first: x, last: x });
  }
  return out;
}

/**
 * The lowest `count` indexes below `completions` that neither succeeded nor have an active
 * pod (upstream firstPendingIndexes).
 */
export function firstPendingIndexes(succeeded: Interval[], activePods: Pod[], count: number, completions: number): number[] {
  const taken = new Set(activePods.map(completionIndexOf).filter((x) => x >= 0));
  const out: number[] = [];
  for (let x = 0; x < completions && out.length < count; x++) {
    if (hasIndex(succeeded, x) || taken.has(x)) continue;
    out.push(x);
  }
  return out;
}
