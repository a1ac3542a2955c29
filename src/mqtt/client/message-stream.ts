/**
 * The async iterator behind `client.messages(filter)`. Backpressure: when a consumer falls
 * `highWaterMark` messages behind, the stream reports pressure and the client stops reading
 * the socket (the broker then holds the rest, bounded by our Receive Maximum); reading
 * resumes once the consumer has caught up to half of that.
 */
import { MQTTError } from "../../errors.js";
import { Deque } from "./deque.js";
import type { MQTTMessage } from "./message.js";
import { topicMatches } from "./topic-match.js";

/**
 * Which messages a `messages()` iterator yields: a topic filter (`+` and `#` wildcards) or a
 * predicate.
 */
export type MessageFilter = string | ((message: MQTTMessage) => boolean);

export interface MessageStreamHost {
  pressure(stream: MessageStream, on: boolean): void;
  detach(stream: MessageStream): void;
}

export class MessageStream implements AsyncIterableIterator<MQTTMessage> {
  private readonly buffer = new Deque<MQTTMessage>();
  private waiter: ((result: IteratorResult<MQTTMessage>) => void) | undefined;
  private failWaiter: ((error: unknown) => void) | undefined;
  private pressured = false;
  private done = false;
  private error: unknown;

  constructor(
    private readonly filter: MessageFilter | undefined,
    private readonly highWaterMark: number,
    private readonly host: MessageStreamHost,
    signal?: AbortSignal,
  ) {
    if (signal) {
      const onAbort = () =>
        this.end(
          new MQTTError("messages() aborted", { code: "MQTT_ABORTED", cause: signal.reason }),
        );
      if (signal.aborted) onAbort();
      else signal.addEventListener("abort", onAbort, { once: true });
    }
  }

  matches(message: MQTTMessage): boolean {
    const filter = this.filter;
    if (filter === undefined) return true;
    return typeof filter === "string" ? topicMatches(filter, message.topic) : filter(message);
  }

  push(message: MQTTMessage): void {
    if (this.done) return;
    const waiter = this.waiter;
    if (waiter) {
      this.waiter = undefined;
      this.failWaiter = undefined;
      waiter({ value: message, done: false });
      return;
    }
    this.buffer.push(message);
    if (!this.pressured && this.buffer.length >= this.highWaterMark) {
      this.pressured = true;
      this.host.pressure(this, true);
    }
  }

  next(): Promise<IteratorResult<MQTTMessage>> {
    const message = this.buffer.shift();
    if (message) {
      if (this.pressured && this.buffer.length <= this.highWaterMark >> 1) {
        this.pressured = false;
        this.host.pressure(this, false);
      }
      return Promise.resolve({ value: message, done: false });
    }
    if (this.error !== undefined) {
      const error = this.error;
      this.error = undefined;
      return Promise.reject(error);
    }
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.waiter = resolve;
      this.failWaiter = reject;
    });
  }

  return(): Promise<IteratorResult<MQTTMessage>> {
    this.end();
    this.buffer.clear();
    return Promise.resolve({ value: undefined, done: true });
  }

  /** Ends the stream; buffered messages are still delivered, then `error` (if any) is thrown. */
  end(error?: unknown): void {
    if (this.done) return;
    this.done = true;
    if (this.pressured) {
      this.pressured = false;
      this.host.pressure(this, false);
    }
    this.host.detach(this);
    const waiter = this.waiter;
    const failWaiter = this.failWaiter;
    this.waiter = undefined;
    this.failWaiter = undefined;
    if (error !== undefined && failWaiter) failWaiter(error);
    else if (error !== undefined) this.error = error;
    else waiter?.({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
