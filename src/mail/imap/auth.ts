/**
 * IMAP login: AUTHENTICATE (RFC 9051 §6.2.2) through the mail layer's SASL mechanisms, with
 * the initial response in the command when the server offers SASL-IR (RFC 4959), and LOGIN
 * (§6.2.3) for servers that offer no password mechanism. This file only adapts IMAP's "+"
 * continuations and tagged answers to the shared exchange driver (src/mail/sasl/).
 */
import { assertSafeArgument } from "../arguments.js";
import {
  authenticate,
  chooseMechanism,
  type SASLCredentials,
  type SASLMechanismName,
  type SASLStep,
  type SASLTransport,
} from "../sasl/index.js";
import { type EncodeOptions, encodeString } from "./codec/index.js";
import type { CommandResult, IMAPConnection } from "./connection.js";
import { imapError } from "./errors.js";

export type { OAuth2TokenProvider as IMAPTokenProvider } from "../sasl/index.js";

export interface AuthContext {
  connection: IMAPConnection;
  capabilities: ReadonlySet<string>;
  encode: EncodeOptions;
  secure: boolean;
  host: string;
  port: number;
  timeoutMs: number;
  signal: AbortSignal | undefined;
}

/** The final answer to AUTHENTICATE: the tagged OK, or the error for its NO / BAD. */
type Outcome = { ok: true; result: CommandResult } | { ok: false; error: unknown };

const invalid = (message: string) => imapError("IMAP_INVALID_ARGUMENT", message);

/** Logs in with `credentials`; resolves with the tagged OK, rejects with an IMAPError. */
export async function login(
  context: AuthContext,
  credentials: SASLCredentials,
): Promise<CommandResult> {
  assertSafeArgument(credentials.user, "user name", invalid);
  const offered = [...context.capabilities]
    .filter((capability) => capability.startsWith("AUTH="))
    .map((capability) => capability.slice(5));
  if (credentials.kind === "password" && !credentials.mechanism) {
    const passwordMechanisms = ["PLAIN", "LOGIN", "CRAM-MD5"];
    if (!offered.some((name) => passwordMechanisms.includes(name))) {
      return loginCommand(context, credentials.user, credentials.password);
    }
  }
  const mechanism = chooseMechanism(offered, credentials, context.secure, (wanted) =>
    imapError("IMAP_AUTH_UNAVAILABLE", `the server offers no AUTHENTICATE ${wanted}`),
  );
  const outcome = await authenticate(transport(context), mechanism, credentials, {
    initialResponseInCommand: context.capabilities.has("SASL-IR"),
    protocolError: (message) => imapError("IMAP_PROTOCOL_ERROR", message),
    succeeded: (result) => result.ok,
    invalid,
    target: { host: context.host, port: context.port },
  });
  if (!outcome.ok) throw outcome.error;
  return outcome.result;
}

/** LOGIN user password: both as astrings (a literal when they need one). */
function loginCommand(context: AuthContext, user: string, password: string) {
  assertSafeArgument(password, "password", invalid);
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
 * AUTHENTICATE as the SASL driver sees it: each "+" is a challenge, the tagged answer is the
 * outcome. The command is exclusive, so every continuation until its answer is its own.
 */
function transport(context: AuthContext): SASLTransport<Outcome> {
  let next: ((step: SASLStep<Outcome>) => void) | undefined;
  let send: ((line: string) => void) | undefined;
  const wait = () =>
    new Promise<SASLStep<Outcome>>((resolve) => {
      next = resolve;
    });
  const deliver = (step: SASLStep<Outcome>) => {
    const waiting = next;
    next = undefined;
    waiting?.(step);
  };
  return {
    begin(mechanism: SASLMechanismName, initialResponse: string | undefined) {
      const step = wait();
      context.connection
        .run({
          name: "AUTHENTICATE",
          args: [` ${mechanism}${initialResponse === undefined ? "" : ` ${initialResponse}`}`],
          exclusive: true,
          timeoutMs: context.timeoutMs,
          signal: context.signal,
          onContinuation: (text, reply) => {
            send = reply;
            deliver({ kind: "challenge", text });
          },
        })
        .then(
          (result) => deliver({ kind: "done", result: { ok: true, result } }),
          (error: unknown) => deliver({ kind: "done", result: { ok: false, error } }),
        );
      return step;
    },
    respond(line: string) {
      const step = wait();
      send?.(line);
      return step;
    },
  };
}
