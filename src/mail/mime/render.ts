/**
 * Composition: turns a MailMessage into MIME (RFC 5322, RFC 2045–2049).
 *
 * Everything that can fail on caller input (header injection, bad addresses, bad content
 * types, consumed streams) is checked in `prepare()`, synchronously, before the first byte
 * is produced; `write()` then only streams. The tree holds only the parts that exist:
 *   multipart/mixed ⊃ multipart/alternative (text, [multipart/related ⊃] html, inline images).
 */
import { randomBytes } from "node:crypto";
import { domainToASCII } from "node:url";
import { addAddressList, normalizeAddresses } from "./address.js";
import type { Attachment } from "./attachment.js";
import { base64Lines } from "./base64.js";
import { MIME_ERROR_CODES, mimeError } from "./errors.js";
import { FoldedHeader } from "./fold.js";
import { checkFieldName, checkValue } from "./header-check.js";
import type { MailMessage } from "./message.js";
import {
  addParameterized,
  isToken,
  legacyEncodedParam,
  paramSegments,
  parseParameterized,
} from "./params.js";
import { type EncodedText, encodeText } from "./text-part.js";
import type { MailAddress, RenderOptions } from "./types.js";
import { addUnstructured } from "./unstructured.js";

type Leaf = {
  kind: "leaf";
  headers: string;
  /** In-memory body, or a stream opened when the part is written. */
  body: Uint8Array | (() => AsyncIterable<Uint8Array>);
  terminator: string;
  text?: EncodedText;
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

const utf8 = new TextEncoder();

/** RFC 5322 §3.3 date-time in UTC, e.g. `Wed, 25 Nov 2026 06:36:23 +0000`. */
export function formatDate(date: Date): string {
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) {
    throw mimeError(MIME_ERROR_CODES.invalidHeader, "The message date is not a valid Date");
  }
  return date.toUTCString().replace(/GMT$/, "+0000");
}

/** `<random@domain>`: 128 random bits, so ids are unique and reveal nothing (RFC 5322 §3.6.4). */
export function generateMessageId(sender: MailAddress | undefined): string {
  let domain = "localhost";
  if (sender) {
    const d = sender.address.slice(sender.address.lastIndexOf("@") + 1);
    if (d && !d.startsWith("[")) domain = domainToASCII(d) || "localhost";
  }
  return `<${randomBytes(16).toString("hex")}@${domain}>`;
}

function normalizeMessageId(id: string): string {
  checkValue(id, "The Message-ID");
  const wrapped = id.startsWith("<") ? id : `<${id}>`;
  if (!/^<[!-;=?-~]+@[!-;=?-~]+>$/.test(wrapped)) {
    throw mimeError(
      MIME_ERROR_CODES.invalidHeader,
      `Invalid Message-ID ${JSON.stringify(id)} (expected <left@right> in printable ASCII)`,
    );
  }
  return wrapped;
}

/** 144 random bits behind `=_`, a pair that neither base64 nor quoted-printable can produce. */
function newBoundary(): string {
  return `=_mtaio_${randomBytes(18).toString("base64url")}`;
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

function textLeaf(subtype: "plain" | "html", content: string, eightBit: boolean): Leaf {
  if (typeof content !== "string") {
    throw mimeError(MIME_ERROR_CODES.invalidContent, `The ${subtype} content must be a string`);
  }
  const text = encodeText(content, eightBit);
  const headers =
    field("Content-Type", (h) => addParameterized(h, `text/${subtype}`, [["charset=utf-8"]])) +
    field("Content-Transfer-Encoding", (h) => h.add(" ", text.encoding));
  return { kind: "leaf", headers, body: text.body, terminator: text.terminator, text };
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
  const params = Object.entries(parsed.params).filter(([k]) => k !== "name" && isToken(k));
  return { value: parsed.value, params };
}

function checkContentId(cid: string): string {
  checkValue(cid, "A Content-ID");
  if (!/^[!-;=?-~]+$/.test(cid)) {
    throw mimeError(
      MIME_ERROR_CODES.invalidHeader,
      `Invalid contentId ${JSON.stringify(cid)} (printable ASCII without <, > or spaces)`,
    );
  }
  return cid;
}

function attachmentLeaf(attachment: Attachment, smtputf8: boolean): Leaf {
  attachment.assertReadable();
  if (typeof attachment.filename !== "string") {
    throw mimeError(MIME_ERROR_CODES.invalidContent, "An attachment filename must be a string");
  }
  checkValue(attachment.filename, "An attachment filename");
  const type = attachmentType(attachment.contentType);
  const name = attachment.filename;
  const typeParams: string[][] = type.params.flatMap(([k, v]) =>
    paramSegments(k, v).map((s) => [s]),
  );
  if (name !== "") typeParams.push(legacyEncodedParam("name", name));
  let headers = field("Content-Type", (h) => addParameterized(h, type.value, typeParams));
  headers += field("Content-Transfer-Encoding", (h) => h.add(" ", "base64"));
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
  return {
    kind: "leaf",
    headers,
    body: () => base64Lines(attachment.chunks()),
    terminator: "",
  };
}

function multipart(subtype: string, children: Node[]): Node {
  return children.length === 1
    ? children[0]
    : { kind: "multipart", subtype, boundary: newBoundary(), children };
}

/** Makes sure no raw (7bit/8bit) body contains a boundary of the tree (astronomically unlikely). */
function fixBoundaries(node: Node, rawBodies: Uint8Array[]): void {
  if (node.kind === "leaf") return;
  const collides = (b: string): boolean =>
    rawBodies.some((body) =>
      Buffer.from(body.buffer, body.byteOffset, body.byteLength).includes(b),
    );
  while (collides(node.boundary)) node.boundary = newBoundary();
  for (const child of node.children) fixBoundaries(child, rawBodies);
}

function rawBodies(node: Node, out: Uint8Array[] = []): Uint8Array[] {
  if (node.kind === "leaf") {
    if (node.text?.raw) out.push(node.text.body);
  } else for (const child of node.children) rawBodies(child, out);
  return out;
}

export interface PreparedMessage {
  head: string;
  tree: Node;
}

export function addresses(value: unknown, what: string): MailAddress[] {
  if (!Array.isArray(value)) {
    return value === undefined || value === null ? [] : normalizeAddresses([value as string], what);
  }
  return normalizeAddresses(value, what);
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
  if (from.length > 0) head += field("From", (h) => addAddressList(h, from, smtputf8));
  if (to.length > 0) head += field("To", (h) => addAddressList(h, to, smtputf8));
  if (cc.length > 0) head += field("Cc", (h) => addAddressList(h, cc, smtputf8));
  if (replyTo.length > 0) head += field("Reply-To", (h) => addAddressList(h, replyTo, smtputf8));
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
    const leaf = attachmentLeaf(attachment, smtputf8);
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

/** Collects small pieces into larger chunks so the transport does not get thousands of tiny writes. */
class Coalescer {
  #pieces: Uint8Array[] = [];
  #size = 0;

  push(piece: Uint8Array | string): void {
    const bytes = typeof piece === "string" ? utf8.encode(piece) : piece;
    if (bytes.length === 0) return;
    this.#pieces.push(bytes);
    this.#size += bytes.length;
  }

  get size(): number {
    return this.#size;
  }

  take(): Uint8Array | undefined {
    if (this.#size === 0) return undefined;
    const out =
      this.#pieces.length === 1 ? this.#pieces[0] : Buffer.concat(this.#pieces, this.#size);
    this.#pieces = [];
    this.#size = 0;
    return out;
  }
}

const FLUSH_AT = 64 * 1024;

async function* writeNode(node: Node, out: Coalescer, last: boolean): AsyncGenerator<Uint8Array> {
  if (node.kind === "leaf") {
    out.push(`${node.headers}\r\n`);
    if (node.body instanceof Uint8Array) out.push(node.body);
    else {
      const pending = out.take();
      if (pending) yield pending;
      for await (const chunk of node.body()) {
        out.push(chunk);
        if (out.size >= FLUSH_AT) yield out.take() as Uint8Array;
      }
    }
    if (last) out.push(node.terminator);
    return;
  }
  const boundaryParam = [[`boundary="${node.boundary}"`]];
  out.push(
    `${field("Content-Type", (h) => addParameterized(h, `multipart/${node.subtype}`, boundaryParam))}\r\n`,
  );
  for (const child of node.children) {
    out.push(`--${node.boundary}\r\n`);
    yield* writeNode(child, out, false);
    out.push("\r\n");
    if (out.size >= FLUSH_AT) yield out.take() as Uint8Array;
  }
  out.push(`--${node.boundary}--\r\n`);
}

/** Streams a prepared message: header block, then the parts, attachments read as they go. */
export async function* write(prepared: PreparedMessage): AsyncGenerator<Uint8Array> {
  const out = new Coalescer();
  out.push(prepared.head);
  yield* writeNode(prepared.tree, out, true);
  const rest = out.take();
  if (rest) yield rest;
}
