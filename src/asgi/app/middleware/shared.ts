/**
 * Helpers the standard middleware share: header look-ups over ASGI header pairs, `Vary`
 * merging, and small plain-text answers sent without going through the application.
 */
import { Buffer } from "node:buffer";
import type { ASGIHeaders, Scope, Send } from "../../types.js";

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

/** The scope's type as a plain string: scopes this package does not type yet (websocket). */
export function scopeType(scope: Scope): string {
  return (scope as { type: string }).type;
}

/** Sends a whole plain-text response: status, the given headers, and `text` as the body. */
export async function sendText(
  send: Send,
  status: number,
  text: string,
  headers: ASGIHeaders = [],
): Promise<void> {
  const body = Buffer.from(text, "utf8");
  await send({
    type: "http.response.start",
    status,
    headers: [
      ["content-type", "text/plain; charset=utf-8"],
      ["content-length", String(body.byteLength)],
      ...headers,
    ],
  });
  await send({ type: "http.response.body", body, more_body: false });
}
