/**
 * Base64 with 76-character lines (RFC 2045 §6.8) as a streaming transform: each chunk is
 * encoded as soon as it arrives, and only the 0–56 bytes short of a whole 57-byte line are
 * carried to the next chunk, so memory stays flat however large the attachment is.
 */

/** 57 input bytes make one 76-character line. */
const LINE_BYTES = 57;
const LINE_CHARS = 76;

/** Encodes whole lines of `bytes` (length a multiple of 57, or the final tail) with CRLF after each. */
function encodeLines(bytes: Uint8Array): Uint8Array {
  if (bytes.length === 0) return new Uint8Array(0);
  const b64 = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
  const lines = Math.ceil(b64.length / LINE_CHARS);
  const out = Buffer.allocUnsafe(b64.length + lines * 2);
  const raw = Buffer.from(b64, "latin1");
  let o = 0;
  for (let i = 0; i < b64.length; i += LINE_CHARS) {
    const end = Math.min(i + LINE_CHARS, b64.length);
    raw.copy(out, o, i, end);
    o += end - i;
    out[o++] = 0x0d;
    out[o++] = 0x0a;
  }
  return out;
}

/** Streams `source` as base64 lines, each ending in CRLF. */
export async function* base64Lines(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  let carry: Uint8Array = new Uint8Array(0);
  for await (const chunk of source) {
    if (chunk.length === 0) continue;
    let data: Uint8Array;
    if (carry.length === 0) data = chunk;
    else {
      data = new Uint8Array(carry.length + chunk.length);
      data.set(carry, 0);
      data.set(chunk, carry.length);
    }
    const whole = data.length - (data.length % LINE_BYTES);
    if (whole > 0) yield encodeLines(data.subarray(0, whole));
    // Copy the tail: the caller may reuse the chunk's buffer after we yield.
    carry = data.slice(whole);
  }
  if (carry.length > 0) yield encodeLines(carry);
}

/** The whole of `bytes` as base64 lines (for in-memory text parts). */
export function base64Encode(bytes: Uint8Array): Uint8Array {
  return encodeLines(bytes);
}

/** Decodes base64 leniently: line breaks and other non-alphabet characters are ignored. */
export function base64Decode(bytes: Uint8Array): Uint8Array {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    .toString("latin1")
    .replace(/[^A-Za-z0-9+/]/g, "");
  return new Uint8Array(Buffer.from(text, "base64"));
}
