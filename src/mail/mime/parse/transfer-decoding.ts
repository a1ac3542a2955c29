/**
 * Content-Transfer-Encoding (RFC 2045 §6) undone, and text bodies turned into strings by their
 * charset. Both decoders are lenient by design (§6.7 and §6.8 ask readers to be robust):
 * base64 ignores line breaks and garbage, quoted-printable keeps a stray `=` literally.
 */
import { Buffer } from "node:buffer";
import { decodeCharset } from "../charset.js";
import { decodeQuotedPrintable } from "../quoted-printable.js";
import { decodeUuencodeBody, UUENCODE_ENCODINGS } from "./uuencode.js";

const EQUALS = 0x3d;
/** RFC 4648 §4 alphabet. */
export function isBase64Char(b: number): boolean {
  return (
    (b >= 0x41 && b <= 0x5a) ||
    (b >= 0x61 && b <= 0x7a) ||
    (b >= 0x30 && b <= 0x39) ||
    b === 0x2b ||
    b === 0x2f
  );
}

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x09 || b === 0x0d || b === 0x0a;
}

/** True when only padding and whitespace follow `from`. */
function paddingOnly(buf: Buffer, from: number): boolean {
  for (let i = from; i < buf.length; i++) if (buf[i] !== EQUALS && !isSpace(buf[i])) return false;
  return true;
}

/**
 * Base64 body decoding (RFC 2045 §6.8): characters outside the alphabet are ignored, as §6.8
 * asks. The common case (alphabet, line breaks, final padding) goes straight to Node's decoder;
 * anything else is first compacted, and padding in the middle (bodies glued together from
 * separately encoded pieces) ends a piece instead of ending the data.
 */
export function decodeBase64Body(body: Uint8Array): Uint8Array {
  const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  // Node's decoder skips characters outside the alphabet, except the base64url ones (`-`, `_`,
  // which §6.8 says to ignore), and stops at the first `=`: padding anywhere but at the end
  // needs the slow path. Checked with memchr, not a loop over the body.
  const pad = buf.indexOf(EQUALS);
  if ((pad < 0 || paddingOnly(buf, pad)) && buf.indexOf(0x2d) < 0 && buf.indexOf(0x5f) < 0) {
    return Buffer.from(buf.toString("latin1"), "base64");
  }
  const pieces: Buffer[] = [];
  const compact = Buffer.allocUnsafe(buf.length);
  let n = 0;
  for (let i = 0; i <= buf.length; i++) {
    const b = i < buf.length ? buf[i] : EQUALS;
    if (isBase64Char(b)) compact[n++] = b;
    else if (b === EQUALS && n > 0) {
      pieces.push(Buffer.from(compact.toString("latin1", 0, n), "base64"));
      n = 0;
    }
  }
  return pieces.length === 1 ? pieces[0] : Buffer.concat(pieces);
}

/**
 * The body bytes with the transfer encoding removed. Always a fresh copy, so a decoded
 * attachment never keeps the whole raw message alive. Unknown encodings come back as they are.
 */
export function decodeTransfer(body: Uint8Array, encoding: string): Uint8Array {
  switch (encoding) {
    case "base64": {
      // A plain Uint8Array view (not a Buffer), as the public type promises.
      const bytes = decodeBase64Body(body);
      return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    }
    case "quoted-printable":
      return decodeQuotedPrintable(body);
    default:
      if (UUENCODE_ENCODINGS.has(encoding)) return decodeUuencodeBody(body).bytes;
      // 7bit, 8bit, binary (§6.2), and x-tokens we do not know: identity.
      return new Uint8Array(body);
  }
}

/**
 * Text of a text/* body in its declared charset. No charset or US-ASCII is read as UTF-8, its
 * superset (mislabelled 8-bit mail is far more often UTF-8 than Windows-1252); unknown charsets
 * fall back to UTF-8 with U+FFFD for bad sequences. Line breaks become `\n`, JavaScript's
 * convention (rendering turns them back into CRLF, RFC 2046 §4.1.1).
 */
export function decodeText(bytes: Uint8Array, charset: string | undefined): string {
  const label = (charset ?? "").trim().toLowerCase();
  const useUtf8 = label === "" || label === "us-ascii" || label === "ascii";
  return decodeCharset(bytes, useUtf8 ? "utf-8" : label).replace(/\r\n/g, "\n");
}
