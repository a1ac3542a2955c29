/**
 * RFC 2047 encoded-words (`=?utf-8?B?…?=` / `=?utf-8?Q?…?=`).
 *
 * Encoding never splits a UTF-8 character across words (§5 rule 3: "each encoded-word MUST
 * represent an integral number of characters") and keeps every word within 75 characters
 * (§2). The Q alphabet used is the strict one allowed inside phrases (§5 rule 3), so the
 * same words are valid in Subject and in display names.
 */
import { Buffer } from "node:buffer";

const utf8 = new TextEncoder();
/** `=?utf-8?X?` + `?=`. */
const OVERHEAD = 12;
export const MAX_ENCODED_WORD = 75;
/** Room for one 4-byte character in base64 (8 chars) plus the overhead. */
export const MIN_ENCODED_WORD = OVERHEAD + 8;

const HEX = "0123456789ABCDEF";

/** Characters Q may leave as they are in every context (RFC 2047 §5 (3)). */
function qSafe(byte: number): boolean {
  return (
    (byte >= 0x30 && byte <= 0x39) ||
    (byte >= 0x41 && byte <= 0x5a) ||
    (byte >= 0x61 && byte <= 0x7a) ||
    byte === 0x21 ||
    byte === 0x2a ||
    byte === 0x2b ||
    byte === 0x2d ||
    byte === 0x2f
  );
}

function qLength(bytes: Uint8Array): number {
  let n = 0;
  for (const b of bytes) n += qSafe(b) || b === 0x20 ? 1 : 3;
  return n;
}

function qEncode(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) {
    if (b === 0x20) out += "_";
    else if (qSafe(b)) out += String.fromCharCode(b);
    else out += `=${HEX[b >> 4]}${HEX[b & 15]}`;
  }
  return out;
}

const bLength = (bytes: number): number => Math.ceil(bytes / 3) * 4;

/** Picks Q when it is no longer than B for the whole text (mostly-ASCII text reads better as Q). */
export function chooseEncoding(text: string): "B" | "Q" {
  const bytes = utf8.encode(text);
  return qLength(bytes) <= bLength(bytes.length) ? "Q" : "B";
}

/**
 * Cuts `text` into encoded-words one at a time, so a caller can size each word to the room
 * left on its header line: `next(limit)` returns the longest word of at most `limit`
 * characters (never less than one whole character).
 */
export class EncodedWordCutter {
  readonly #points: string[];
  readonly #encoding: "B" | "Q";
  #index = 0;

  constructor(text: string, encoding: "B" | "Q" = chooseEncoding(text)) {
    this.#points = Array.from(text);
    this.#encoding = encoding;
  }

  get done(): boolean {
    return this.#index >= this.#points.length;
  }

  next(limit: number = MAX_ENCODED_WORD): string {
    const room = Math.max(MIN_ENCODED_WORD, Math.min(MAX_ENCODED_WORD, limit)) - OVERHEAD;
    const points = this.#points;
    let chunk = "";
    let byteCount = 0;
    let qCount = 0;
    while (this.#index < points.length) {
      const bytes = utf8.encode(points[this.#index]);
      const nextBytes = byteCount + bytes.length;
      const nextQ = qCount + qLength(bytes);
      const size = this.#encoding === "B" ? bLength(nextBytes) : nextQ;
      if (size > room && chunk !== "") break;
      chunk += points[this.#index];
      byteCount = nextBytes;
      qCount = nextQ;
      this.#index++;
    }
    const bytes = utf8.encode(chunk);
    const payload = this.#encoding === "B" ? Buffer.from(bytes).toString("base64") : qEncode(bytes);
    return `=?utf-8?${this.#encoding}?${payload}?=`;
  }
}

/** All encoded-words of `text`, each at most `limit` characters. */
export function encodeWords(text: string, limit: number = MAX_ENCODED_WORD): string[] {
  const cutter = new EncodedWordCutter(text);
  const words: string[] = [];
  while (!cutter.done) words.push(cutter.next(limit));
  return words;
}

export { decodeEncodedWords } from "./encoded-word-decode.js";
