/**
 * Choosing the transfer encoding of a text part (RFC 2045 §6): 7bit for plain ASCII with
 * lines of at most 998 octets; 8bit when the transport has 8BITMIME (RFC 6152) and the same
 * line rule holds; otherwise whichever of quoted-printable and base64 is shorter — QP for
 * mostly-ASCII text, base64 for text such as Japanese where QP would triple the size.
 */
import { base64Encode } from "./base64.js";
import { encodeQuotedPrintableBytes } from "./quoted-printable.js";

const utf8 = new TextEncoder();
/** RFC 5322 §2.1.1: a line is at most 998 octets plus CRLF. */
const MAX_LINE_OCTETS = 998;

export type TransferEncoding = "7bit" | "8bit" | "quoted-printable" | "base64";

export interface EncodedText {
  encoding: TransferEncoding;
  /** The encoded body (in a multipart, the CRLF of the next delimiter follows it). */
  body: Uint8Array;
  /**
   * What to append when the body ends the whole message, which must end with CRLF: nothing,
   * a CRLF (7bit/8bit: the one change such a body can suffer), or a QP soft break (exact).
   */
  terminator: string;
  /** 7bit/8bit bodies are written as is, so a multipart boundary must not occur in them. */
  raw: boolean;
}

/** Canonical form of text (RFC 2046 §4.1.1): every line break is CRLF. */
export function canonicalText(text: string): string {
  return text.replace(/\r\n|\r|\n/g, "\r\n");
}

function scan(bytes: Uint8Array): { ascii: boolean; control: boolean; longLine: boolean } {
  let ascii = true;
  let control = false;
  let lineLength = 0;
  let longLine = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b === 0x0d && bytes[i + 1] === 0x0a) {
      i++;
      lineLength = 0;
      continue;
    }
    if (++lineLength > MAX_LINE_OCTETS) longLine = true;
    if (b >= 0x80) ascii = false;
    else if ((b < 0x20 && b !== 0x09) || b === 0x7f) control = true;
  }
  return { ascii, control, longLine };
}

export function encodeText(text: string, eightBit: boolean): EncodedText {
  const bytes = utf8.encode(canonicalText(text));
  const { ascii, control, longLine } = scan(bytes);
  const endsWithBreak =
    bytes.length >= 2 && bytes[bytes.length - 2] === 0x0d && bytes.at(-1) === 0x0a;
  if (!control && !longLine && (ascii || eightBit)) {
    const terminator = endsWithBreak ? "" : "\r\n";
    return { encoding: ascii ? "7bit" : "8bit", body: bytes, raw: true, terminator };
  }
  const qp = encodeQuotedPrintableBytes(bytes);
  const base64Size = Math.ceil(bytes.length / 3) * 4 * (78 / 76);
  if (qp.length <= base64Size) {
    const terminator = endsWithBreak ? "" : "=\r\n";
    return { encoding: "quoted-printable", body: qp, raw: false, terminator };
  }
  return { encoding: "base64", body: base64Encode(bytes), raw: false, terminator: "" };
}
