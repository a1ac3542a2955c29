import type { MailSecurity, MailTLSOptions } from "../net/index.js";
import type { DSNOptions } from "./commands.js";

/** Transport security: implicit TLS, STARTTLS, or none (plaintext, only when asked for). */
export type SMTPSecurity = MailSecurity;

/** Options of `client.connect(host, port, options)`; every one has a default. */
export interface SMTPConnectOptions {
  /**
   * "tls": implicit TLS (default on ports 465 and 993). "starttls": upgrade with STARTTLS, and fail with
   * SMTP_STARTTLS_UNAVAILABLE if the server does not offer it (default on every other port).
   * "none": plaintext, only when asked for.
   */
  security?: SMTPSecurity;
  /** Node TLS options (ca, cert, key, servername, rejectUnauthorized, …). Verified by default. */
  tls?: MailTLSOptions;
  /** The name sent in EHLO/HELO; default: this host's name if it is a FQDN, else an address literal. */
  clientName?: string;
  /**
   * Allow AUTH over a connection that is not encrypted. Off by default: credentials never go
   * out in plaintext unless this is set.
   */
  allowPlaintextAuth?: boolean;
  /** TCP connect + TLS handshake (default 30 s). */
  connectTimeoutMs?: number;
  /** Waiting for the 220 greeting (default 30 s; RFC 5321 §4.5.3.2.1 suggests 5 minutes). */
  greetingTimeoutMs?: number;
  /** Each command's reply (default 60 s). */
  commandTimeoutMs?: number;
  /** Sending the body and waiting for its final reply (default 10 min, RFC 5321 §4.5.3.2.6). */
  dataTimeoutMs?: number;
  /** Longest reply line accepted (default 4096; RFC 5321 §4.5.3.1.5 says 512 — servers exceed it). */
  maxReplyLineLength?: number;
  /** Largest reply accepted, in bytes of text (default 64 KiB). */
  maxReplyBytes?: number;
  /** Aborts connecting (TCP, TLS, greeting and EHLO). */
  signal?: AbortSignal;
}

/** Who the message is from and to, as bare addresses (RFC 5321 §3.3). */
export interface SMTPEnvelope {
  /** Reverse-path; "" for the null sender (bounces). */
  from: string;
  /** Forward-paths: the bare addresses of every recipient. */
  to: string[];
  /** The message or an address needs SMTPUTF8 (RFC 6531). */
  smtputf8?: boolean;
}

/** Options of `sendMessage()` and `sendRaw()`. */
export interface SendOptions {
  /** Aborts the send. */
  signal?: AbortSignal;
  /** Delivery Status Notifications (RFC 3461); needs the server's DSN extension. */
  dsn?: DSNOptions;
  /** Overrides the envelope derived from the message (e.g. to add or hide recipients). */
  envelope?: SMTPEnvelope;
}

/** Options of `sendRaw()`. */
export interface SendRawOptions extends SendOptions {
  /** The body has 8-bit bytes; needs 8BITMIME (RFC 6152) and sends BODY=8BITMIME. */
  eightBit?: boolean;
}

/** A recipient the server refused at `RCPT TO`, with its reply. */
export interface RejectedRecipient {
  /** The refused address. */
  recipient: string;
  /** The reply code, e.g. 550. */
  replyCode: number;
  /** The RFC 3463 enhanced status code (e.g. `5.1.1`), when sent. */
  enhancedStatus: string | undefined;
  /** The reply text. */
  message: string;
}

/** What a send resolves to once the server accepted the message for at least one recipient. */
export interface SendResult {
  /** The recipients the server accepted. */
  accepted: string[];
  /** The recipients the server refused (the send still succeeds if any was accepted). */
  rejected: RejectedRecipient[];
  /** The Message-ID of the message (undefined for raw messages without one). */
  messageId: string | undefined;
  /** The server's final reply text (often holds its queue id). */
  response: string;
}

/** What sendMessage needs from a message; `MailMessage` satisfies it. */
export interface SendableMessage {
  /** The message as bytes, for a transport with the given extensions. */
  render(options?: { eightBit?: boolean; smtputf8?: boolean }): AsyncIterable<Uint8Array>;
  /**
   * The envelope: sender, recipients, and whether SMTPUTF8 is needed.
   *
   * @property from - the reverse-path (bare address).
   * @property to - the forward-paths (bare addresses).
   * @property smtputf8 - an address or header needs SMTPUTF8 (RFC 6531).
   */
  envelope(): { from: string; to: string[]; smtputf8: boolean };
  /** The Message-ID, reported back in the send result. */
  readonly messageId?: string | undefined;
}

/** A raw message for `sendRaw()`: bytes, a string (sent as UTF-8) or chunks, sync or async. */
export type MessageBody = Uint8Array | string | AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

/**
 * Sending, as both `AsyncSMTPClient` (one connection) and `SMTPPool` (several) offer it, so
 * code can take either.
 */
export interface SMTPSender {
  /** Renders and sends a message; see `AsyncSMTPClient.sendMessage`. */
  sendMessage(message: SendableMessage, options?: SendOptions): Promise<SendResult>;
  /** Sends an already-composed message; see `AsyncSMTPClient.sendRaw`. */
  sendRaw(envelope: SMTPEnvelope, body: MessageBody, options?: SendRawOptions): Promise<SendResult>;
  /** QUITs and closes (every connection, for a pool). */
  close(): Promise<void>;
  /** `await using sender = …` runs `close()` at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void>;
}
