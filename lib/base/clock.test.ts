import { expect, test } from 'vitest';
import { getEventListeners } from 'node:events';
import { rfc3339, sleep } from './clock.js';

test('rfc3339 writes whole seconds, and the text follows the time when it moves either way', () => {
  expect(rfc3339(Date.UTC(2026, 0, 2, 3, 4, 5, 999))).toBe('2026-01-02T03:04:05Z');
  expect(rfc3339(Date.UTC(2026, 0, 2, 3, 4, 5, 1))).toBe('2026-01-02T03:04:05Z');
  expect(rfc3339(Date.UTC(2026, 0, 2, 3, 4, 6))).toBe('2026-01-02T03:04:06Z');
  expect(rfc3339(Date.UTC(2026, 0, 2, 3, 4, 5))).toBe('2026-01-02T03:04:05Z');
  expect(rfc3339(0)).toBe('1970-01-01T00:00:00Z');
  expect(() => rfc3339(NaN)).toThrow(RangeError);
});

test('a sleep that ends (by its time or by the signal) leaves no listener on the signal', async () => {
  // A long-lived signal (a command's, a component's) outlives thousands of sleeps: each
  // listener left behind would be kept until the signal ends.
  const ctl = new AbortController();
  for (let i = 0; i < 20; i++) await sleep(1, ctl.signal);
  expect(getEventListeners(ctl.signal, 'abort')).toHaveLength(0);
  const pending = sleep(60_000, ctl.signal);
  expect(getEventListeners(ctl.signal, 'abort')).toHaveLength(1);
  ctl.abort();
  await pending;
  expect(getEventListeners(ctl.signal, 'abort')).toHaveLength(0);
});
