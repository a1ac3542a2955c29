/**
 * An open IMAP session: the connection plus what the server said about itself
 * (capabilities, enabled extensions) and the selected mailbox. Opening it covers the
 * greeting, STARTTLS and the capability exchange (RFC 9051 §6.1.1, §6.2.1).
 */
import { MailConnection, openConnection } from "../net/index.js";
import {
  DEFAULT_PARSER_LIMITS,
  type EncodeOptions,
  type IMAPParserLimits,
  type IMAPResponse,
  type LiteralChunkSink,
  type LiteralStreamInfo,
} from "./codec/index.js";
import { type CommandResult, type CommandSpec, IMAPConnection } from "./connection.js";
import { imapError, imapNetError, statusError } from "./errors.js";
import { MailboxState } from "./mailbox-state.js";
import { Preamble } from "./preamble.js";
import type { IMAPConnectOptions, IMAPSecurity } from "./types.js";

export interface SessionSettings {
  host: string;
  port: number;
  security: IMAPSecurity;
  options: IMAPConnectOptions;
  connectTimeoutMs: number;
  greetingTimeoutMs: number;
  commandTimeoutMs: number;
}

export class IMAPSession {
  readonly connection: IMAPConnection;
  readonly settings: SessionSettings;
  readonly mailbox = new MailboxState();
  capabilities = new Set<string>();
  readonly enabled = new Set<string>();
  authenticated = false;
  /** Set by a download while its literal is being streamed. */
  literalSink: ((info: LiteralStreamInfo) => LiteralChunkSink | undefined) | undefined;
  /** Untagged OK/NO with [ALERT]: RFC 9051 §7.1 says the user must see these. */
  readonly alerts: string[] = [];

  private constructor(connection: IMAPConnection, settings: SessionSettings) {
    this.connection = connection;
    this.settings = settings;
  }

  /** Quoting and literal rules for arguments, from what the server offers. */
  get encode(): EncodeOptions {
    return {
      literalPlus: this.capabilities.has("LITERAL+"),
      literalMinus: this.capabilities.has("LITERAL-"),
      utf8: this.enabled.has("UTF8=ACCEPT"),
    };
  }

  has(capability: string): boolean {
    return this.capabilities.has(capability);
  }

  /** Runs a command with the session's default timeout; untagged data goes to `onData`. */
  run(spec: CommandSpec): Promise<CommandResult> {
    return this.connection.run({ timeoutMs: this.settings.commandTimeoutMs, ...spec });
  }

  /** CAPABILITY (RFC 9051 §6.1.1), stored for later choices. */
  async refreshCapabilities(signal?: AbortSignal): Promise<void> {
    let fresh: string[] | undefined;
    await this.run({
      name: "CAPABILITY",
      collects: ["capability"],
      onData: (response) => {
        if (response.kind === "capability") fresh = response.capabilities;
        return true;
      },
      signal,
    });
    if (fresh) this.capabilities = new Set(fresh);
  }

  /** Takes capabilities from a response code, when the server sent them unasked. */
  noteCapabilities(result: CommandResult): boolean {
    if (result.code?.name !== "CAPABILITY" || !("capabilities" in result.code)) return false;
    this.capabilities = new Set(result.code.capabilities);
    return true;
  }

  static async open(settings: SessionSettings, signal?: AbortSignal): Promise<IMAPSession> {
    const { host, port, security, options } = settings;
    const limits: IMAPParserLimits = {
      ...DEFAULT_PARSER_LIMITS,
      ...(options.maxLiteralSize ? { maxLiteralSize: options.maxLiteralSize } : {}),
      ...(options.maxLineLength ? { maxLineLength: options.maxLineLength } : {}),
    };
    const socket = await openConnection({
      host,
      port,
      implicitTLS: security === "tls",
      tls: options.tls,
      timeoutMs: settings.connectTimeoutMs,
      signal,
      error: imapNetError,
    });
    // A server that vanishes without a FIN is noticed even while IDLE waits for hours.
    socket.setKeepAlive(true, 60_000);
    const mail = new MailConnection(socket, {
      secure: security === "tls",
      maxLineLength: limits.maxLineLength,
      error: imapNetError,
    });
    let start: { capabilities: string[] | undefined; preauth: boolean };
    try {
      start = await greetAndSecure(mail, settings, limits, signal);
    } catch (error) {
      mail.destroy();
      throw error;
    }
    let session: IMAPSession | undefined;
    const connection = new IMAPConnection(mail, {
      limits,
      onUnsolicited: (response) => session?.onUnsolicited(response),
      observeFetch: (seq, uid) => session?.mailbox.observeFetch(seq, uid),
      streamLiteral: (info) => session?.literalSink?.(info),
      // Only a running download takes literals: otherwise they are not even looked at.
      streaming: () => session?.literalSink !== undefined,
    });
    session = new IMAPSession(connection, settings);
    session.authenticated = start.preauth;
    if (start.capabilities) session.capabilities = new Set(start.capabilities);
    else {
      try {
        await session.refreshCapabilities(signal);
      } catch (error) {
        connection.fail(imapError("IMAP_CONNECTION_CLOSED", "the connection was closed"));
        throw error;
      }
    }
    return session;
  }

  onUnsolicited(response: IMAPResponse): void {
    if (this.mailbox.apply(response)) return;
    if (response.kind === "capability") {
      this.capabilities = new Set(response.capabilities);
    } else if (response.kind === "status") {
      if (response.code?.name === "ALERT") this.alerts.push(response.text);
      else if (response.code?.name === "CAPABILITY" && "capabilities" in response.code) {
        this.capabilities = new Set(response.code.capabilities);
      }
    }
  }
}

/**
 * The greeting, then STARTTLS when asked for (RFC 9051 §6.2.1), in line mode. Returns the
 * capabilities when they are known and still valid (none after STARTTLS: they must be asked
 * for again over TLS), and whether the server pre-authenticated the connection.
 */
async function greetAndSecure(
  mail: MailConnection,
  settings: SessionSettings,
  limits: IMAPParserLimits,
  signal: AbortSignal | undefined,
): Promise<{ capabilities: string[] | undefined; preauth: boolean }> {
  const { host, security, options } = settings;
  const preamble = new Preamble(mail, limits, settings.commandTimeoutMs, signal);
  const greeting = await preamble.response(settings.greetingTimeoutMs);
  if (greeting.kind !== "status" || greeting.status === "BAD" || greeting.status === "NO") {
    throw imapError("IMAP_PROTOCOL_ERROR", "the server's greeting is not an IMAP greeting");
  }
  if (greeting.status === "BYE") throw statusError("connect", "BYE", greeting.text, greeting.code);
  // RFC 9051 §7.1.4: PREAUTH means already authenticated; STARTTLS is then impossible.
  const preauth = greeting.status === "PREAUTH";
  const code = greeting.code;
  let capabilities =
    code?.name === "CAPABILITY" && "capabilities" in code ? code.capabilities : undefined;
  if (security !== "starttls") return { capabilities, preauth };
  if (preauth) {
    throw imapError(
      "IMAP_STARTTLS_UNAVAILABLE",
      "the server pre-authenticated the plaintext connection, so STARTTLS is impossible; use security 'tls' or, knowingly, 'none'",
    );
  }
  if (!capabilities) {
    for (const response of await preamble.command("CAPABILITY")) {
      if (response.kind === "capability") capabilities = response.capabilities;
    }
  }
  if (!capabilities?.includes("STARTTLS")) {
    throw imapError(
      "IMAP_STARTTLS_UNAVAILABLE",
      `${host} does not offer STARTTLS; use security 'tls' (port 993) or, knowingly, 'none'`,
    );
  }
  await preamble.command("STARTTLS");
  await mail.startTLS({ host, tls: options.tls, timeoutMs: settings.connectTimeoutMs, signal });
  return { capabilities: undefined, preauth };
}
