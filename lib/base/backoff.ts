/**
 * Exponential backoff with an upper bound, as used by work queues, watch reconnects
 * and container restarts: base, base*factor, base*factor^2, ... capped at `max`.
 */
export class Backoff {
  private attempt = 0;
  constructor(
    private readonly base: number,
    private readonly max: number,
    private readonly factor = 2,
    private readonly jitter = 0,
  ) {}

  /** The delay to wait before the next attempt; each call moves one step further. */
  next(): number {
    const d = Math.min(this.max, this.base * this.factor ** this.attempt);
    this.attempt++;
    return this.jitter > 0 ? d * (1 + Math.random() * this.jitter) : d;
  }

  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}
