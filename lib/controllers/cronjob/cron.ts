/**
 * Cron schedules as the CronJob controller reads them (the "standard" parser of
 * robfig/cron, which upstream uses): five fields (minute, hour, day of month, month, day of
 * week) with lists, ranges, steps, month and weekday names, `?`; the @yearly, @annually,
 * @monthly, @weekly, @daily, @midnight and @hourly shorthands; @every <duration>; and a
 * `TZ=` or `CRON_TZ=` prefix naming the IANA time zone the fields are read in.
 *
 * When day of month and day of week are both restricted (neither is `*` or `?`), a day
 * matching either is enough, as in Vixie cron.
 */

export interface Schedule {
  /** The first activation strictly after `t` (ms since the epoch), or undefined if none within 5 years. */
  next(t: number): number | undefined;
}

interface Field {
  bits: Set<number>;
  /** `*` or `?`: unrestricted. */
  star: boolean;
}

interface Bounds {
  min: number;
  max: number;
  names?: Record<string, number>;
}

const months: Bounds = { min: 1, max: 12, names: { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12 } };
const weekdays: Bounds = { min: 0, max: 6, names: { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 } };
const minutes: Bounds = { min: 0, max: 59 };
const hours: Bounds = { min: 0, max: 23 };
const days: Bounds = { min: 1, max: 31 };

const descriptors: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

export class CronParseError extends Error {}

function parseValue(s: string, b: Bounds): number {
  const named = b.names?.[s.toLowerCase()];
  if (named !== undefined) return named;
  if (!/^\d+$/.test(s)) throw new CronParseError(`failed to parse int from ${s}: invalid syntax`);
  return Number(s);
}

function parseField(expr: string, b: Bounds): Field {
  const f: Field = { bits: new Set(), star: false };
  for (const part of expr.split(',')) {
    const [range, stepStr, extra] = part.split('/');
    if (extra !== undefined || range === undefined || range === '') throw new CronParseError(`too many slashes: ${part}`);
    let start: number;
    let end: number;
    let star = false;
    if (range === '*' || range === '?') {
      start = b.min;
      end = b.max;
      star = true;
    } else {
      const bounds = range.split('-');
      if (bounds.length > 2) throw new CronParseError(`too many hyphens: ${part}`);
      start = parseValue(bounds[0]!, b);
      end = bounds.length === 2 ? parseValue(bounds[1]!, b) : start;
    }
    let step = 1;
    if (stepStr !== undefined) {
      if (!/^\d+$/.test(stepStr)) throw new CronParseError(`failed to parse int from ${stepStr}: invalid syntax`);
      step = Number(stepStr);
      // "N/step" means N through the maximum.
      if (!range.includes('-') && !star) end = b.max;
      if (step > 1) star = false;
    }
    if (start < b.min) throw new CronParseError(`beginning of range (${start}) below minimum (${b.min}): ${part}`);
    if (end > b.max) throw new CronParseError(`end of range (${end}) above maximum (${b.max}): ${part}`);
    if (start > end) throw new CronParseError(`beginning of range (${start}) beyond end of range (${end}): ${part}`);
    if (step === 0) throw new CronParseError(`step of range should be a positive number: ${part}`);
    for (let x = start; x <= end; x += step) f.bits.add(x);
    if (star) f.star = true;
  }
  return f;
}

/** Go duration syntax: 1h30m, 90s, 1.5h. */
function parseDuration(s: string): number {
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/y;
  let total = 0;
  let pos = 0;
  if (!s) throw new CronParseError(`failed to parse duration ${s}`);
  while (pos < s.length) {
    re.lastIndex = pos;
    const m = re.exec(s);
    if (!m) throw new CronParseError(`failed to parse duration @every ${s}: time: invalid duration "${s}"`);
    total += Number(m[1]) * units[m[2]!]!;
    pos = re.lastIndex;
  }
  return total;
}

// ---- time zones ---------------------------------------------------------------------------

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formatters.set(tz, f);
  }
  return f;
}

/** Throws unless `tz` is an IANA time zone this runtime knows. */
export function checkTimeZone(tz: string): void {
  if (tz === '' || tz === 'UTC' || tz === 'Local') return;
  try {
    formatter(tz);
  } catch {
    throw new CronParseError(`unknown time zone ${tz}`);
  }
}

/** The wall clock in `tz` at instant `t`, as a "naive" UTC timestamp. */
export function wallClock(t: number, tz: string): number {
  if (tz === 'UTC') return t;
  const parts: Record<string, number> = {};
  for (const p of formatter(tz).formatToParts(new Date(t))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!) + (t % 1000 + 1000) % 1000;
}

/** The UTC offset of `tz` at instant `t`, in ms. */
export function offsetAt(t: number, tz: string): number {
  return wallClock(t, tz) - t;
}

/**
 * The instant whose wall clock in `tz` is `naive`: the earlier one when the clock goes back
 * (an hour happens twice), undefined when it jumps forward over that time.
 */
function instantOf(naive: number, tz: string): number | undefined {
  if (tz === 'UTC') return naive;
  const before = naive - offsetAt(naive - 86_400_000, tz);
  const after = naive - offsetAt(naive + 86_400_000, tz);
  for (const t of [Math.min(before, after), Math.max(before, after)]) if (wallClock(t, tz) === naive) return t;
  return undefined;
}

/** The time zone of this process (where a CronJob without spec.timeZone is read, as upstream uses time.Local). */
export function localTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

// ---- schedules ---------------------------------------------------------------------------------

class SpecSchedule implements Schedule {
  constructor(
    private readonly minute: Field,
    private readonly hour: Field,
    private readonly dom: Field,
    private readonly month: Field,
    private readonly dow: Field,
    private readonly tz: string,
  ) {}

  private dayMatches(d: Date): boolean {
    const domMatch = this.dom.bits.has(d.getUTCDate());
    const dowMatch = this.dow.bits.has(d.getUTCDay());
    if (this.dom.star || this.dow.star) return domMatch && dowMatch;
    return domMatch || dowMatch;
  }

  next(t: number): number | undefined {
    // Wall-clock arithmetic on a naive timestamp; converted back to an instant at the end.
    let n = wallClock(t, this.tz);
    n = Math.floor(n / 60_000) * 60_000 + 60_000;
    const limit = n + 5 * 366 * 86_400_000;
    while (n < limit) {
      const d = new Date(n);
      if (!this.month.bits.has(d.getUTCMonth() + 1)) {
        n = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
        continue;
      }
      if (!this.dayMatches(d)) {
        n = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
        continue;
      }
      if (!this.hour.bits.has(d.getUTCHours())) {
        n = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours() + 1);
        continue;
      }
      if (!this.minute.bits.has(d.getUTCMinutes())) {
        n += 60_000;
        continue;
      }
      const instant = instantOf(n, this.tz);
      if (instant !== undefined && instant > t) return instant;
      n += 60_000;
    }
    return undefined;
  }
}

class ConstantDelaySchedule implements Schedule {
  constructor(private readonly delayMs: number) {}
  next(t: number): number {
    return Math.floor(t / 1000) * 1000 + this.delayMs;
  }
}

/**
 * Parses a schedule; `defaultTimeZone` applies unless the spec carries TZ=/CRON_TZ=.
 * Throws CronParseError with upstream's wording on bad input.
 */
export function parseSchedule(spec: string, defaultTimeZone = 'UTC'): Schedule {
  let s = spec.trim();
  let tz = defaultTimeZone;
  const m = /^(?:CRON_)?TZ=(\S+)\s+/.exec(s);
  if (m) {
    tz = m[1]!;
    s = s.slice(m[0].length).trim();
  }
  if (tz === 'Local') tz = localTimeZone();
  if (tz === '') tz = 'UTC';
  checkTimeZone(tz);
  if (s.startsWith('@every ')) {
    let d = parseDuration(s.slice(7).trim());
    if (d < 1000) d = 1000;
    return new ConstantDelaySchedule(d - (d % 1000));
  }
  if (s.startsWith('@')) {
    const expanded = descriptors[s.toLowerCase()];
    if (!expanded) throw new CronParseError(`unrecognized descriptor: ${s}`);
    s = expanded;
  }
  const fields = s.split(/\s+/).filter(Boolean);
  if (fields.length !== 5) throw new CronParseError(`expected exactly 5 fields, found ${fields.length}: [${fields.join(' ')}]`);
  return new SpecSchedule(parseField(fields[0]!, minutes), parseField(fields[1]!, hours), parseField(fields[2]!, days), parseField(fields[3]!, months), parseField(fields[4]!, weekdays), tz);
}
