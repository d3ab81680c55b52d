import { expect, test } from 'vitest';
import { rfc3339 } from './clock.js';

test('rfc3339 writes whole seconds, and the text follows the time when it moves either way', () => {
  expect(rfc3339(Date.UTC(2026, 0, 2, 3, 4, 5, 999))).toBe('2026-01-02T03:04:05Z');
  expect(rfc3339(Date.UTC(2026, 0, 2, 3, 4, 5, 1))).toBe('2026-01-02T03:04:05Z');
  expect(rfc3339(Date.UTC(2026, 0, 2, 3, 4, 6))).toBe('2026-01-02T03:04:06Z');
  expect(rfc3339(Date.UTC(2026, 0, 2, 3, 4, 5))).toBe('2026-01-02T03:04:05Z');
  expect(rfc3339(0)).toBe('1970-01-01T00:00:00Z');
  expect(() => rfc3339(NaN)).toThrow(RangeError);
});
