/**
 * `SMTPPool`: up to N `AsyncSMTPClient` connections to one server, opened lazily, each used
 * for one message at a time, with an optional rate limit shared by all of them. Each client
 * reconnects on its own when the server closed it while idle.
 */
import { MailError } from "../../errors.js";
import type { AuthMechanism, OAuth2TokenProvider } from "./auth.js";
import { AsyncSMTPClient } from "./client.js";
import type { SMTPConnectOptions, SMTPSender } from "./types.js";

export interface SMTPPoolOptions extends Omit<SMTPConnectOptions, "signal"> {
  host: string;
  /** Default 587 (STARTTLS); 465 (and 993) mean implicit TLS. */
  port?: number;
  /** Most connections open at once (default 5). */
  connections?: number;
  /** At most `messages` sends started per `intervalMs`, across the whole pool. */
  rateLimit?: { messages: number; intervalMs: number };
  /** Logged in on every connection the pool opens. */
  auth?:
    | { user: string; password: string; mechanism?: AuthMechanism }
    | { user: string; oauth2: string | OAuth2TokenProvider };
}

interface Slot {
  client: AsyncSMTPClient | undefined;
  busy: boolean;
}

export class SMTPPool implements SMTPSender {
  readonly #options: SMTPPoolOptions;
  readonly #slots: Slot[];
  readonly #waiting: Array<(slot: Slot) => void> = [];
  readonly #started: number[] = [];
  #closed = false;

  constructor(options: SMTPPoolOptions) {
    const connections = options.connections ?? 5;
    if (!Number.isInteger(connections) || connections < 1) {
      throw new MailError("connections must be a positive integer", {
        code: "SMTP_INVALID_ARGUMENT",
      });
    }
    const rate = options.rateLimit;
    if (rate && (!(rate.messages >= 1) || !(rate.intervalMs > 0))) {
      throw new MailError("rateLimit needs messages ≥ 1 and intervalMs > 0", {
        code: "SMTP_INVALID_ARGUMENT",
      });
    }
    this.#options = options;
    this.#slots = Array.from({ length: connections }, () => ({ client: undefined, busy: false }));
  }

  /** Sends on the next free connection (opening one if needed); see `AsyncSMTPClient.sendMessage`. */
  readonly sendMessage: SMTPSender["sendMessage"] = (message, options = {}) =>
    this.#withClient(options.signal, (client) => client.sendMessage(message, options));

  /** Sends raw bytes on the next free connection; see `AsyncSMTPClient.sendRaw`. */
  readonly sendRaw: SMTPSender["sendRaw"] = (envelope, body, options = {}) =>
    this.#withClient(options.signal, (client) => client.sendRaw(envelope, body, options));

  /** Waits for sends in progress to finish their turn, then QUITs every connection. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#slots.map((slot) => slot.client?.close()));
    for (const slot of this.#slots) slot.client = undefined;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #withClient<T>(
    signal: AbortSignal | undefined,
    use: (client: AsyncSMTPClient) => Promise<T>,
  ): Promise<T> {
    if (this.#closed) throw new MailError("the pool is closed", { code: "SMTP_NOT_CONNECTED" });
    const slot = await this.#acquire(signal);
    try {
      await this.#throttle(signal);
      if (!slot.client) slot.client = await this.#open(signal);
      return await use(slot.client);
    } catch (failure) {
      // A client whose session died (and could not be revived) is replaced next time.
      if (slot.client && !slot.client.connected) {
        await slot.client.close().catch(() => {});
        slot.client = undefined;
      }
      throw failure;
    } finally {
      this.#release(slot);
    }
  }

  async #open(signal: AbortSignal | undefined): Promise<AsyncSMTPClient> {
    const { host, port, auth, ...connect } = this.#options;
    const client = new AsyncSMTPClient();
    try {
      await client.connect(host, port ?? 587, { ...connect, signal });
      if (auth && "password" in auth)
        await client.login(auth.user, auth.password, { mechanism: auth.mechanism, signal });
      else if (auth) await client.loginOAuth2(auth.user, auth.oauth2, { signal });
    } catch (failure) {
      await client.close().catch(() => {});
      throw failure;
    }
    return client;
  }

  #acquire(signal: AbortSignal | undefined): Promise<Slot> {
    // Prefer a connected idle client over opening a new connection.
    const idle =
      this.#slots.find((s) => !s.busy && s.client?.connected) ?? this.#slots.find((s) => !s.busy);
    if (idle) {
      idle.busy = true;
      return Promise.resolve(idle);
    }
    return new Promise<Slot>((resolve, reject) => {
      const take = (slot: Slot) => {
        signal?.removeEventListener("abort", onAbort);
        resolve(slot);
      };
      const onAbort = () => {
        const i = this.#waiting.indexOf(take);
        if (i >= 0) this.#waiting.splice(i, 1);
        reject(
          new MailError("aborted while waiting for a connection", {
            code: "SMTP_ABORTED",
            cause: signal?.reason,
          }),
        );
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiting.push(take);
    });
  }

  #release(slot: Slot): void {
    const next = this.#waiting.shift();
    if (next) next(slot);
    else slot.busy = false;
  }

  /** Sliding-window rate limit: wait until fewer than `messages` started within `intervalMs`. */
  async #throttle(signal: AbortSignal | undefined): Promise<void> {
    const rate = this.#options.rateLimit;
    if (!rate) return;
    for (;;) {
      const now = Date.now();
      while (this.#started.length > 0 && this.#started[0] <= now - rate.intervalMs)
        this.#started.shift();
      if (this.#started.length < rate.messages) {
        this.#started.push(now);
        return;
      }
      const wait = this.#started[0] + rate.intervalMs - now;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(done, wait);
        function done() {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        }
        function onAbort() {
          clearTimeout(timer);
          reject(
            new MailError("aborted while rate-limited", {
              code: "SMTP_ABORTED",
              cause: signal?.reason,
            }),
          );
        }
        signal?.addEventListener("abort", onAbort, { once: true });
      });
    }
  }
}
