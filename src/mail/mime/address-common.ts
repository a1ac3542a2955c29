/**
 * A shortcut for the address lists nearly all mail carries (RFC 5322 §3.4): `Name
 * <local@domain>`, `"Name" <local@domain>`, `<local@domain>` and a bare `local@domain`,
 * separated by commas, where a name is plain words or whole RFC 2047 encoded-words. Anything
 * else (comments, groups, escapes, dots in names, source routes, line breaks, address
 * characters beyond the usual ones) is left to the full parser in address-parse.ts, which
 * reads these forms to the same mailboxes; this only skips its tokens.
 */
import { decodeEncodedWords } from "./encoded-word-decode.js";
import type { MailAddress } from "./types.js";

/** A dot-atom address of the usual characters (the full parser quotes nothing in it). */
const ADDRESS = /^[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*$/;
/** A word of a display name: no specials, whitespace or line breaks (an atom to the parser). */
const WORD = /^[^()<>[\]:;@\\,." \t\r\n]+$/;
/** A word that is exactly one encoded-word (the parser's tokenizer takes it whole). */
const ENCODED_WORD = /^=\?[^?\s]{1,64}\?[bBqQ]\?[^?\s]*\?=$/;
const BLANKS = /[ \t]+/;

function trimBlanks(text: string): string {
  let s = 0;
  let e = text.length;
  while (s < e && (text[s] === " " || text[s] === "\t")) s++;
  while (e > s && (text[e - 1] === " " || text[e - 1] === "\t")) e--;
  return s === 0 && e === text.length ? text : text.slice(s, e);
}

/** The display name before `<`: a quoted string or words; undefined when not a simple one. */
function displayName(text: string): string | undefined {
  if (text === "") return "";
  if (text.length >= 2 && text[0] === '"' && text[text.length - 1] === '"') {
    const inner = text.slice(1, -1);
    return /["\\]/.test(inner) ? undefined : decodeEncodedWords(inner);
  }
  const words = text.split(BLANKS);
  for (const word of words) {
    if (!WORD.test(word)) return undefined;
    // `=?` inside a word: only a whole encoded-word is read the same way by the tokenizer.
    if (word.includes("=?") && !ENCODED_WORD.test(word)) return undefined;
  }
  return decodeEncodedWords(words.join(" "));
}

/** One comma-separated entry; null when it is empty, undefined when it is not a simple one. */
function entry(raw: string): MailAddress | null | undefined {
  const text = trimBlanks(raw);
  if (text === "") return null;
  if (text[text.length - 1] !== ">") return ADDRESS.test(text) ? { address: text } : undefined;
  const open = text.lastIndexOf("<");
  if (open < 0) return undefined;
  const address = text.slice(open + 1, -1);
  if (!ADDRESS.test(address)) return undefined;
  const name = displayName(trimBlanks(text.slice(0, open)));
  if (name === undefined) return undefined;
  return name === "" ? { address } : { address, name };
}

/**
 * The mailboxes of `input` when every entry has one of the common forms, else undefined
 * (then the full parser reads it). Line breaks, comments and groups always go the long way.
 */
export function commonAddressList(input: string): MailAddress[] | undefined {
  if (/[\r\n()]/.test(input)) return undefined;
  const out: MailAddress[] = [];
  for (const raw of input.split(",")) {
    const box = entry(raw);
    if (box === undefined) return undefined;
    if (box !== null) out.push(box);
  }
  return out;
}
