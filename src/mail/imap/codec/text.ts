/**
 * Strings out of byte ranges. Buffer#toString(encoding, start, end) validates its arguments
 * and looks the encoding up on every call; the parser makes a string per value, so it calls
 * the per-encoding slice methods Node's Buffer has (and toString uses) directly when present.
 */
import { Buffer } from "node:buffer";

interface SliceMethods {
  latin1Slice?: (start: number, end: number) => string;
  utf8Slice?: (start: number, end: number) => string;
}

const proto = Buffer.prototype as unknown as SliceMethods;
const fast = typeof proto.latin1Slice === "function" && typeof proto.utf8Slice === "function";

/** Bytes [start, end) as Latin-1 (atoms, numbers: ASCII). */
export const latin1: (buf: Buffer, start: number, end: number) => string = fast
  ? (buf, start, end) => (buf as unknown as Required<SliceMethods>).latin1Slice(start, end)
  : (buf, start, end) => buf.toString("latin1", start, end);

/** Bytes [start, end) as UTF-8 (malformed sequences become U+FFFD). */
export const utf8: (buf: Buffer, start: number, end: number) => string = fast
  ? (buf, start, end) => (buf as unknown as Required<SliceMethods>).utf8Slice(start, end)
  : (buf, start, end) => buf.toString("utf8", start, end);

/**
 * Whether bytes [start, end) spell `word` (upper-case ASCII letters, digits, ".", "-"),
 * ignoring the case of letters. The callers only pass ranges without control bytes.
 */
export function equalsWord(buf: Uint8Array, start: number, end: number, word: string): boolean {
  if (end - start !== word.length) return false;
  for (let i = 0; i < word.length; i++) {
    if ((buf[start + i] | 0x20) !== (word.charCodeAt(i) | 0x20)) return false;
  }
  return true;
}
