/**
 * The net layer is shared by the SMTP and IMAP clients, so it does not pick error classes or
 * codes itself: each protocol passes a factory that turns a failure *kind* into its own typed
 * error (`SMTPError` with `SMTP_TIMEOUT`, `IMAPError` with `IMAP_TIMEOUT`, …).
 */
import type { DeadlineErrorFactory } from "../../shared/deadline.js";

export type NetFailure =
  /** Could not open the TCP connection (refused, unreachable, DNS). */
  | "connect"
  /** The TLS handshake failed (certificate not trusted, protocol mismatch, …). */
  | "tls"
  /**
   * The server sent bytes after its reply to STARTTLS and before the TLS handshake: they came
   * in plaintext and may have been injected (RFC 3207 §5, RFC 9051 §11.1).
   */
  | "starttls-injection"
  /** A deadline passed. */
  | "timeout"
  /** The caller's AbortSignal fired. */
  | "aborted"
  /** The peer closed the connection (or it broke) while we were waiting on it. */
  | "closed"
  /** A line from the peer was longer than the configured cap. */
  | "line-too-long";

export type NetErrorFactory = (kind: NetFailure, message: string, cause?: unknown) => Error;

/** The deadline errors of one wait, "<what>: no answer within N ms" / "<what>: aborted". */
export function deadlineError(
  error: NetErrorFactory,
  what: string,
  timeoutMs: number,
): DeadlineErrorFactory {
  return (kind, cause) =>
    kind === "aborted"
      ? error("aborted", `${what}: aborted`, cause)
      : error("timeout", `${what}: no answer within ${timeoutMs} ms`);
}
