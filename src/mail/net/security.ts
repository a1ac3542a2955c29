/**
 * Which transport security a mail connection uses when the caller does not say (the shared
 * API contract, "Connection options for both mail clients"): implicit TLS on the ports
 * assigned to it (465 submissions, RFC 8314 §7.3; 993 imaps, RFC 8314 §7.2), STARTTLS
 * everywhere else, and plaintext only when asked for.
 */
import type { ArgumentErrorFactory } from "../arguments.js";

/**
 * "tls": implicit TLS (the handshake before any protocol byte). "starttls": upgrade in place
 * and fail if the server does not offer it (a silent plaintext fallback is exactly what a
 * downgrade attacker wants). "none": plaintext.
 */
export type MailSecurity = "tls" | "starttls" | "none";

/** Ports where TLS is implicit (RFC 8314 §7). */
export const IMPLICIT_TLS_PORTS: readonly number[] = [465, 993];

/** `security` if given (checked, since JavaScript callers can pass anything), else the default. */
export function resolveSecurity(
  port: number,
  security: MailSecurity | undefined,
  invalid: ArgumentErrorFactory,
  implicitTLSPorts: readonly number[] = IMPLICIT_TLS_PORTS,
): MailSecurity {
  if (security === undefined) return implicitTLSPorts.includes(port) ? "tls" : "starttls";
  if (security !== "tls" && security !== "starttls" && security !== "none") {
    throw invalid(`unknown security mode ${String(security)}`);
  }
  return security;
}
