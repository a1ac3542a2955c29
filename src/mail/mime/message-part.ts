/**
 * Bodies of `message/rfc822` attachments. RFC 2046 §5.2.1: "No encoding other than "7bit",
 * "8bit", or "binary" is permitted for the body of a "message/rfc822" entity", so such a part
 * is written as it is, never base64: line ends made canonical (every lone CR or LF becomes CRLF,
 * RFC 2046 §4.1.1 / RFC 5322 §2.3), and refused with `MAIL_INVALID_CONTENT` when it cannot go
 * as 7bit/8bit at all: a NUL, a line over 998 octets (RFC 5322 §2.1.1), or 8-bit bytes on a
 * transport without 8BITMIME (RFC 6152).
 */
import { Buffer } from "node:buffer";
import { MIME_ERROR_CODES, mimeError } from "./errors.js";

const CR = 0x0d;
const LF = 0x0a;
const MAX_LINE_OCTETS = 998;

/** True for `message/rfc822` (any case, with or without parameters). */
export function isMessageType(contentType: string): boolean {
  const semicolon = contentType.indexOf(";");
  const type = semicolon === -1 ? contentType : contentType.slice(0, semicolon);
  return type.trim().toLowerCase() === "message/rfc822";
}

function refuse(why: string): never {
  throw mimeError(
    MIME_ERROR_CODES.invalidContent,
    `A message/rfc822 attachment must go as 7bit or 8bit (RFC 2046 §5.2.1) and ${why}`,
  );
}

/** Streaming canonicaliser and checker; `push` returns the canonical bytes of each chunk. */
export class MessageBodyEncoder {
  readonly #eightBit: boolean;
  #line = 0;
  #pendingCR = false;
  /** True when some byte was ≥ 0x80. */
  sawEightBit = false;
  /** True when the output so far ends with CRLF (or is empty). */
  atLineStart = true;

  constructor(eightBit: boolean) {
    this.#eightBit = eightBit;
  }

  push(chunk: Uint8Array): Uint8Array {
    const out = Buffer.allocUnsafe(chunk.length * 2 + 1);
    let o = 0;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i];
      if (this.#pendingCR) {
        this.#pendingCR = false;
        out[o++] = LF;
        this.#line = 0;
        if (b === LF) continue;
      }
      if (b === CR) {
        out[o++] = CR;
        this.#pendingCR = true;
        continue;
      }
      if (b === LF) {
        out[o++] = CR;
        out[o++] = LF;
        this.#line = 0;
        continue;
      }
      if (b === 0) refuse("contains a NUL byte");
      if (b >= 0x80) {
        if (!this.#eightBit) refuse("holds 8-bit data while the transport has no 8BITMIME");
        this.sawEightBit = true;
      }
      if (++this.#line > MAX_LINE_OCTETS) refuse("has a line longer than 998 octets");
      out[o++] = b;
    }
    if (o > 0) this.atLineStart = out[o - 1] === LF;
    return out.subarray(0, o);
  }

  /** Completes a trailing lone CR. */
  end(): Uint8Array {
    if (!this.#pendingCR) return new Uint8Array(0);
    this.#pendingCR = false;
    this.#line = 0;
    this.atLineStart = true;
    return Uint8Array.of(LF);
  }
}

/** A whole in-memory message body, checked and canonical, with the encoding it needs. */
export function encodeMessageBody(
  bytes: Uint8Array,
  eightBit: boolean,
): { body: Uint8Array; encoding: "7bit" | "8bit"; endsWithBreak: boolean } {
  const encoder = new MessageBodyEncoder(eightBit);
  const head = encoder.push(bytes);
  const tail = encoder.end();
  const body = tail.length === 0 ? head : Buffer.concat([head, tail]);
  const endsWithBreak = body.length === 0 || encoder.atLineStart;
  return { body, encoding: encoder.sawEightBit ? "8bit" : "7bit", endsWithBreak };
}

/**
 * A streamed message body, canonicalised on the way; when `last` (the part ends the whole
 * message) a final CRLF is added if missing, because a message ends with a line break.
 */
export async function* messageBodyStream(
  source: AsyncIterable<Uint8Array>,
  eightBit: boolean,
  last: boolean,
): AsyncGenerator<Uint8Array> {
  const encoder = new MessageBodyEncoder(eightBit);
  let empty = true;
  for await (const chunk of source) {
    const out = encoder.push(chunk);
    if (out.length > 0) {
      empty = false;
      yield out;
    }
  }
  const tail = encoder.end();
  if (tail.length > 0) yield tail;
  if (last && !empty && !encoder.atLineStart) yield Uint8Array.of(CR, LF);
}
