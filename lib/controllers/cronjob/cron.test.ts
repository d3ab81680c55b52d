import { describe, expect, test } from 'vitest';
import { CronParseError, parseSchedule } from './cron.js';

const at = (s: string) => Date.parse(s);
const iso = (t: number | undefined) => (t === undefined ? undefined : new Date(t).toISOString().replace('.000Z', 'Z'));

describe('cron schedules', () => {
  test.each([
    ['* * * * *', '2026-01-01T12:00:00Z', '2026-01-01T12:01:00Z'],
    ['* * * * *', '2026-01-01T12:00:30Z', '2026-01-01T12:01:00Z'],
    ['*/15 * * * *', '2026-01-01T12:07:00Z', '2026-01-01T12:15:00Z'],
    ['5/20 * * * *', '2026-01-01T12:26:00Z', '2026-01-01T12:45:00Z'],
    ['0 9-17/4 * * *', '2026-01-01T14:00:00Z', '2026-01-01T17:00:00Z'],
    ['30 2 * * mon-fri', '2026-01-02T03:00:00Z', '2026-01-05T02:30:00Z'], // Friday → Monday
    ['0 0 1 jan *', '2026-03-01T00:00:00Z', '2027-01-01T00:00:00Z'],
    ['0 0 29 2 *', '2026-03-01T00:00:00Z', '2028-02-29T00:00:00Z'],
    // Both day fields restricted: either matches (the 13th, or any Friday).
    ['0 0 13 * 5', '2026-02-01T00:00:00Z', '2026-02-06T00:00:00Z'],
    ['0 0 ? * SUN', '2026-01-01T00:00:00Z', '2026-01-04T00:00:00Z'],
    ['@hourly', '2026-01-01T12:00:00Z', '2026-01-01T13:00:00Z'],
    ['@daily', '2026-01-01T12:00:00Z', '2026-01-02T00:00:00Z'],
    ['@weekly', '2026-01-01T12:00:00Z', '2026-01-04T00:00:00Z'],
    ['@monthly', '2026-01-15T12:00:00Z', '2026-02-01T00:00:00Z'],
    ['@yearly', '2026-01-15T12:00:00Z', '2027-01-01T00:00:00Z'],
    ['@every 90s', '2026-01-01T12:00:00Z', '2026-01-01T12:01:30Z'],
    ['TZ=Asia/Tokyo 0 9 * * *', '2026-01-01T12:00:00Z', '2026-01-02T00:00:00Z'],
    ['CRON_TZ=America/New_York 0 9 * * *', '2026-07-01T00:00:00Z', '2026-07-01T13:00:00Z'], // EDT, UTC-4
    ['CRON_TZ=America/New_York 0 9 * * *', '2026-01-01T00:00:00Z', '2026-01-01T14:00:00Z'], // EST, UTC-5
    // 02:30 does not exist on the day clocks go forward in Europe/Berlin: the next day's.
    ['TZ=Europe/Berlin 30 2 * * *', '2026-03-28T12:00:00Z', '2026-03-30T00:30:00Z'],
  ])('%s after %s is %s', (spec, from, next) => {
    expect(iso(parseSchedule(spec).next(at(from)))).toBe(next);
  });

  test('the default time zone applies without a TZ prefix', () => {
    expect(iso(parseSchedule('0 9 * * *', 'Europe/Paris').next(at('2026-01-01T00:00:00Z')))).toBe('2026-01-01T08:00:00Z');
  });

  test.each([
    ['* * * *', 'expected exactly 5 fields, found 4'],
    ['60 * * * *', 'end of range (60) above maximum (59)'],
    ['* * * * 7', 'end of range (7) above maximum (6)'],
    ['5-1 * * * *', 'beginning of range (5) beyond end of range (1)'],
    ['@fortnightly', 'unrecognized descriptor'],
    ['TZ=Mars/Olympus * * * * *', 'unknown time zone Mars/Olympus'],
    ['*/x * * * *', 'failed to parse int from x'],
  ])('%s is refused: %s', (spec, message) => {
    expect(() => parseSchedule(spec)).toThrow(CronParseError);
    expect(() => parseSchedule(spec)).toThrow(message);
  });
});
