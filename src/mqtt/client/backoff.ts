/** Reconnect delays: exponential growth with "equal jitter" so a fleet does not stampede. */
export interface BackoffOptions {
  /** First delay in ms (default 250). */
  initialDelay?: number;
  /** Upper bound in ms (default 30 000). */
  maxDelay?: number;
  /** Growth per attempt (default 2). */
  factor?: number;
  /** 0…1: the random share of each delay (default 0.5: a delay lies in [d/2, d]). */
  jitter?: number;
}

export class Backoff {
  private readonly initialDelay: number;
  private readonly maxDelay: number;
  private readonly factor: number;
  private readonly jitter: number;
  attempt = 0;

  constructor(
    options: BackoffOptions = {},
    private readonly random: () => number = Math.random,
  ) {
    this.initialDelay = Math.max(0, options.initialDelay ?? 250);
    this.maxDelay = Math.max(this.initialDelay, options.maxDelay ?? 30_000);
    this.factor = Math.max(1, options.factor ?? 2);
    this.jitter = Math.min(1, Math.max(0, options.jitter ?? 0.5));
  }

  /** The delay before the next attempt; each call counts one attempt. */
  next(): number {
    const base = Math.min(this.maxDelay, this.initialDelay * this.factor ** this.attempt);
    this.attempt++;
    return Math.round(base * (1 - this.jitter) + base * this.jitter * this.random());
  }

  reset(): void {
    this.attempt = 0;
  }
}
