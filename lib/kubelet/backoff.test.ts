import { describe, expect, it } from 'vitest';
import { FakeClock } from '../base/index.js';
import { KeyedBackoff } from './backoff.js';

const minute = 60_000;

describe('KeyedBackoff (CrashLoopBackOff and ImagePullBackOff)', () => {
  it('restarts at once after the first failure, then waits 10s, 20s, 40s ... capped at 5 minutes', async () => {
    const clock = new FakeClock();
    const b = new KeyedBackoff({ initialMs: 10_000, maxMs: 300_000, clock });
    const waits: number[] = [];
    for (let i = 0; i < 8; i++) {
      // The container just exited: how long until it may start again?
      const finished = clock.now();
      waits.push(b.remainingSince('pod/app', finished));
      // Wait that long, restart it (recording the failure); it crashes again at once.
      await clock.advance(waits[i]!);
      b.next('pod/app', finished);
    }
    expect(waits).toEqual([0, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000]);
  });

  it('starts over once a container ran clean for 10 minutes (twice the cap)', async () => {
    const clock = new FakeClock();
    const b = new KeyedBackoff({ initialMs: 10_000, maxMs: 300_000, clock });
    b.next('k', clock.now());
    b.next('k', clock.now());
    expect(b.get('k')).toBe(20_000);
    await clock.advance(9 * minute);
    expect(b.isInBackOffSince('k', clock.now())).toBe(true);
    await clock.advance(2 * minute);
    // Finished now, more than 10 minutes after the last restart: no backoff, and it restarts from 10s.
    expect(b.isInBackOffSince('k', clock.now())).toBe(false);
    expect(b.next('k', clock.now())).toBe(10_000);
  });

  it('measures image pull backoff from the last failed pull', async () => {
    const clock = new FakeClock();
    const b = new KeyedBackoff({ initialMs: 10_000, maxMs: 300_000, clock });
    expect(b.remainingSinceUpdate('img')).toBe(0);
    b.next('img');
    await clock.advance(4000);
    expect(b.remainingSinceUpdate('img')).toBe(6000);
    await clock.advance(6000);
    expect(b.remainingSinceUpdate('img')).toBe(0);
    b.next('img');
    expect(b.remainingSinceUpdate('img')).toBe(20_000);
  });

  it('forgets keys by prefix and drops expired entries', async () => {
    const clock = new FakeClock();
    const b = new KeyedBackoff({ initialMs: 10, maxMs: 100, clock });
    b.next('u1/a');
    b.next('u1/b');
    b.next('u2/a');
    b.resetPrefix('u1/');
    expect(b.size).toBe(1);
    await clock.advance(1000);
    b.gc();
    expect(b.size).toBe(0);
  });
});
