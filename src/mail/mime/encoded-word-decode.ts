/**
 * Decoding RFC 2047 encoded-words (`=?charset?B|Q?text?=`) wherever they appear: Subject and
 * other unstructured fields, display names, MIME parameters (filenames), and, for the IMAP
 * client, ENVELOPE strings. One decoder for all of them:
 *
 * - Linear whitespace between two adjacent encoded-words is dropped (§6.2).
 * - Each encoded-word decodes on its own (§6.2) when its charset is stateful (ISO-2022-JP,
 *   UTF-7): joining their bytes would put one word's escape sequence right after another's,
 *   which the decoder reports as an error (U+FFFD in the middle of the text). The exception:
 *   an ISO-2022-JP string a sender cut in the middle of a shifted run is joined back.
 * - Adjacent words of one stateless charset (UTF-8, Shift_JIS, EUC-JP, GB18030, …) are joined
 *   as bytes first, so a multibyte character a sender split across two words comes out whole;
 *   for whole characters, joining changes nothing.
 * - An unknown charset (`NONE`, a misspelling) is read as UTF-8 when the bytes are valid UTF-8,
 *   else as Latin-1, instead of leaving the word as written.
 * - The RFC 2231 §5 language suffix (`utf-8*ja`) is ignored.
 */
import { Buffer } from "node:buffer";
import { decodeCharset, isStatefulCharset } from "./charset.js";
import { isBase64Char } from "./parse/transfer-decoding.js";

/** `=?charset?B|Q?text?=` (§2); bounded, no nested quantifiers, so no backtracking blow-up. */
export const ENCODED_WORD = /=\?([^?\s]{1,64})\?([bBqQ])\?([^?\s]*)\?=/g;

/** Only linear whitespace between two encoded-words (§6.2). */
const LINEAR_WHITESPACE = /^[ \t\r\n]*$/;

function hex(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** §4.2: `_` is a space, `=XX` a byte; anything else (a stray `=`) is taken literally. */
function qBytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  let o = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5f) out[o++] = 0x20;
    else if (
      c === 0x3d &&
      i + 2 < text.length &&
      hex(text.charCodeAt(i + 1)) >= 0 &&
      hex(text.charCodeAt(i + 2)) >= 0
    ) {
      out[o++] = (hex(text.charCodeAt(i + 1)) << 4) | hex(text.charCodeAt(i + 2));
      i += 2;
    } else out[o++] = c & 0xff;
  }
  return out.subarray(0, o);
}

/** §4.1 base64, lenient about padding and stray characters. */
function bBytes(text: string): Uint8Array {
  // Padding is only allowed at the end; anything else outside the alphabet is dropped first.
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 0x3d) end--;
  for (let i = 0; i < end; i++) {
    if (!isBase64Char(text.charCodeAt(i))) {
      return Buffer.from(text.replace(/[^A-Za-z0-9+/]/g, ""), "base64");
    }
  }
  return Buffer.from(end === text.length ? text : text.slice(0, end), "base64");
}

const ESC = 0x1b;

/**
 * Whether ISO-2022-JP `pending` bytes end shifted out of ASCII: the last escape sequence
 * selects a JIS X 0208/0212 or katakana set (`ESC $ B`, `ESC $ @`, `ESC ( I`, …), not ASCII or
 * JIS-Roman (`ESC ( B`, `ESC ( J`).
 */
function endsShifted(pending: readonly Uint8Array[]): boolean {
  for (let p = pending.length - 1; p >= 0; p--) {
    const bytes = pending[p];
    const esc = bytes.lastIndexOf(ESC);
    if (esc >= 0)
      return !(bytes[esc + 1] === 0x28 && (bytes[esc + 2] === 0x42 || bytes[esc + 2] === 0x4a));
  }
  return false;
}

/**
 * True when `next`, an adjacent word in the same charset, continues the bytes of `pending`
 * rather than standing on its own. Stateless charsets: always (joining whole characters
 * changes nothing, and a split one comes out whole). Stateful ones: each word decodes on its
 * own (§6.2), unless a sender cut an ISO-2022-JP string in the middle of a shifted run (no
 * `ESC ( B` at the end of one word, no escape at the start of the next), which only decodes
 * joined. UTF-7 words always stand alone.
 */
function continues(label: string, pending: readonly Uint8Array[], next: Uint8Array): boolean {
  if (!isStatefulCharset(label)) return true;
  return next[0] !== ESC && next.length > 0 && isIso2022(label) && endsShifted(pending);
}

const isIso2022 = (label: string): boolean =>
  label.startsWith("iso-2022-jp") || label === "csiso2022jp";

/** The text of the words collected so far, in their charset. */
function decodePending(pending: Uint8Array[], charset: string): string {
  return decodeCharset(pending.length === 1 ? pending[0] : Buffer.concat(pending), charset);
}

/** The charset label of a word, lower-cased, without an RFC 2231 §5 language (`utf-8*ja`). */
function charsetLabel(raw: string): string {
  const star = raw.indexOf("*");
  return (star < 0 ? raw : raw.slice(0, star)).toLowerCase();
}

/** Decodes every encoded-word in `text` (an unfolded header value or part of one). Never throws. */
export function decodeEncodedWords(text: string): string {
  if (!text.includes("=?")) return text;
  let out = "";
  let last = 0;
  let charset = "";
  let pending: Uint8Array[] = [];
  // A loop over exec() rather than matchAll(): this runs for every header and ENVELOPE
  // string, and the iterator costs more than the decoding of a short subject.
  ENCODED_WORD.lastIndex = 0;
  for (let match = ENCODED_WORD.exec(text); match !== null; match = ENCODED_WORD.exec(text)) {
    const index = match.index;
    const label = charsetLabel(match[1]);
    if (!(pending.length > 0 && LINEAR_WHITESPACE.test(text.slice(last, index)))) {
      if (pending.length > 0) out += decodePending(pending, charset);
      pending = [];
      out += text.slice(last, index);
    }
    const bytes = match[2] === "B" || match[2] === "b" ? bBytes(match[3]) : qBytes(match[3]);
    if (pending.length > 0 && (label !== charset || !continues(label, pending, bytes))) {
      out += decodePending(pending, charset);
      pending = [];
    }
    charset = label;
    pending.push(bytes);
    last = index + match[0].length;
  }
  if (pending.length > 0) out += decodePending(pending, charset);
  return out + text.slice(last);
}
