/**
 * Parsing raw RFC 5322 / MIME bytes into a `MailMessage` (what `MailMessage.parse` does),
 * plus access to what the message object has no property for: the raw header field list and
 * the MIME tree. Throws only `MailError` (`MAIL_LIMIT_EXCEEDED`, `MAIL_PARSE_ERROR`).
 */
import { Buffer } from "node:buffer";
import { MIME_ERROR_CODES, mimeError } from "../errors.js";
import type { MailMessage } from "../message.js";
import type { ParseOptions } from "../types.js";
import { type MimePart, readStructure } from "./body-structure.js";
import type { HeaderField } from "./header-lines.js";
import { limitExceeded, resolveLimits } from "./limits.js";
import { toMessage } from "./to-message.js";

export type { MimePart } from "./body-structure.js";
export { parseMailDate } from "./date.js";
export type { HeaderField } from "./header-lines.js";
export { decodeHeaderText } from "./header-text.js";
export type { PartHeaders } from "./part-headers.js";

/** What the parser gives besides the message: its raw header fields, MIME tree and bytes. */
export interface ParsedMessage {
  /** The message, as `MailMessage.parse()` returns it. */
  message: MailMessage;
  /** Every top-level header field in order, unfolded but not decoded (e.g. `Received`, `DKIM-Signature`). */
  fields: HeaderField[];
  /** The MIME tree; offsets refer to `raw`. */
  root: MimePart;
  /** The bytes that were parsed. */
  raw: Buffer;
}

/** Header fields of messages that came from the parser (weakly held: no leak). */
const parsedFields = new WeakMap<MailMessage, readonly HeaderField[]>();

/**
 * The raw header fields of a message returned by `MailMessage.parse`, or undefined for others.
 *
 * @example
 * ```ts
 * const message = MailMessage.parse(raw);
 * const received = headerFields(message)?.filter((field) => field.name.toLowerCase() ===
 * "received");
 * ```
 */
export function headerFields(message: MailMessage): readonly HeaderField[] | undefined {
  return parsedFields.get(message);
}

function toBuffer(raw: Uint8Array | string, maxSize: number): Buffer {
  if (typeof raw === "string") {
    // Each character is at least one UTF-8 byte: refuse before encoding a huge string.
    if (raw.length > maxSize) limitExceeded(`more than ${maxSize} bytes`);
    return Buffer.from(raw, "utf8");
  }
  if (raw instanceof Uint8Array) return Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  throw mimeError(MIME_ERROR_CODES.parse, "MailMessage.parse needs a Uint8Array or a string");
}

/**
 * Parses a whole message.
 *
 * @example
 * ```ts
 * const { message, fields, root } = parseMessage(raw, { maxSize: 10 * 1024 * 1024 });
 * console.log(message.subject, fields.length, root.headers);
 * ```
 */
export function parseMessage(raw: Uint8Array | string, options?: ParseOptions): ParsedMessage {
  const limits = resolveLimits(options);
  const buf = toBuffer(raw, limits.maxSize);
  if (buf.length > limits.maxSize) limitExceeded(`more than ${limits.maxSize} bytes`);
  const lines = bareCrLines(buf) ? crToLf(buf) : buf;
  const root = readStructure(lines, limits);
  const message = toMessage(lines, root, limits);
  parsedFields.set(message, root.fields);
  return { message, fields: root.fields, root, raw: lines };
}

const CR = 0x0d;
const LF = 0x0a;
const CR_CR = Buffer.from("\r\r", "latin1");

/**
 * True when the message's lines end in a bare CR (old Mac mailers, some gateways): it has no
 * LF at all, or its header section ends (an empty line, CR CR) before the first LF. Such a
 * message is read with every bare CR taken as a line break, as Python's email does; others are
 * left alone, so a stray CR inside a CRLF or LF message stays data.
 */
function bareCrLines(buf: Buffer): boolean {
  const lf = buf.indexOf(LF);
  if (lf < 0) return buf.indexOf(CR) >= 0;
  return buf.subarray(0, lf).indexOf(CR_CR) >= 0;
}

/** A copy with each bare CR turned into LF (CRLF pairs stay as they are). */
function crToLf(buf: Buffer): Buffer {
  const out = Buffer.from(buf);
  for (let i = out.indexOf(CR); i >= 0; i = out.indexOf(CR, i + 1)) {
    if (out[i + 1] !== LF) out[i] = LF;
  }
  return out;
}
