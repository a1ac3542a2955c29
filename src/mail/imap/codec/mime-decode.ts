/**
 * The two MIME decoders the codec borrows from src/mail/mime, each behind one function so the
 * codec follows whatever the MIME module does (RFC 2047 words, RFC 2231 parameters).
 */
import { parseParameterized } from "../../mime/params.js";
import { decodeHeaderText } from "../../mime/parse/header-text.js";

/**
 * Recently decoded display names and subjects. A mailbox repeats the same senders (and reply
 * subjects) over and over, and a FETCH of many envelopes would decode each again; bounded,
 * and emptied whole when full, so it costs at most a few hundred short strings.
 */
const recent = new Map<string, string>();
const RECENT_MAX = 512;
/** Longer texts are rare and seldom repeat: they are not kept. */
const RECENT_TEXT_MAX = 256;

/** RFC 2047 encoded-words in an envelope subject or display name. */
export function decodeWords(text: string): string {
  if (!text.includes("=?")) return text;
  if (text.length > RECENT_TEXT_MAX) return decodeHeaderText(text);
  let decoded = recent.get(text);
  if (decoded === undefined) {
    decoded = decodeHeaderText(text);
    if (recent.size >= RECENT_MAX) recent.clear();
    recent.set(text, decoded);
  }
  return decoded;
}

function needsDecoding(params: Record<string, string>): boolean {
  for (const key in params) {
    if (key.includes("*") || params[key].includes("=?")) return true;
  }
  return false;
}

/** Characters a parameter name may not carry through the header-syntax round trip. */
const UNSAFE_NAME = /[\s;="\\]/g;

/**
 * BODYSTRUCTURE parameters arrive as name/value pairs with RFC 2231 continuations
 * (`name*0*`, `name*1*`) and charsets (`utf-8''%E2%82%AC`) still encoded, and some senders'
 * RFC 2047 words in values. The MIME module's parameter parser decodes exactly these; the
 * pairs are handed to it in header syntax. Plain parameters take the fast path.
 */
export function decodeParameters(params: Record<string, string>): Record<string, string> {
  if (!needsDecoding(params)) return params;
  let header = "x";
  for (const key in params) {
    const value = params[key].replace(/[\\"]/g, "\\$&").replace(/[\r\n]/g, " ");
    header += `; ${key.replace(UNSAFE_NAME, "")}="${value}"`;
  }
  return { ...parseParameterized(header, 1000).params };
}
