/** Quoted-printable (RFC 2045 §6.7) for text parts already in canonical CRLF form. */
import { Buffer } from "node:buffer";

/** Upper-case hex digits as bytes (RFC 2045 §6.7 (1): "=" followed by two upper-case hex digits). */
const HEX = Buffer.from("0123456789ABCDEF", "latin1");
/** RFC 2045 §6.7 (5): encoded lines are at most 76 characters, soft break `=` included. */
const MAX_LINE = 76;
const CR = 0x0d;
const LF = 0x0a;
const EQUALS = 0x3d;

/**
 * Encodes bytes whose line breaks are CRLF. Line breaks stay hard breaks; trailing spaces and
 * tabs are escaped (rule 3) so transports that strip them change nothing; a line starting
 * with `From ` gets its `F` escaped, and one starting with `.` its dot, for mbox and old MTAs.
 *
 * Written byte by byte into one buffer: a string built piece by piece grows with every input
 * byte, which made large bodies (an HTML newsletter) take a noticeable time to encode.
 */
export function encodeQuotedPrintableBytes(bytes: Uint8Array): Buffer {
  const n = bytes.length;
  // Worst case: every byte escaped (3 characters) plus a soft break every 73 characters.
  const out = Buffer.allocUnsafe(n * 3 + Math.ceil((n * 3) / 73) * 3 + 3);
  let o = 0;
  let column = 0;
  for (let i = 0; i < n; i++) {
    const b = bytes[i];
    if (b === CR && bytes[i + 1] === LF) {
      out[o++] = CR;
      out[o++] = LF;
      column = 0;
      i++;
      continue;
    }
    const atLineEnd = i + 1 === n || (bytes[i + 1] === CR && bytes[i + 2] === LF);
    let escaped: boolean;
    if ((b === 0x20 || b === 0x09) && !atLineEnd) escaped = false;
    else escaped = !(b >= 0x21 && b <= 0x7e && b !== EQUALS);
    if (column === 0 && (b === 0x2e || (b === 0x46 && isFromLine(bytes, i)))) escaped = true;
    const width = escaped ? 3 : 1;
    // Leave room for the soft break `=` unless this is the last piece of the line.
    const limit = atLineEnd ? MAX_LINE : MAX_LINE - 1;
    if (column + width > limit) {
      out[o++] = EQUALS;
      out[o++] = CR;
      out[o++] = LF;
      column = 0;
    }
    if (escaped) {
      out[o++] = EQUALS;
      out[o++] = HEX[b >> 4];
      out[o++] = HEX[b & 15];
    } else out[o++] = b;
    column += width;
  }
  return out.subarray(0, o);
}

/** {@link encodeQuotedPrintableBytes} as a string. */
export function encodeQuotedPrintable(bytes: Uint8Array): string {
  return encodeQuotedPrintableBytes(bytes).toString("latin1");
}

function isFromLine(bytes: Uint8Array, i: number): boolean {
  return (
    bytes[i + 1] === 0x72 && bytes[i + 2] === 0x6f && bytes[i + 3] === 0x6d && bytes[i + 4] === 0x20
  );
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/**
 * Decodes quoted-printable leniently: soft breaks with CRLF or bare LF, lower-case hex, and
 * a stray `=` kept literally (RFC 2045 §6.7 note on robustness). Trailing whitespace before a
 * line break, or at the end, is dropped (rule 3): spaces and tabs are written as they come
 * and taken back when a line break follows them, so ordinary text costs one test per byte.
 */
export function decodeQuotedPrintable(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length);
  let o = 0;
  /** Output length without the literal spaces and tabs written since the last other byte. */
  let solid = 0;
  const n = bytes.length;
  for (let i = 0; i < n; i++) {
    const b = bytes[i];
    if (b > 0x20 && b !== EQUALS) {
      out[o++] = b;
      solid = o;
    } else if (b === 0x20 || b === 0x09) {
      out[o++] = b;
    } else if (b === LF) {
      o = solid;
      out[o++] = LF;
      solid = o;
    } else if (b === CR && i + 1 < n && bytes[i + 1] === LF) {
      o = solid;
      out[o++] = CR;
      out[o++] = LF;
      solid = o;
      i++;
    } else if (b === EQUALS) {
      // Soft line break: "=" + optional whitespace + (CR)LF, or the end of the data.
      let j = i + 1;
      while (j < n && (bytes[j] === 0x20 || bytes[j] === 0x09)) j++;
      if (j >= n || bytes[j] === LF) i = j;
      else if (j + 1 < n && bytes[j] === CR && bytes[j + 1] === LF) i = j + 1;
      else {
        const hi = i + 1 < n ? hexValue(bytes[i + 1]) : -1;
        const lo = i + 2 < n ? hexValue(bytes[i + 2]) : -1;
        if (hi >= 0 && lo >= 0) {
          out[o++] = (hi << 4) | lo;
          i += 2;
        } else out[o++] = b;
      }
      // Whitespace before an `=` is not at a line end: it stays.
      solid = o;
    } else {
      out[o++] = b;
      solid = o;
    }
  }
  return out.subarray(0, solid);
}
