/**
 * Composition: turns a MailMessage into MIME (RFC 5322, RFC 2045–2049).
 *
 * Everything that can fail on caller input (header injection, bad addresses, bad content
 * types, consumed streams) is checked in `prepare()`, synchronously, before the first byte
 * is produced; `write()` then only streams. The tree holds only the parts that exist:
 *   multipart/mixed ⊃ multipart/alternative (text, [multipart/related ⊃] html, inline images).
 */
import { domainToASCII } from "node:url";
import { addAddressList, normalizeAddresses } from "./address.js";
import type { Attachment } from "./attachment.js";
import { base64Lines, base64LinesSize, LINE_BYTES, writeBase64Lines } from "./base64.js";
import { markCanonical } from "./canonical-chunks.js";
import { MIME_ERROR_CODES, mimeError } from "./errors.js";
import { FoldedHeader } from "./fold.js";
import { checkFieldName, checkValue } from "./header-check.js";
import type { MailMessage } from "./message.js";
import { encodeMessageBody, isMessageType, messageBodyStream } from "./message-part.js";
import {
  addParameterized,
  isToken,
  legacyEncodedParam,
  paramSegments,
  parseParameterized,
} from "./params.js";
import { randomHex, randomToken } from "./random.js";
import { encodeText } from "./text-part.js";
import type { MailAddress, RenderOptions } from "./types.js";
import { addUnstructured } from "./unstructured.js";

/**
 * A part's body. In-memory bodies are copied (or base64-encoded) straight into the output
 * block; streamed ones are read while writing.
 */
type Body =
  /** Already encoded (text parts, checked message/rfc822 bodies). */
  | { kind: "bytes"; bytes: Uint8Array }
  /** In-memory attachment bytes, base64-encoded into the output. */
  | { kind: "base64"; bytes: Uint8Array }
  /** A file or stream, base64-encoded as it is read. */
  | { kind: "base64-stream"; open: () => AsyncIterable<Uint8Array> }
  /** A streamed message/rfc822, written raw (canonicalised and checked as it is read). */
  | { kind: "message-stream"; open: () => AsyncIterable<Uint8Array>; eightBit: boolean };

type Leaf = {
  kind: "leaf";
  headers: string;
  body: Body;
  /** What to append when the part ends the whole message (which must end with CRLF). */
  terminator: string;
  /** A body written as is (7bit/8bit): a multipart boundary must not occur in it. */
  raw?: Uint8Array;
};
type Multipart = { kind: "multipart"; subtype: string; boundary: string; children: Node[] };
type Node = Leaf | Multipart;

/** Header fields the message manages itself; `headers` may not set them. */
const MANAGED = new Set([
  "from",
  "to",
  "cc",
  "bcc",
  "reply-to",
  "subject",
  "date",
  "message-id",
  "mime-version",
  "content-type",
  "content-transfer-encoding",
  "content-disposition",
  "content-id",
]);

/** RFC 5322 §3.3 date-time in UTC, e.g. `Wed, 25 Nov 2026 06:36:23 +0000`. */
export function formatDate(date: Date): string {
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) {
    throw mimeError(MIME_ERROR_CODES.invalidHeader, "The message date is not a valid Date");
  }
  // RFC 5322 §3.3: "year is any numeric year 1900 or later"; four digits keep it readable.
  const year = date.getUTCFullYear();
  if (year < 1900 || year > 9999) {
    throw mimeError(
      MIME_ERROR_CODES.invalidHeader,
      `The message date's year ${year} is outside 1900–9999 (RFC 5322 §3.3)`,
    );
  }
  const second = Math.floor(date.getTime() / 1000);
  if (second !== lastDate[0]) lastDate = [second, date.toUTCString().replace(/GMT$/, "+0000")];
  return lastDate[1];
}

/** Messages sent within the same second share the formatted date. */
let lastDate: [number, string] = [Number.NaN, ""];

/** `<random@domain>`: 128 random bits, so ids are unique and reveal nothing (RFC 5322 §3.6.4). */
export function generateMessageId(sender: MailAddress | undefined): string {
  let domain = "localhost";
  if (sender) {
    const d = sender.address.slice(sender.address.lastIndexOf("@") + 1);
    if (d && !d.startsWith("[")) domain = asciiDomain(d);
  }
  return `<${randomHex(16)}@${domain}>`;
}

/** The last sender domain and its A-label form: a bulk sender has one, and ICU is not free. */
let lastDomain = ["", ""];

function asciiDomain(domain: string): string {
  if (lastDomain[0] !== domain) lastDomain = [domain, domainToASCII(domain) || "localhost"];
  return lastDomain[1];
}

/**
 * Longest Message-ID / Content-ID accepted: each is one unbreakable token, and its header line
 * must stay within 998 octets (RFC 5322 §2.1.1). Real ids are well under 100 characters.
 */
const MAX_ID_LENGTH = 900;

function normalizeMessageId(id: string): string {
  checkValue(id, "The Message-ID");
  const wrapped = id.startsWith("<") ? id : `<${id}>`;
  if (wrapped.length > MAX_ID_LENGTH + 2 || !/^<[!-;=?-~]+@[!-;=?-~]+>$/.test(wrapped)) {
    throw mimeError(
      MIME_ERROR_CODES.invalidHeader,
      `Invalid Message-ID ${JSON.stringify(id.slice(0, 100))} (expected <left@right> in printable ASCII, at most ${MAX_ID_LENGTH} characters)`,
    );
  }
  return wrapped;
}

const BOUNDARY_PREFIX = "=_mtaio_";
/** Random characters of a boundary: 24 × 6 = 144 random bits. */
const BOUNDARY_RANDOM = 24;
/** 64 boundary characters (RFC 2046 §5.1.1 bchars), without "-". */
const BOUNDARY_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.";

/**
 * 144 random bits behind `=_`, a pair that neither base64 nor quoted-printable can produce.
 * The alphabet has no "-", so a boundary never ends in "--" and its opening delimiter line can
 * never look like the closing one of a shorter boundary to a prefix-matching parser.
 */
function newBoundary(): string {
  return BOUNDARY_PREFIX + randomToken(BOUNDARY_RANDOM, BOUNDARY_ALPHABET);
}

function field(name: string, write: (header: FoldedHeader) => void): string {
  const header = new FoldedHeader(name);
  write(header);
  return header.toString();
}

function extraHeaders(
  headers: Record<string, string | string[]>,
  smtputf8: boolean,
  where: string,
): string {
  let out = "";
  for (const [name, value] of Object.entries(headers)) {
    checkFieldName(name);
    if (MANAGED.has(name.toLowerCase())) {
      throw mimeError(
        MIME_ERROR_CODES.invalidHeader,
        `${where}: header ${name} is managed by mtaio; use the matching property instead`,
      );
    }
    for (const v of Array.isArray(value) ? value : [value]) {
      checkValue(v, `Header ${name}`);
      out += field(name, (h) => addUnstructured(h, v, smtputf8));
    }
  }
  return out;
}

/** The two header fields of a text part depend only on subtype and encoding: built once. */
const textHeaders = new Map<string, string>();

function textPartHeaders(subtype: "plain" | "html", encoding: string): string {
  const key = `${subtype} ${encoding}`;
  let headers = textHeaders.get(key);
  if (headers === undefined) {
    headers =
      field("Content-Type", (h) => addParameterized(h, `text/${subtype}`, [["charset=utf-8"]])) +
      field("Content-Transfer-Encoding", (h) => h.add(" ", encoding));
    textHeaders.set(key, headers);
  }
  return headers;
}

function textLeaf(subtype: "plain" | "html", content: string, eightBit: boolean): Leaf {
  if (typeof content !== "string") {
    throw mimeError(MIME_ERROR_CODES.invalidContent, `The ${subtype} content must be a string`);
  }
  const text = encodeText(content, eightBit);
  return {
    kind: "leaf",
    headers: textPartHeaders(subtype, text.encoding),
    body: { kind: "bytes", bytes: text.body },
    terminator: text.terminator,
    raw: text.raw ? text.body : undefined,
  };
}

/** Content-Type from the caller: `type/subtype` plus optional parameters, re-written safely. */
function attachmentType(contentType: string): { value: string; params: [string, string][] } {
  checkValue(contentType, "An attachment content type");
  const parsed = parseParameterized(contentType);
  const [type, subtype, extra] = parsed.value.split("/");
  if (!type || !subtype || extra !== undefined || !isToken(type) || !isToken(subtype)) {
    throw mimeError(
      MIME_ERROR_CODES.invalidHeader,
      `Invalid attachment content type ${JSON.stringify(contentType)} (expected type/subtype)`,
    );
  }
  const params = Object.entries(parsed.params).filter(([k]) => k !== "name");
  for (const [name] of params) {
    // A parameter we cannot write back is an error, not something to drop silently.
    if (!isToken(name)) {
      throw mimeError(
        MIME_ERROR_CODES.invalidHeader,
        `Invalid parameter name ${JSON.stringify(name.slice(0, 100))} in attachment content type`,
      );
    }
  }
  return { value: parsed.value, params };
}

function checkContentId(cid: string): string {
  checkValue(cid, "A Content-ID");
  if (cid.length > MAX_ID_LENGTH || !/^[!-;=?-~]+$/.test(cid)) {
    throw mimeError(
      MIME_ERROR_CODES.invalidHeader,
      `Invalid contentId ${JSON.stringify(cid.slice(0, 100))} (printable ASCII without <, > or spaces, at most ${MAX_ID_LENGTH} characters)`,
    );
  }
  return cid;
}

/** In-memory content (bytes or a string), or undefined for files and streams. */
function inMemory(attachment: Attachment): Uint8Array | undefined {
  if (attachment.path !== undefined) return undefined;
  const content = attachment.content;
  if (content instanceof Uint8Array) return content;
  if (typeof content === "string") return Buffer.from(content, "utf8");
  return undefined;
}

/**
 * Header blocks of attachments without extra headers, by everything they depend on: a bulk
 * sender attaches the same kind of file to every message, and building these (parameter
 * encoding, RFC 2231 segments, folding) is a good part of composing a small message. Only
 * inputs that passed every check are cached, so a hit skips no validation that could fail.
 */
const attachmentHeaderCache = new Map<string, string>();
const ATTACHMENT_CACHE_SIZE = 256;

function attachmentCacheKey(attachment: Attachment): string | undefined {
  const { contentType, contentId, headers } = attachment;
  if (typeof contentType !== "string") return undefined;
  if (contentId !== undefined && typeof contentId !== "string") return undefined;
  for (const _ in headers) return undefined;
  return `${!!attachment.inline}\n${contentId === undefined ? "" : `<${contentId}>`}\n${contentType}\n${attachment.filename}`;
}

function attachmentLeaf(attachment: Attachment, smtputf8: boolean, eightBit: boolean): Leaf {
  attachment.assertReadable();
  if (typeof attachment.filename !== "string") {
    throw mimeError(MIME_ERROR_CODES.invalidContent, "An attachment filename must be a string");
  }
  const key = attachmentCacheKey(attachment);
  const bytes = inMemory(attachment);
  let body: Body;
  let encoding = "base64";
  let terminator = "";
  let raw: Uint8Array | undefined;
  if (typeof attachment.contentType === "string" && isMessageType(attachment.contentType)) {
    // RFC 2046 §5.2.1: a message/rfc822 body may only be 7bit, 8bit or binary.
    if (bytes) {
      const message = encodeMessageBody(bytes, eightBit);
      body = { kind: "bytes", bytes: message.body };
      encoding = message.encoding;
      terminator = message.endsWithBreak ? "" : "\r\n";
      raw = message.body;
    } else {
      body = { kind: "message-stream", open: () => attachment.chunks(), eightBit };
      encoding = eightBit ? "8bit" : "7bit";
    }
  } else if (bytes) body = { kind: "base64", bytes };
  else body = { kind: "base64-stream", open: () => attachment.chunks() };
  const cacheKey = key === undefined ? undefined : `${encoding}\n${key}`;
  let headers = cacheKey === undefined ? undefined : attachmentHeaderCache.get(cacheKey);
  if (headers === undefined) {
    headers = attachmentHeaders(attachment, encoding, smtputf8);
    if (cacheKey !== undefined) {
      if (attachmentHeaderCache.size >= ATTACHMENT_CACHE_SIZE) attachmentHeaderCache.clear();
      attachmentHeaderCache.set(cacheKey, headers);
    }
  }
  return { kind: "leaf", headers, body, terminator, raw };
}

function attachmentHeaders(attachment: Attachment, encoding: string, smtputf8: boolean): string {
  checkValue(attachment.filename, "An attachment filename");
  const type = attachmentType(attachment.contentType);
  const name = attachment.filename;
  const typeParams: string[][] = type.params.flatMap(([k, v]) =>
    paramSegments(k, v).map((s) => [s]),
  );
  if (name !== "") typeParams.push(legacyEncodedParam("name", name));
  let headers = field("Content-Type", (h) => addParameterized(h, type.value, typeParams));
  headers += field("Content-Transfer-Encoding", (h) => h.add(" ", encoding));
  const disposition = attachment.inline ? "inline" : "attachment";
  const dispositionParams = name === "" ? [] : paramSegments("filename", name).map((s) => [s]);
  headers += field("Content-Disposition", (h) =>
    addParameterized(h, disposition, dispositionParams),
  );
  if (attachment.contentId !== undefined) {
    const cid = checkContentId(attachment.contentId);
    headers += field("Content-ID", (h) => h.add(" ", `<${cid}>`));
  }
  headers += extraHeaders(attachment.headers, smtputf8, `Attachment ${JSON.stringify(name)}`);
  return headers;
}

function multipart(subtype: string, children: Node[]): Node {
  return children.length === 1
    ? children[0]
    : { kind: "multipart", subtype, boundary: newBoundary(), children };
}

const BOUNDARY_PREFIX_BYTES = Buffer.from(BOUNDARY_PREFIX);

/** Makes sure no raw (7bit/8bit) body contains a boundary of the tree (astronomically unlikely). */
function fixBoundaries(node: Node, rawBodies: Uint8Array[]): void {
  if (node.kind === "leaf") return;
  // Every boundary starts with the same prefix: bodies without it cannot collide.
  const suspects = rawBodies.filter((body) =>
    Buffer.from(body.buffer, body.byteOffset, body.byteLength).includes(BOUNDARY_PREFIX_BYTES),
  );
  if (suspects.length > 0) resolveCollisions(node, suspects);
}

function resolveCollisions(node: Node, rawBodies: Uint8Array[]): void {
  if (node.kind === "leaf") return;
  const collides = (b: string): boolean =>
    rawBodies.some((body) =>
      Buffer.from(body.buffer, body.byteOffset, body.byteLength).includes(b),
    );
  while (collides(node.boundary)) node.boundary = newBoundary();
  for (const child of node.children) resolveCollisions(child, rawBodies);
}

function rawBodies(node: Node, out: Uint8Array[] = []): Uint8Array[] {
  if (node.kind === "leaf") {
    if (node.raw) out.push(node.raw);
  } else for (const child of node.children) rawBodies(child, out);
  return out;
}

export interface PreparedMessage {
  head: string;
  tree: Node;
}

/**
 * Parsed address strings, so a bulk sender's fixed `From`, and the addresses parsed again by
 * `envelope()`, cost one parse. Only successes are kept; normalising a string does not depend
 * on anything but the string. Each caller gets fresh copies of the mailboxes.
 */
const addressCache = new Map<string, readonly MailAddress[]>();
const ADDRESS_CACHE_SIZE = 1024;

function normalizeString(input: string, what: string): readonly MailAddress[] {
  let boxes = addressCache.get(input);
  if (boxes === undefined) {
    boxes = normalizeAddresses([input], what);
    if (addressCache.size >= ADDRESS_CACHE_SIZE) addressCache.clear();
    addressCache.set(input, boxes);
  }
  return boxes;
}

export function addresses(value: unknown, what: string): MailAddress[] {
  const inputs = Array.isArray(value)
    ? value
    : value === undefined || value === null
      ? []
      : [value];
  const out: MailAddress[] = [];
  for (const input of inputs) {
    if (typeof input === "string") {
      for (const box of normalizeString(input, what)) out.push({ ...box });
    } else out.push(...normalizeAddresses([input], what));
  }
  return out;
}

/**
 * Written address fields by the caller's input strings, for the same reason as the parsed
 * addresses: a bulk sender writes the same `From` (and often `To`) every time. Only string
 * inputs are keyed (a field is a pure function of them once they have been validated).
 */
const addressFieldCache = new Map<string, string>();

function addressField(
  name: string,
  input: unknown,
  boxes: MailAddress[],
  smtputf8: boolean,
): string {
  if (boxes.length === 0) return "";
  const inputs = Array.isArray(input) ? input : [input];
  let key: string | undefined = `${name}:${smtputf8}`;
  for (const item of inputs) {
    if (typeof item !== "string") {
      key = undefined;
      break;
    }
    key += `\n${item}`;
  }
  let value = key === undefined ? undefined : addressFieldCache.get(key);
  if (value === undefined) {
    value = field(name, (h) => addAddressList(h, boxes, smtputf8));
    if (key !== undefined) {
      if (addressFieldCache.size >= ADDRESS_CACHE_SIZE) addressFieldCache.clear();
      addressFieldCache.set(key, value);
    }
  }
  return value;
}

/** Validates the whole message and builds every header; throws before anything is written. */
export function prepare(message: MailMessage, options: RenderOptions): PreparedMessage {
  const smtputf8 = options.smtputf8 === true;
  const eightBit = options.eightBit === true || smtputf8;
  const from = addresses(message.sender, "sender");
  const to = addresses(message.recipients, "recipients");
  const cc = addresses(message.cc, "cc");
  addresses(message.bcc, "bcc"); // validated for the envelope; never written
  const replyTo = addresses(message.replyTo, "replyTo");
  const subject = message.subject ?? "";
  checkValue(subject, "The subject");

  message.date ??= new Date();
  const date = formatDate(message.date);
  message.messageId = normalizeMessageId(message.messageId ?? generateMessageId(from[0]));

  let head = "";
  head += addressField("From", message.sender, from, smtputf8);
  head += addressField("To", message.recipients, to, smtputf8);
  head += addressField("Cc", message.cc, cc, smtputf8);
  head += addressField("Reply-To", message.replyTo, replyTo, smtputf8);
  head += field("Subject", (h) => addUnstructured(h, subject, smtputf8));
  head += field("Date", (h) => h.add(" ", date));
  head += field("Message-ID", (h) => h.add(" ", message.messageId as string));
  head += "MIME-Version: 1.0\r\n";
  head += extraHeaders(message.headers ?? {}, smtputf8, "MailMessage");

  const attachments = message.attachments ?? [];
  const related: Leaf[] = [];
  const mixed: Leaf[] = [];
  const hasHtml = message.htmlContent !== undefined && message.htmlContent !== null;
  for (const attachment of attachments) {
    if (!attachment || typeof attachment.chunks !== "function") {
      throw mimeError(MIME_ERROR_CODES.invalidContent, "attachments must hold Attachment objects");
    }
    const leaf = attachmentLeaf(attachment, smtputf8, eightBit);
    if (hasHtml && attachment.inline && attachment.contentId !== undefined) related.push(leaf);
    else mixed.push(leaf);
  }
  const bodies: Node[] = [];
  if (message.textContent !== undefined && message.textContent !== null) {
    bodies.push(textLeaf("plain", message.textContent, eightBit));
  }
  if (hasHtml) {
    bodies.push(
      multipart("related", [textLeaf("html", message.htmlContent as string, eightBit), ...related]),
    );
  }
  if (bodies.length === 0 && mixed.length === 0) bodies.push(textLeaf("plain", "", eightBit));
  const parts: Node[] = [];
  if (bodies.length > 0) parts.push(multipart("alternative", bodies));
  parts.push(...mixed);
  const tree = multipart("mixed", parts);
  fixBoundaries(tree, rawBodies(tree));
  return { head, tree };
}

/**
 * What the writer emits, in order: text (headers, boundaries, line breaks), bytes copied as
 * they are, in-memory bytes to base64-encode, or a stream to read.
 */
type Segment =
  | string
  | Uint8Array
  | { kind: "base64"; bytes: Uint8Array }
  | { kind: "stream"; open: () => AsyncIterable<Uint8Array>; canonical: boolean };

/** In-memory attachments larger than this are encoded block by block, like streams. */
const IN_MEMORY_LIMIT = 1024 * 1024;
/** Input bytes per block when encoding a large in-memory attachment (a whole number of lines). */
const SLICE_BYTES = LINE_BYTES * 4096;

function* slices(bytes: Uint8Array): Generator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += SLICE_BYTES) yield bytes.subarray(i, i + SLICE_BYTES);
}

function pushText(out: Segment[], text: string): void {
  const last = out.length - 1;
  if (last >= 0 && typeof out[last] === "string") out[last] += text;
  else out.push(text);
}

/**
 * The Content-Type of a multipart, built once per subtype with a stand-in boundary of the
 * same length (folding depends only on lengths), then filled in per message.
 */
const multipartTemplates = new Map<string, [string, string]>();
const STAND_IN = BOUNDARY_PREFIX + "x".repeat(BOUNDARY_RANDOM);

function multipartHeader(node: Multipart): string {
  let template = multipartTemplates.get(node.subtype);
  if (template === undefined) {
    const header = field("Content-Type", (h) =>
      addParameterized(h, `multipart/${node.subtype}`, [[`boundary="${STAND_IN}"`]]),
    );
    const at = header.indexOf(STAND_IN);
    template = [header.slice(0, at), header.slice(at + STAND_IN.length)];
    multipartTemplates.set(node.subtype, template);
  }
  return template[0] + node.boundary + template[1];
}

/** Flattens the tree into segments; `last` is true for the part that ends the message. */
function flatten(node: Node, out: Segment[], last: boolean): void {
  if (node.kind === "multipart") {
    pushText(out, `${multipartHeader(node)}\r\n`);
    for (const child of node.children) {
      pushText(out, `--${node.boundary}\r\n`);
      flatten(child, out, false);
      pushText(out, "\r\n");
    }
    pushText(out, `--${node.boundary}--\r\n`);
    return;
  }
  pushText(out, `${node.headers}\r\n`);
  const body = node.body;
  switch (body.kind) {
    case "bytes":
      if (body.bytes.length > 0) out.push(body.bytes);
      break;
    case "base64":
      if (body.bytes.length > IN_MEMORY_LIMIT) {
        const bytes = body.bytes;
        out.push({ kind: "stream", open: () => base64Lines(slices(bytes)), canonical: true });
      } else if (body.bytes.length > 0) out.push(body);
      break;
    case "base64-stream":
      out.push({ kind: "stream", open: () => base64Lines(body.open()), canonical: true });
      break;
    case "message-stream":
      out.push({
        kind: "stream",
        open: () => messageBodyStream(body.open(), body.eightBit, last),
        canonical: false,
      });
      break;
  }
  if (last && node.terminator !== "") pushText(out, node.terminator);
}

function segmentSize(segment: Segment): number {
  if (typeof segment === "string") return Buffer.byteLength(segment);
  if (segment instanceof Uint8Array) return segment.length;
  return segment.kind === "base64" ? base64LinesSize(segment.bytes.length) : 0;
}

/** CR or LF that is not part of a CRLF pair. */
const LONE_BREAK = /\r(?!\n)|(?<!\r)\n/;

/**
 * Writes a run of in-memory segments into one buffer of exactly their size. The buffer is
 * marked canonical (whole CRLF lines only) when its text passes the check: bodies are canonical
 * by construction (text parts are CRLF-normalised, base64 is ours), and the header text is
 * checked again here so that no bug upstream can get a lone CR or LF past the SMTP encoder.
 */
function fill(run: Segment[], size: number): Buffer {
  const block = Buffer.allocUnsafe(size);
  let o = 0;
  let canonical = true;
  for (const segment of run) {
    if (typeof segment === "string") {
      if (LONE_BREAK.test(segment)) canonical = false;
      o += block.write(segment, o);
    } else if (segment instanceof Uint8Array) {
      block.set(segment, o);
      o += segment.length;
    } else if (segment.kind === "base64") o = writeBase64Lines(segment.bytes, block, o);
  }
  // The block is uninitialised memory: every byte must have been written.
  if (o !== size) throw new Error(`mtaio internal error: rendered ${o} of ${size} bytes`);
  if (canonical && block[size - 1] === 0x0a) markCanonical(block);
  return block;
}

/**
 * Streams a prepared message: the header block and every in-memory part go out as one chunk
 * of exactly the right size (no per-piece allocations or copies); files and streams are read
 * and encoded block by block in between.
 */
export async function* write(prepared: PreparedMessage): AsyncGenerator<Uint8Array> {
  const segments: Segment[] = [prepared.head];
  flatten(prepared.tree, segments, true);
  let run: Segment[] = [];
  let size = 0;
  for (const segment of segments) {
    if (typeof segment === "string" || segment instanceof Uint8Array || segment.kind !== "stream") {
      run.push(segment);
      size += segmentSize(segment);
      continue;
    }
    if (size > 0) yield fill(run, size);
    run = [];
    size = 0;
    for await (const chunk of segment.open()) {
      yield segment.canonical ? markCanonical(chunk) : chunk;
    }
  }
  if (size > 0) yield fill(run, size);
}
