/** Stable error codes of the MIME layer; every failure is a `MailError` with one of these. */
import { MailError } from "../../errors.js";

/**
 * The `code` of every `MailError` the MIME layer raises, by name, so callers compare with a
 * constant instead of a string literal.
 *
 * @example
 * ```ts
 * try {
 *   MailMessage.parse(bytes);
 * } catch (error) {
 *   if (error instanceof MailError && error.code === MIME_ERROR_CODES.limit) reject();
 * }
 * ```
 */
export const MIME_ERROR_CODES = {
  /** CR, LF or NUL (or another forbidden control) in a header name, value, address or filename. */
  headerInjection: "MAIL_HEADER_INJECTION",
  /** A header field name that is not RFC 5322 ftext, or a managed header given in `headers`. */
  invalidHeader: "MAIL_INVALID_HEADER",
  /** An address that cannot be parsed or written. */
  invalidAddress: "MAIL_INVALID_ADDRESS",
  /** A non-ASCII address while the transport does not allow SMTPUTF8. */
  utf8Required: "MAIL_SMTPUTF8_REQUIRED",
  /** No sender for the envelope. */
  missingSender: "MAIL_MISSING_SENDER",
  /** Attachment content of an unsupported kind, or a stream yielding non-bytes. */
  invalidContent: "MAIL_INVALID_CONTENT",
  /** A stream attachment rendered a second time. */
  streamConsumed: "MAIL_STREAM_CONSUMED",
  /** Reading an attachment (file or stream) failed; `cause` holds the original error. */
  attachmentRead: "MAIL_ATTACHMENT_READ",
  /** The parser met input it cannot make sense of. */
  parse: "MAIL_PARSE_ERROR",
  /** The parser met input over a size, count or nesting limit. */
  limit: "MAIL_LIMIT_EXCEEDED",
} as const;

export function mimeError(
  code: (typeof MIME_ERROR_CODES)[keyof typeof MIME_ERROR_CODES],
  message: string,
  cause?: unknown,
): MailError {
  return new MailError(message, { code, cause });
}
