/**
 * When a proxier syncs (upstream's BoundedFrequencyRunner, simplified):
 *
 *   request()  ── a change: run soon, but never sooner than minIntervalMs after the last run began
 *   every periodMs ── onPeriodic(), then run
 *   run failed ── retry after a backoff (min interval, doubling, capped at the period)
 *
 * Runs never overlap: `runNow` and scheduled runs go through one queue, in order. Nothing is
 * scheduled outside `start` … abort; `runNow` works at any time (tests, shutdown paths).
 */
export interface SyncRunnerOptions {
  run: () => Promise<unknown>;
  minIntervalMs: number;
  periodMs: number;
  /** Called before each periodic run, e.g. to make it a full sync. */
  onPeriodic?: () => void;
}

export class SyncRunner {
  private queue: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private periodic: NodeJS.Timeout | undefined;
  private active = false;
  private lastStart = 0;
  private failures = 0;

  constructor(private readonly opts: SyncRunnerOptions) {}

  /** Runs `fn` after every queued run; the queue survives rejections. */
  serialized<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.queue.then(fn);
    this.queue = p.catch(() => undefined);
    return p;
  }

  /** One run now (after the ones queued); rejects with the run's error. */
  runNow(): Promise<unknown> {
    return this.serialized(async () => {
      this.lastStart = Date.now();
      try {
        const r = await this.opts.run();
        this.failures = 0;
        return r;
      } catch (err) {
        this.failures++;
        this.scheduleRetry();
        throw err;
      }
    });
  }

  /** A change happened: run within the rate limit. */
  request(): void {
    if (!this.active || this.timer) return;
    this.schedule(Math.max(0, this.lastStart + this.opts.minIntervalMs - Date.now()));
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.runNow().catch(() => undefined);
    }, delayMs);
  }

  private scheduleRetry(): void {
    if (!this.active || this.timer) return;
    const base = Math.max(this.opts.minIntervalMs, 500);
    this.schedule(Math.min(this.opts.periodMs, base * 2 ** (this.failures - 1)));
  }

  /** Runs at once, then on requests and periodically, until `signal` aborts; waits for the last run. */
  async start(signal: AbortSignal): Promise<void> {
    if (this.active) throw new Error('SyncRunner already started');
    this.active = true;
    this.periodic = setInterval(() => {
      this.opts.onPeriodic?.();
      this.schedule(0);
    }, this.opts.periodMs);
    this.schedule(0);
    await new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
    this.active = false;
    clearInterval(this.periodic);
    clearTimeout(this.timer);
    this.timer = this.periodic = undefined;
    await this.queue;
  }
}
