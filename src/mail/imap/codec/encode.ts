/**
 * Command arguments (RFC 9051 §4.3, §9; RFC 3501 §4.3): atom, quoted string or literal, the
 * choice made from the bytes so that the server reads back exactly what was meant, and nothing
 * from an argument can end the command line early: CR, LF and NUL are refused before anything
 * is written (no IMAP string form carries them safely in a command).
 */
import { Buffer } from "node:buffer";
import { IMAPError } from "../../../errors.js";
import { encodeModifiedUTF7 } from "./utf7.js";

/**
 * One piece of a command: text to write as is, or a literal. For a literal the session writes
 * its header ("{n}", "{n+}" when nonSync, "~{n}" when binary), CRLF, waits for the server's
 * "+" unless nonSync, then the bytes.
 */
export type CommandPart = string | { literal: Uint8Array; nonSync: boolean; binary?: boolean };

export interface EncodeOptions {
  /** LITERAL+ (RFC 7888): every literal may be non-synchronizing */
  literalPlus: boolean;
  /** LITERAL- (RFC 7888): non-synchronizing literals up to 4096 bytes */
  literalMinus: boolean;
  /** UTF8=ACCEPT enabled or IMAP4rev2: UTF-8 allowed in quoted strings (RFC 6855, RFC 9051) */
  utf8: boolean;
}

/** RFC 7888 §4: the largest non-synchronizing literal LITERAL- allows. */
export const LITERAL_MINUS_MAX = 4096;
/** Longer printable strings go as literals: some servers cap the length of a command line. */
export const MAX_QUOTED = 1024;

export function invalidArgument(message: string): IMAPError {
  return new IMAPError(message, { code: "IMAP_INVALID_ARGUMENT" });
}

/** ASTRING-CHAR (RFC 9051 §9): ATOM-CHAR or "]"; atom-specials are ( ) { SP CTL % * " \ */
const ASTRING_CHAR = new Uint8Array(128);
for (let c = 0x21; c < 0x7f; c++) ASTRING_CHAR[c] = 1;
for (const c of '(){%*"\\') ASTRING_CHAR[c.charCodeAt(0)] = 0;

function isAtomChar(c: number): boolean {
  return c < 0x80 && ASTRING_CHAR[c] === 1 && c !== 0x5d;
}

/** Throws IMAP_INVALID_ARGUMENT if the text holds CR, LF or NUL. */
export function assertSafeText(value: string | Uint8Array, what = "argument"): void {
  if (typeof value === "string") {
    if (/[\r\n\0]/.test(value)) throw invalidArgument(`IMAP ${what} contains CR, LF or NUL`);
    return;
  }
  for (const c of value) {
    if (c === 0x0d || c === 0x0a || c === 0) {
      throw invalidArgument(`IMAP ${what} contains CR, LF or NUL`);
    }
  }
}

function quote(bytes: Uint8Array): string {
  let out = '"';
  let last = 0;
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 0x22 || bytes[i] === 0x5c) {
      out += `${text.toString("utf8", last, i)}\\`;
      last = i;
    }
  }
  return `${out + text.toString("utf8", last)}"`;
}

/**
 * An astring or string argument: an atom when every byte is an ASTRING-CHAR (astring only;
 * never "NIL", which a server could read as nil), a quoted string when it is printable ASCII
 * without controls (or valid UTF-8 text with `utf8`) of at most MAX_QUOTED bytes, a literal
 * otherwise.
 * Literals are non-synchronizing when LITERAL+ allows it, or LITERAL- for small ones.
 */
export function encodeString(
  value: string | Uint8Array,
  options: EncodeOptions,
  kind: "astring" | "string" = "string",
): CommandPart[] {
  assertSafeText(value);
  const bytes = typeof value === "string" ? Buffer.from(value, "utf8") : value;
  let atom = kind === "astring" && bytes.length > 0;
  let ascii = true;
  let controls = false;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i];
    if (c >= 0x80) ascii = false;
    else if (ASTRING_CHAR[c] === 0) {
      atom = false;
      if (c < 0x20 || c === 0x7f) controls = true;
    }
  }
  if (atom && ascii && !(bytes.length === 3 && /^nil$/i.test(Buffer.from(bytes).toString()))) {
    return [Buffer.from(bytes).toString("latin1")];
  }
  // Control characters are legal in quoted strings (TEXT-CHAR) but go as literals, which
  // every server reads back unchanged. 8-bit bytes go quoted only in UTF-8 mode and only as
  // text the caller gave as a string (so valid UTF-8).
  const quotable = !controls && (ascii || (options.utf8 && typeof value === "string"));
  if (quotable && bytes.length <= MAX_QUOTED) return [quote(bytes)];
  const nonSync =
    options.literalPlus || (options.literalMinus && bytes.length <= LITERAL_MINUS_MAX);
  return [{ literal: Uint8Array.from(bytes), nonSync }];
}

/**
 * A mailbox name argument: INBOX (any case) as INBOX (RFC 9051 §5.1), otherwise modified UTF-7
 * (RFC 3501 §5.1.3) unless UTF-8 is on, then encoded as an astring.
 */
export function encodeMailboxName(name: string, options: EncodeOptions): CommandPart[] {
  assertSafeText(name, "mailbox name");
  if (name.length === 5 && name.toUpperCase() === "INBOX") return ["INBOX"];
  return encodeString(options.utf8 ? name : encodeModifiedUTF7(name), options, "astring");
}

/**
 * A flag for STORE/APPEND (RFC 9051 §9 flag): "\" followed by an atom (system flags and
 * flag-extensions) or a keyword atom such as "$Forwarded". Returned unchanged when valid.
 */
export function validateFlag(flag: string): string {
  assertSafeText(flag, "flag");
  const body = flag.startsWith("\\") ? flag.slice(1) : flag;
  if (body.length === 0) throw invalidArgument(`IMAP flag is empty: ${JSON.stringify(flag)}`);
  for (let i = 0; i < body.length; i++) {
    if (!isAtomChar(body.charCodeAt(i))) {
      throw invalidArgument(
        `IMAP flag has a character flags may not hold: ${JSON.stringify(flag)}`,
      );
    }
  }
  return flag;
}

function appendText(out: CommandPart[], text: string): void {
  const last = out[out.length - 1];
  if (typeof last === "string") out[out.length - 1] = last + text;
  else out.push(text);
}

/** Joins arguments with single spaces into one part list (adjacent text merged). */
export function joinCommandParts(...args: CommandPart[][]): CommandPart[] {
  const out: CommandPart[] = [];
  for (const parts of args) {
    if (parts.length === 0) continue;
    if (out.length > 0) appendText(out, " ");
    for (const part of parts) {
      if (typeof part === "string") appendText(out, part);
      else out.push(part);
    }
  }
  return out;
}
