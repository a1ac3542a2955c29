/** IMAP error codes and the factories the net layer and the session use to raise them. */
import { IMAPError } from "../../errors.js";
import type { NetErrorFactory, NetFailure } from "../net/index.js";
import type { ResponseCode } from "./codec/index.js";

const NET_CODES: Record<NetFailure, string> = {
  connect: "IMAP_CONNECTION_FAILED",
  tls: "IMAP_TLS_FAILED",
  "starttls-injection": "IMAP_STARTTLS_INJECTION",
  timeout: "IMAP_TIMEOUT",
  aborted: "IMAP_ABORTED",
  closed: "IMAP_CONNECTION_CLOSED",
  "line-too-long": "IMAP_LIMIT_EXCEEDED",
};

export const imapNetError: NetErrorFactory = (kind, message, cause) =>
  new IMAPError(message, { code: NET_CODES[kind], cause });

export function imapError(code: string, message: string, cause?: unknown): IMAPError {
  return new IMAPError(message, { code, cause });
}

/**
 * The error for a tagged NO or BAD (or an untagged BYE). The code says which, and for NO
 * the response code when it names a well-known condition (RFC 5530), so callers can branch
 * on `AUTHENTICATIONFAILED`, `TRYCREATE`, `NONEXISTENT`, … without reading text.
 */
export function statusError(
  command: string,
  status: "NO" | "BAD" | "BYE",
  text: string,
  code: ResponseCode | undefined,
): IMAPError {
  const suffix = code ? `[${code.name}] ` : "";
  const errorCode =
    status === "BAD"
      ? "IMAP_BAD_COMMAND"
      : status === "BYE"
        ? "IMAP_BYE"
        : code?.name === "AUTHENTICATIONFAILED"
          ? "IMAP_AUTHENTICATION_FAILED"
          : "IMAP_NO";
  return new IMAPError(`${command} failed: ${status} ${suffix}${text}`, {
    code: errorCode,
    status,
    response: `${status} ${suffix}${text}`,
    responseCode: code?.name,
  });
}
