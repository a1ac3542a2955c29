/**
 * The request target → `scope.path` / `raw_path` / `query_string`.
 *
 * Percent-decoding happens exactly once, from the raw bytes (RFC 3986 §2.1, §2.4): `%252F`
 * becomes the text `%2F`, never `/`. `scope.path` is the fully decoded path the ASGI spec
 * asks for; a router that must keep `%2F` inside its segment splits `raw_path` on `/` first and
 * decodes each segment with `decodePathSegment()` — the same canonical decoding.
 */
import { Buffer } from "node:buffer";
import { decodePathSegment } from "../path-decode.js";

/** The parts of a request target the scope needs. */
export interface RequestTarget {
  /** The path as on the wire (latin1), without the query. */
  rawPath: string;
  /** The decoded path. */
  path: string;
  /** The query without `?` (latin1), undecoded. */
  query: string;
}

/**
 * Splits a request target (RFC 9112 §3.2: origin-form, absolute-form, asterisk-form) into
 * path and query. Returns `null` when the target or its percent-encoding is malformed.
 */
export function parseTarget(url: string): RequestTarget | null {
  let start = 0;
  if (url.charCodeAt(0) !== 0x2f) {
    if (url === "*") return { rawPath: "*", path: "*", query: "" };
    // absolute-form: scheme "://" authority path-abempty [ "?" query ]
    const match = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*/.exec(url);
    if (match === null) return null;
    start = match[0].length;
    if (start === url.length || url.charCodeAt(start) === 0x3f) {
      url = `/${url.slice(start)}`;
      start = 0;
    }
  }
  // One pass finds the query and tells whether the path needs decoding at all (a `%` or a
  // byte ≥ 0x80), in place of an indexOf() and then isPlainPathText() over the same chars.
  let q = -1;
  let plain = true;
  for (let i = start; i < url.length; i++) {
    const code = url.charCodeAt(i);
    if (code === 0x3f) {
      q = i;
      break;
    }
    if (code === 0x25 || code > 0x7f) plain = false;
  }
  const rawPath = q < 0 ? (start === 0 ? url : url.slice(start)) : url.slice(start, q);
  const path = plain ? rawPath : decodePathSegment(rawPath);
  if (path === null) return null;
  if (q < 0) return { rawPath, path, query: "" };
  let query = url.slice(q + 1);
  const hash = query.indexOf("#");
  if (hash >= 0) query = query.slice(0, hash); // a fragment is never sent (RFC 9112 §3.2)
  return { rawPath, path, query };
}

/**
 * Strings up to this length are copied to bytes by a loop; longer ones by `Buffer.from`. The
 * bound is where the two break even on Node 20 (bench/http: per-request instruction counts).
 */
const SHORT_LATIN1 = 16;

/**
 * The bytes of a latin1 string (one char per wire byte, as Node's parser gives the target) as
 * a Buffer. For the short paths and queries most requests carry (`/`, `/api/items/1`), a plain
 * loop into a pooled `Buffer.allocUnsafe` costs less than `Buffer.from(s, "latin1")`, whose
 * fixed cost of a call into C++ outweighs the copy itself at this size.
 */
export function latin1Bytes(text: string): Buffer {
  const length = text.length;
  if (length > SHORT_LATIN1) return Buffer.from(text, "latin1");
  const bytes = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}
