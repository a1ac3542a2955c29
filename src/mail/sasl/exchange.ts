/**
 * Driving a SASL exchange (RFC 4422 §3) over a mail protocol. The protocol supplies a
 * `SASLTransport` that sends its command and lines and classifies what comes back: a challenge
 * (SMTP "334 <base64>", RFC 4954 §4; IMAP "+ <base64>", RFC 9051 §6.2.2) or the final result
 * (SMTP 235/5xx, IMAP tagged OK/NO/BAD). This file does the base64 framing, the cancelling,
 * the argument checks and the one retry with a refreshed OAuth2 token.
 */
import { Buffer } from "node:buffer";
import { type ArgumentErrorFactory, assertSafeArgument } from "../arguments.js";
import {
  cramMD5,
  login,
  type OAuthBearerTarget,
  oauthBearer,
  plain,
  xoauth2,
} from "./mechanisms.js";
import type { SASLCredentials, SASLMechanism, SASLMechanismName } from "./types.js";

/** What the server answered: a challenge (its base64 text as sent) or the final result. */
export type SASLStep<R> = { kind: "challenge"; text: string } | { kind: "done"; result: R };

export interface SASLTransport<R> {
  /**
   * Sends the opening command with the initial response, if given, as its argument: base64,
   * or "=" for an empty one (RFC 4954 §4, RFC 4959 §3).
   */
  begin(mechanism: SASLMechanismName, initialResponse: string | undefined): Promise<SASLStep<R>>;
  /** Sends one response line: base64, "" for an empty response, "*" to cancel. */
  respond(line: string): Promise<SASLStep<R>>;
}

export interface SASLExchangeOptions {
  /**
   * Whether the initial response may travel with the opening command: SMTP always (RFC 4954
   * §4), IMAP only when the server has SASL-IR (RFC 4959). If not, it answers the server's
   * first, empty challenge.
   */
  initialResponseInCommand: boolean;
  /** The error when the server keeps challenging after the client cancelled. */
  protocolError: (message: string) => Error;
}

/** Runs one exchange to its end and returns the final result, successful or not. */
export async function runExchange<R>(
  transport: SASLTransport<R>,
  mechanism: SASLMechanism,
  options: SASLExchangeOptions,
): Promise<R> {
  let initial = mechanism.initialResponse;
  const inline = initial !== undefined && options.initialResponseInCommand;
  let step = await transport.begin(
    mechanism.name,
    inline && initial ? (initial.length === 0 ? "=" : encode(initial)) : undefined,
  );
  if (inline) initial = undefined;
  let cancelled = false;
  while (step.kind === "challenge") {
    if (cancelled) {
      throw options.protocolError(
        `the server sent another ${mechanism.name} challenge after the client cancelled`,
      );
    }
    let answer: Uint8Array | undefined;
    if (initial !== undefined) {
      answer = initial;
      initial = undefined;
    } else {
      answer = mechanism.respond(Buffer.from(step.text, "base64"));
    }
    // RFC 4954 §4, RFC 9051 §6.2.2: "*" cancels an exchange the mechanism cannot continue.
    cancelled = answer === undefined;
    step = await transport.respond(answer === undefined ? "*" : encode(answer));
  }
  return step.result;
}

export interface AuthenticateOptions<R> extends SASLExchangeOptions {
  /** True for a final result that means success (SMTP 235, IMAP tagged OK). */
  succeeded(result: R): boolean;
  /** The error for credentials that cannot be sent (control characters, wrong kind). */
  invalid: ArgumentErrorFactory;
  /** Host and port for OAUTHBEARER (RFC 7628 §3.1); other mechanisms ignore them. */
  target?: OAuthBearerTarget;
}

/**
 * Authenticates with `mechanism` (normally from `chooseMechanism`) and returns the final
 * result, successful or not; the caller turns a failure into its own error. With OAuth2
 * credentials, a rejected token is refreshed once (`token({ refresh: true })`) and the exchange
 * is run again, since an expired token is the usual reason for a rejection.
 */
export async function authenticate<R>(
  transport: SASLTransport<R>,
  mechanism: SASLMechanismName,
  credentials: SASLCredentials,
  options: AuthenticateOptions<R>,
): Promise<R> {
  const { invalid } = options;
  assertSafeArgument(credentials.user, "user name", invalid);
  if (credentials.kind === "password") {
    assertSafeArgument(credentials.password, "password", invalid);
    return runExchange(transport, passwordMechanism(mechanism, credentials, invalid), options);
  }
  if (mechanism !== "XOAUTH2" && mechanism !== "OAUTHBEARER")
    throw wrongCredentials(mechanism, invalid);
  const attempt = async (refresh: boolean): Promise<R> => {
    const token = await credentials.token({ refresh });
    assertSafeArgument(token, "OAuth2 token", invalid);
    const sasl =
      mechanism === "XOAUTH2"
        ? xoauth2(credentials.user, token)
        : oauthBearer(credentials.user, token, options.target);
    return runExchange(transport, sasl, options);
  };
  const first = await attempt(false);
  return options.succeeded(first) ? first : attempt(true);
}

function passwordMechanism(
  mechanism: SASLMechanismName,
  credentials: { user: string; password: string },
  invalid: ArgumentErrorFactory,
): SASLMechanism {
  const { user, password } = credentials;
  switch (mechanism) {
    case "PLAIN":
      return plain(user, password);
    case "LOGIN":
      return login(user, password);
    case "CRAM-MD5":
      return cramMD5(user, password);
    default:
      throw wrongCredentials(mechanism, invalid);
  }
}

function wrongCredentials(mechanism: string, invalid: ArgumentErrorFactory): Error {
  return invalid(`${mechanism} needs different credentials`);
}

function encode(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("base64");
}
