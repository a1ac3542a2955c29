/**
 * The request path → the file path segments `StaticFiles` may open, or `null` (a 404).
 *
 * Every segment is decoded once from `raw_path` (the bytes on the wire), so an encoded
 * separator (`%2F`, `%5C`) is seen for what it is — a byte inside one segment — and refused,
 * never turned into a directory step. `..` and `.` are refused after decoding (`%2e%2e` too),
 * and so are backslashes, NUL and other control characters: a file name needs none of them,
 * and refusing them keeps Windows-style separators and C-string truncation out of the file
 * system call. A refusal is a 404, the same answer as a missing file, so a probe learns
 * nothing about which rule it hit.
 */
import { Buffer } from "node:buffer";
import { decodePathSegment } from "../path-decode.js";
import type { HTTPScope } from "../types.js";

/** The path below the mount point, split into safe segments. */
export interface StaticPath {
  /** Decoded, non-empty segments, none of them `.`/`..` or holding `/`, `\` or a control char. */
  segments: string[];
  /** The request path ended with `/` (a directory was asked for). */
  trailingSlash: boolean;
}

/** `/`, `\`, C0 controls (NUL, CR, LF, …) and DEL: never part of a name StaticFiles serves. */
const FORBIDDEN = /[/\\\u0000-\u001f\u007f]/;

function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
}

/** A decoded segment is acceptable as one path step (empty ones are skipped by the caller). */
function isSafeSegment(segment: string): boolean {
  return segment !== "." && segment !== ".." && !FORBIDDEN.test(segment);
}

/**
 * Splits the scope's path into decoded segments and drops the mount point (`root_path`).
 *
 * The current ASGI spec keeps the full path in `path` and puts the mount point in
 * `root_path`, so the app strips it itself (as WSGI's `PATH_INFO` = `path` − `SCRIPT_NAME`).
 * When the path does not start with `root_path` (a proxy that already stripped it), the
 * path is used whole, as Starlette does.
 */
export function staticPathOf(scope: HTTPScope): StaticPath | null {
  const raw = scope.raw_path === null ? null : latin1(scope.raw_path);
  const parts = raw === null ? scope.path.split("/") : raw.split("/");
  const decoded: string[] = [];
  for (const part of parts) {
    const segment = raw === null ? part : decodePathSegment(part);
    if (segment === null) return null; // malformed escapes: the server answers 400 before this
    decoded.push(segment);
  }
  const rootSegments = scope.root_path.split("/").filter((segment) => segment.length > 0);
  const nonEmpty = decoded.filter((segment) => segment.length > 0);
  let start = 0;
  if (rootSegments.length > 0 && rootSegments.every((segment, i) => nonEmpty[i] === segment)) {
    start = rootSegments.length;
  }
  const segments = nonEmpty.slice(start);
  for (const segment of segments) if (!isSafeSegment(segment)) return null;
  const trailingSlash = decoded.length > 1 && decoded[decoded.length - 1] === "";
  return { segments, trailingSlash };
}
