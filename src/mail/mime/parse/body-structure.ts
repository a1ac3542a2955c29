/**
 * The MIME tree of a message (RFC 2046 §5.1): body parts found by scanning bytes for the
 * boundary delimiter lines, each part's header section read in place. Parts are offsets into
 * the raw message; nothing is decoded here. Lenient where real mailers are (missing closing
 * delimiter, LF-only lines, junk before the first delimiter), strict about resources: every
 * part, nesting level and header field counts against the limits.
 */
import { Buffer } from "node:buffer";
import { type HeaderField, readHeaderSection } from "./header-lines.js";
import { type Limits, limitExceeded } from "./limits.js";
import { type PartHeaders, readPartHeaders } from "./part-headers.js";

/** One node of a parsed message's MIME tree; offsets refer to the raw bytes that were parsed. */
export interface MimePart {
  /** The part's header fields in order, unfolded but not decoded. */
  fields: HeaderField[];
  /**
   * The part's MIME headers, read (`Content-Type` with its parameters, disposition, encoding, …).
   */
  headers: PartHeaders;
  /** Offset of the part's first header byte in the raw message. */
  start: number;
  /** Offset of the first body byte. */
  bodyStart: number;
  /** Offset just past the body (the line break before the next delimiter is not included). */
  end: number;
  /** 0 for the message itself. */
  depth: number;
  /** Sub-parts of a multipart (empty for every other type). */
  children: MimePart[];
  /**
   * Set on a multipart whose body could not be split (no usable boundary, or no delimiter
   * line): the message itself is then read as text/plain, a nested part as opaque bytes
   * (application/octet-stream), so it never takes the place of the real text.
   */
  unsplit?: true;
}

const LF = 0x0a;
const CR = 0x0d;
const DASH = 0x2d;

/** RFC 2046 §5.1.1 allows 1–70 characters; longer ones are accepted up to this, for old mailers. */
const MAX_BOUNDARY = 200;

interface Delimiter {
  /** Where the previous part ends: the line break before the delimiter belongs to it (§5.1.1). */
  before: number;
  /** First byte after the delimiter line. */
  after: number;
  close: boolean;
}

/**
 * Finds delimiter lines `--boundary[--][ \t]*EOL` that start a line within [start, end).
 * Uses the native byte search, so hostile input costs one pass per nesting level.
 */
function* delimiters(
  buf: Buffer,
  start: number,
  end: number,
  boundary: Buffer,
): Generator<Delimiter> {
  const area = buf.subarray(0, end);
  let pos = start;
  while (pos < end) {
    const at = area.indexOf(boundary, pos);
    if (at < 0) return;
    pos = at + 1;
    if (at !== start && buf[at - 1] !== LF) continue;
    let k = at + boundary.length;
    const close = k + 1 < end && buf[k] === DASH && buf[k + 1] === DASH;
    if (close) k += 2;
    while (k < end && (buf[k] === 0x20 || buf[k] === 0x09)) k++;
    let after: number;
    if (k === end) after = end;
    else if (buf[k] === LF) after = k + 1;
    else if (buf[k] === CR && (k + 1 === end || buf[k + 1] === LF)) after = Math.min(k + 2, end);
    else continue;
    let before = at;
    if (before > start && buf[before - 1] === LF) before--;
    if (before > start && buf[before - 1] === CR) before--;
    yield { before, after, close };
    if (close) return;
    pos = after;
  }
}

class TreeBuilder {
  #parts = 0;
  constructor(
    readonly buf: Buffer,
    readonly limits: Limits,
  ) {}

  part(start: number, end: number, depth: number, defaultType: string): MimePart {
    if (++this.#parts > this.limits.maxParts) {
      limitExceeded(`more than ${this.limits.maxParts} MIME parts`);
    }
    if (depth > this.limits.maxDepth) limitExceeded(`nesting deeper than ${this.limits.maxDepth}`);
    const section = readHeaderSection(this.buf, start, end, this.limits.maxHeaders);
    const headers = readPartHeaders(section.fields, defaultType);
    const part: MimePart = {
      fields: section.fields,
      headers,
      start,
      bodyStart: section.bodyStart,
      end,
      depth,
      children: [],
    };
    if (headers.type.startsWith("multipart/")) this.#children(part);
    return part;
  }

  #children(part: MimePart): void {
    const boundary = part.headers.params.boundary;
    if (!boundary || boundary.length > MAX_BOUNDARY) {
      // No usable boundary (RFC 2046 §5.1.1 requires one): nothing to split.
      this.#unsplit(part);
      return;
    }
    const needle = Buffer.from(`--${boundary}`, "utf8");
    const childType = part.headers.type === "multipart/digest" ? "message/rfc822" : "text/plain";
    let partStart = -1;
    let found = false;
    let closed = false;
    for (const d of delimiters(this.buf, part.bodyStart, part.end, needle)) {
      found = true;
      if (partStart >= 0) {
        const end = Math.max(d.before, partStart);
        part.children.push(this.part(partStart, end, part.depth + 1, childType));
      }
      closed = d.close;
      partStart = d.after;
    }
    // A missing closing delimiter: the last part runs to the end (as real mail readers do).
    if (found && !closed) {
      part.children.push(this.part(partStart, part.end, part.depth + 1, childType));
    }
    if (!found) this.#unsplit(part);
  }

  /** A multipart that cannot be split keeps its bytes: shown as text at the top, else opaque. */
  #unsplit(part: MimePart): void {
    const type = part.depth === 0 ? "text/plain" : "application/octet-stream";
    part.headers = { ...part.headers, type, params: Object.create(null) };
    part.unsplit = true;
  }
}

/** Builds the MIME tree of `buf` (the whole message). Throws `MAIL_LIMIT_EXCEEDED` over a limit. */
export function readStructure(buf: Buffer, limits: Limits): MimePart {
  return new TreeBuilder(buf, limits).part(0, buf.length, 0, "text/plain");
}
