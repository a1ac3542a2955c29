/** Decoding bytes in a declared charset with the WHATWG decoders Node ships (TextDecoder). */
import { TextDecoder } from "node:util";

const decoders = new Map<string, TextDecoder | null>();

function decoderFor(charset: string): TextDecoder | null {
  const label = charset.trim().toLowerCase();
  let decoder = decoders.get(label);
  if (decoder === undefined) {
    try {
      // ignoreBOM keeps a leading U+FEFF: it is part of the text (a header word may start with
      // one), and stripping it would make decoding lossy.
      decoder = new TextDecoder(label, { ignoreBOM: true });
    } catch {
      decoder = null;
    }
    if (decoders.size < 64) decoders.set(label, decoder);
  }
  return decoder;
}

/** True when `charset` is a label TextDecoder knows (utf-8, iso-8859-1, iso-2022-jp, shift_jis, …). */
export function knownCharset(charset: string): boolean {
  return decoderFor(charset) !== null;
}

/**
 * Decodes `bytes` in `charset`; an unknown charset falls back to UTF-8 (the common case for
 * mislabelled mail), and malformed sequences become U+FFFD rather than an error.
 */
export function decodeCharset(bytes: Uint8Array, charset = "utf-8"): string {
  return (decoderFor(charset) ?? (decoderFor("utf-8") as TextDecoder)).decode(bytes);
}

/** Header bytes: UTF-8 when valid (RFC 6532), otherwise Latin-1 so no byte is lost. */
export function decodeHeaderBytes(bytes: Uint8Array): string {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return new TextDecoder("latin1").decode(bytes);
  }
}
