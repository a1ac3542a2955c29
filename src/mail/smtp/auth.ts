/**
 * SMTP AUTH (RFC 4954) over the shared SASL layer (src/mail/sasl): the initial response goes
 * with the AUTH command, a 334 reply carries a challenge, 235 means success.
 */
import { SMTPError } from "../../errors.js";
import {
  authenticate,
  chooseMechanism,
  type SASLCredentials,
  type SASLMechanismName,
  type SASLStep,
} from "../sasl/index.js";
import { invalidArgument, replyError } from "./errors.js";
import type { SMTPReply } from "./reply.js";

export type { OAuth2TokenProvider } from "../sasl/index.js";
export type AuthMechanism = SASLMechanismName;
export type Credentials = SASLCredentials;

/** Sends one line (without CRLF) and resolves with the server's reply. */
export type SendLine = (line: string) => Promise<SMTPReply>;

/** The mechanism for `credentials` among the EHLO AUTH keywords; SMTP_AUTH_UNAVAILABLE if none. */
export function chooseSMTPMechanism(
  offered: readonly string[],
  credentials: Credentials,
  secure: boolean,
): AuthMechanism {
  return chooseMechanism(offered, credentials, secure, (wanted) => {
    const list = offered.map((m) => m.toUpperCase()).join(" ") || "none";
    return new SMTPError(`the server does not offer AUTH ${wanted} (it offers: ${list})`, {
      code: "SMTP_AUTH_UNAVAILABLE",
    });
  });
}

/** Runs the whole exchange; resolves on 235, throws SMTPError(SMTP_AUTH_FAILED) otherwise. */
export async function authenticateSMTP(
  send: SendLine,
  mechanism: AuthMechanism,
  credentials: Credentials,
  target?: { host: string; port: number },
): Promise<SMTPReply> {
  const step = (reply: SMTPReply): SASLStep<SMTPReply> =>
    reply.code === 334
      ? { kind: "challenge", text: reply.lines[0] ?? "" }
      : { kind: "done", result: reply };
  const reply = await authenticate<SMTPReply>(
    {
      begin: async (name, initial) =>
        step(await send(initial === undefined ? `AUTH ${name}` : `AUTH ${name} ${initial}`)),
      respond: async (line) => step(await send(line)),
    },
    mechanism,
    credentials,
    {
      initialResponseInCommand: true,
      succeeded: (result) => result.code === 235,
      invalid: invalidArgument,
      protocolError: (message) => new SMTPError(message, { code: "SMTP_AUTH_FAILED" }),
      target,
    },
  );
  if (reply.code === 235) return reply;
  throw replyError(`authentication with ${mechanism} failed`, reply, "SMTP_AUTH_FAILED");
}
