/**
 * The message body on its way to the wire, as a streaming transform (constant memory):
 *
 * - Every line end becomes CRLF. A lone CR or a lone LF is turned into CRLF rather than passed
 *   on, because servers disagree about what ends a line, and "<LF>.<LF>" or "<CR>.<CR>" that
 *   one server treats as end-of-data and another does not is how SMTP smuggling works
 *   (CVE-2023-51764/5/6). RFC 5321 §2.3.8: CR and LF only ever appear together as CRLF.
 * - For DATA, a "." at the start of a line is doubled (RFC 5321 §4.5.2), so "\r\n.\r\n" inside
 *   the content can never end the message early; the terminator is appended at the end.
 * - For BDAT (RFC 3030) no dot-stuffing is needed: lengths, not a terminator, delimit chunks.
 */

import { Buffer } from "node:buffer";
import { isCanonical } from "../mime/canonical-chunks.js";

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;
const CRLF = Buffer.from("\r\n");
const LF_DOT = Buffer.from("\n.");

export class BodyEncoder {
  readonly #dotStuff: boolean;
  /** True at the start of a line (the very first byte of the body counts). */
  #lineStart = true;
  /** The previous chunk ended in CR; its LF (if any) may start the next chunk. */
  #pendingCR = false;
  #bytesIn = 0;
  #bytesOut = 0;

  constructor(options: { dotStuff: boolean }) {
    this.#dotStuff = options.dotStuff;
  }

  /** Bytes written to the wire so far (what SIZE counts). */
  get bytesOut(): number {
    return this.#bytesOut;
  }

  get bytesIn(): number {
    return this.#bytesIn;
  }

  /** Encodes one chunk. The result may be the input itself when nothing had to change. */
  push(chunk: Uint8Array): Uint8Array {
    this.#bytesIn += chunk.length;
    const out = this.#encode(chunk);
    this.#bytesOut += out.length;
    return out;
  }

  /**
   * Finishes the body: completes a dangling CR, makes sure the body ends with CRLF, and (for
   * DATA) appends the ".\r\n" terminator.
   */
  end(): Uint8Array {
    let tail = "";
    if (this.#pendingCR) tail = "\n";
    else if (!this.#lineStart) tail = "\r\n";
    this.#pendingCR = false;
    this.#lineStart = true;
    if (this.#dotStuff) tail += ".\r\n";
    const out = Buffer.from(tail, "latin1");
    this.#bytesOut += out.length;
    return out;
  }

  #encode(chunk: Uint8Array): Uint8Array {
    const n = chunk.length;
    if (n === 0) return chunk;
    // Fast path: MIME output is normally CRLF-clean with no dot at a line start, and is passed
    // on without copying. Checked with native indexOf (memchr) rather than a byte loop.
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, n);
    if (!this.#pendingCR && isCanonical(chunk)) {
      // Rendered by MailMessage: CRLF-clean by construction (see canonical-chunks.ts), so
      // only dots at line starts are left to find, with one native search.
      if (this.#dotStuff && ((this.#lineStart && buf[0] === DOT) || buf.indexOf(LF_DOT) !== -1)) {
        return this.#slow(chunk);
      }
      this.#lineStart = buf[n - 1] === LF;
      return chunk;
    }
    let begin = 0;
    let lineStart = this.#lineStart;
    if (this.#pendingCR) {
      if (buf[0] !== LF) return this.#slow(chunk); // the previous chunk ended in a lone CR
      begin = 1;
      lineStart = true;
    }
    // Every CR must be followed by LF (a CR as the very last byte waits for the next chunk).
    for (let i = begin; ; ) {
      const cr = buf.indexOf(CR, i);
      if (cr === -1 || cr === n - 1) break;
      if (buf[cr + 1] !== LF) return this.#slow(chunk);
      i = cr + 2;
    }
    // Every LF must follow a CR, and (for DATA) no line may start with a dot.
    if (this.#dotStuff && lineStart && begin < n && buf[begin] === DOT) return this.#slow(chunk);
    for (let i = begin; ; ) {
      const lf = buf.indexOf(LF, i);
      if (lf === -1) break;
      if (lf === 0 || buf[lf - 1] !== CR) return this.#slow(chunk);
      if (this.#dotStuff && lf + 1 < n && buf[lf + 1] === DOT) return this.#slow(chunk);
      i = lf + 1;
    }
    const last = buf[n - 1];
    this.#pendingCR = last === CR;
    this.#lineStart = last === LF;
    return chunk;
  }

  #slow(chunk: Uint8Array): Uint8Array {
    // Worst case every byte is a lone LF (→ 2 bytes) or a leading dot (→ 2 bytes), plus a CRLF.
    const out = Buffer.allocUnsafe(chunk.length * 2 + 2);
    let o = 0;
    let lineStart = this.#lineStart;
    let pendingCR = this.#pendingCR;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i];
      if (pendingCR) {
        pendingCR = false;
        out[o++] = LF; // the CR was already written; complete it either way
        lineStart = true;
        if (b === LF) continue;
      }
      if (b === CR) {
        out[o++] = CR;
        pendingCR = true;
        continue;
      }
      if (b === LF) {
        out[o++] = CR;
        out[o++] = LF;
        lineStart = true;
        continue;
      }
      if (lineStart && b === DOT && this.#dotStuff) out[o++] = DOT;
      out[o++] = b;
      lineStart = false;
    }
    this.#lineStart = lineStart;
    this.#pendingCR = pendingCR;
    return out.subarray(0, o);
  }
}

/** Encodes a whole body at once (tests and small messages). */
export function encodeBody(body: Uint8Array, dotStuff: boolean): Uint8Array {
  const encoder = new BodyEncoder({ dotStuff });
  return Buffer.concat([encoder.push(body), encoder.end()]);
}

export { CRLF };
