/**
 * From a MIME tree to a `MailMessage`: header fields to properties (RFC 5322 §3.6), the first
 * text/plain and text/html that are not attachments to `textContent` / `htmlContent` (walking
 * multipart/alternative, related and mixed), every other leaf to an `Attachment` with its
 * decoded bytes. An embedded message/rfc822 stays one attachment with its raw bytes (parsed on
 * demand by `Attachment.message()`, within what is left of the limits). Parts that carry nothing
 * (empty parts between two delimiters, an unsplittable multipart with an empty body) are
 * skipped, so they never take the text slot; uuencoded files (RFC-less but common) become
 * attachments, whether declared by Content-Transfer-Encoding or pasted into a text body.
 */

import type { Buffer } from "node:buffer";
import { parseAddressList } from "../address-parse.js";
import { Attachment } from "../attachment.js";
import { MANAGED_FIELDS } from "../managed-fields.js";
import { MailMessage } from "../message.js";
import type { MailAddress, ParseOptions } from "../types.js";
import type { MimePart } from "./body-structure.js";
import { parseMailDate } from "./date.js";
import { unflow } from "./flowed.js";
import { fieldValue, type HeaderField, sameName } from "./header-lines.js";
import { cleanHeaderText, decodeHeaderText } from "./header-text.js";
import type { Limits } from "./limits.js";
import { decodeText, decodeTransfer } from "./transfer-decoding.js";
import { decodeUuencodeBody, findUuBlocks, UUENCODE_ENCODINGS } from "./uuencode.js";

/** Limits an embedded message is parsed with by `Attachment.message()` (weakly held). */
export const nestedLimits = new WeakMap<Attachment, ParseOptions>();

const PART_FIELDS = new Set([
  "mime-version",
  "content-type",
  "content-transfer-encoding",
  "content-disposition",
  "content-id",
]);
/** Longest field name render() writes (so that `Name: ` leaves room on a 78-column line). */
const MAX_FIELD_NAME = 76;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function addressField(fields: readonly HeaderField[], name: string): MailAddress[] {
  const out: MailAddress[] = [];
  const lower = name.toLowerCase();
  for (const field of fields) {
    if (!sameName(field.name, lower)) continue;
    // Lenient: entries that cannot be read are skipped rather than failing the message.
    for (const box of parseAddressList(field.value, false)) {
      const clean: MailAddress = { address: cleanHeaderText(box.address) };
      if (box.name !== undefined) clean.name = cleanHeaderText(box.name);
      if (box.group !== undefined) clean.group = cleanHeaderText(box.group);
      out.push(clean);
    }
  }
  return out;
}

/** RFC 5322 §3.6.4 msg-id: the first `<…>`, else the trimmed text. */
function messageId(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const angle = /<[^<>\s]*>/.exec(value);
  const id = cleanHeaderText(angle ? angle[0] : value).trim();
  return id === "" ? undefined : id;
}

/** Unstructured fields copied as decoded text; repeated fields become arrays, in order. */
function extraHeaders(
  fields: readonly HeaderField[],
  skip: ReadonlySet<string>,
): Record<string, string[]> {
  const out: Record<string, string[]> = Object.create(null);
  const names = new Map<string, string>();
  for (const field of fields) {
    const lower = field.name.toLowerCase();
    // Names longer than render accepts stay in the raw field list only (`headerFields`).
    if (skip.has(lower) || field.name.length > MAX_FIELD_NAME) continue;
    const name = names.get(lower) ?? field.name;
    names.set(lower, name);
    if (!Object.hasOwn(out, name)) out[name] = [];
    out[name].push(cleanHeaderText(decodeHeaderText(field.value)));
  }
  return out;
}

function contentTypeText(part: MimePart): string {
  let text = part.headers.type;
  for (const [key, value] of Object.entries(part.headers.params)) {
    if (key === "name" || key === "boundary" || !TOKEN.test(key)) continue;
    const clean = cleanHeaderText(value);
    text += `; ${key}=${TOKEN.test(clean) ? clean : `"${clean.replace(/(["\\])/g, "\\$1")}"`}`;
  }
  return text;
}

function bodyBytes(raw: Buffer, part: MimePart): Uint8Array {
  return decodeTransfer(raw.subarray(part.bodyStart, part.end), part.headers.transferEncoding);
}

/** True when the bytes in [start, end) are only whitespace (or there are none). */
function blank(raw: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const b = raw[i];
    if (b !== 0x20 && b !== 0x09 && b !== 0x0d && b !== 0x0a) return false;
  }
  return true;
}

class Collector {
  text: string | undefined;
  html: string | undefined;
  attachments: Attachment[] = [];
  constructor(
    readonly raw: Buffer,
    readonly limits: Limits,
  ) {}

  walk(part: MimePart): void {
    if (part.children.length > 0 || part.headers.type.startsWith("multipart/")) {
      for (const child of part.children) this.walk(child);
      return;
    }
    // Nothing between two delimiters, or a broken multipart with nothing in it: no part at all.
    const empty = part.depth > 0 && (part.fields.length === 0 || part.unsplit);
    if (empty && blank(this.raw, part.bodyStart, part.end)) return;
    const h = part.headers;
    const uuencoded = UUENCODE_ENCODINGS.has(h.transferEncoding);
    const body = h.disposition !== "attachment" && h.filename === undefined && !uuencoded;
    if (body && h.type === "text/plain" && this.text === undefined) {
      const text = this.#withoutUuFiles(decodeText(bodyBytes(this.raw, part), h.params.charset));
      const flowed = h.params.format?.toLowerCase() === "flowed";
      this.text = flowed ? unflow(text, h.params.delsp?.toLowerCase() === "yes") : text;
    } else if (body && h.type === "text/html" && this.html === undefined) {
      this.html = decodeText(bodyBytes(this.raw, part), h.params.charset);
    } else {
      this.attachments.push(this.#attachment(part));
    }
  }

  /** Takes `begin 644 name` … `end` blocks out of a text body as attachments. */
  #withoutUuFiles(text: string): string {
    const blocks = findUuBlocks(text);
    if (blocks.length === 0) return text;
    let out = "";
    let last = 0;
    for (const block of blocks) {
      out += text.slice(last, block.start);
      last = block.end + 1;
      this.attachments.push(
        new Attachment({
          filename: block.file.filename ?? "",
          content: block.file.bytes,
          contentType: "application/octet-stream",
        }),
      );
    }
    return out + text.slice(last);
  }

  #attachment(part: MimePart): Attachment {
    const h = part.headers;
    let content: Uint8Array;
    let filename = h.filename;
    if (UUENCODE_ENCODINGS.has(h.transferEncoding)) {
      // The file name of an x-uuencode part is often only on its `begin` line.
      const file = decodeUuencodeBody(this.raw.subarray(part.bodyStart, part.end));
      content = file.bytes;
      filename ??= file.filename;
    } else content = bodyBytes(this.raw, part);
    const headers: Record<string, string> = Object.create(null);
    // A message that is one attachment: its fields are the message's, kept in `headers` there.
    const own = part.depth === 0 ? [] : part.fields;
    for (const [name, values] of Object.entries(extraHeaders(own, PART_FIELDS))) {
      headers[name] = values[0];
    }
    const attachment = new Attachment({
      filename: filename ?? "",
      content,
      contentType: contentTypeText(part),
      contentId: h.contentId,
      // RFC 2183: no disposition leaves it to the reader; a part with a Content-ID is meant inline.
      inline:
        h.disposition === "inline" || (h.disposition === undefined && h.contentId !== undefined),
      headers,
    });
    if (h.type === "message/rfc822" || h.type === "message/global") {
      // The embedded message is one level deeper and counts against what is left (negative
      // when this part already sits at the deepest level allowed: Attachment.message refuses).
      nestedLimits.set(attachment, {
        maxSize: this.limits.maxSize,
        maxDepth: this.limits.maxDepth - part.depth - 1,
        maxParts: this.limits.maxParts,
        maxHeaders: this.limits.maxHeaders,
      });
    }
    return attachment;
  }
}

/** Builds the message from its parsed tree. */
export function toMessage(raw: Buffer, root: MimePart, limits: Limits): MailMessage {
  const fields = root.fields;
  const message = new MailMessage();
  const subject = fieldValue(fields, "subject");
  message.subject = subject === undefined ? "" : cleanHeaderText(decodeHeaderText(subject));
  message.sender = addressField(fields, "from")[0];
  message.recipients = addressField(fields, "to");
  message.cc = addressField(fields, "cc");
  message.bcc = addressField(fields, "bcc");
  message.replyTo = addressField(fields, "reply-to");
  message.messageId = messageId(fieldValue(fields, "message-id"));
  const date = fieldValue(fields, "date");
  message.date = date === undefined ? undefined : parseMailDate(date);
  const headers: Record<string, string | string[]> = {};
  for (const [name, values] of Object.entries(extraHeaders(fields, MANAGED_FIELDS))) {
    // Object.defineProperty: a field named `__proto__` stays an ordinary own property.
    Object.defineProperty(headers, name, {
      value: values.length === 1 ? values[0] : values,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  message.headers = headers;
  const collector = new Collector(raw, limits);
  collector.walk(root);
  message.textContent = collector.text;
  message.htmlContent = collector.html;
  message.attachments = collector.attachments;
  return message;
}
