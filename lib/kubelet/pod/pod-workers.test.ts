import { describe, expect, it } from 'vitest';
import { realClock, silentLogger } from '../../base/index.js';
import { PodWorkers, type SyncResult } from './pod-workers.js';

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

describe('PodWorkers', () => {
  it('runs one sync per pod at a time and coalesces triggers that arrive meanwhile', async () => {
    let running = 0;
    let maxParallel = 0;
    const seen: string[] = [];
    const w = new PodWorkers({
      log: silentLogger(),
      clock: realClock,
      sync: async (uid, why) => {
        running++;
        maxParallel = Math.max(maxParallel, running);
        seen.push(`${uid}:${why}`);
        await tick(20);
        running--;
        return { state: 'syncing' };
      },
    });
    w.trigger('a', 'added');
    w.trigger('a', 'pleg');
    w.trigger('a', 'probe');
    w.trigger('b', 'added');
    await tick(1);
    await w.idle();
    expect(seen).toEqual(['a:added', 'b:added', 'a:pleg,probe']);
    expect(maxParallel).toBe(2);
    await w.stop();
  });

  it('resyncs after the time a sync asks for, keeping the earliest request', async () => {
    const seen: string[] = [];
    let first = true;
    const w = new PodWorkers({
      log: silentLogger(),
      clock: realClock,
      sync: async (_uid, why): Promise<SyncResult> => {
        seen.push(why);
        if (first) {
          first = false;
          return { state: 'syncing', resyncAfterMs: 30 };
        }
        return { state: 'syncing' };
      },
    });
    w.trigger('a', 'added');
    w.resyncAfter('a', 500);
    await tick(60);
    await w.idle();
    expect(seen).toEqual(['added', 'requeue']);
    await w.stop();
  });

  it('retries a sync that throws, and forgets a removed pod', async () => {
    let calls = 0;
    const w = new PodWorkers({
      log: silentLogger(),
      clock: realClock,
      errorBackoffMs: 10,
      sync: async (): Promise<SyncResult> => {
        calls++;
        if (calls === 1) throw new Error('boom');
        return { state: 'removed' };
      },
    });
    w.trigger('a', 'added');
    await tick(40);
    await w.idle();
    expect(calls).toBe(2);
    expect(w.state('a')).toBeUndefined();
    await w.stop();
    w.trigger('a', 'late');
    expect(w.uids()).toEqual([]);
  });
});
