/**
 * Refuses header injection: CR, LF or NUL in any header name, value, address or filename
 * would let a caller's string start a new header or end the header block, so it is a
 * `MAIL_HEADER_INJECTION` error before anything is rendered.
 */
import { MIME_ERROR_CODES, mimeError } from "./errors.js";

const FORBIDDEN = /[\r\n\0]/;
/** RFC 5322 §2.2 ftext: printable US-ASCII except colon. */
const FIELD_NAME = /^[!-9;-~]+$/;

export function checkValue(value: string, what: string): void {
  if (typeof value !== "string") {
    throw mimeError(MIME_ERROR_CODES.invalidHeader, `${what} must be a string`);
  }
  if (FORBIDDEN.test(value)) {
    throw mimeError(
      MIME_ERROR_CODES.headerInjection,
      `${what} contains CR, LF or NUL, which could inject header lines: ${JSON.stringify(value.slice(0, 80))}`,
    );
  }
}

export function checkFieldName(name: string): void {
  checkValue(name, "A header name");
  if (!FIELD_NAME.test(name) || name.length > 76) {
    throw mimeError(
      MIME_ERROR_CODES.invalidHeader,
      `Invalid header name ${JSON.stringify(name)} (RFC 5322 §2.2: printable ASCII without colon)`,
    );
  }
}
