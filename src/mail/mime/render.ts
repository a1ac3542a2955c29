/**
 * Composition: turns a MailMessage into MIME (RFC 5322, RFC 2045–2049).
 *
 * Everything that can fail on caller input (header injection, bad addresses, bad content
 * types, consumed streams) is checked in `prepare()`, synchronously, before the first byte
 * is produced; `write()` (render-write.ts) then only streams. The tree holds only the parts
 * that exist:
 *   multipart/mixed ⊃ multipart/alternative (text, [multipart/related ⊃] html, inline images).
 */

import { Buffer } from "node:buffer";
import { domainToASCII } from "node:url";
import { addAddressList, normalizeAddresses } from "./address.js";
import type { Attachment } from "./attachment.js";
import { MIME_ERROR_CODES, mimeError } from "./errors.js";
import { checkFieldName, checkValue } from "./header-check.js";
import { MANAGED_FIELDS } from "./managed-fields.js";
import type { MailMessage } from "./message.js";
import { encodeMessageBody, isMessageType } from "./message-part.js";
import {
  BOUNDARY_PREFIX,
  type Body,
  field,
  type Leaf,
  type Node,
  newBoundary,
  type PreparedMessage,
} from "./mime-tree.js";
import {
  addParameterized,
  isToken,
  legacyEncodedParam,
  paramSegments,
  parseParameterized,
} from "./params.js";
import { randomHex } from "./random.js";
import { encodeText } from "./text-part.js";
import type { MailAddress, RenderOptions } from "./types.js";
import { addUnstructured } from "./unstructured.js";

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

function extraHeaders(
  headers: Record<string, string | string[]>,
  smtputf8: boolean,
  where: string,
): string {
  let out = "";
  for (const [name, value] of Object.entries(headers)) {
    checkFieldName(name);
    if (MANAGED_FIELDS.has(name.toLowerCase())) {
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
  return `${typeof attachment.content === "string"}\n${!!attachment.inline}\n${contentId === undefined ? "" : `<${contentId}>`}\n${contentType}\n${attachment.filename}`;
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
  // String content is written as UTF-8 (types.ts): a text type must say so, or every reader
  // takes the bytes as US-ASCII (RFC 2046 §4.1.2). Bytes keep what the caller gave.
  if (
    typeof attachment.content === "string" &&
    type.value.startsWith("text/") &&
    !type.params.some(([k]) => k === "charset")
  ) {
    type.params.push(["charset", "utf-8"]);
  }
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

export type { PreparedMessage } from "./mime-tree.js";
export { write } from "./render-write.js";
