/**
 * A token bucket, as client-go's flowcontrol and golang.org/x/time/rate: `burst` tokens at most,
 * refilled at `qps` per second. Used for client-side request throttling, the work queue's
 * overall limiter and the event recorder's spam filter.
 */
import { realClock, type Clock } from '../base/index.js';

export class TokenBucket {
  private tokens: number;
  private last: number;

  /** A `qps` of 0, a negative one or Infinity means no limit. */
  constructor(
    readonly qps: number,
    readonly burst: number,
    private readonly clock: Clock = realClock,
  ) {
    this.tokens = Math.max(1, burst);
    this.last = clock.now();
  }

  get unlimited(): boolean {
    return !(this.qps > 0) || !Number.isFinite(this.qps);
  }

  private refill(): void {
    const now = this.clock.now();
    const elapsed = now - this.last;
    this.last = now;
    if (elapsed > 0) this.tokens = Math.min(Math.max(1, this.burst), this.tokens + (elapsed * this.qps) / 1000);
  }

  /** Takes a token if one is there now. */
  tryAccept(): boolean {
    if (this.unlimited) return true;
    this.refill();
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    return false;
  }

  /**
   * Takes a token now, possibly borrowing from the future, and returns how many milliseconds
   * the caller must wait before using it. Successive reservations queue up behind each other.
   */
  reserve(): number {
    if (this.unlimited) return 0;
    this.refill();
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens * 1000) / this.qps;
  }

  /** Waits for a token. Resolves early (token spent) when `signal` aborts. */
  async wait(signal?: AbortSignal): Promise<void> {
    const ms = this.reserve();
    if (ms > 0) await this.clock.sleep(ms, signal);
  }

  /** Tokens available now (fractional), for tests and metrics. */
  available(): number {
    if (this.unlimited) return Infinity;
    this.refill();
    return this.tokens;
  }
}
