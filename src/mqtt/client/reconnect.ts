/**
 * Reconnecting after a lost connection: exponential backoff with jitter (Backoff), a cap on
 * attempts, and no retry at a server after a refusal that another attempt would only repeat.
 * With several brokers each attempt goes to the next member, and the backoff delay comes
 * before each round (every member tried once), not before each attempt; a member that refused
 * for good is left out, and reconnection stops only when every member has.
 */
import { MQTTError } from "../../errors.js";
import { Backoff } from "./backoff.js";
import { isFatalRefusal } from "./handshake.js";
import type { ReconnectOptions } from "./options.js";

/** The part of the client the reconnector drives. */
export interface ReconnectHost {
  readonly protocolVersion: 4 | 5;
  /** Still waiting to reconnect (not disconnected or closed meanwhile). */
  readonly reconnecting: boolean;
  /** One attempt: open a connection and wait for CONNACK. */
  attempt(): Promise<unknown>;
  /** Moves to the next broker; true when that begins a new round (always, with one broker). */
  nextServer(): boolean;
  /**
   * The broker just tried refused for good: returns the error to give up with when no broker
   * is left to try, else undefined (the next attempt skips this one).
   */
  refused(error: Error): Error | undefined;
  scheduled(info: { attempt: number; delay: number }): void;
  emitError(error: unknown): void;
  /** No more attempts: fail whatever waits for a connection. */
  giveUp(error: Error): void;
}

export class Reconnector {
  private readonly backoff: Backoff;
  private timer: NodeJS.Timeout | undefined;
  private attempts = 0;

  constructor(
    private readonly options: ReconnectOptions | false,
    private readonly host: ReconnectHost,
  ) {
    this.backoff = new Backoff(options || {});
  }

  get enabled(): boolean {
    return this.options !== false;
  }

  /** A connection succeeded: the next loss starts again from the shortest delay. */
  reset(): void {
    this.backoff.reset();
    this.attempts = 0;
  }

  cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Schedules the next attempt (each failed attempt schedules another). */
  schedule(): void {
    const options = this.options;
    const host = this.host;
    if (!options || !host.reconnecting) return;
    if (options.maxAttempts !== undefined && this.attempts >= options.maxAttempts) {
      host.giveUp(
        new MQTTError(`gave up after ${this.attempts} reconnect attempts`, {
          code: "MQTT_RECONNECT_FAILED",
        }),
      );
      return;
    }
    const delay = host.nextServer() ? this.backoff.next() : 0;
    this.attempts++;
    host.scheduled({ attempt: this.attempts, delay });
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!host.reconnecting) return;
      host.attempt().then(
        () => {},
        (error: unknown) => {
          if (!host.reconnecting) return;
          host.emitError(error);
          if (isFatalRefusal(error, host.protocolVersion)) {
            const final = host.refused(error as Error);
            if (final) {
              host.giveUp(final);
              return;
            }
          }
          this.schedule();
        },
      );
    }, delay);
  }
}
