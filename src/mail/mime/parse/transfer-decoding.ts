/**
 * Content-Transfer-Encoding (RFC 2045 §6) undone, and text bodies turned into strings by their
 * charset. Both decoders are lenient by design (§6.7 and §6.8 ask readers to be robust):
 * base64 ignores line breaks and garbage, quoted-printable keeps a stray `=` literally.
 */
import { base64Decode } from "../base64.js";
import { decodeCharset } from "../charset.js";
import { decodeQuotedPrintable } from "../quoted-printable.js";

/** The body bytes with the transfer encoding removed; unknown encodings come back as they are. */
export function decodeTransfer(body: Uint8Array, encoding: string): Uint8Array {
  switch (encoding) {
    case "base64":
      return base64Decode(body);
    case "quoted-printable":
      return decodeQuotedPrintable(body);
    default:
      // 7bit, 8bit, binary (§6.2), and x-tokens we do not know: identity.
      return body;
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
