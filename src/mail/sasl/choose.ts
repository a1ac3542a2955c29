/** Picking a SASL mechanism from what the server offers (SMTP EHLO AUTH, IMAP AUTH=…). */
import type { SASLCredentials, SASLMechanismName } from "./types.js";

/**
 * The mechanism to use: the one the credentials force if the server offers it; for OAuth2
 * XOAUTH2, else OAUTHBEARER; for a password over TLS PLAIN first (one round trip, the password
 * is protected by TLS), over a plaintext connection the caller explicitly allowed CRAM-MD5 first
 * (it never reveals the password itself). Throws `unavailable(wanted)` when nothing fits;
 * `wanted` names what was looked for, e.g. "PLAIN, LOGIN or CRAM-MD5".
 */
export function chooseMechanism(
  offered: readonly string[],
  credentials: SASLCredentials,
  secure: boolean,
  unavailable: (wanted: string) => Error,
): SASLMechanismName {
  const upper = new Set(offered.map((m) => m.toUpperCase()));
  if (credentials.mechanism) {
    if (!upper.has(credentials.mechanism)) throw unavailable(credentials.mechanism);
    return credentials.mechanism;
  }
  const order: SASLMechanismName[] =
    credentials.kind === "oauth2"
      ? ["XOAUTH2", "OAUTHBEARER"]
      : secure
        ? ["PLAIN", "LOGIN", "CRAM-MD5"]
        : ["CRAM-MD5", "PLAIN", "LOGIN"];
  const found = order.find((m) => upper.has(m));
  if (!found) throw unavailable(`${order.slice(0, -1).join(", ")} or ${order.at(-1)}`);
  return found;
}
