/**
 * `AsyncIMAPClient`: one IMAP connection (RFC 9051 IMAP4rev2 and RFC 3501 IMAP4rev1 servers).
 * Commands are pipelined by the connection; messages are always addressed by UID, so
 * expunges from other sessions never shift what a command refers to. The connection has one
 * selected mailbox at a time: commands run in the order they were called.
 */
import { MailMessage } from "../mime/message.js";
import { type IMAPTokenProvider, login } from "./auth.js";
import {
  type CommandPart,
  encodeMailboxName,
  encodeString,
  type SearchCriteria,
} from "./codec/index.js";
import type { CommandResult } from "./connection.js";
import { downloadPart, type PartDownload } from "./download.js";
import { imapError } from "./errors.js";
import { acceptsFor, chunkSize, fetchItems, fetchStream } from "./fetch.js";
import { idleEvents } from "./idle.js";
import type { MailboxListener } from "./mailbox-state.js";
import { listMailboxes, mailboxStatus, namespaces, selectMailbox } from "./mailboxes.js";
import {
  appendMessage,
  copyMessages,
  deleteMessages,
  moveMessages,
  search,
  store,
} from "./messages.js";
import { IMAPSession } from "./session.js";
import type {
  AppendOptions,
  CopyResult,
  DownloadOptions,
  FetchedMessage,
  FetchOptions,
  IdleOptions,
  IMAPCallOptions,
  IMAPConnectOptions,
  IMAPNamespaces,
  ListOptions,
  MailboxEvent,
  MailboxInfo,
  MailboxListEntry,
  MailboxStatus,
  SelectOptions,
  StoreOptions,
  StoreResult,
  StreamOptions,
} from "./types.js";

const DEFAULTS = {
  connectTimeoutMs: 30_000,
  greetingTimeoutMs: 30_000,
  commandTimeoutMs: 60_000,
  idleRefreshMs: 25 * 60_000,
  idlePollMs: 15_000,
};

/** A message from `fetchMessages`: the parsed MIME message plus its IMAP data. */
export interface IMAPMessage extends MailMessage {
  /** The message's UID. */
  uid: number;
  /** Its flags. */
  flags: string[];
  /** When the server received it. */
  internalDate: Date | undefined;
  /** Its size in bytes (RFC822.SIZE). */
  size: number | undefined;
}

/**
 * An IMAP client: one connection, one selected mailbox at a time (see docs/mail-imap.md).
 *
 * @example
 * ```ts
 * await using imap = new AsyncIMAPClient();
 * await imap.connect("imap.example.com", 993);
 * await imap.login("user@example.com", "password");
 * await imap.selectMailbox("INBOX");
 * const unread = await imap.fetchMessages({ criteria: { unseen: true }, limit: 10 });
 * ```
 */
export class AsyncIMAPClient {
  #session: IMAPSession | undefined;
  #options: IMAPConnectOptions = {};
  #user: string | undefined;
  #closed = false;

  /** The user this client logged in as, or undefined. */
  get username(): string | undefined {
    return this.#user;
  }

  /** The server's capabilities (upper-case), as last reported. */
  get capabilities(): ReadonlySet<string> {
    return this.#session?.capabilities ?? new Set();
  }

  /** True while the connection is encrypted (implicit TLS or after STARTTLS). */
  get secure(): boolean {
    return this.#session?.connection.secure ?? false;
  }

  /** True while the connection is open (the server may still close it at any moment). */
  get connected(): boolean {
    return !!this.#session && !this.#session.connection.closed;
  }

  /** The selected mailbox as the server last described it, or undefined. */
  get mailbox(): MailboxInfo | undefined {
    return this.#session?.mailbox.info;
  }

  /** [ALERT] texts the server sent; RFC 9051 §7.1 asks that a user sees them. */
  get alerts(): readonly string[] {
    return this.#session?.alerts ?? [];
  }

  /**
   * Connects and reads the greeting; on any port but 993 upgrades with STARTTLS before
   * anything else (and fails if the server does not offer it), unless `security` says
   * otherwise.
   */
  async connect(host: string, port = 993, options: IMAPConnectOptions = {}): Promise<void> {
    if (typeof host !== "string" || host === "" || /[\s\u0000-\u001f]/.test(host)) {
      throw imapError("IMAP_INVALID_ARGUMENT", "invalid host name");
    }
    if (this.#session) throw imapError("IMAP_ALREADY_CONNECTED", "already connected");
    const security = options.security ?? (port === 993 ? "tls" : "starttls");
    if (security !== "tls" && security !== "starttls" && security !== "none") {
      throw imapError("IMAP_INVALID_ARGUMENT", `unknown security mode ${String(security)}`);
    }
    this.#session = await IMAPSession.open(
      {
        host,
        port,
        security,
        options,
        connectTimeoutMs: options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs,
        greetingTimeoutMs: options.greetingTimeoutMs ?? DEFAULTS.greetingTimeoutMs,
        commandTimeoutMs: options.commandTimeoutMs ?? DEFAULTS.commandTimeoutMs,
      },
      options.signal,
    );
    this.#options = options;
    this.#closed = false;
  }

  /** Logs in with a password (AUTHENTICATE PLAIN when offered, else LOGIN). */
  async login(user: string, password: string, options: IMAPCallOptions = {}): Promise<void> {
    const session = this.#loginCheck();
    const result = await login(this.#authContext(session, options.signal), {
      kind: "password",
      user,
      password,
    });
    await this.#afterLogin(session, user, result, options.signal);
  }

  /**
   * Logs in with an OAuth2 access token (OAUTHBEARER, or XOAUTH2). With a provider, a
   * rejected token is refreshed (`{ refresh: true }`) and tried once more.
   */
  async loginOAuth2(
    user: string,
    token: string | IMAPTokenProvider,
    options: IMAPCallOptions = {},
  ): Promise<void> {
    const session = this.#loginCheck();
    const provider: IMAPTokenProvider = typeof token === "string" ? () => token : token;
    const result = await login(this.#authContext(session, options.signal), {
      kind: "oauth2",
      user,
      token: provider,
    });
    await this.#afterLogin(session, user, result, options.signal);
  }

  /** SELECT (or EXAMINE with `readOnly`) a mailbox; later commands act on it. */
  async selectMailbox(name = "INBOX", options: SelectOptions = {}): Promise<MailboxInfo> {
    return selectMailbox(this.#ready(), name, options);
  }

  /** STATUS of a mailbox without selecting it (RFC 9051 §6.3.11). */
  async mailboxStatus(name: string, options: IMAPCallOptions = {}): Promise<MailboxStatus> {
    return mailboxStatus(this.#ready(), name, options);
  }

  /** Every mailbox (LIST "" "*"), with special-use and subscription state. */
  async listMailboxes(options: ListOptions = {}): Promise<MailboxListEntry[]> {
    return listMailboxes(this.#ready(), options);
  }

  /** CREATE a mailbox; `name` in Unicode, with the server's hierarchy delimiter. */
  async createMailbox(name: string, options: IMAPCallOptions = {}): Promise<void> {
    await this.#simple("CREATE", [" ", ...this.#name(name)], options.signal);
  }

  /** DELETE a mailbox. */
  async deleteMailbox(name: string, options: IMAPCallOptions = {}): Promise<void> {
    await this.#simple("DELETE", [" ", ...this.#name(name)], options.signal);
  }

  /** RENAME a mailbox (renaming INBOX moves its messages, RFC 9051 §6.3.6). */
  async renameMailbox(from: string, to: string, options: IMAPCallOptions = {}): Promise<void> {
    await this.#simple(
      "RENAME",
      [" ", ...this.#name(from), " ", ...this.#name(to)],
      options.signal,
    );
  }

  /** SUBSCRIBE: add a mailbox to the subscription list. */
  async subscribeMailbox(name: string, options: IMAPCallOptions = {}): Promise<void> {
    await this.#simple("SUBSCRIBE", [" ", ...this.#name(name)], options.signal);
  }

  /** UNSUBSCRIBE: remove a mailbox from the subscription list. */
  async unsubscribeMailbox(name: string, options: IMAPCallOptions = {}): Promise<void> {
    await this.#simple("UNSUBSCRIBE", [" ", ...this.#name(name)], options.signal);
  }

  /** NAMESPACE (RFC 2342): where personal, other users' and shared mailboxes live. */
  async namespaces(options: IMAPCallOptions = {}): Promise<IMAPNamespaces> {
    return namespaces(this.#ready(), options);
  }

  /** NOOP: lets the server report changes to the selected mailbox (RFC 9051 §6.1.2). */
  async noop(options: IMAPCallOptions = {}): Promise<void> {
    await this.#ready().run({ name: "NOOP", signal: options.signal });
  }

  /**
   * UIDs of the messages in the selected mailbox that match `criteria` (an object, or a
   * raw IMAP search string), ascending.
   */
  async search(
    criteria: SearchCriteria | string = "ALL",
    options: IMAPCallOptions = {},
  ): Promise<number[]> {
    return search(this.#selected(), criteria, options);
  }

  /**
   * The messages matching `criteria`, parsed (`MailMessage` with `uid`, `flags`,
   * `internalDate`, `size`). With `limit`, only the newest that many, newest first.
   */
  async fetchMessages(options: FetchOptions = {}): Promise<IMAPMessage[]> {
    const session = this.#selected();
    let uids = await this.search(options.criteria ?? "ALL", options);
    if (options.limit !== undefined) {
      if (!Number.isSafeInteger(options.limit) || options.limit < 0) {
        throw imapError("IMAP_INVALID_ARGUMENT", "limit must be a non-negative integer");
      }
      uids = uids.slice(Math.max(0, uids.length - options.limit)).reverse();
    }
    const plan: StreamOptions = { envelope: false, source: true };
    const byUid = new Map<number, IMAPMessage>();
    const stream = fetchStream(
      async () => ({
        session,
        uids,
        items: fetchItems(plan, false),
        accepts: acceptsFor(plan),
        size: chunkSize(plan),
      }),
      options.signal,
    );
    for await (const fetched of stream) {
      const message = MailMessage.parse(fetched.source ?? new Uint8Array(0)) as IMAPMessage;
      message.uid = fetched.uid;
      message.flags = fetched.flags ?? [];
      message.internalDate = fetched.internalDate;
      message.size = fetched.size;
      byUid.set(fetched.uid, message);
    }
    const out: IMAPMessage[] = [];
    for (const uid of uids) {
      const message = byUid.get(uid);
      if (message) out.push(message); // a message expunged meanwhile is simply absent
    }
    return out;
  }

  /**
   * Fetched messages one at a time, with only the parts asked for (envelope, flags,
   * internal date and size by default). Memory stays flat for any mailbox size, and other
   * commands may be awaited inside the loop.
   */
  streamMessages(options: StreamOptions = {}): AsyncGenerator<FetchedMessage> {
    return fetchStream(async () => {
      const session = this.#selected();
      let uids = options.uids
        ? [...options.uids]
        : await this.search(options.criteria ?? "ALL", options);
      for (const uid of uids) {
        if (!Number.isSafeInteger(uid) || uid < 1) {
          throw imapError("IMAP_INVALID_ARGUMENT", `invalid UID ${String(uid)}`);
        }
      }
      if (options.limit !== undefined) uids = uids.slice(Math.max(0, uids.length - options.limit));
      const condstore = session.enabled.has("CONDSTORE") || session.has("CONDSTORE");
      return {
        session,
        uids,
        items: fetchItems(options, condstore),
        accepts: acceptsFor(options),
        size: chunkSize(options),
      };
    }, options.signal);
  }

  /** One MIME part ("1", "2.1", …) of a message as a stream of decoded bytes. */
  async downloadPart(
    uid: number,
    part: string,
    options: DownloadOptions = {},
  ): Promise<PartDownload> {
    return downloadPart(this.#selected(), uid, part, options);
  }

  /** Adds flags to the messages (UID STORE +FLAGS.SILENT). */
  addFlags(uids: number[], flags: string[], options: StoreOptions = {}): Promise<StoreResult> {
    return store(this.#selected(), uids, "+FLAGS.SILENT", flags, options);
  }

  /** Removes flags from the messages (UID STORE -FLAGS.SILENT). */
  removeFlags(uids: number[], flags: string[], options: StoreOptions = {}): Promise<StoreResult> {
    return store(this.#selected(), uids, "-FLAGS.SILENT", flags, options);
  }

  /** Replaces the flags of the messages with exactly `flags`. */
  setFlags(uids: number[], flags: string[], options: StoreOptions = {}): Promise<StoreResult> {
    return store(this.#selected(), uids, "FLAGS.SILENT", flags, options);
  }

  /** Copies messages to another mailbox; the UID map when the server reports it (UIDPLUS). */
  async copyMessages(
    uids: number[],
    mailbox: string,
    options: IMAPCallOptions = {},
  ): Promise<CopyResult> {
    return copyMessages(this.#selected(), uids, mailbox, options);
  }

  /**
   * Moves messages to another mailbox: MOVE (RFC 6851) when offered, else COPY, then
   * `deleteMessages` of exactly those messages.
   */
  async moveMessages(
    uids: number[],
    mailbox: string,
    options: IMAPCallOptions = {},
  ): Promise<CopyResult> {
    return moveMessages(this.#selected(), uids, mailbox, options);
  }

  /**
   * Deletes messages: \Deleted, then UID EXPUNGE of exactly these UIDs (UIDPLUS), so other
   * messages that happen to be marked \Deleted are never expunged. Without UIDPLUS, the
   * other \Deleted messages lose the flag during a plain EXPUNGE and get it back after it
   * (see docs/mail-imap.md for what another client can do in between).
   */
  async deleteMessages(uids: number[], options: IMAPCallOptions = {}): Promise<void> {
    return deleteMessages(this.#selected(), uids, options);
  }

  /**
   * APPEND a message (a `MailMessage` or raw bytes) to a mailbox; the new UID when the
   * server reports it (APPENDUID, RFC 4315).
   */
  async appendMessage(
    mailbox: string,
    message: MailMessage | Uint8Array | string,
    options: AppendOptions = {},
  ): Promise<number | undefined> {
    return appendMessage(this.#ready(), mailbox, message, options);
  }

  /**
   * Changes to the selected mailbox as they happen (IDLE, or NOOP polling), until the loop
   * breaks or `signal` aborts.
   */
  async *idle(options: IdleOptions = {}): AsyncGenerator<MailboxEvent> {
    const session = this.#selected();
    yield* idleEvents(
      session,
      {
        refreshMs: this.#options.idleRefreshMs ?? DEFAULTS.idleRefreshMs,
        pollMs: this.#options.idlePollMs ?? DEFAULTS.idlePollMs,
      },
      options.signal,
    );
  }

  /** Calls `listener` with every change to the selected mailbox; returns its remover. */
  onMailboxEvent(listener: MailboxListener): () => void {
    return this.#ready().mailbox.listen(listener);
  }

  /** LOGOUT (RFC 9051 §6.1.3), then the socket. Safe to call twice. */
  async close(options: IMAPCallOptions = {}): Promise<void> {
    this.#closed = true;
    const session = this.#session;
    this.#session = undefined;
    if (!session || session.connection.closed) return;
    try {
      await session.run({
        name: "LOGOUT",
        exclusive: true,
        signal: options.signal,
        timeoutMs: 5_000,
      });
    } catch {
      // Closing anyway: the server may already be gone, and BYE closes the socket.
    } finally {
      session.connection.end();
    }
  }

  /** `await using` support: the same as `close()`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #authContext(session: IMAPSession, signal: AbortSignal | undefined) {
    return {
      connection: session.connection,
      capabilities: session.capabilities,
      encode: session.encode,
      secure: session.connection.secure,
      host: session.settings.host,
      port: session.settings.port,
      timeoutMs: session.settings.commandTimeoutMs,
      signal,
    };
  }

  #loginCheck(): IMAPSession {
    const session = this.#connected();
    if (session.authenticated) throw imapError("IMAP_ALREADY_AUTHENTICATED", "already logged in");
    if (session.has("LOGINDISABLED")) {
      throw imapError(
        "IMAP_LOGIN_DISABLED",
        "the server refuses logins on this connection (LOGINDISABLED); connect with TLS",
      );
    }
    if (!session.connection.secure && this.#options.allowPlaintextAuth !== true) {
      throw imapError(
        "IMAP_PLAINTEXT_AUTH_REFUSED",
        "refusing to send credentials over an unencrypted connection; use TLS, or set allowPlaintextAuth",
      );
    }
    return session;
  }

  async #afterLogin(
    session: IMAPSession,
    user: string,
    result: CommandResult,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    session.authenticated = true;
    this.#user = user;
    // RFC 9051 §6.2.3: capabilities may change after login; servers often say so in the OK.
    if (!session.noteCapabilities(result)) await session.refreshCapabilities(signal);
    const wanted = [
      "UTF8=ACCEPT",
      "CONDSTORE",
      ...(this.#options.qresync ? ["QRESYNC"] : []),
    ].filter((name) => session.has(name));
    if (wanted.length > 0 && session.has("ENABLE")) {
      await session.run({
        name: "ENABLE",
        args: [` ${wanted.join(" ")}`],
        collects: ["enabled"],
        signal,
        onData: (response) => {
          if (response.kind !== "enabled") return false;
          for (const name of response.capabilities) session.enabled.add(name);
          return true;
        },
      });
    }
    if (this.#options.compress && session.has("COMPRESS=DEFLATE")) {
      // The connection switches to DEFLATE itself on the tagged OK (connection.ts).
      await session.run({ name: "COMPRESS", args: [" DEFLATE"], exclusive: true, signal });
    }
    const id = this.#options.clientId;
    if (id && session.has("ID")) {
      const pairs = Object.entries(id).flatMap(([key, value]) => [
        " ",
        ...encodeString(key, session.encode, "string"),
        " ",
        ...encodeString(value, session.encode, "string"),
      ]);
      await session.run({
        name: "ID",
        args: [" (", ...pairs.slice(1), ")"],
        collects: ["id"],
        onData: (response) => response.kind === "id",
        signal,
      });
    }
  }

  async #simple(name: string, args: CommandPart[], signal: AbortSignal | undefined): Promise<void> {
    await this.#ready().run({ name, args, signal });
  }

  #name(name: string): CommandPart[] {
    return encodeMailboxName(name, this.#ready().encode);
  }

  #connected(): IMAPSession {
    const session = this.#session;
    if (!session || session.connection.closed) {
      throw imapError(
        this.#closed ? "IMAP_CLOSED" : "IMAP_NOT_CONNECTED",
        this.#closed ? "the client was closed" : "not connected (call connect first)",
      );
    }
    return session;
  }

  #ready(): IMAPSession {
    const session = this.#connected();
    if (!session.authenticated) throw imapError("IMAP_NOT_AUTHENTICATED", "log in first");
    return session;
  }

  #selected(): IMAPSession {
    const session = this.#ready();
    if (!session.mailbox.info) {
      throw imapError("IMAP_NO_MAILBOX", "no mailbox is selected (call selectMailbox first)");
    }
    return session;
  }
}
