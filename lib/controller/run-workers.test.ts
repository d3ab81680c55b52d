import { describe, expect, test } from 'vitest';
import { FakeClock } from '../base/index.js';
import { ControllerExpectations, UIDTrackingControllerExpectations, expectationsTimeoutMs } from './expectations.js';
import { runWorkers } from './run-workers.js';
import { RateLimitingQueue } from './work-queue.js';

async function until(cond: () => boolean, clock?: FakeClock, step = 1): Promise<void> {
  for (let i = 0; i < 10_000 && !cond(); i++) {
    if (clock) await clock.advance(step);
    else await new Promise((r) => setTimeout(r, 1));
  }
  expect(cond()).toBe(true);
}

describe('runWorkers', () => {
  test('a failing key is retried with growing backoff and forgotten once it succeeds', async () => {
    const clock = new FakeClock();
    const q = new RateLimitingQueue<string>({ clock });
    const attempts: number[] = [];
    const ctl = new AbortController();
    const running = runWorkers(
      q,
      1,
      (key) => {
        attempts.push(clock.now());
        if (attempts.length <= 3) throw new Error(`not yet: ${key}`);
      },
      ctl.signal,
    );
    q.add('ns/a');
    await until(() => attempts.length === 4, clock);
    const gaps = attempts.slice(1).map((t, i) => t - attempts[i]!);
    expect(gaps).toEqual([5, 10, 20]);
    expect(q.numRequeues('ns/a')).toBe(0);
    ctl.abort();
    await running;
  });

  test('two workers never reconcile the same key at once, and every key is reconciled', async () => {
    const q = new RateLimitingQueue<string>();
    const active = new Set<string>();
    let overlaps = 0;
    const done = new Map<string, number>();
    const ctl = new AbortController();
    const running = runWorkers(
      q,
      2,
      async (key) => {
        if (active.has(key)) overlaps++;
        active.add(key);
        await new Promise((r) => setTimeout(r, 2));
        active.delete(key);
        done.set(key, (done.get(key) ?? 0) + 1);
      },
      ctl.signal,
    );
    for (let round = 0; round < 20; round++) {
      q.add('a');
      q.add('b');
      await new Promise((r) => setTimeout(r, 1));
    }
    await until(() => q.len() === 0 && q.processingCount() === 0);
    expect(overlaps).toBe(0);
    expect(done.get('a')).toBeGreaterThan(1);
    expect(done.get('b')).toBeGreaterThan(1);
    ctl.abort();
    await running;
  });

  test('requeueAfterMs brings the key back after that delay without counting a failure', async () => {
    const clock = new FakeClock();
    const q = new RateLimitingQueue<string>({ clock });
    const calls: number[] = [];
    const ctl = new AbortController();
    const running = runWorkers(
      q,
      1,
      () => {
        calls.push(clock.now());
        return calls.length === 1 ? { requeueAfterMs: 30_000 } : undefined;
      },
      ctl.signal,
    );
    q.add('k');
    await until(() => calls.length === 2, clock, 1000);
    expect(calls[1]! - calls[0]!).toBe(30_000);
    expect(q.numRequeues('k')).toBe(0);
    ctl.abort();
    await running;
  });

  test('on stop, workers finish the key they hold and leave queued keys alone', async () => {
    const q = new RateLimitingQueue<string>();
    const ctl = new AbortController();
    const seen: string[] = [];
    let release!: () => void;
    const running = runWorkers(
      q,
      1,
      async (key) => {
        seen.push(key);
        if (key === 'first') await new Promise<void>((r) => (release = r));
      },
      ctl.signal,
    );
    q.add('first');
    q.add('second');
    await until(() => seen.length === 1);
    ctl.abort();
    release();
    await running;
    expect(seen).toEqual(['first']);
    expect(q.shuttingDown()).toBe(true);
  });
});

describe('ControllerExpectations', () => {
  test('a controller waits until every expected creation has been observed', () => {
    const e = new ControllerExpectations({ clock: new FakeClock() });
    expect(e.satisfiedExpectations('default/rs')).toBe(true); // nothing recorded
    e.expectCreations('default/rs', 3);
    expect(e.satisfiedExpectations('default/rs')).toBe(false);
    e.creationObserved('default/rs');
    e.creationObserved('default/rs');
    expect(e.satisfiedExpectations('default/rs')).toBe(false);
    e.creationObserved('default/rs');
    expect(e.satisfiedExpectations('default/rs')).toBe(true);
    expect(e.getExpectations('default/rs')).toMatchObject({ add: 0, del: 0 });
  });

  test('expectations expire after 5 minutes, so a lost watch event cannot wedge a controller', async () => {
    const clock = new FakeClock();
    const e = new ControllerExpectations({ clock });
    e.expectDeletions('k', 2);
    e.deletionObserved('k');
    await clock.advance(expectationsTimeoutMs);
    expect(e.satisfiedExpectations('k')).toBe(false);
    await clock.advance(1);
    expect(e.satisfiedExpectations('k')).toBe(true);
  });

  test('raise, lower and delete', () => {
    const e = new ControllerExpectations();
    e.setExpectations('k', 1, 1);
    e.raiseExpectations('k', 1, 0);
    e.lowerExpectations('k', 2, 0);
    expect(e.satisfiedExpectations('k')).toBe(false);
    e.deletionObserved('k');
    expect(e.satisfiedExpectations('k')).toBe(true);
    e.setExpectations('k', 5, 0);
    e.deleteExpectations('k');
    expect(e.satisfiedExpectations('k')).toBe(true);
  });

  test('UID tracking counts the deletion of an object once, even when observed twice', () => {
    const e = new UIDTrackingControllerExpectations();
    e.expectDeletionsOf('rs', ['ns/p1', 'ns/p2']);
    e.deletionObservedOf('rs', 'ns/p1');
    e.deletionObservedOf('rs', 'ns/p1'); // DELETED event, then a tombstone from a re-list
    e.deletionObservedOf('rs', 'ns/other'); // not one we deleted
    expect(e.satisfiedExpectations('rs')).toBe(false);
    expect([...e.getSet('rs')!]).toEqual(['ns/p2']);
    e.deletionObservedOf('rs', 'ns/p2');
    expect(e.satisfiedExpectations('rs')).toBe(true);
    e.deleteExpectations('rs');
    expect(e.getSet('rs')).toBeUndefined();
  });
});
