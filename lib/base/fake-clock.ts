import type { Clock } from './clock.js';

interface Sleeper {
  at: number;
  seq: number;
  resolve: () => void;
}

/**
 * A Clock that only moves when a test says so. `sleep` parks until `advance` (or `set`)
 * carries the time past its deadline. Advancing wakes sleepers one deadline at a time, in
 * deadline order, and lets the promise continuations of each run (a macrotask turn) before
 * moving on, so code that sleeps again in a loop is woken again within the same advance.
 *
 * Only for code whose waiting goes through the Clock; real timers and real I/O do not move it.
 */
export class FakeClock implements Clock {
  private t: number;
  private seq = 0;
  private sleepers: Sleeper[] = [];

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted || ms <= 0) return resolve();
      const s: Sleeper = {
        at: this.t + ms,
        seq: this.seq++,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        this.sleepers = this.sleepers.filter((x) => x !== s);
        resolve();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.sleepers.push(s);
    });
  }

  /** How many sleeps are parked; tests wait for this to know a loop reached its wait. */
  get pendingSleeps(): number {
    return this.sleepers.length;
  }

  /** Every parked deadline, earliest first. */
  deadlines(): number[] {
    return this.sleepers.map((s) => s.at).sort((a, b) => a - b);
  }

  /** The earliest parked deadline, if any. */
  nextDeadline(): number | undefined {
    return this.sleepers.length ? Math.min(...this.sleepers.map((s) => s.at)) : undefined;
  }

  /** Moves time forward by `ms`, waking every sleeper whose deadline is reached on the way. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    await settle();
    for (;;) {
      const due = this.sleepers.filter((s) => s.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.t = Math.max(this.t, due.at);
      this.sleepers = this.sleepers.filter((s) => s !== due);
      due.resolve();
      await settle();
    }
    this.t = end;
    await settle();
  }

  /** Lets pending promise continuations run without moving time. */
  flush(): Promise<void> {
    return settle();
  }
}

/** A few macrotask turns: enough for chains of promise continuations (and their microtasks) to run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((r) => setImmediate(r));
}
