/**
 * MIME header parameters (`Content-Type: text/plain; charset=utf-8`, `Content-Disposition:
 * attachment; filename=…`): RFC 2045 §5.1 tokens and quoted strings, RFC 2231 extended values
 * with continuations (`filename*0*=utf-8''%E5%A0%B1…`), and the RFC 2047 `name="=?…?="` form
 * that old clients read and many senders still write.
 */
import { Buffer } from "node:buffer";
import { decodeCharset } from "./charset.js";
import { decodeEncodedWords, encodeWords } from "./encoded-word.js";
import type { FoldedHeader } from "./fold.js";

/** RFC 2045 token characters (printable ASCII except SPACE and tspecials). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** RFC 2231 attribute-char: what may stay unescaped in an extended value. */
const ATTRIBUTE_CHAR = /[!#$&+\-.^_`|~0-9A-Za-z]/;
/** Longest single parameter segment, so that `; ` + segment stays within 78 columns. */
const SEGMENT = 72;

const utf8 = new TextEncoder();
const BACKSLASH = 0x5c;
const DQUOTE = 0x22;
const SEMICOLON = 0x3b;

/**
 * True for an RFC 2045 token of at most 127 characters, the longest type or subtype name
 * RFC 6838 §4.2 allows; the cap also keeps a caller's parameter name from making a line that
 * cannot be folded under 998 octets.
 */
export function isToken(text: string): boolean {
  return text.length <= 127 && TOKEN.test(text);
}

function quote(text: string): string {
  return `"${text.replace(/(["\\])/g, "\\$1")}"`;
}

function percentEncode(char: string): string {
  if (ATTRIBUTE_CHAR.test(char)) return char;
  let out = "";
  for (const b of utf8.encode(char)) out += `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
  return out;
}

/**
 * The `name=value` segments of one parameter: plain when the value is short printable ASCII
 * without `=?`, otherwise RFC 2231 `name*0*=utf-8''…; name*1*=…` cut between whole characters.
 */
export function paramSegments(name: string, value: string): string[] {
  const plain = TOKEN.test(value) ? value : quote(value);
  // A quoted value holding `=?` would be read back as RFC 2047 words by lenient parsers
  // (ours, Python's, most clients): such values take the RFC 2231 form, which is unambiguous.
  if (
    /^[ -~]*$/.test(value) &&
    !value.includes("=?") &&
    name.length + plain.length + 1 <= SEGMENT
  ) {
    return [`${name}=${plain}`];
  }
  const encoded = Array.from(value, percentEncode);
  const single = `${name}*=utf-8''${encoded.join("")}`;
  if (single.length <= SEGMENT) return [single];
  const segments: string[] = [];
  let current = "";
  for (const piece of encoded) {
    const prefix = `${name}*${segments.length}*=${segments.length === 0 ? "utf-8''" : ""}`;
    if (current !== "" && prefix.length + current.length + piece.length > SEGMENT) {
      segments.push(prefix + current);
      current = "";
    }
    current += piece;
  }
  segments.push(`${name}*${segments.length}*=${segments.length === 0 ? "utf-8''" : ""}${current}`);
  return segments;
}

/**
 * The `name="=?utf-8?B?…?="` fallback for old clients (RFC 2047 words inside a quoted string;
 * not standard, but what Outlook and others read). Returned as pieces to fold between.
 */
export function legacyEncodedParam(name: string, value: string): string[] {
  const plain = `${name}=${quote(value)}`;
  // A long ASCII value is encoded too: encoded-words can be folded between, a quoted string
  // cannot (it would make a line over 78, or even over 998, octets).
  if (/^[ -~]*$/.test(value) && !value.includes("=?") && plain.length <= SEGMENT) return [plain];
  const words = encodeWords(value, 60);
  words[0] = `${name}="${words[0]}`;
  words[words.length - 1] += '"';
  return words;
}

/**
 * Writes `value; p1=…; p2=…`. Each parameter is a list of pieces joined by single spaces
 * (only the RFC 2047 fallback has more than one); folds happen only at those spaces.
 */
export function addParameterized(
  header: FoldedHeader,
  value: string,
  params: readonly (readonly string[])[],
): void {
  header.add(" ", value);
  for (const pieces of params) {
    header.add("", ";");
    for (const piece of pieces) header.add(" ", piece);
  }
}

export interface ParsedParameterized {
  /** The value before the first `;`, lower-cased and trimmed (e.g. `text/plain`). */
  value: string;
  /** Decoded parameters by lower-case name. */
  params: Record<string, string>;
}

/** Splits at `;` outside quoted strings (a backslash in quotes escapes the next character). */
function splitParams(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (quoted && c === BACKSLASH && i + 1 < text.length) i++;
    else if (c === DQUOTE) quoted = !quoted;
    else if (c === SEMICOLON && !quoted) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out;
}

/** A parameter value without its quotes and backslash escapes (or trimmed, if unquoted). */
function unquote(text: string): string {
  const t = text.trim();
  if (!t.startsWith('"')) return t;
  const inner = t.endsWith('"') && t.length > 1 ? t.slice(1, -1) : t.slice(1);
  return inner.includes("\\") ? inner.replace(/\\(.)/gs, "$1") : inner;
}

function percentDecode(text: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    if (text[i] === "%" && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 1, i + 3))) {
      out.push(Number.parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      for (const b of utf8.encode(text[i])) out.push(b);
    }
  }
  return Uint8Array.from(out);
}

/** Parses `type/subtype; a=b; c*0*=utf-8''…` (RFC 2045 §5.1, RFC 2231 §3–4). Never throws. */
export function parseParameterized(text: string, maxParams = 100): ParsedParameterized {
  const parts = splitParams(text);
  const params: Record<string, string> = Object.create(null);
  // name → pieces by continuation number (RFC 2231 §3), with whether each is extended.
  const continued = new Map<string, { index: number; value: string; extended: boolean }[]>();
  const count = Math.min(parts.length, maxParams + 1);
  for (let p = 1; p < count; p++) {
    const raw = parts[p];
    const eq = raw.indexOf("=");
    if (eq < 0) continue;
    const key = raw.slice(0, eq).trim().toLowerCase();
    const value = unquote(raw.slice(eq + 1));
    if (key !== "" && !key.includes("*")) {
      // A plain `name=value` (what the regex below reads as name alone): the common case.
      // RFC 2047 words are not allowed in parameters (§5), but clients write them, quoted or
      // not, and every reader decodes them. Never in a boundary, which is compared as bytes.
      if (!(key in params)) params[key] = key === "boundary" ? value : decodeEncodedWords(value);
      continue;
    }
    const match = /^([^*]+)(?:\*(\d+))?(\*)?$/.exec(key);
    if (!match) continue;
    const [, name, index, star] = match;
    if (index === undefined && star === undefined) {
      if (!(name in params)) params[name] = name === "boundary" ? value : decodeEncodedWords(value);
      continue;
    }
    const pieces = continued.get(name) ?? [];
    if (pieces.length < 1000) {
      pieces.push({ index: index === undefined ? 0 : Number(index), value, extended: !!star });
    }
    continued.set(name, pieces);
  }
  for (const [name, pieces] of continued) {
    pieces.sort((a, b) => a.index - b.index);
    let charset = "us-ascii";
    const bytes: Uint8Array[] = [];
    pieces.forEach((piece, i) => {
      let value = piece.value;
      if (piece.extended && i === 0) {
        const parts = value.split("'");
        if (parts.length >= 3) {
          charset = parts[0] || "utf-8";
          value = parts.slice(2).join("'");
        }
      }
      bytes.push(piece.extended ? percentDecode(value) : utf8.encode(value));
    });
    const label = charset.toLowerCase() === "us-ascii" ? "utf-8" : charset;
    // An extended value wins over a plain one of the same name (RFC 2231 §4, and practice).
    const joined = decodeCharset(Buffer.concat(bytes), label);
    // Plain continuations holding RFC 2047 words (`name*0="=?ISO-2022-JP?B?…?="`, as some
    // Japanese clients write): the words are decoded once the value is whole.
    const plain = pieces.every((piece) => !piece.extended);
    params[name] = plain && name !== "boundary" ? decodeEncodedWords(joined) : joined;
  }
  return { value: parts[0].trim().toLowerCase(), params };
}

export { quote as quoteParam };
