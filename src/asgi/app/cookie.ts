/**
 * Cookies (RFC 6265): `Set-Cookie` lines built from checked parts, and the request's `Cookie`
 * header parsed into a null-prototype record. Nothing from an argument reaches the wire
 * unless it fits the grammar, so a value cannot add attributes (`;`) or lines (CR/LF).
 */
import { ASGIError } from "../../errors.js";

/**
 * Attributes of a `Set-Cookie` line (`response.setCookie(name, value, options)`); each is
 * checked against RFC 6265's grammar, so no argument can add attributes or lines.
 */
export interface CookieOptions {
  /** `Path` (RFC 6265 §5.2.4); no CTLs or `;`. */
  path?: string;
  /** `Domain` (§5.2.3); letters, digits, `.` and `-` only. */
  domain?: string;
  /** `Max-Age` in seconds (§5.2.2); an integer, 0 or less expires the cookie now. */
  maxAge?: number;
  /** `Expires` (§5.2.1), written as an IMF-fixdate. */
  expires?: Date;
  /** `Secure` (RFC 6265 §5.2.5): the browser sends the cookie over HTTPS only. */
  secure?: boolean;
  /** `HttpOnly` (RFC 6265 §5.2.6): the cookie is hidden from page scripts. */
  httpOnly?: boolean;
  /** `SameSite` (RFC 6265bis §5.4.7); `"None"` requires `secure` (browsers drop it otherwise). */
  sameSite?: "Strict" | "Lax" | "None";
  /** `Partitioned` (CHIPS); requires `secure`. */
  partitioned?: boolean;
}

function invalidCookie(message: string): ASGIError {
  return new ASGIError(message, { code: "ASGI_INVALID_COOKIE" });
}

/** RFC 9110 §5.6.2 tchar: what a cookie name (a token) may contain. */
function isTokenChar(code: number): boolean {
  if (code >= 0x30 && code <= 0x39) return true; // DIGIT
  const lower = code | 0x20;
  if (lower >= 0x61 && lower <= 0x7a) return true; // ALPHA
  return "!#$%&'*+-.^_`|~".includes(String.fromCharCode(code));
}

/** RFC 6265 §4.1.1 cookie-octet: US-ASCII without CTLs, space, `"`, `,`, `;` and `\`. */
function isCookieOctet(code: number): boolean {
  return (
    code === 0x21 ||
    (code >= 0x23 && code <= 0x2b) ||
    (code >= 0x2d && code <= 0x3a) ||
    (code >= 0x3c && code <= 0x5b) ||
    (code >= 0x5d && code <= 0x7e)
  );
}

function checkName(name: string): void {
  if (name.length === 0) throw invalidCookie("Cookie name must not be empty");
  for (let i = 0; i < name.length; i++) {
    if (!isTokenChar(name.charCodeAt(i))) {
      throw invalidCookie(`Cookie name ${JSON.stringify(name)} is not an RFC 9110 token`);
    }
  }
}

function checkValue(name: string, value: string): void {
  for (let i = 0; i < value.length; i++) {
    if (!isCookieOctet(value.charCodeAt(i))) {
      throw invalidCookie(
        `Cookie ${name}: the value has a character RFC 6265 §4.1.1 forbids (space, quote, ` +
          "comma, semicolon, backslash, control or non-ASCII); encode it first, e.g. with " +
          "encodeURIComponent",
      );
    }
  }
}

/** An attribute value (§4.1.1 av-octet: any CHAR except CTLs or `;`). */
function checkAttribute(attribute: string, value: string): void {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x20 || code >= 0x7f || code === 0x3b) {
      throw invalidCookie(`Cookie ${attribute} must not contain ";", controls or non-ASCII`);
    }
  }
}

/** Builds one `Set-Cookie` value (RFC 6265 §4.1.1); throws `ASGI_INVALID_COOKIE` on bad input. */
export function serializeCookie(name: string, value: string, options: CookieOptions = {}): string {
  checkName(name);
  checkValue(name, value);
  let line = `${name}=${value}`;
  if (options.domain !== undefined) {
    if (!/^\.?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$/.test(options.domain)) {
      throw invalidCookie(`Cookie ${name}: invalid Domain ${JSON.stringify(options.domain)}`);
    }
    line += `; Domain=${options.domain}`;
  }
  if (options.path !== undefined) {
    checkAttribute("Path", options.path);
    line += `; Path=${options.path}`;
  }
  if (options.maxAge !== undefined) {
    if (!Number.isInteger(options.maxAge)) {
      throw invalidCookie(`Cookie ${name}: Max-Age must be an integer number of seconds`);
    }
    line += `; Max-Age=${options.maxAge}`;
  }
  if (options.expires !== undefined) {
    if (!(options.expires instanceof Date) || Number.isNaN(options.expires.getTime())) {
      throw invalidCookie(`Cookie ${name}: Expires must be a valid Date`);
    }
    line += `; Expires=${options.expires.toUTCString()}`;
  }
  if (options.secure === true) line += "; Secure";
  if (options.httpOnly === true) line += "; HttpOnly";
  if (options.sameSite !== undefined) {
    const sameSite = options.sameSite as string;
    if (sameSite !== "Strict" && sameSite !== "Lax" && sameSite !== "None") {
      throw invalidCookie(`Cookie ${name}: SameSite must be "Strict", "Lax" or "None"`);
    }
    if (sameSite === "None" && options.secure !== true) {
      throw invalidCookie(`Cookie ${name}: SameSite=None requires secure: true`);
    }
    line += `; SameSite=${sameSite}`;
  }
  if (options.partitioned === true) {
    if (options.secure !== true) throw invalidCookie(`Cookie ${name}: Partitioned requires secure`);
    line += "; Partitioned";
  }
  // Cookie prefixes (RFC 6265bis §4.1.3): browsers drop cookies that break these rules.
  if (name.startsWith("__Secure-") && options.secure !== true) {
    throw invalidCookie(`Cookie ${name}: the __Secure- prefix requires secure: true`);
  }
  if (
    name.startsWith("__Host-") &&
    (options.secure !== true || options.path !== "/" || options.domain !== undefined)
  ) {
    throw invalidCookie(
      `Cookie ${name}: the __Host- prefix requires secure, path "/" and no domain`,
    );
  }
  return line;
}

/**
 * The `Cookie` request header (RFC 6265 §5.4: `a=b; c=d`) into a null-prototype record.
 * When a name repeats, the first wins (browsers send the most specific path first). Values
 * are returned as sent (a surrounding pair of `"` removed), not percent-decoded.
 */
export function parseCookieHeader(header: string): Record<string, string> {
  const cookies = Object.create(null) as Record<string, string>;
  for (const pair of header.split(";")) {
    const eq = pair.indexOf("=");
    if (eq === -1) continue;
    const name = pair.slice(0, eq).trim();
    if (name.length === 0 || name in cookies) continue;
    let value = pair.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
      value = value.slice(1, -1);
    }
    cookies[name] = value;
  }
  return cookies;
}
