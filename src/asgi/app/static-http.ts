/**
 * The HTTP rules `StaticFiles` applies to a file: its media type, its validators (ETag,
 * Last-Modified), conditional requests (RFC 9110 §13) and single byte ranges (RFC 9110 §14).
 */
import type { Stats } from "node:fs";

/** Common extensions → media types; anything else is `application/octet-stream`. */
const MEDIA_TYPES: ReadonlyMap<string, string> = new Map(
  Object.entries({
    ".html": "text/html",
    ".htm": "text/html",
    ".css": "text/css",
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".json": "application/json",
    ".map": "application/json",
    ".webmanifest": "application/manifest+json",
    ".txt": "text/plain",
    ".md": "text/markdown",
    ".csv": "text/csv",
    ".xml": "application/xml",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".ico": "image/vnd.microsoft.icon",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".wasm": "application/wasm",
    ".pdf": "application/pdf",
    ".zip": "application/zip",
    ".gz": "application/gzip",
    ".mp3": "audio/mpeg",
    ".ogg": "audio/ogg",
    ".wav": "audio/wav",
    ".mp4": "video/mp4",
    ".webm": "video/webm",
  }),
);

/** Types whose text the charset parameter applies to, besides every `text/*`. */
const TEXTUAL = new Set(["application/json", "application/manifest+json", "application/xml"]);

/**
 * The `Content-Type` of a file name: from its extension (any case), with `charset=utf-8` for
 * textual types — a served file is assumed to be UTF-8, the encoding the web defaults to.
 */
export function contentTypeFor(fileName: string): string {
  const dot = fileName.lastIndexOf(".");
  const type = dot < 0 ? undefined : MEDIA_TYPES.get(fileName.slice(dot).toLowerCase());
  if (type === undefined) return "application/octet-stream";
  return type.startsWith("text/") || TEXTUAL.has(type) ? `${type}; charset=utf-8` : type;
}

/**
 * The entity tag of a file from its size and modification time, as nginx and Apache make
 * theirs. It is sent strong so `If-Range` (which compares strongly, RFC 9110 §13.1.5) can
 * resume a download; a rewrite that keeps both size and mtime is not detected.
 */
export function entityTag(stats: Stats): string {
  return `"${Math.floor(stats.mtimeMs).toString(16)}-${stats.size.toString(16)}"`;
}

/** `Last-Modified`: the mtime as an HTTP-date (RFC 9110 §5.6.7), whole seconds. */
export function lastModified(stats: Stats): string {
  return new Date(Math.floor(stats.mtimeMs / 1000) * 1000).toUTCString();
}

/** The opaque part of an entity tag, without `W/`: weak comparison (RFC 9110 §8.8.3.2). */
function opaque(tag: string): string {
  return tag.startsWith("W/") ? tag.slice(2) : tag;
}

/** True when an `If-None-Match` list names `etag` (weak comparison) or is `*`. */
function noneMatchHits(header: string, etag: string): boolean {
  if (header.trim() === "*") return true;
  const wanted = opaque(etag);
  return header.split(",").some((tag) => opaque(tag.trim()) === wanted);
}

/** An HTTP-date in ms, or `null` when it is not one (RFC 9110 §13.1.3: then ignore it). */
function parseHTTPDate(text: string): number | null {
  const time = Date.parse(text);
  return Number.isNaN(time) ? null : time;
}

/**
 * True when a GET/HEAD is answered 304 (RFC 9110 §13.2.2 steps 3–4): `If-None-Match`
 * decides when present, and only otherwise `If-Modified-Since` (the mtime, in whole seconds,
 * is not after the date given).
 */
export function isNotModified(
  ifNoneMatch: string | undefined,
  ifModifiedSince: string | undefined,
  stats: Stats,
): boolean {
  if (ifNoneMatch !== undefined) return noneMatchHits(ifNoneMatch, entityTag(stats));
  if (ifModifiedSince === undefined) return false;
  const since = parseHTTPDate(ifModifiedSince);
  return since !== null && Math.floor(stats.mtimeMs / 1000) * 1000 <= since;
}

/**
 * True when `If-Range` lets the `Range` apply (RFC 9110 §13.1.5): absent, or a strong entity
 * tag equal to ours, or exactly our Last-Modified date.
 */
export function ifRangeAllows(ifRange: string | undefined, stats: Stats): boolean {
  if (ifRange === undefined) return true;
  const value = ifRange.trim();
  if (value.startsWith('"') || value.startsWith("W/")) return value === entityTag(stats);
  const date = parseHTTPDate(value);
  return date !== null && date === Math.floor(stats.mtimeMs / 1000) * 1000;
}

/** One satisfiable byte range, both ends inclusive (RFC 9110 §14.1.2). */
export interface ByteRange {
  /** First byte. */
  start: number;
  /** Last byte (inclusive). */
  end: number;
}

/** What a `Range` header asks of a file of `size` bytes. */
export type RangeRequest =
  /** Serve the whole file (no Range, not bytes, malformed, or several ranges). */
  | { kind: "full" }
  /** Serve this part with 206. */
  | { kind: "partial"; range: ByteRange }
  /** 416 with `Content-Range: bytes *\/size`. */
  | { kind: "unsatisfiable" };

const FULL: RangeRequest = { kind: "full" };
const UNSATISFIABLE: RangeRequest = { kind: "unsatisfiable" };
const RANGE_SPEC = /^(\d*)-(\d*)$/;

/**
 * Reads a `Range` header (RFC 9110 §14.1.1). Only one range is served: a request for several
 * gets the whole file with 200, which §14.2 allows (a server may ignore Range) and which
 * spares a multipart/byteranges body. A malformed header or another unit is ignored too.
 */
export function parseRange(header: string | undefined, size: number): RangeRequest {
  if (header === undefined) return FULL;
  const eq = header.indexOf("=");
  if (eq < 0 || header.slice(0, eq).trim().toLowerCase() !== "bytes") return FULL;
  const spec = header.slice(eq + 1).trim();
  if (spec.includes(",")) return FULL;
  const match = RANGE_SPEC.exec(spec);
  if (match === null) return FULL;
  const [, first = "", last = ""] = match;
  if (first === "" && last === "") return FULL;
  if (first === "") {
    // suffix-range: the last N bytes; N = 0 selects nothing (§14.1.3).
    const length = Number(last);
    if (length === 0 || size === 0) return UNSATISFIABLE;
    return { kind: "partial", range: { start: Math.max(0, size - length), end: size - 1 } };
  }
  const start = Number(first);
  const end = last === "" ? Number.POSITIVE_INFINITY : Number(last);
  if (end < start) return FULL; // invalid range-spec: the header is ignored (§14.1.1)
  if (start >= size) return UNSATISFIABLE;
  return { kind: "partial", range: { start, end: Math.min(end, size - 1) } };
}
