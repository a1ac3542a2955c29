/**
 * The client side of the SASL mechanisms the mail clients speak: PLAIN (RFC 4616), LOGIN
 * (draft-murchison-sasl-login), CRAM-MD5 (RFC 2195), XOAUTH2 (Google's and Microsoft's
 * documentation) and OAUTHBEARER (RFC 7628). Pure functions of the credentials and the
 * challenges: no socket, no protocol syntax.
 */
import { Buffer } from "node:buffer";
import { createHmac } from "node:crypto";
import type { SASLMechanism, SASLMechanismName } from "./types.js";

const utf8 = (text: string): Uint8Array => Buffer.from(text, "utf8");

/** Answers `answers` in order, one per challenge, then expects no more. */
function scripted(
  name: SASLMechanismName,
  initialResponse: Uint8Array | undefined,
  answers: ((challenge: Uint8Array) => Uint8Array)[],
): SASLMechanism {
  let step = 0;
  return {
    name,
    initialResponse,
    respond: (challenge) => answers[step++]?.(challenge),
  };
}

/** RFC 4616 §2: [authzid] NUL authcid NUL passwd, all as the initial response. */
export function plain(user: string, password: string): SASLMechanism {
  return scripted("PLAIN", utf8(`\u0000${user}\u0000${password}`), []);
}

/** The server asks "Username:" then "Password:" (whatever its prompts say, in that order). */
export function login(user: string, password: string): SASLMechanism {
  return scripted("LOGIN", undefined, [() => utf8(user), () => utf8(password)]);
}

/** RFC 2195 §2: answer the challenge with "user SP hex(HMAC-MD5(password, challenge))". */
export function cramMD5(user: string, password: string): SASLMechanism {
  return scripted("CRAM-MD5", undefined, [
    (challenge) => utf8(`${user} ${createHmac("md5", password).update(challenge).digest("hex")}`),
  ]);
}

/**
 * XOAUTH2: "user=" user ^A "auth=Bearer " token ^A ^A. A rejected token is answered with a
 * challenge holding a JSON error; the client sends an empty response and then receives the
 * failure.
 */
export function xoauth2(user: string, token: string): SASLMechanism {
  const response = utf8(`user=${user}\u0001auth=Bearer ${token}\u0001\u0001`);
  return scripted("XOAUTH2", response, [() => new Uint8Array(0)]);
}

/** Where the client connects, for OAUTHBEARER's optional host and port fields (RFC 7628 §3.1). */
export interface OAuthBearerTarget {
  host?: string;
  port?: number;
}

/**
 * RFC 7628 §3.1: gs2-header ("n,a=" authzid ",") ^A [host=… ^A port=… ^A] "auth=Bearer "
 * token ^A ^A. On a rejected token the server sends a JSON error challenge and the client
 * answers with a single ^A (§3.2.3) before the failure comes.
 */
export function oauthBearer(
  user: string,
  token: string,
  target: OAuthBearerTarget = {},
): SASLMechanism {
  let fields = "";
  if (target.host !== undefined) fields += `host=${target.host}\u0001`;
  if (target.port !== undefined) fields += `port=${target.port}\u0001`;
  const response = utf8(`n,a=${saslName(user)},\u0001${fields}auth=Bearer ${token}\u0001\u0001`);
  return scripted("OAUTHBEARER", response, [() => utf8("\u0001")]);
}

/** RFC 5801 §4 saslname: "=" and "," are written as "=3D" and "=2C". */
function saslName(value: string): string {
  return value.replace(/=/g, "=3D").replace(/,/g, "=2C");
}
