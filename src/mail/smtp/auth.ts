/**
 * SMTP AUTH (RFC 4954) with the SASL mechanisms PLAIN (RFC 4616), LOGIN (draft-murchison-sasl-
 * login), CRAM-MD5 (RFC 2195) and XOAUTH2 (Google/Microsoft). The exchange is driven through a
 * `send` callback so this file never touches a socket.
 */
import { Buffer } from "node:buffer";
import { createHmac } from "node:crypto";
import { MailError, SMTPError } from "../../errors.js";
import { assertSafeArgument } from "./commands.js";
import type { SMTPReply } from "./reply.js";

export type AuthMechanism = "PLAIN" | "LOGIN" | "CRAM-MD5" | "XOAUTH2";

/** Supplies an OAuth2 access token; `refresh: true` asks for a new one after a rejection. */
export type OAuth2TokenProvider = (options: { refresh: boolean }) => string | Promise<string>;

export type Credentials =
  | { kind: "password"; user: string; password: string; mechanism?: AuthMechanism }
  | { kind: "oauth2"; user: string; token: OAuth2TokenProvider };

/** Sends one line (without CRLF) and resolves with the server's reply. */
export type SendLine = (line: string, sensitive: boolean) => Promise<SMTPReply>;

const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");

/**
 * Chooses a mechanism from what the server offers. Over TLS, PLAIN is preferred (one round
 * trip, the password is protected by TLS); over a plaintext connection the caller explicitly
 * allowed, CRAM-MD5 is preferred because it never reveals the password itself.
 */
export function chooseMechanism(
  offered: readonly string[],
  credentials: Credentials,
  secure: boolean,
): AuthMechanism {
  const upper = offered.map((m) => m.toUpperCase());
  if (credentials.kind === "oauth2") {
    if (!upper.includes("XOAUTH2")) throw unavailable("XOAUTH2", upper);
    return "XOAUTH2";
  }
  if (credentials.mechanism) {
    if (!upper.includes(credentials.mechanism)) throw unavailable(credentials.mechanism, upper);
    return credentials.mechanism;
  }
  const order: AuthMechanism[] = secure
    ? ["PLAIN", "LOGIN", "CRAM-MD5"]
    : ["CRAM-MD5", "PLAIN", "LOGIN"];
  const found = order.find((m) => upper.includes(m));
  if (!found) throw unavailable("PLAIN, LOGIN or CRAM-MD5", upper);
  return found;
}

/** Runs the whole exchange; resolves on 235, throws SMTPError(SMTP_AUTH_FAILED) otherwise. */
export async function authenticate(
  send: SendLine,
  mechanism: AuthMechanism,
  credentials: Credentials,
): Promise<SMTPReply> {
  assertSafeArgument(credentials.user, "user name");
  if (credentials.kind === "password") assertSafeArgument(credentials.password, "password");
  switch (mechanism) {
    case "PLAIN": {
      if (credentials.kind !== "password") throw wrongCredentials(mechanism);
      // RFC 4616 §2: [authzid] NUL authcid NUL passwd; sent as the initial response (RFC 4954 §4).
      const reply = await send(
        `AUTH PLAIN ${b64(`\u0000${credentials.user}\u0000${credentials.password}`)}`,
        true,
      );
      return finish(send, reply, mechanism);
    }
    case "LOGIN": {
      if (credentials.kind !== "password") throw wrongCredentials(mechanism);
      let reply = await send("AUTH LOGIN", false);
      if (reply.code !== 334) return finish(send, reply, mechanism);
      reply = await send(b64(credentials.user), true);
      if (reply.code !== 334) return finish(send, reply, mechanism);
      reply = await send(b64(credentials.password), true);
      return finish(send, reply, mechanism);
    }
    case "CRAM-MD5": {
      if (credentials.kind !== "password") throw wrongCredentials(mechanism);
      const reply = await send("AUTH CRAM-MD5", false);
      if (reply.code !== 334) return finish(send, reply, mechanism);
      // RFC 2195 §2: the challenge is base64; answer "user SP hex(HMAC-MD5(password, challenge))".
      const challenge = Buffer.from(reply.lines[0] ?? "", "base64");
      const digest = createHmac("md5", credentials.password).update(challenge).digest("hex");
      return finish(send, await send(b64(`${credentials.user} ${digest}`), true), mechanism);
    }
    case "XOAUTH2": {
      if (credentials.kind !== "oauth2") throw wrongCredentials(mechanism);
      const first = await xoauth2(send, credentials, false);
      if (first.code === 235) return first;
      // One retry with a fresh token: the usual reason for a rejection is an expired token.
      const second = await xoauth2(send, credentials, true);
      return finish(send, second, mechanism);
    }
  }
}

async function xoauth2(
  send: SendLine,
  credentials: Extract<Credentials, { kind: "oauth2" }>,
  refresh: boolean,
): Promise<SMTPReply> {
  const token = await credentials.token({ refresh });
  assertSafeArgument(token, "OAuth2 token");
  const reply = await send(
    `AUTH XOAUTH2 ${b64(`user=${credentials.user}\u0001auth=Bearer ${token}\u0001\u0001`)}`,
    true,
  );
  // On failure the server sends a 334 with a JSON error; an empty line asks for the final reply.
  if (reply.code === 334) return send("", false);
  return reply;
}

/** A 334 left over means the server wants more than this mechanism has: cancel with "*". */
async function finish(send: SendLine, reply: SMTPReply, mechanism: string): Promise<SMTPReply> {
  if (reply.code === 334) reply = await send("*", false); // RFC 4954 §4: cancel the exchange
  if (reply.code === 235) return reply;
  throw new SMTPError(`authentication with ${mechanism} failed: ${reply.code} ${reply.text}`, {
    code: "SMTP_AUTH_FAILED",
    replyCode: reply.code,
    enhancedStatus: reply.enhancedStatus,
    response: reply.text,
  });
}

function unavailable(wanted: string, offered: string[]): SMTPError {
  return new SMTPError(
    `the server does not offer AUTH ${wanted} (it offers: ${offered.join(" ") || "none"})`,
    { code: "SMTP_AUTH_UNAVAILABLE" },
  );
}

function wrongCredentials(mechanism: string): MailError {
  return new MailError(`${mechanism} needs different credentials`, {
    code: "SMTP_INVALID_ARGUMENT",
  });
}
