/**
 * `AsyncSMTPClient`: one SMTP connection, used for any number of messages. Operations are
 * serialised (SMTP is one conversation at a time; use `SMTPPool` for parallelism). When the
 * server has closed an idle connection (socket gone, or 421 at the start of the next
 * transaction), the client reconnects, logs in again and retries once — only when no byte of
 * the body had been sent, so a message is never delivered twice by a retry.
 */
import { Buffer } from "node:buffer";
import { MailError, SMTPError } from "../../errors.js";
import { assertHostName } from "../arguments.js";
import { resolveSecurity } from "../net/index.js";
import {
  type AuthMechanism,
  authenticateSMTP,
  type Credentials,
  chooseSMTPMechanism,
  type OAuth2TokenProvider,
} from "./auth.js";
import { invalidArgument, replyError } from "./errors.js";
import { openSession, type Session, type SessionOptions, type Timeouts } from "./session.js";
import { runTransaction, type TransactionInput, type TransactionProgress } from "./transaction.js";
import type {
  MessageBody,
  SendableMessage,
  SendOptions,
  SendRawOptions,
  SendResult,
  SMTPConnectOptions,
  SMTPEnvelope,
  SMTPSender,
} from "./types.js";

const DEFAULTS = {
  connectTimeoutMs: 30_000,
  greetingTimeoutMs: 30_000,
  commandTimeoutMs: 60_000,
  dataTimeoutMs: 600_000,
  maxReplyLineLength: 4096,
  maxReplyBytes: 64 * 1024,
};

export interface LoginOptions {
  /** Force a mechanism; by default the best one the server offers is chosen. */
  mechanism?: AuthMechanism;
  signal?: AbortSignal;
}

export class AsyncSMTPClient implements SMTPSender {
  #session: Session | undefined;
  #sessionOptions: SessionOptions | undefined;
  #allowPlaintextAuth = false;
  #credentials: Credentials | undefined;
  #needsReset = false;
  #closed = false;
  #queue: Promise<unknown> = Promise.resolve();

  /** The user this client logged in as, or undefined. */
  get username(): string | undefined {
    return this.#credentials?.user;
  }

  /** The server's EHLO extensions (upper-case keyword → parameters) of the current session. */
  get capabilities(): ReadonlyMap<string, readonly string[]> {
    return this.#session?.capabilities ?? new Map();
  }

  /** True while the connection is encrypted (implicit TLS or after STARTTLS). */
  get secure(): boolean {
    return this.#session?.connection.secure ?? false;
  }

  /** True while a session is open (the server may still close it at any moment). */
  get connected(): boolean {
    return !!this.#session && !this.#session.connection.closed;
  }

  /**
   * Connects, reads the greeting, says EHLO and (by default) upgrades with STARTTLS.
   * Ports 465 and 993 mean implicit TLS unless `security` says otherwise.
   */
  connect(host: string, port = 587, options: SMTPConnectOptions = {}): Promise<void> {
    return this.#exclusive(async () => {
      assertHostName(host, invalidArgument);
      if (this.#session)
        throw new MailError("already connected", { code: "SMTP_ALREADY_CONNECTED" });
      const security = resolveSecurity(port, options.security, invalidArgument);
      const sessionOptions: SessionOptions = {
        host,
        port,
        security,
        tls: options.tls,
        clientName: options.clientName,
        timeouts: {
          connect: options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs,
          greeting: options.greetingTimeoutMs ?? DEFAULTS.greetingTimeoutMs,
          command: options.commandTimeoutMs ?? DEFAULTS.commandTimeoutMs,
          data: options.dataTimeoutMs ?? DEFAULTS.dataTimeoutMs,
        },
        limits: {
          maxLineLength: options.maxReplyLineLength ?? DEFAULTS.maxReplyLineLength,
          maxReplyBytes: options.maxReplyBytes ?? DEFAULTS.maxReplyBytes,
          maxLines: 200,
        },
      };
      const session = await openSession({ ...sessionOptions, signal: options.signal });
      // Remembered only once a session worked: reconnects reuse them.
      this.#sessionOptions = sessionOptions;
      this.#allowPlaintextAuth = options.allowPlaintextAuth === true;
      this.#credentials = undefined;
      this.#closed = false;
      this.#session = session;
      this.#needsReset = false;
    });
  }

  /** AUTH with a password (PLAIN, LOGIN or CRAM-MD5, whichever fits best). */
  login(user: string, password: string, options: LoginOptions = {}): Promise<void> {
    const credentials: Credentials = {
      kind: "password",
      user,
      password,
      mechanism: options.mechanism,
    };
    return this.#exclusive(() => this.#login(credentials, options.signal));
  }

  /**
   * AUTH XOAUTH2 (or OAUTHBEARER, RFC 7628, when the server offers only that). `token` is an
   * access token or a provider called for one; when the server
   * rejects a token, the provider is called again with `{ refresh: true }` and the login is
   * retried once. The provider is also used for logins after a reconnect.
   */
  loginOAuth2(
    user: string,
    token: string | OAuth2TokenProvider,
    options: { signal?: AbortSignal } = {},
  ): Promise<void> {
    const provider: OAuth2TokenProvider = typeof token === "string" ? () => token : token;
    return this.#exclusive(() =>
      this.#login({ kind: "oauth2", user, token: provider }, options.signal),
    );
  }

  /**
   * Sends a `MailMessage` (anything with `render()` and `envelope()`). Resolves with the
   * recipients the server accepted and rejected; throws SMTPError only when none was accepted
   * or the message itself was refused.
   */
  sendMessage(message: SendableMessage, options: SendOptions = {}): Promise<SendResult> {
    return this.#exclusive(async () => {
      const base = message.envelope();
      const envelope: SMTPEnvelope = options.envelope ?? base;
      const smtputf8 = !!(base.smtputf8 || envelope.smtputf8);
      const outcome = await this.#send(options.signal, (session) => {
        const eightBit = session.capabilities.has("8BITMIME");
        // 8bit parts only where the server takes them (RFC 6152); else base64/QP. Rendering
        // starts here, before MAIL FROM, so a message with an invalid header fails before
        // anything is sent.
        const rendered = message.render({ eightBit, smtputf8 });
        return {
          envelope: { ...envelope, smtputf8 },
          body: () => rendered,
          eightBit,
          dsn: options.dsn,
        };
      });
      return { ...outcome, messageId: message.messageId };
    });
  }

  /**
   * Sends an already-composed RFC 5322 message. Line ends are normalised to CRLF and the body
   * is dot-stuffed on the way; a lone CR or LF never reaches the wire.
   */
  sendRaw(
    envelope: SMTPEnvelope,
    body: MessageBody,
    options: SendRawOptions = {},
  ): Promise<SendResult> {
    return this.#exclusive(async () => {
      const bytes =
        typeof body === "string"
          ? Buffer.from(body, "utf8")
          : body instanceof Uint8Array
            ? body
            : undefined;
      const outcome = await this.#send(options.signal, () => ({
        envelope,
        body: () => (bytes ? [bytes] : (body as AsyncIterable<Uint8Array> | Iterable<Uint8Array>)),
        size: bytes?.length,
        eightBit: options.eightBit === true,
        dsn: options.dsn,
      }));
      return { ...outcome, messageId: bytes ? findMessageId(bytes) : undefined };
    });
  }

  /** NOOP (RFC 5321 §4.1.1.9): checks the connection is alive. */
  noop(options: { signal?: AbortSignal } = {}): Promise<void> {
    return this.#exclusive(async () => {
      const session = this.#requireSession();
      const reply = await session.connection.command(
        "NOOP\r\n",
        this.#timeouts().command,
        options.signal,
      );
      if (reply.code !== 250) throw replyError("NOOP failed", reply, "SMTP_COMMAND_FAILED");
    });
  }

  /** Sends QUIT (RFC 5321 §4.1.1.10) and closes the connection. Safe to call twice. */
  close(options: { signal?: AbortSignal } = {}): Promise<void> {
    this.#closed = true;
    return this.#exclusive(async () => {
      const session = this.#session;
      this.#session = undefined;
      if (!session) return;
      if (session.connection.closed) return;
      try {
        const timeout = Math.min(this.#timeouts().command, 5_000);
        await session.connection.command("QUIT\r\n", timeout, options.signal);
        session.connection.end();
      } catch {
        // The server vanished or was slow to say goodbye; we are leaving either way.
      } finally {
        session.connection.destroy();
      }
    });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #login(credentials: Credentials, signal: AbortSignal | undefined): Promise<void> {
    const session = this.#requireSession();
    await this.#authenticate(session, credentials, signal);
    this.#credentials = credentials;
  }

  async #authenticate(
    session: Session,
    credentials: Credentials,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    if (!session.connection.secure && !this.#allowPlaintextAuth) {
      // Never let a password (or token) out in plaintext unless the caller said so explicitly.
      throw new SMTPError(
        "refusing to send credentials over an unencrypted connection (use TLS/STARTTLS, or allowPlaintextAuth: true)",
        { code: "SMTP_AUTH_INSECURE" },
      );
    }
    const offered = session.capabilities.get("AUTH") ?? [];
    if (offered.length === 0) {
      throw new SMTPError("the server does not offer AUTH", { code: "SMTP_AUTH_UNAVAILABLE" });
    }
    const mechanism = chooseSMTPMechanism(offered, credentials, session.connection.secure);
    const timeout = this.#timeouts().command;
    const where = this.#sessionOptions;
    await authenticateSMTP(
      (line) => session.connection.command(`${line}\r\n`, timeout, signal, "AUTH"),
      mechanism,
      credentials,
      where && { host: where.host, port: where.port },
    );
  }

  async #send(
    signal: AbortSignal | undefined,
    prepare: (session: Session) => Omit<TransactionInput, "reset" | "signal">,
  ): Promise<Omit<SendResult, "messageId">> {
    for (let attempt = 0; ; attempt++) {
      const reused = !!this.#session && !this.#session.connection.closed;
      const session = await this.#ensureSession(signal);
      const input: TransactionInput = { ...prepare(session), signal, reset: this.#needsReset };
      const progress: TransactionProgress = { bodyStarted: false, needsReset: false };
      try {
        const outcome = await runTransaction(session, this.#timeouts(), input, progress);
        this.#needsReset = false;
        return {
          accepted: outcome.accepted,
          rejected: outcome.rejected,
          response: outcome.reply.text,
        };
      } catch (failure) {
        this.#needsReset = progress.needsReset;
        const gone = session.connection.closed || isCode(failure, "SMTP_SERVICE_UNAVAILABLE");
        if (gone) {
          // 421 or a dead socket: this session is over (RFC 5321 §3.8).
          session.connection.destroy();
          if (this.#session === session) this.#session = undefined;
          this.#needsReset = false;
        }
        // The server dropped an idle connection under us: reconnect and try once more, but
        // only if the body never started (else the message might already be delivered).
        const retry =
          attempt === 0 &&
          reused &&
          gone &&
          !progress.bodyStarted &&
          (isCode(failure, "SMTP_CONNECTION_CLOSED") ||
            isCode(failure, "SMTP_SERVICE_UNAVAILABLE"));
        if (!retry) throw failure;
      }
    }
  }

  /** The open session, reopening it (and logging in again) if the server had closed it. */
  async #ensureSession(signal: AbortSignal | undefined): Promise<Session> {
    if (this.#session && !this.#session.connection.closed) return this.#session;
    if (this.#session) {
      this.#session.connection.destroy();
      this.#session = undefined;
    }
    if (!this.#sessionOptions || this.#closed) {
      throw new MailError("not connected: call connect() first", { code: "SMTP_NOT_CONNECTED" });
    }
    const session = await openSession({ ...this.#sessionOptions, signal });
    try {
      if (this.#credentials) await this.#authenticate(session, this.#credentials, signal);
    } catch (failure) {
      session.connection.destroy();
      throw failure;
    }
    this.#session = session;
    this.#needsReset = false;
    return session;
  }

  #requireSession(): Session {
    if (!this.#session || this.#session.connection.closed) {
      throw new MailError("not connected: call connect() first", { code: "SMTP_NOT_CONNECTED" });
    }
    return this.#session;
  }

  #timeouts(): Timeouts {
    return (
      this.#sessionOptions?.timeouts ?? {
        connect: DEFAULTS.connectTimeoutMs,
        greeting: DEFAULTS.greetingTimeoutMs,
        command: DEFAULTS.commandTimeoutMs,
        data: DEFAULTS.dataTimeoutMs,
      }
    );
  }

  /** Runs operations one after another (a failure does not block the ones queued after it). */
  #exclusive<T>(operation: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(operation, operation);
    this.#queue = run.catch(() => {});
    return run;
  }
}

function isCode(failure: unknown, code: string): boolean {
  return failure instanceof MailError && failure.code === code;
}

/** The Message-ID header of a raw message, if it has one in its header section. */
function findMessageId(bytes: Uint8Array): string | undefined {
  const head = Buffer.from(
    bytes.buffer,
    bytes.byteOffset,
    Math.min(bytes.length, 64 * 1024),
  ).toString("latin1");
  const end = head.search(/\r?\n\r?\n/);
  const match = /^message-id:[ \t]*(<[^>\r\n]*>)/im.exec(end === -1 ? head : head.slice(0, end));
  return match?.[1];
}
