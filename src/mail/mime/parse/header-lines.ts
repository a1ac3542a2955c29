/**
 * The header section of a message or body part (RFC 5322 §2.2, §3.5): lines up to the first
 * empty line, folded lines joined (§2.2.3 unfolding), CRLF or bare LF accepted. Works on byte
 * offsets into the raw message so nothing but the fields themselves is copied.
 */
import { Buffer, isAscii } from "node:buffer";
import { decodeHeaderBytes } from "../charset.js";
import { limitExceeded, MAX_HEADER_FIELD } from "./limits.js";

/** One header field as it appeared: name as written, value unfolded, RFC 2047 words untouched. */
export interface HeaderField {
  /** The field name as written (any case). */
  name: string;
  /** Unfolded value without the leading whitespace after the colon (UTF-8 per RFC 6532, else Latin-1). */
  value: string;
}

export interface HeaderSection {
  fields: HeaderField[];
  /** Offset of the first body byte (after the empty line), or `end` when there is no body. */
  bodyStart: number;
}

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const TAB = 0x09;
const COLON = 0x3a;

/** Length of a field name at `start` (RFC 5322 §3.6.8 ftext), or -1 if the line is not a field. */
function fieldNameEnd(buf: Buffer, start: number, lineEnd: number): number {
  let i = start;
  while (i < lineEnd && buf[i] > SP && buf[i] < 0x7f && buf[i] !== COLON) i++;
  if (i === start) return -1;
  const nameEnd = i;
  // Obsolete syntax allows whitespace before the colon (RFC 5322 §4.5.8: `Subject :`).
  while (i < lineEnd && (buf[i] === SP || buf[i] === TAB)) i++;
  return i < lineEnd && buf[i] === COLON ? nameEnd : -1;
}

/** True for a character outside US-ASCII (in a latin1 string: a byte of 0x80 or more). */
const NON_ASCII = /[^\x00-\x7f]/;

/**
 * Builds the fields from their line offsets. The section is turned into a string once, as
 * latin1 (one character per byte, so offsets carry over and nothing is lost); fields are cut
 * from it. Only a field holding bytes of 0x80 or more is decoded again from its bytes, as
 * UTF-8 when valid, else Latin-1 (decodeHeaderBytes), exactly as if decoded on its own.
 */
function decodeFields(buf: Buffer, start: number, spans: readonly number[]): HeaderField[] {
  const fields: HeaderField[] = [];
  if (spans.length === 0) return fields;
  // Each field is [pieceCount, nameEnd, (lineStart, contentEnd) × pieceCount]: the last
  // number is where the last field's text ends.
  const sectionEnd = spans[spans.length - 1];
  const text = buf.toString("latin1", start, sectionEnd);
  const ascii = isAscii(buf.subarray(start, sectionEnd));
  for (let k = 0; k < spans.length; k += 2 + 2 * spans[k]) {
    const pieces = spans[k];
    const nameEnd = spans[k + 1];
    const lineStart = spans[k + 2];
    // Field names are printable ASCII (fieldNameEnd), so latin1 is their text.
    const name = text.slice(lineStart - start, nameEnd - start);
    let colon = nameEnd - start;
    while (text.charCodeAt(colon) !== COLON) colon++;
    // Unfolding: drop each line break, keep the whitespace that starts the next line.
    let value = text.slice(colon + 1, spans[k + 3] - start);
    for (let p = 1; p < pieces; p++) {
      value += text.slice(spans[k + 2 + 2 * p] - start, spans[k + 3 + 2 * p] - start);
    }
    let s = 0;
    while (s < value.length && isBlank(value.charCodeAt(s))) s++;
    let e = value.length;
    while (e > s && isBlank(value.charCodeAt(e - 1))) e--;
    if (s > 0 || e < value.length) value = value.slice(s, e);
    if (!ascii && NON_ASCII.test(value)) value = decodeHeaderBytes(Buffer.from(value, "latin1"));
    fields.push({ name, value });
  }
  return fields;
}

function isBlank(c: number): boolean {
  return c === SP || c === TAB;
}

/**
 * Reads header fields from `start` up to the empty line that ends them. A line that is neither
 * a field nor a continuation ends the section early and belongs to the body (what Python's
 * email and most MUAs do with a missing separator). An mbox `From ` line first is skipped.
 */
export function readHeaderSection(
  buf: Buffer,
  start: number,
  end: number,
  maxHeaders: number,
): HeaderSection {
  // Offsets only while scanning (see decodeFields for the layout); text is made once at the end.
  const spans: number[] = [];
  let count = 0;
  /** Index in spans of the current field's piece count, or -1 before the first field. */
  let current = -1;
  let fieldSize = 0;
  let pos = start;
  let first = true;
  let bodyStart = end;
  while (pos < end) {
    let lf = buf.indexOf(LF, pos);
    if (lf < 0 || lf >= end) lf = end;
    const next = lf < end ? lf + 1 : end;
    let contentEnd = lf;
    if (contentEnd > pos && buf[contentEnd - 1] === CR) contentEnd--;
    if (contentEnd === pos) {
      bodyStart = next;
      break;
    }
    if ((buf[pos] === SP || buf[pos] === TAB) && current >= 0) {
      fieldSize += next - pos;
      if (fieldSize > MAX_HEADER_FIELD) limitExceeded("a header field longer than 256 KiB");
      spans[current]++;
      spans.push(pos, contentEnd);
    } else {
      const nameStop = fieldNameEnd(buf, pos, contentEnd);
      if (nameStop < 0) {
        const mbox =
          first && contentEnd - pos >= 5 && buf.toString("latin1", pos, pos + 5) === "From ";
        // A stray continuation line before any field is skipped as well.
        if (mbox || buf[pos] === SP || buf[pos] === TAB) {
          pos = next;
          first = false;
          continue;
        }
        bodyStart = pos;
        break;
      }
      if (count >= maxHeaders) limitExceeded(`more than ${maxHeaders} header fields`);
      count++;
      fieldSize = next - pos;
      if (fieldSize > MAX_HEADER_FIELD) limitExceeded("a header field longer than 256 KiB");
      current = spans.length;
      spans.push(1, nameStop, pos, contentEnd);
    }
    first = false;
    pos = next;
  }
  return { fields: decodeFields(buf, start, spans), bodyStart };
}

/** The first field named `name` (case-insensitive), as most readers take it. */
export function fieldValue(fields: readonly HeaderField[], name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const field of fields) if (sameName(field.name, lower)) return field.value;
  return undefined;
}

/** `name` equals `lower` (already lower-case) ignoring case; a length check first spares the copy. */
export function sameName(name: string, lower: string): boolean {
  return name.length === lower.length && name.toLowerCase() === lower;
}
