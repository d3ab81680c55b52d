import { describe, expect, test } from 'vitest';
import { jsonEqual, stableStringify } from './json.js';

/** A small deterministic random source, so that a failure can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function randomValue(r: () => number, depth: number): unknown {
  const pick = Math.floor(r() * (depth > 3 ? 5 : 8));
  switch (pick) {
    case 0: return null;
    case 1: return r() < 0.5;
    case 2: return Math.floor(r() * 5) - 2;
    case 3: return ['a', 'b', '', '0'][Math.floor(r() * 4)];
    case 4: return undefined;
    case 5:
    case 6: {
      const o: Record<string, unknown> = {};
      const n = Math.floor(r() * 4);
      for (let i = 0; i < n; i++) o[['x', 'y', 'z', 'w'][Math.floor(r() * 4)]!] = randomValue(r, depth + 1);
      return o;
    }
    default:
      return Array.from({ length: Math.floor(r() * 3) }, () => randomValue(r, depth + 1));
  }
}

/** The same value written differently: keys in another order, undefined members added. */
function reshuffled(v: unknown, r: () => number): unknown {
  if (Array.isArray(v)) return v.map((x) => reshuffled(x, r));
  if (v && typeof v === 'object') {
    const keys = Object.keys(v).sort(() => r() - 0.5);
    const out: Record<string, unknown> = {};
    if (r() < 0.3) out.extra = undefined;
    for (const k of keys) out[k] = reshuffled((v as Record<string, unknown>)[k], r);
    return out;
  }
  return v;
}

describe('jsonEqual', () => {
  test('agrees with comparing the stable JSON texts, over thousands of random pairs', () => {
    const r = rng(42);
    let equalSeen = 0;
    for (let i = 0; i < 5000; i++) {
      const a = randomValue(r, 0);
      const b = r() < 0.5 ? reshuffled(a, r) : randomValue(r, 0);
      const expected = stableStringify(a) === stableStringify(b);
      if (expected) equalSeen++;
      expect(jsonEqual(a, b), `${stableStringify(a)} vs ${stableStringify(b)}`).toBe(expected);
      expect(jsonEqual(b, a)).toBe(expected);
    }
    // Both answers were exercised many times.
    expect(equalSeen).toBeGreaterThan(1000);
    expect(equalSeen).toBeLessThan(4500);
  });

  test('key order and undefined members do not matter; values, lengths and extra keys do', () => {
    expect(jsonEqual({ a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2] }, a: 1 })).toBe(true);
    expect(jsonEqual({ a: 1, gone: undefined }, { a: 1 })).toBe(true);
    expect(jsonEqual([undefined], [null])).toBe(true);
    expect(jsonEqual({ a: 1 }, { a: 1, b: null })).toBe(false);
    expect(jsonEqual({ a: [1, 2] }, { a: [1, 2, 3] })).toBe(false);
    expect(jsonEqual({ a: '1' }, { a: 1 })).toBe(false);
    expect(jsonEqual([], {})).toBe(false);
    expect(jsonEqual(new Date(0), '1970-01-01T00:00:00.000Z')).toBe(true);
  });
});
