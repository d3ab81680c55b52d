import { describe, expect, test } from 'vitest';
import { humanDuration, formatSelector, formatLabels, age } from './table.js';

describe('humanDuration (as kubectl prints ages)', () => {
  test.each([
    [0, '0s'],
    [-900, '0s'],
    [-2500, '<invalid>'],
    [59_000, '59s'],
    [119_000, '119s'],
    [120_000, '2m'],
    [5 * 60_000 + 10_000, '5m10s'],
    [10 * 60_000 + 10_000, '10m'],
    [179 * 60_000, '179m'],
    [3 * 3_600_000 + 30 * 60_000, '3h30m'],
    [8 * 3_600_000, '8h'],
    [47 * 3_600_000, '47h'],
    [2 * 86_400_000 + 4 * 3_600_000, '2d4h'],
    [3 * 86_400_000, '3d'],
    [30 * 86_400_000, '30d'],
    [(2 * 365 + 20) * 86_400_000, '2y20d'],
    [10 * 365 * 86_400_000, '10y'],
  ])('%d ms → %s', (ms, want) => {
    expect(humanDuration(ms)).toBe(want);
  });

  test('objects without a creation time are <unknown>', () => {
    expect(age(undefined, Date.now())).toBe('<unknown>');
  });
});

describe('selectors and labels', () => {
  test.each([
    [undefined, '<none>'],
    [{}, '<none>'],
    [{ matchLabels: { tier: 'web', app: 'shop' } }, 'app=shop,tier=web'],
    [{ matchExpressions: [{ key: 'env', operator: 'In', values: ['prod', 'dev'] }, { key: 'canary', operator: 'DoesNotExist' }] }, '!canary,env in (dev,prod)'],
    [{ matchLabels: { app: 'web' }, matchExpressions: [{ key: 'track', operator: 'NotIn', values: ['beta'] }, { key: 'zone', operator: 'Exists' }] }, 'app=web,track notin (beta),zone'],
  ])('formatSelector(%j) = %s', (sel, want) => {
    expect(formatSelector(sel)).toBe(want);
  });

  test('label maps are sorted by key, <none> when empty', () => {
    expect(formatLabels({ b: '2', a: '1' })).toBe('a=1,b=2');
    expect(formatLabels({})).toBe('<none>');
  });
});
