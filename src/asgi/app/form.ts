import { Buffer } from "node:buffer";
import { HTTPError } from "../../errors.js";

/** An uploaded file from a `multipart/form-data` body. */
export interface UploadedFile {
  /** The form field name the file was sent under. */
  name: string;
  /**
   * The file name the client gave (from `Content-Disposition`), as sent: never use it as a path.
   */
  filename: string;
  /** The part's `Content-Type` (`text/plain` when the client sent none, RFC 7578 §4.4). */
  contentType: string;
  /** The file's bytes. */
  content: Uint8Array;
}

/** Bounds on a `multipart/form-data` body; a body past one of them is refused with 413. */
export interface MultipartLimits {
  /** Most parts accepted (default 1000). */
  maxParts: number;
  /** Largest text field, in bytes (default 1 MiB). */
  maxFieldSize: number;
  /** Largest uploaded file, in bytes (default 10 MiB; the body limit applies too). */
  maxFileSize: number;
}

/** Room for a part's own header lines when {@link PartSizeGuard} bounds a part by its size. */
const PART_HEADER_ALLOWANCE = 16 * 1024;

export function fileTooLarge(): HTTPError {
  return new HTTPError(413, "Multipart file too large", { code: "HTTP_FILE_TOO_LARGE" });
}

/**
 * Watches a multipart body while it streams in and throws 413 as soon as one part has grown
 * past every per-part limit, so an oversized upload is refused without waiting for (and
 * buffering) the rest of it. It only counts bytes since the last delimiter (RFC 2046 §5.1.1);
 * the exact per-field and per-file checks run when the body is parsed.
 */
export class PartSizeGuard {
  private readonly delimiter: Buffer;
  private readonly limit: number;
  /** The last `delimiter.length - 1` bytes seen: a delimiter may straddle two chunks. */
  private tail: Buffer = Buffer.alloc(0);
  private sinceDelimiter = 0;

  constructor(boundary: string, limits: MultipartLimits) {
    this.delimiter = Buffer.from(`--${boundary}`, "latin1");
    this.limit = Math.max(limits.maxFileSize, limits.maxFieldSize) + PART_HEADER_ALLOWANCE;
  }

  feed(bytes: Uint8Array): void {
    const chunk = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const needle = this.delimiter;
    const keep = needle.length - 1;
    let end = -1; // where the last delimiter found ends, as an offset into `chunk`
    if (this.tail.length > 0) {
      const seam = Buffer.concat([this.tail, chunk.subarray(0, keep)]);
      const at = seam.indexOf(needle);
      if (at !== -1) end = at + needle.length - this.tail.length;
    }
    for (let at = chunk.indexOf(needle, Math.max(end, 0)); at !== -1; ) {
      end = at + needle.length;
      at = chunk.indexOf(needle, end);
    }
    this.sinceDelimiter = end === -1 ? this.sinceDelimiter + chunk.length : chunk.length - end;
    if (this.sinceDelimiter > this.limit) throw fileTooLarge();
    this.tail =
      chunk.length >= keep
        ? Buffer.from(chunk.subarray(chunk.length - keep))
        : Buffer.concat([this.tail, chunk]).subarray(-keep);
  }
}

const utf8 = new TextDecoder("utf-8");

function decodeComponent(text: string): string {
  const spaced = text.replaceAll("+", " ");
  try {
    return decodeURIComponent(spaced);
  } catch (error) {
    throw new HTTPError(400, "Malformed percent-encoding", {
      code: "HTTP_MALFORMED_FORM",
      cause: error,
    });
  }
}

/**
 * `application/x-www-form-urlencoded` (WHATWG URL §5.1) into a null-prototype record, so a key
 * such as `__proto__` is a plain key. The last value of a repeated key wins.
 */
export function parseUrlencoded(text: string): Record<string, string> {
  const result = Object.create(null) as Record<string, string>;
  if (text.length === 0) return result;
  for (const pair of text.split("&")) {
    if (pair.length === 0) continue;
    const eq = pair.indexOf("=");
    const name = decodeComponent(eq === -1 ? pair : pair.slice(0, eq));
    result[name] = eq === -1 ? "" : decodeComponent(pair.slice(eq + 1));
  }
  return result;
}

/** Every value of `name` in an urlencoded string, in order (a repeated key keeps them all). */
export function parseUrlencodedAll(text: string, name: string): string[] {
  const values: string[] = [];
  if (text.length === 0) return values;
  for (const pair of text.split("&")) {
    if (pair.length === 0) continue;
    const eq = pair.indexOf("=");
    if (decodeComponent(eq === -1 ? pair : pair.slice(0, eq)) !== name) continue;
    values.push(eq === -1 ? "" : decodeComponent(pair.slice(eq + 1)));
  }
  return values;
}

/** A parameter of a header value such as `multipart/form-data; boundary=x` (RFC 9110 §5.6.6). */
export function headerParam(value: string, param: string): string | undefined {
  for (const part of value.split(";").slice(1)) {
    const eq = part.indexOf("=");
    if (eq === -1) continue;
    if (part.slice(0, eq).trim().toLowerCase() !== param) continue;
    let raw = part.slice(eq + 1).trim();
    if (raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"')) raw = raw.slice(1, -1);
    return raw;
  }
  return undefined;
}

function indexOfBytes(haystack: Uint8Array, needle: Uint8Array, from: number): number {
  return Buffer.from(haystack.buffer, haystack.byteOffset, haystack.byteLength).indexOf(
    needle,
    from,
  );
}

function malformed(reason: string): HTTPError {
  return new HTTPError(400, `Malformed multipart body: ${reason}`, {
    code: "HTTP_MALFORMED_MULTIPART",
  });
}

/**
 * `multipart/form-data` (RFC 7578, framing from RFC 2046 §5.1.1) over a body already held in
 * memory (its size is bounded by the request body limit). Parts without a filename are fields;
 * parts with one are files.
 */
export function parseMultipart(
  body: Uint8Array,
  boundary: string,
  limits: MultipartLimits,
): { fields: Record<string, string>; files: UploadedFile[] } {
  if (boundary.length === 0 || boundary.length > 70) throw malformed("bad boundary");
  const fields = Object.create(null) as Record<string, string>;
  const files: UploadedFile[] = [];
  const delimiter = Buffer.from(`--${boundary}`, "latin1");
  let position = indexOfBytes(body, delimiter, 0);
  if (position === -1) throw malformed("no boundary");
  let parts = 0;
  for (;;) {
    position += delimiter.length;
    // "--" after a delimiter closes the body.
    if (body[position] === 0x2d && body[position + 1] === 0x2d) break;
    const headerStart = indexOfBytes(body, Buffer.from("\r\n"), position);
    if (headerStart === -1) throw malformed("truncated");
    const headerEnd = indexOfBytes(body, Buffer.from("\r\n\r\n"), headerStart);
    if (headerEnd === -1) throw malformed("truncated headers");
    const next = indexOfBytes(body, Buffer.from(`\r\n--${boundary}`, "latin1"), headerEnd + 4);
    if (next === -1) throw malformed("missing closing boundary");
    parts++;
    if (parts > limits.maxParts) {
      throw new HTTPError(413, "Too many multipart parts", { code: "HTTP_TOO_MANY_PARTS" });
    }
    const headerText = Buffer.from(body.subarray(headerStart + 2, headerEnd)).toString("latin1");
    let disposition = "";
    let contentType = "text/plain";
    for (const line of headerText.split("\r\n")) {
      const colon = line.indexOf(":");
      if (colon === -1) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === "content-disposition") disposition = value;
      else if (name === "content-type") contentType = value;
    }
    // RFC 7578 §4.2: names and filenames may carry UTF-8 sent as raw bytes.
    const decodeParam = (param: string): string | undefined => {
      const raw = headerParam(disposition, param);
      return raw === undefined ? undefined : Buffer.from(raw, "latin1").toString("utf8");
    };
    const name = decodeParam("name");
    if (name === undefined) throw malformed("part without a name");
    const content = body.subarray(headerEnd + 4, next);
    const filename = decodeParam("filename");
    if (filename !== undefined) {
      if (content.byteLength > limits.maxFileSize) throw fileTooLarge();
      files.push({ name, filename, contentType, content: new Uint8Array(content) });
    } else {
      if (content.byteLength > limits.maxFieldSize) {
        throw new HTTPError(413, "Multipart field too large", { code: "HTTP_FIELD_TOO_LARGE" });
      }
      fields[name] = utf8.decode(content);
    }
    position = next + 2;
  }
  return { fields, files };
}
