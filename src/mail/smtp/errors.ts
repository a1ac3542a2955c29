/** The SMTP client's typed errors for the shared mail layers (net, arguments, SASL) and replies. */
import { MailError, SMTPError } from "../../errors.js";
import type { ArgumentErrorFactory } from "../arguments.js";
import type { NetErrorFactory, NetFailure } from "../net/index.js";
import type { SMTPReply } from "./reply.js";

const NET_CODES: Record<NetFailure, string> = {
  connect: "SMTP_CONNECTION_FAILED",
  tls: "SMTP_TLS_FAILED",
  "starttls-injection": "SMTP_STARTTLS_INJECTION",
  timeout: "SMTP_TIMEOUT",
  aborted: "SMTP_ABORTED",
  closed: "SMTP_CONNECTION_CLOSED",
  "line-too-long": "SMTP_REPLY_TOO_LARGE",
};

export const smtpNetError: NetErrorFactory = (kind, message, cause) =>
  new SMTPError(message, { code: NET_CODES[kind], cause });

/** A caller's argument that cannot be sent (a MailError: the server never saw it). */
export const invalidArgument: ArgumentErrorFactory = (message) =>
  new MailError(message, { code: "SMTP_INVALID_ARGUMENT" });

/** An error carrying the server's reply: its code, enhanced status (RFC 3463) and text. */
export function replyError(what: string, reply: SMTPReply, code: string): SMTPError {
  return new SMTPError(`${what}: ${reply.code} ${reply.text}`, {
    code,
    replyCode: reply.code,
    enhancedStatus: reply.enhancedStatus,
    response: reply.text,
  });
}
