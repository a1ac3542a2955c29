/**
 * Guards for caller-supplied strings that end up inside a command line (SMTP and IMAP alike).
 * CR or LF in an argument would let whoever controls it end our command and inject another;
 * NUL and the other controls break servers in less obvious ways. Each protocol passes a factory
 * for its own typed error (`SMTP_INVALID_ARGUMENT`, `IMAP_INVALID_ARGUMENT`).
 */

/** Builds the protocol's "invalid argument" error from a message. */
export type ArgumentErrorFactory = (message: string) => Error;

/** CR, LF, NUL and the other C0 controls and DEL never belong in a command argument. */
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Throws `invalid(…)` if `value` is not a string or holds a control character. */
export function assertSafeArgument(
  value: string,
  what: string,
  invalid: ArgumentErrorFactory,
): void {
  if (typeof value !== "string" || CONTROL.test(value)) {
    throw invalid(`${what} contains CR, LF, NUL or another control character`);
  }
}

/** A host name or address to connect to: non-empty, no white space, no control characters. */
export function assertHostName(host: string, invalid: ArgumentErrorFactory): void {
  if (typeof host !== "string" || host === "" || /[\s\u0000-\u001f\u007f]/.test(host)) {
    throw invalid("invalid host name");
  }
}
