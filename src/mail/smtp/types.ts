import type { MailSecurity, MailTLSOptions } from "../net/index.js";
import type { DSNOptions } from "./commands.js";

export type SMTPSecurity = MailSecurity;

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
  signal?: AbortSignal;
}

/** Who the message is from and to, as bare addresses (RFC 5321 §3.3). */
export interface SMTPEnvelope {
  /** Reverse-path; "" for the null sender (bounces). */
  from: string;
  to: string[];
  /** The message or an address needs SMTPUTF8 (RFC 6531). */
  smtputf8?: boolean;
}

export interface SendOptions {
  signal?: AbortSignal;
  /** Delivery Status Notifications (RFC 3461); needs the server's DSN extension. */
  dsn?: DSNOptions;
  /** Overrides the envelope derived from the message (e.g. to add or hide recipients). */
  envelope?: SMTPEnvelope;
}

export interface SendRawOptions extends SendOptions {
  /** The body has 8-bit bytes; needs 8BITMIME (RFC 6152) and sends BODY=8BITMIME. */
  eightBit?: boolean;
}

export interface RejectedRecipient {
  recipient: string;
  replyCode: number;
  enhancedStatus: string | undefined;
  message: string;
}

export interface SendResult {
  accepted: string[];
  rejected: RejectedRecipient[];
  /** The Message-ID of the message (undefined for raw messages without one). */
  messageId: string | undefined;
  /** The server's final reply text (often holds its queue id). */
  response: string;
}

/** What sendMessage needs from a message; `MailMessage` satisfies it. */
export interface SendableMessage {
  render(options?: { eightBit?: boolean; smtputf8?: boolean }): AsyncIterable<Uint8Array>;
  envelope(): { from: string; to: string[]; smtputf8: boolean };
  readonly messageId?: string | undefined;
}

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
  [Symbol.asyncDispose](): Promise<void>;
}
