/**
 * The net layer is shared by the SMTP and IMAP clients, so it does not pick error classes or
 * codes itself: each protocol passes a factory that turns a failure *kind* into its own typed
 * error (`SMTPError` with `SMTP_TIMEOUT`, `IMAPError` with `IMAP_TIMEOUT`, …).
 */
export type NetFailure =
  /** Could not open the TCP connection (refused, unreachable, DNS). */
  | "connect"
  /** The TLS handshake failed (certificate not trusted, protocol mismatch, …). */
  | "tls"
  /** A deadline passed. */
  | "timeout"
  /** The caller's AbortSignal fired. */
  | "aborted"
  /** The peer closed the connection (or it broke) while we were waiting on it. */
  | "closed"
  /** A line from the peer was longer than the configured cap. */
  | "line-too-long";

export type NetErrorFactory = (kind: NetFailure, message: string, cause?: unknown) => Error;
