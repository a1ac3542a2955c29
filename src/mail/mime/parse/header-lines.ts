/**
 * The header section of a message or body part (RFC 5322 §2.2, §3.5): lines up to the first
 * empty line, folded lines joined (§2.2.3 unfolding), CRLF or bare LF accepted. Works on byte
 * offsets into the raw message so nothing but the fields themselves is copied.
 */
import { Buffer } from "node:buffer";
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

function decodeField(buf: Buffer, pieces: number[], nameEnd: number): HeaderField {
  const start = pieces[0];
  const name = decodeHeaderBytes(buf.subarray(start, nameEnd));
  let colon = nameEnd;
  while (buf[colon] !== COLON) colon++;
  // Unfolding: drop each line break, keep the whitespace that starts the next line.
  const slices: Buffer[] = [];
  let size = 0;
  for (let p = 0; p < pieces.length; p += 2) {
    const from = p === 0 ? colon + 1 : pieces[p];
    const slice = buf.subarray(from, pieces[p + 1]);
    slices.push(slice);
    size += slice.length;
  }
  const bytes = slices.length === 1 ? slices[0] : Buffer.concat(slices, size);
  let s = 0;
  while (s < bytes.length && (bytes[s] === SP || bytes[s] === TAB)) s++;
  let e = bytes.length;
  while (e > s && (bytes[e - 1] === SP || bytes[e - 1] === TAB)) e--;
  return { name, value: decodeHeaderBytes(bytes.subarray(s, e)) };
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
  const fields: HeaderField[] = [];
  // Current field as [lineStart, contentEnd] pairs, plus where its name ends.
  let pieces: number[] = [];
  let nameEnd = -1;
  let fieldSize = 0;
  const finish = (): void => {
    if (pieces.length === 0) return;
    if (fields.length >= maxHeaders) limitExceeded(`more than ${maxHeaders} header fields`);
    fields.push(decodeField(buf, pieces, nameEnd));
    pieces = [];
  };
  let pos = start;
  let first = true;
  while (pos < end) {
    let lf = buf.indexOf(LF, pos);
    if (lf < 0 || lf >= end) lf = end;
    const next = lf < end ? lf + 1 : end;
    let contentEnd = lf;
    if (contentEnd > pos && buf[contentEnd - 1] === CR) contentEnd--;
    if (contentEnd === pos) {
      finish();
      return { fields, bodyStart: next };
    }
    if ((buf[pos] === SP || buf[pos] === TAB) && pieces.length > 0) {
      fieldSize += next - pos;
      if (fieldSize > MAX_HEADER_FIELD) limitExceeded("a header field longer than 256 KiB");
      pieces.push(pos, contentEnd);
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
        finish();
        return { fields, bodyStart: pos };
      }
      finish();
      fieldSize = next - pos;
      if (fieldSize > MAX_HEADER_FIELD) limitExceeded("a header field longer than 256 KiB");
      pieces.push(pos, contentEnd);
      nameEnd = nameStop;
    }
    first = false;
    pos = next;
  }
  finish();
  return { fields, bodyStart: end };
}

/** The first field named `name` (case-insensitive), as most readers take it. */
export function fieldValue(fields: readonly HeaderField[], name: string): string | undefined {
  const lower = name.toLowerCase();
  let found: string | undefined;
  for (const field of fields) if (field.name.toLowerCase() === lower) found ??= field.value;
  return found;
}
