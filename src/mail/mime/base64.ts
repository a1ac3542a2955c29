/**
 * Base64 with 76-character lines (RFC 2045 §6.8), written straight into an output buffer.
 *
 * The alphabet work is done by Node's native encoder over a whole block at once; the result is
 * written at the end of its slot and then each 76-character line is moved down to its final
 * place with `copyWithin` and given its CRLF. That makes one native call per block instead of
 * one per line, copies no line out of a separate buffer, and allocates nothing but the output.
 */
import { Buffer } from "node:buffer";

/** 57 input bytes make one 76-character line. */
export const LINE_BYTES = 57;
const LINE_CHARS = 76;
const CR = 0x0d;
const LF = 0x0a;

/** Size of `n` bytes as base64 lines, CRLF after each line (the last one too). */
export function base64LinesSize(n: number): number {
  const chars = Math.ceil(n / 3) * 4;
  return chars + Math.ceil(chars / LINE_CHARS) * 2;
}

/**
 * Input bytes encoded per native call: a whole number of lines, and small enough that the
 * intermediate string (78 KB) stays in V8's young generation. Strings over 128 KiB go to the
 * large-object space, which only a full GC frees: streaming 100 MB in 256 KiB pieces added
 * ~10 MB of resident memory that way.
 */
const PIECE_BYTES = LINE_BYTES * 1024;

/** Writes `src` as base64 lines into `out` at `offset`; returns the offset after them. */
export function writeBase64Lines(src: Uint8Array, out: Buffer, offset: number): number {
  const source = Buffer.from(src.buffer, src.byteOffset, src.byteLength);
  let o = offset;
  for (let start = 0; start < source.length; start += PIECE_BYTES) {
    o = writePiece(source, start, Math.min(start + PIECE_BYTES, source.length), out, o);
  }
  return o;
}

function writePiece(source: Buffer, start: number, end: number, out: Buffer, offset: number) {
  const text = source.toString("base64", start, end);
  const lines = Math.ceil(text.length / LINE_CHARS);
  // Encoded text goes where the lines end up shifted by the CRLFs still to come, so every
  // line moves down (never onto text not yet moved).
  const textStart = offset + lines * 2;
  out.write(text, textStart, "latin1");
  const textEnd = textStart + text.length;
  let o = offset;
  for (let from = textStart; from < textEnd; from += LINE_CHARS) {
    const to = Math.min(from + LINE_CHARS, textEnd);
    out.copyWithin(o, from, to);
    o += to - from;
    out[o++] = CR;
    out[o++] = LF;
  }
  return o;
}

/** The whole of `bytes` as base64 lines (for in-memory text parts). */
export function base64Encode(bytes: Uint8Array): Uint8Array {
  const out = Buffer.allocUnsafe(base64LinesSize(bytes.length));
  writeBase64Lines(bytes, out, 0);
  return out;
}

/**
 * Streams `source` as base64 lines, each ending in CRLF. Every input chunk is encoded as soon
 * as it arrives into one output chunk of whole lines; only the 0–56 bytes short of a whole line
 * are carried (copied, since the producer may reuse its buffer) to the next chunk, so memory
 * stays flat however large the attachment is.
 */
export async function* base64Lines(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): AsyncGenerator<Uint8Array> {
  const carry = Buffer.allocUnsafe(LINE_BYTES);
  let carried = 0;
  for await (const chunk of source) {
    let start = 0;
    if (carried > 0) {
      start = Math.min(LINE_BYTES - carried, chunk.length);
      carry.set(chunk.subarray(0, start), carried);
      carried += start;
    }
    const whole = chunk.length - start - ((chunk.length - start) % LINE_BYTES);
    const carryLine = carried === LINE_BYTES;
    if (!carryLine && whole === 0) {
      carry.set(chunk.subarray(start), carried);
      carried += chunk.length - start;
      continue;
    }
    const out = Buffer.allocUnsafe((carryLine ? LINE_CHARS + 2 : 0) + (whole / LINE_BYTES) * 78);
    let o = 0;
    if (carryLine) {
      o = writeBase64Lines(carry, out, 0);
      carried = 0;
    }
    writeBase64Lines(chunk.subarray(start, start + whole), out, o);
    const tail = chunk.subarray(start + whole);
    carry.set(tail, 0);
    carried = tail.length;
    yield out;
  }
  if (carried > 0) {
    const out = Buffer.allocUnsafe(base64LinesSize(carried));
    writeBase64Lines(carry.subarray(0, carried), out, 0);
    yield out;
  }
}

/** Decodes base64 leniently: line breaks and other non-alphabet characters are ignored. */
export function base64Decode(bytes: Uint8Array): Uint8Array {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    .toString("latin1")
    .replace(/[^A-Za-z0-9+/]/g, "");
  return new Uint8Array(Buffer.from(text, "base64"));
}
