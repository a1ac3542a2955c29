/**
 * Content-Transfer-Encoding removal for data that arrives in chunks (an IMAP part streamed to
 * the caller): each chunk is decoded as far as it can be, and only the few bytes that cannot
 * be decoded yet (an incomplete base64 quantum, an unfinished quoted-printable line) are
 * carried to the next chunk. The whole-body decoders do the actual decoding.
 */
import { Buffer } from "node:buffer";
import { decodeBase64Body, isBase64Char } from "./parse/transfer-decoding.js";
import { decodeQuotedPrintable } from "./quoted-printable.js";

export interface ChunkDecoder {
  /** Decoded bytes of `chunk` (plus what was carried), possibly empty. */
  write(chunk: Uint8Array): Uint8Array;
  /** What is left once the input has ended. */
  end(): Uint8Array;
}

const EMPTY = new Uint8Array(0);

/** A decoder for `encoding` (base64, quoted-printable; anything else passes through). */
export function transferDecoder(encoding: string | undefined): ChunkDecoder {
  switch ((encoding ?? "").toLowerCase()) {
    case "base64":
      return new Base64Decoder();
    case "quoted-printable":
      return new QuotedPrintableDecoder();
    default:
      return { write: (chunk) => chunk, end: () => EMPTY };
  }
}

/** What was carried, then the new chunk (the chunk itself, uncopied, when nothing was). */
function joined(carry: Buffer, chunk: Uint8Array): Buffer {
  return carry.length === 0
    ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    : Buffer.concat([carry, chunk]);
}

/** Decodes whole 4-character quanta (RFC 2045 §6.8) and carries the rest. */
class Base64Decoder implements ChunkDecoder {
  #carry: Buffer = Buffer.alloc(0);

  write(chunk: Uint8Array): Uint8Array {
    const view = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    return this.#wholeLines(view) ?? this.#general(view);
  }

  end(): Uint8Array {
    const rest = this.#carry;
    this.#carry = Buffer.alloc(0);
    return rest.length === 0 ? EMPTY : decodeBase64Body(rest);
  }

  /**
   * The common case: the carried bytes and the chunk up to its last line end are lines of
   * whole quanta without padding (MIME writes 76 characters a line). They are decoded in two
   * pieces (the carry with the chunk's first line, then the rest) into one output buffer,
   * so the chunk is never joined to the carry by a copy. Undefined when it is not so.
   */
  #wholeLines(view: Buffer): Uint8Array | undefined {
    const carry = this.#carry;
    const last = view.lastIndexOf(0x0a);
    if (last < 0) return undefined;
    const first = view.indexOf(0x0a);
    // The first line is the carry and the chunk up to `first`, less a CR before the LF.
    const beforeLF = first > 0 ? view[first - 1] : carry[carry.length - 1];
    const firstLength = carry.length + first - (beforeLF === 0x0d ? 1 : 0);
    if (
      firstLength % 4 !== 0 ||
      // A carry from the general path may hold line ends: then it is not one line's start.
      carry.indexOf(0x0a) >= 0 ||
      carry.indexOf(0x3d) >= 0 ||
      view.indexOf(0x3d) >= 0 ||
      (last > first && wholeLines(view.subarray(first + 1, last + 1)) === undefined)
    ) {
      return undefined;
    }
    // Node's decoder skips line ends and other characters outside the alphabet itself.
    const out = Buffer.allocUnsafe(((carry.length + last + 1) >> 2) * 3);
    const head = carry.toString("latin1") + view.toString("latin1", 0, first + 1);
    let n = out.write(head, 0, "base64");
    // A space or other stray character inside a line (RFC 2045 §6.8: ignored) means its
    // length no longer counts whole quanta; fewer bytes than the length promises tell.
    if (n !== (firstLength >> 2) * 3) return undefined;
    if (last > first) n += out.write(view.toString("latin1", first + 1, last + 1), n, "base64");
    if (n !== (lineContentLength(view, first + 1, last + 1) >> 2) * 3 + (firstLength >> 2) * 3) {
      return undefined;
    }
    this.#carry = Buffer.from(view.subarray(last + 1));
    return out.subarray(0, n);
  }

  /** Anything else (padding, lines that are not whole quanta): joined, then decoded. */
  #general(view: Buffer): Uint8Array {
    const data = joined(this.#carry, view);
    const lines = wholeLines(data);
    const cut = lines ?? quantumCut(data);
    this.#carry = Buffer.from(data.subarray(cut));
    if (cut === 0) return EMPTY;
    const padding = data.indexOf(0x3d);
    if (lines !== undefined && (padding < 0 || padding >= cut)) {
      const decoded = Buffer.from(data.toString("latin1", 0, cut), "base64");
      // Fewer bytes than the lines promise: a stray character inside a line (see above).
      if (decoded.length === (lineContentLength(data, 0, cut) >> 2) * 3) return decoded;
      const quanta = quantumCut(data);
      this.#carry = Buffer.from(data.subarray(quanta));
      return decodeBase64Body(data.subarray(0, quanta));
    }
    return decodeBase64Body(data.subarray(0, cut));
  }
}

/**
 * The common case, found with native line searches: up to the last line end, every line is
 * a whole number of quanta (MIME writes 76 characters a line). Undefined when it is not so.
 */
function wholeLines(data: Buffer): number | undefined {
  const cut = data.lastIndexOf(0x0a) + 1;
  if (cut === 0) return undefined;
  let start = 0;
  while (start < cut) {
    const lf = data.indexOf(0x0a, start);
    const end = lf > start && data[lf - 1] === 0x0d ? lf - 1 : lf;
    if ((end - start) % 4 !== 0) return undefined;
    start = lf + 1;
  }
  return cut;
}

/** The bytes of `data[start, end)` less its line ends (LF, or CR LF). */
function lineContentLength(data: Buffer, start: number, end: number): number {
  let length = end - start;
  for (let lf = data.indexOf(0x0a, start); lf >= 0 && lf < end; lf = data.indexOf(0x0a, lf + 1)) {
    length -= lf > start && data[lf - 1] === 0x0d ? 2 : 1;
  }
  return length;
}

/** Anything else: count the alphabet characters and cut after the last whole quantum. */
function quantumCut(data: Buffer): number {
  let count = 0;
  for (let i = 0; i < data.length; i++) if (isBase64Char(data[i])) count++;
  let keep = count % 4;
  let cut = data.length;
  while (keep > 0) {
    cut--;
    if (isBase64Char(data[cut])) keep--;
  }
  return cut;
}

/** The longest unfinished line carried before it is decoded anyway (a soft break cannot span it). */
const MAX_QP_CARRY = 64 * 1024;

/** Decodes complete lines (RFC 2045 §6.7) and carries the unfinished last one. */
class QuotedPrintableDecoder implements ChunkDecoder {
  #carry: Buffer = Buffer.alloc(0);

  write(chunk: Uint8Array): Uint8Array {
    const data = joined(this.#carry, chunk);
    let cut = data.lastIndexOf(0x0a) + 1;
    if (cut === 0 && data.length > MAX_QP_CARRY) {
      // No line end for a long stretch: decode all but a possible "=XX" escape at the end.
      cut = data.length - 2;
      while (cut < data.length && data[cut] !== 0x3d) cut++;
    }
    this.#carry = Buffer.from(data.subarray(cut));
    return cut === 0 ? EMPTY : decodeQuotedPrintable(data.subarray(0, cut));
  }

  end(): Uint8Array {
    const rest = this.#carry;
    this.#carry = Buffer.alloc(0);
    return rest.length === 0 ? EMPTY : decodeQuotedPrintable(rest);
  }
}
