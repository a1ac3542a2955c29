/**
 * Reconnecting after a lost connection: exponential backoff with jitter (Backoff), a cap on
 * attempts, and no retry at a server after a refusal that another attempt would only repeat.
 * With several brokers each attempt goes to the next member, and the backoff delay comes
 * before each round (every member tried once), not before each attempt; a member that refused
 * for good is left out, and reconnection stops only when every member has.
 */
import { MQTTError } from "../../errors.js";
import { Backoff } from "./backoff.js";
import type { SessionContext } from "./context.js";
import { isFatalRefusal } from "./handshake.js";
import type { ReconnectOptions } from "./options.js";

/** The session state the reconnector reads (the client's shared context). */
export type ReconnectContext = Pick<SessionContext, "protocolVersion" | "state" | "events">;

/** What only the client can do for the reconnector. */
export interface ReconnectActions {
  /** One attempt: open a connection and wait for CONNACK. */
  attempt(): Promise<unknown>;
  /** Moves to the next broker; true when that begins a new round (always, with one broker). */
  nextServer(): boolean;
  /**
   * The broker just tried refused for good: returns the error to give up with when no broker
   * is left to try, else undefined (the next attempt skips this one).
   */
  refused(error: Error): Error | undefined;
  /** No more attempts: fail whatever waits for a connection. */
  giveUp(error: Error): void;
}

export class Reconnector {
  private readonly backoff: Backoff;
  private timer: NodeJS.Timeout | undefined;
  private attempts = 0;

  constructor(
    private readonly options: ReconnectOptions | false,
    private readonly ctx: ReconnectContext,
    private readonly client: ReconnectActions,
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

  /** Still waiting to reconnect (not disconnected or closed meanwhile). */
  private get reconnecting(): boolean {
    return this.ctx.state === "reconnecting";
  }

  /** Schedules the next attempt (each failed attempt schedules another). */
  schedule(): void {
    const options = this.options;
    const client = this.client;
    if (!options || !this.reconnecting) return;
    if (options.maxAttempts !== undefined && this.attempts >= options.maxAttempts) {
      client.giveUp(
        new MQTTError(`gave up after ${this.attempts} reconnect attempts`, {
          code: "MQTT_RECONNECT_FAILED",
        }),
      );
      return;
    }
    const delay = client.nextServer() ? this.backoff.next() : 0;
    this.attempts++;
    this.ctx.events.notify("reconnect", { attempt: this.attempts, delay });
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.reconnecting) return;
      client.attempt().then(
        () => {},
        (error: unknown) => {
          if (!this.reconnecting) return;
          this.ctx.events.error(error);
          if (isFatalRefusal(error, this.ctx.protocolVersion)) {
            const final = client.refused(error as Error);
            if (final) {
              client.giveUp(final);
              return;
            }
          }
          this.schedule();
        },
      );
    }, delay);
  }
}
