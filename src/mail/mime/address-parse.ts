/**
 * RFC 5322 §3.4 address parsing: mailboxes with display names, quoted strings (`"Doe, John"
 * <j@x.org>`), comments, groups (`Team: a@x, b@y;`), obsolete route addresses, and RFC 2047
 * encoded-words in display names. Lenient enough for real mail, bounded in size.
 */
import { commonAddressList } from "./address-common.js";
import { decodeEncodedWords } from "./encoded-word-decode.js";
import { MIME_ERROR_CODES, mimeError } from "./errors.js";
import type { MailAddress } from "./types.js";

interface Token {
  kind: "atom" | "quoted" | "comment" | "literal" | "special";
  text: string;
  /** Whitespace came right before it: words are told apart by it (`Big Bug bb@bug.com`). */
  space: boolean;
}

/** Longest address header text accepted (a guard against pathological input). */
const MAX_INPUT = 256 * 1024;
const SPECIALS = '()<>[]:;@\\,."';
/** An RFC 2047 encoded-word at the current position; it may hold specials (`.`, `,` in Q). */
const ENCODED_WORD_AT = /=\?[^?\s]{1,64}\?[bBqQ]\?[^?\s]*\?=/y;

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const n = input.length;
  let space = false;
  const push = (kind: Token["kind"], text: string): void => {
    tokens.push({ kind, text, space });
    space = false;
  };
  while (i < n) {
    const c = input[i];
    if (c === " " || c === "\t" || c === "\r" || c === "\n") {
      space = true;
      i++;
    } else if (c === "=" && input[i + 1] === "?" && encodedWordAt(input, i) > i) {
      const end = encodedWordAt(input, i);
      push("atom", input.slice(i, end));
      i = end;
    } else if (c === '"') {
      let text = "";
      i++;
      while (i < n && input[i] !== '"') {
        if (input[i] === "\\" && i + 1 < n) i++;
        if (input[i] !== "\r" && input[i] !== "\n") text += input[i];
        i++;
      }
      i++;
      push("quoted", text);
    } else if (c === "(") {
      let depth = 1;
      let text = "";
      i++;
      while (i < n && depth > 0) {
        if (input[i] === "\\" && i + 1 < n) {
          text += input[i + 1];
          i += 2;
          continue;
        }
        if (input[i] === "(") depth++;
        else if (input[i] === ")" && --depth === 0) break;
        text += input[i];
        i++;
      }
      i++;
      push("comment", text);
      space = true;
    } else if (c === "[") {
      const end = input.indexOf("]", i);
      const stop = end < 0 ? n : end + 1;
      push("literal", input.slice(i, stop));
      i = stop;
    } else if (SPECIALS.includes(c)) {
      push("special", c);
      i++;
    } else {
      let j = i;
      while (j < n && !SPECIALS.includes(input[j]) && !" \t\r\n".includes(input[j])) j++;
      push("atom", input.slice(i, j));
      i = j;
    }
  }
  return tokens;
}

function encodedWordAt(input: string, i: number): number {
  ENCODED_WORD_AT.lastIndex = i;
  return ENCODED_WORD_AT.test(input) ? ENCODED_WORD_AT.lastIndex : -1;
}

const isSpecial = (t: Token | undefined, text: string): boolean =>
  t !== undefined && t.kind === "special" && t.text === text;

/**
 * The whitespace-separated words of an entry without angle brackets. Whitespace around `@`
 * and `.` does not separate (obsolete CFWS there, RFC 5322 §4.4: `john . doe @ example.com`).
 */
function words(tokens: Token[]): Token[][] {
  const out: Token[][] = [];
  let prev: Token | undefined;
  for (const t of tokens) {
    if (t.kind === "comment") continue;
    const glued =
      prev !== undefined &&
      (!t.space ||
        isSpecial(t, "@") ||
        isSpecial(t, ".") ||
        isSpecial(prev, "@") ||
        isSpecial(prev, "."));
    if (glued) out[out.length - 1].push(t);
    else out.push([t]);
    prev = t;
  }
  return out;
}

/** A local part needs quotes unless it is a dot-atom (RFC 5322 §3.4.1). */
const DOT_ATOM =
  /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~\u0080-\u{10FFFF}-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~\u0080-\u{10FFFF}-]+)*$/u;

export function isDotAtom(text: string): boolean {
  return DOT_ATOM.test(text);
}

/** Turns addr-spec tokens into `local@domain`, quoting the local part only when required. */
function addrSpec(tokens: Token[]): string | undefined {
  const at = tokens.findLastIndex((t) => t.kind === "special" && t.text === "@");
  const localTokens = at < 0 ? tokens : tokens.slice(0, at);
  const domainTokens = at < 0 ? [] : tokens.slice(at + 1);
  let local = "";
  for (const t of localTokens) {
    if (t.kind === "comment") continue;
    if (t.kind === "atom" || t.kind === "quoted" || (t.kind === "special" && t.text === ".")) {
      local += t.text;
    } else return undefined;
  }
  let domain = "";
  for (const t of domainTokens) {
    if (t.kind === "comment") continue;
    if (t.kind === "atom" || t.kind === "literal" || (t.kind === "special" && t.text === ".")) {
      domain += t.text;
    } else return undefined;
  }
  if (local === "" || (at >= 0 && domain === "")) return undefined;
  const quotedLocal = isDotAtom(local) ? local : `"${local.replace(/(["\\])/g, "\\$1")}"`;
  return at < 0 ? quotedLocal : `${quotedLocal}@${domain}`;
}

/** Display-name words: atoms joined by single spaces, encoded-words decoded (RFC 2047 §6). */
function phrase(tokens: Token[]): string {
  const words: string[] = [];
  for (const t of tokens) {
    if (t.kind === "atom" || t.kind === "quoted") words.push(t.text);
    else if (t.kind === "special" && t.text === ".") words.push(".");
  }
  // Whitespace between adjacent encoded-words is dropped by the decoder.
  const joined: string[] = [];
  for (const w of words) {
    if (w === "." && joined.length > 0) joined[joined.length - 1] += ".";
    else joined.push(w);
  }
  return decodeEncodedWords(joined.join(" "));
}

function commentName(tokens: Token[]): string | undefined {
  const comment = tokens.find((t) => t.kind === "comment");
  return comment ? decodeEncodedWords(comment.text.trim()) : undefined;
}

/**
 * Several addresses written with only spaces between them, or a bare phrase before an
 * address (`a@x.org b@y.org`, `Big Bug bb@bug.com`): each word holding `@` is an address, the
 * words before it its display name, as the major mail readers take it. Words that no address
 * follows carry nothing and are dropped; nothing is glued into a made-up local part.
 */
function spaceSeparated(list: Token[][]): MailAddress[] {
  const out: MailAddress[] = [];
  let name: Token[] = [];
  for (const word of list) {
    if (!word.some((t) => isSpecial(t, "@"))) {
      name.push(...word);
      continue;
    }
    const address = addrSpec(word);
    if (address !== undefined) {
      const display = phrase(name);
      out.push(display === "" ? { address } : { name: display, address });
    }
    name = [];
  }
  return out;
}

function mailbox(tokens: Token[], group: string | undefined, strict: boolean): MailAddress[] {
  const open = tokens.findIndex((t) => t.kind === "special" && t.text === "<");
  let result: MailAddress | undefined;
  if (open < 0 && !strict) {
    const list = words(tokens);
    if (list.length > 1) {
      const boxes = spaceSeparated(list);
      if (group !== undefined) for (const box of boxes) box.group = group;
      return boxes;
    }
  }
  if (open >= 0) {
    const close = tokens.findIndex((t, i) => i > open && t.kind === "special" && t.text === ">");
    let inner = tokens.slice(open + 1, close < 0 ? tokens.length : close);
    // Obsolete source route (`<@a,@b:user@c>`, RFC 5322 §4.4): keep only the addr-spec.
    const colon = inner.findIndex((t) => t.kind === "special" && t.text === ":");
    if (colon >= 0 && inner[0]?.text === "@") inner = inner.slice(colon + 1);
    const name = phrase(tokens.slice(0, open));
    // `Name <>` (the null address of bounces, RFC 5321 §4.5.5): the name is what there is.
    const empty = !strict && inner.every((t) => t.kind === "comment");
    const address = empty ? "" : addrSpec(inner);
    if (address === undefined) return [];
    result = { address };
    if (name !== "") result.name = name;
  } else {
    // Strict (a caller's input): several words cannot be one addr-spec.
    if (strict && words(tokens).length > 1) return [];
    const address = addrSpec(tokens);
    if (address === undefined) return [];
    result = { address };
    const name = commentName(tokens);
    if (name) result.name = name;
  }
  if (group !== undefined) result.group = group;
  return [result];
}

/**
 * Splits at top-level commas (commas inside quotes and comments are already tokens). Leniently,
 * a closing `>` ends an entry too: `Ann <a@x.org> Bob <b@y.org>` is two mailboxes.
 */
function splitCommas(tokens: Token[], strict: boolean): Token[][] {
  const out: Token[][] = [[]];
  const afterAngle = new Set<Token[]>();
  let angle = false;
  let closed = false;
  for (const t of tokens) {
    if (t.kind === "special" && t.text === "<") angle = true;
    if (!angle && t.kind === "special" && t.text === ",") {
      out.push([]);
      closed = false;
      continue;
    }
    if (closed && !strict && t.kind !== "comment") {
      out.push([]);
      afterAngle.add(out[out.length - 1]);
    }
    closed = false;
    out[out.length - 1].push(t);
    if (t.kind === "special" && t.text === ">") {
      angle = false;
      closed = true;
    }
  }
  // Words after a `>` with no address of their own (`<j@x.org> Joe`) are trailing text, not a
  // mailbox: a local part nobody wrote would be made up from them.
  const hasAddress = (part: Token[]): boolean =>
    part.some((t) => isSpecial(t, "<") || isSpecial(t, "@"));
  return out.filter((part) => part.length > 0 && (!afterAngle.has(part) || hasAddress(part)));
}

/**
 * Parses an address list. Strict mode (caller input) throws `MAIL_INVALID_ADDRESS` for any
 * entry it cannot read; lenient mode (headers from the network) skips such entries.
 * Group members come back flattened, each tagged with its group's name.
 */
export function parseAddressList(input: string, strict = true): MailAddress[] {
  if (input.length > MAX_INPUT) {
    throw mimeError(MIME_ERROR_CODES.limit, "Address list too long");
  }
  return commonAddressList(input) ?? readAddressTokens(input, strict);
}

/** The full parser behind parseAddressList, without its shortcut for common forms. */
export function readAddressTokens(input: string, strict: boolean): MailAddress[] {
  const tokens = tokenize(input);
  const result: MailAddress[] = [];
  let i = 0;
  let current: Token[] = [];
  let group: string | undefined;
  const finish = (): void => {
    for (const part of splitCommas(current, strict)) {
      if (part.every((t) => t.kind === "comment")) continue;
      const boxes = mailbox(part, group, strict);
      if (boxes.length > 0) result.push(...boxes);
      else if (strict) {
        throw mimeError(
          MIME_ERROR_CODES.invalidAddress,
          `Cannot parse address ${JSON.stringify(input.slice(0, 200))}`,
        );
      }
    }
    current = [];
  };
  let angle = false;
  while (i < tokens.length) {
    const t = tokens[i];
    if (t.kind === "special" && t.text === "<") angle = true;
    if (t.kind === "special" && t.text === ">") angle = false;
    if (!angle && group === undefined && t.kind === "special" && t.text === ":") {
      // Everything since the last top-level comma is the group's display name.
      const lastComma = current.findLastIndex((x) => x.kind === "special" && x.text === ",");
      const nameTokens = current.slice(lastComma + 1);
      current = current.slice(0, lastComma + 1);
      finish();
      group = phrase(nameTokens);
    } else if (!angle && group !== undefined && t.kind === "special" && t.text === ";") {
      finish();
      group = undefined;
    } else {
      current.push(t);
    }
    i++;
  }
  finish();
  return result;
}
