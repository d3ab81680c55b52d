import { describe, expect, test } from 'vitest';
import { FakeClock } from '../base/index.js';
import { BucketRateLimiter, ItemExponentialFailureRateLimiter, MaxOfRateLimiter, defaultControllerRateLimiter } from './rate-limiters.js';
import { DelayingQueue, RateLimitingQueue, WorkQueue } from './work-queue.js';

/** Resolves with the item if `get` answers within a few turns, else 'pending'. */
async function tryGet<T>(p: Promise<{ item: T | undefined; shutdown: boolean }>): Promise<T | 'pending' | 'shutdown'> {
  const r = await Promise.race([p, new Promise<'pending'>((res) => setTimeout(() => res('pending'), 20))]);
  if (r === 'pending') return r;
  return r.shutdown ? 'shutdown' : (r.item as T);
}

describe('WorkQueue', () => {
  test('a key added many times before it is taken is queued once', async () => {
    const q = new WorkQueue<string>();
    q.add('a');
    q.add('b');
    q.add('a');
    q.add('a');
    expect(q.len()).toBe(2);
    expect((await q.get()).item).toBe('a');
    expect((await q.get()).item).toBe('b');
    expect(q.len()).toBe(0);
  });

  test('keys come out in the order they were first added', async () => {
    const q = new WorkQueue<string>();
    for (const k of ['c', 'a', 'b', 'a', 'c']) q.add(k);
    const out = [];
    for (let i = 0; i < 3; i++) out.push((await q.get()).item);
    expect(out).toEqual(['c', 'a', 'b']);
  });

  test('a key being processed is not handed to another worker; a re-add runs after done', async () => {
    const q = new WorkQueue<string>();
    q.add('a');
    const first = await q.get();
    expect(first.item).toBe('a');
    q.add('a'); // an event arrives while a worker reconciles 'a'
    expect(q.len()).toBe(0);
    const second = q.get(); // another worker asks
    expect(await tryGet(second)).toBe('pending');
    q.add('a'); // more events: still one pending re-add
    q.done('a');
    expect(await tryGet(second)).toBe('a');
    expect(q.len()).toBe(0);
    q.done('a');
    expect(await tryGet(q.get())).toBe('pending');
  });

  test('done without a re-add does not queue the key again', async () => {
    const q = new WorkQueue<string>();
    q.add('a');
    await q.get();
    q.done('a');
    expect(q.len()).toBe(0);
    q.add('a');
    expect(q.len()).toBe(1);
  });

  test('after shutDown, adds are ignored, queued keys drain, then get reports shutdown', async () => {
    const q = new WorkQueue<string>();
    q.add('a');
    q.add('b');
    q.shutDown();
    q.add('c');
    expect((await q.get()).item).toBe('a');
    expect((await q.get()).item).toBe('b');
    expect(await q.get()).toEqual({ item: undefined, shutdown: true });
  });

  test('shutDown wakes workers waiting on an empty queue', async () => {
    const q = new WorkQueue<string>();
    const waiting = q.get();
    q.shutDown();
    expect(await tryGet(waiting)).toBe('shutdown');
  });

  test('shutDownWithDrain waits until the keys being processed are done', async () => {
    const q = new WorkQueue<string>();
    q.add('a');
    await q.get();
    let drained = false;
    const p = q.shutDownWithDrain().then(() => (drained = true));
    await new Promise((r) => setTimeout(r, 10));
    expect(drained).toBe(false);
    q.done('a');
    await p;
    expect(drained).toBe(true);
  });
});

describe('DelayingQueue', () => {
  test('addAfter holds a key until its time, then queues it', async () => {
    const clock = new FakeClock();
    const q = new DelayingQueue<string>({ clock });
    q.addAfter('a', 1000);
    expect(q.len()).toBe(0);
    await clock.advance(999);
    expect(q.len()).toBe(0);
    await clock.advance(1);
    expect(q.len()).toBe(1);
    expect((await q.get()).item).toBe('a');
    q.shutDown();
  });

  test('a second addAfter keeps the earlier time; items come out by due time', async () => {
    const clock = new FakeClock();
    const q = new DelayingQueue<string>({ clock });
    q.addAfter('late', 5000);
    q.addAfter('a', 3000);
    q.addAfter('a', 8000); // later: ignored
    q.addAfter('late', 1000); // earlier: wins
    await clock.advance(1000);
    expect(q.len()).toBe(1);
    expect((await q.get()).item).toBe('late');
    await clock.advance(2000);
    expect((await q.get()).item).toBe('a');
    expect(q.waitingCount()).toBe(0);
    q.shutDown();
  });

  test('a delayed key already queued is not queued twice', async () => {
    const clock = new FakeClock();
    const q = new DelayingQueue<string>({ clock });
    q.add('a');
    q.addAfter('a', 10);
    await clock.advance(10);
    expect(q.len()).toBe(1);
    q.shutDown();
  });

  test('shutDown drops waiting keys', async () => {
    const clock = new FakeClock();
    const q = new DelayingQueue<string>({ clock });
    q.addAfter('a', 10);
    q.shutDown();
    await clock.advance(100);
    expect(q.len()).toBe(0);
    expect(clock.pendingSleeps).toBe(0);
  });
});

describe('rate limiters', () => {
  test('per-item exponential backoff: 5ms doubling, capped at 1000s, reset by forget', () => {
    const rl = new ItemExponentialFailureRateLimiter<string>(5, 1000 * 1000);
    const delays = Array.from({ length: 6 }, () => rl.when('a'));
    expect(delays).toEqual([5, 10, 20, 40, 80, 160]);
    expect(rl.when('b')).toBe(5); // per item
    expect(rl.numRequeues('a')).toBe(6);
    for (let i = 0; i < 30; i++) rl.when('a');
    expect(rl.when('a')).toBe(1000 * 1000);
    rl.forget('a');
    expect(rl.numRequeues('a')).toBe(0);
    expect(rl.when('a')).toBe(5);
  });

  test('the overall bucket allows a burst of 100, then spaces retries 100ms apart', () => {
    const clock = new FakeClock();
    const rl = new BucketRateLimiter<string>(10, 100, clock);
    for (let i = 0; i < 100; i++) expect(rl.when(`k${i}`)).toBe(0);
    expect(rl.when('x')).toBeCloseTo(100);
    expect(rl.when('y')).toBeCloseTo(200);
  });

  test('the default limiter takes the longer of the two', () => {
    const clock = new FakeClock();
    const rl = defaultControllerRateLimiter<string>(clock);
    expect(rl.when('a')).toBe(5);
    expect(rl.when('a')).toBe(10);
    const max = new MaxOfRateLimiter<string>(new ItemExponentialFailureRateLimiter(1, 100), new ItemExponentialFailureRateLimiter(3, 100));
    expect(max.when('a')).toBe(3);
    expect(max.numRequeues('a')).toBe(1);
  });
});

describe('RateLimitingQueue', () => {
  test('each failure of a key waits twice as long before it comes back; forget resets it', async () => {
    const clock = new FakeClock();
    const q = new RateLimitingQueue<string>({ clock });
    const comeBack: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = clock.now();
      q.addRateLimited('a');
      while (q.len() === 0) await clock.advance(1);
      comeBack.push(clock.now() - t0);
      const got = await q.get();
      q.done(got.item!);
    }
    expect(comeBack).toEqual([5, 10, 20, 40, 80]);
    q.forget('a');
    expect(q.numRequeues('a')).toBe(0);
    const t0 = clock.now();
    q.addRateLimited('a');
    while (q.len() === 0) await clock.advance(1);
    expect(clock.now() - t0).toBe(5);
    q.shutDown();
  });
});
