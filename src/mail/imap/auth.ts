/**
 * IMAP login: LOGIN (RFC 9051 §6.2.3) and AUTHENTICATE (§6.2.2) with PLAIN (RFC 4616),
 * XOAUTH2 and OAUTHBEARER (RFC 7628), with the initial response in the command when the
 * server offers SASL-IR (RFC 4959). Sending goes through the connection; nothing here
 * touches a socket.
 */
import { Buffer } from "node:buffer";
import type { IMAPError } from "../../errors.js";
import { type EncodeOptions, encodeString } from "./codec/index.js";
import type { CommandResult, IMAPConnection } from "./connection.js";
import { imapError } from "./errors.js";

/** Supplies an OAuth2 access token; `refresh: true` asks for a new one after a rejection. */
export type IMAPTokenProvider = (options: { refresh: boolean }) => string | Promise<string>;

const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");

export interface AuthContext {
  connection: IMAPConnection;
  capabilities: ReadonlySet<string>;
  encode: EncodeOptions;
  timeoutMs: number;
  signal: AbortSignal | undefined;
}

/** Password login: AUTHENTICATE PLAIN when offered (UTF-8 safe), LOGIN otherwise. */
export function passwordLogin(
  context: AuthContext,
  user: string,
  password: string,
): Promise<CommandResult> {
  guard(user, "user name");
  guard(password, "password");
  if (context.capabilities.has("AUTH=PLAIN")) {
    return authenticate(context, "PLAIN", b64(`\u0000${user}\u0000${password}`));
  }
  return context.connection.run({
    name: "LOGIN",
    args: [
      " ",
      ...encodeString(user, context.encode, "astring"),
      " ",
      ...encodeString(password, context.encode, "astring"),
    ],
    exclusive: true,
    timeoutMs: context.timeoutMs,
    signal: context.signal,
  });
}

/**
 * OAuth2 login with OAUTHBEARER (preferred: a standard) or XOAUTH2. A rejected token is
 * refreshed through the provider and tried once more, the usual cause being expiry.
 */
export async function oauth2Login(
  context: AuthContext,
  user: string,
  token: IMAPTokenProvider,
  host: string,
  port: number,
): Promise<CommandResult> {
  guard(user, "user name");
  const mechanism = context.capabilities.has("AUTH=OAUTHBEARER")
    ? "OAUTHBEARER"
    : context.capabilities.has("AUTH=XOAUTH2")
      ? "XOAUTH2"
      : undefined;
  if (!mechanism) {
    throw imapError(
      "IMAP_AUTH_UNAVAILABLE",
      "the server offers neither AUTHENTICATE OAUTHBEARER nor XOAUTH2",
    );
  }
  const attempt = async (refresh: boolean) => {
    const value = await token({ refresh });
    guard(value, "OAuth2 token");
    const initial =
      mechanism === "OAUTHBEARER"
        ? b64(
            `n,a=${saslName(user)},\u0001host=${host}\u0001port=${port}\u0001auth=Bearer ${value}\u0001\u0001`,
          )
        : b64(`user=${user}\u0001auth=Bearer ${value}\u0001\u0001`);
    return authenticate(context, mechanism, initial);
  };
  try {
    return await attempt(false);
  } catch (error) {
    if ((error as IMAPError).status !== "NO") throw error;
    return attempt(true);
  }
}

/**
 * AUTHENTICATE with a one-step mechanism. A "+" after the initial response is the server's
 * error challenge (RFC 7628 §3.2.2; XOAUTH2 does the same): it is answered with the dummy
 * response the mechanism defines, and the tagged NO that follows rejects the command.
 */
function authenticate(
  context: AuthContext,
  mechanism: string,
  initial: string,
): Promise<CommandResult> {
  const saslIR = context.capabilities.has("SASL-IR");
  let sentInitial = saslIR;
  return context.connection.run({
    name: "AUTHENTICATE",
    args: [` ${mechanism}${saslIR ? ` ${initial === "" ? "=" : initial}` : ""}`],
    exclusive: true,
    timeoutMs: context.timeoutMs,
    signal: context.signal,
    onContinuation: (_challenge, send) => {
      if (!sentInitial) {
        sentInitial = true;
        send(initial);
        return;
      }
      send(mechanism === "OAUTHBEARER" ? b64("\u0001") : "");
    },
  });
}

/** RFC 5801 §4: "," and "=" in a SASL name are escaped as =2C and =3D. */
function saslName(user: string): string {
  return user.replace(/=/g, "=3D").replace(/,/g, "=2C");
}

function guard(value: string, what: string): void {
  if (typeof value !== "string" || /[\r\n\u0000]/.test(value)) {
    throw imapError("IMAP_INVALID_ARGUMENT", `the ${what} must be a string without CR, LF or NUL`);
  }
}
