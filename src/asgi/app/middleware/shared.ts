/**
 * Helpers the standard middleware share: header look-ups over ASGI header pairs, `Vary`
 * merging, and small plain-text answers sent without going through the application.
 */
import { Buffer } from "node:buffer";
import { ASGIError } from "../../../errors.js";
import type { ASGIHeaders } from "../../types.js";

/** The first value of header `name` (lower-case), or `undefined`. */
export function headerValue(headers: ASGIHeaders, name: string): string | undefined {
  for (const [key, value] of headers) {
    if (key.length === name.length && key.toLowerCase() === name) return value;
  }
  return undefined;
}

/** Removes every line of header `name` (lower-case) in place. */
export function removeHeader(headers: ASGIHeaders, name: string): void {
  for (let i = headers.length - 1; i >= 0; i--) {
    if ((headers[i] as [string, string])[0].toLowerCase() === name) headers.splice(i, 1);
  }
}

/**
 * Adds `field` to the response's `Vary` (RFC 9110 §12.5.5) unless it is already listed or the
 * response varies on everything (`*`); merges into an existing line rather than adding one.
 */
export function appendVary(headers: ASGIHeaders, field: string): void {
  const wanted = field.toLowerCase();
  for (const pair of headers) {
    if (pair[0].toLowerCase() !== "vary") continue;
    const listed = pair[1].split(",").map((item) => item.trim().toLowerCase());
    if (listed.includes(wanted) || listed.includes("*")) return;
    pair[1] = pair[1].trim().length === 0 ? field : `${pair[1]}, ${field}`;
    return;
  }
  headers.push(["vary", field]);
}

export { sendText } from "../plain-replies.js";

/** A middleware option that cannot work: thrown when the middleware is built. */
export function invalidOption(message: string): ASGIError {
  return new ASGIError(message, { code: "ASGI_INVALID_MIDDLEWARE_OPTION" });
}

/**
 * The `Host` header split into a lower-case host name and the `:port` suffix as sent
 * (RFC 9110 §7.2; an IPv6 literal keeps its brackets). Empty host when the header is missing.
 */
export function splitHost(headers: ASGIHeaders): { hostname: string; port: string } {
  const host = (headerValue(headers, "host") ?? "").trim().toLowerCase();
  const end = host.startsWith("[") ? host.indexOf("]") + 1 : 0;
  const colon = host.indexOf(":", end);
  return colon === -1
    ? { hostname: host, port: "" }
    : { hostname: host.slice(0, colon), port: host.slice(colon) };
}

/** The request target (path and query) as it came on the wire, for building redirects. */
export function requestTarget(scope: {
  path: string;
  raw_path: Uint8Array | null;
  query_string: Uint8Array;
}): string {
  const path =
    scope.raw_path !== null && scope.raw_path.byteLength > 0
      ? Buffer.from(scope.raw_path).toString("latin1")
      : encodeURI(scope.path);
  const query = Buffer.from(scope.query_string).toString("latin1");
  return query.length > 0 ? `${path}?${query}` : path;
}

/** A URL is safe in a `Location` line only without controls, spaces or non-ASCII. */
export function isSafeHeaderValue(value: string): boolean {
  return /^[\x21-\x7e]*$/.test(value);
}
