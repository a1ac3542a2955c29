/**
 * Decoding header text for people: RFC 2047 encoded-words in unstructured fields (Subject,
 * custom fields), by the one decoder of encoded-word-decode.ts; and cleaning the result.
 */
import { decodeEncodedWords } from "../encoded-word-decode.js";

/** Decodes every encoded-word in `text` (an unfolded header value). Never throws. */
export function decodeHeaderText(text: string): string {
  return decodeEncodedWords(text);
}

/**
 * Makes a decoded value safe to keep in `MailMessage.headers` (and so to render again): the
 * characters that the header checks refuse as injection (CR, LF, NUL) become spaces.
 */
export function cleanHeaderText(text: string): string {
  return text.replace(/[\r\n\0]/g, " ");
}
