/**
 * Decoding header text for people: RFC 2047 encoded-words in unstructured fields (Subject,
 * custom fields), with whitespace between adjacent encoded-words dropped (§6.2) and adjacent
 * words of one charset joined as bytes first, so a character a sender split across two words
 * still decodes whole. A word in a charset TextDecoder does not know stays as written (never an
 * error, never guessed), and so does a malformed one.
 */
import { Buffer } from "node:buffer";
import { decodeCharset, knownCharset } from "../charset.js";

/** `=?charset?B|Q?text?=` (RFC 2047 §2); no nested quantifiers, so no backtracking blow-up. */
const ENCODED_WORD = /=\?([^?\s]{1,64})\?([bBqQ])\?([^?\s]*)\?=/g;

function hex(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** RFC 2047 §4.2: `_` is a space, `=XX` a byte; anything else is taken literally. */
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

/** RFC 2047 §4.1 (base64), lenient about padding and stray characters. */
function bBytes(text: string): Uint8Array {
  return Buffer.from(text.replace(/[^A-Za-z0-9+/]/g, ""), "base64");
}

/** Decodes every encoded-word in `text` (an unfolded header value). Never throws. */
export function decodeHeaderText(text: string): string {
  if (!text.includes("=?")) return text;
  const out: string[] = [];
  let last = 0;
  let charset = "";
  let pending: Uint8Array[] = [];
  const flush = (): void => {
    if (pending.length > 0) out.push(decodeCharset(Buffer.concat(pending), charset));
    pending = [];
  };
  for (const match of text.matchAll(ENCODED_WORD)) {
    const index = match.index;
    // RFC 2231 §5 allows a language after `*` in the charset: `utf-8*ja`.
    const label = match[1].split("*")[0].toLowerCase();
    if (!knownCharset(label)) continue; // left as written
    const between = text.slice(last, index);
    if (!(pending.length > 0 && /^[ \t]*$/.test(between))) {
      flush();
      out.push(between);
    } else if (label !== charset) flush();
    charset = label;
    pending.push(match[2] === "B" || match[2] === "b" ? bBytes(match[3]) : qBytes(match[3]));
    last = index + match[0].length;
  }
  flush();
  out.push(text.slice(last));
  return out.join("");
}

/**
 * Makes a decoded value safe to keep in `MailMessage.headers` (and so to render again): the
 * characters that the header checks refuse as injection (CR, LF, NUL) become spaces.
 */
export function cleanHeaderText(text: string): string {
  return text.replace(/[\r\n\0]/g, " ");
}
