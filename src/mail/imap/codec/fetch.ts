/** FETCH response attributes (RFC 9051 §7.5.2 msg-att, RFC 7162 MODSEQ, RFC 3516 BINARY). */
import { Buffer } from "node:buffer";
import { bodyStructure } from "./body-structure.js";
import { type Cursor, DQUOTE, LBRACKET, LPAREN, RBRACKET, RPAREN, SP } from "./cursor.js";
import { envelope } from "./envelope.js";
import { parseInternalDate } from "./internal-date.js";
import { equalsWord, utf8 } from "./text.js";
import type { FetchAttributes, IMAPValue, StreamedLiteral } from "./types.js";

const LT = 0x3c;
const GT = 0x3e;

/** flag-list: "(" [flag *(SP flag)] ")"; flags kept as sent (case preserved). */
export function flagList(c: Cursor): string[] {
  const out: string[] = [];
  c.open();
  while (!c.close()) {
    out.push(c.peek() === DQUOTE ? c.quoted() : c.atom());
    c.listSpace();
  }
  return out;
}

/** Index just past a FETCH item name (stops before "[", "<", SP and parentheses). */
function nameEnd(c: Cursor): number {
  const { buf, end } = c;
  let i = c.pos;
  while (i < end) {
    const b = buf[i];
    if (b === SP || b === LBRACKET || b === LPAREN || b === RPAREN || b === LT || b < 0x21) break;
    i++;
  }
  return i;
}

/** "[section]" from pos (quoted strings inside may hold "]"); returns the text, brackets included. */
function section(c: Cursor): string {
  const { buf, end } = c;
  const from = c.pos;
  let i = from + 1;
  while (i < end && buf[i] !== RBRACKET) {
    if (buf[i] === DQUOTE) {
      c.pos = i;
      c.quoted();
      i = c.pos;
    } else i++;
  }
  if (i >= end) {
    c.pos = from;
    c.fail("unterminated section");
  }
  c.pos = i + 1;
  return utf8(buf, from, i + 1).toUpperCase();
}

/** "<origin>" after a section, skipped (the key leaves it out). */
function skipOrigin(c: Cursor): void {
  if (c.peek() !== LT) return;
  const { buf, end } = c;
  let i = c.pos + 1;
  while (i < end && buf[i] !== GT) i++;
  c.pos = i + 1;
}

function sectionValue(c: Cursor): Uint8Array | null | StreamedLiteral {
  const ch = c.peek();
  if (ch === DQUOTE) return c.quotedBytes();
  if (c.atString()) return c.literal();
  if (c.nil()) return null;
  return c.fail("expected a string, literal or NIL");
}

function setSection(a: FetchAttributes, key: string, value: Uint8Array | null | StreamedLiteral) {
  if (a.sections === undefined) a.sections = {};
  a.sections[key] = value;
}

function setExtra(a: FetchAttributes, key: string, value: IMAPValue): void {
  if (a.extra === undefined) a.extra = {};
  a.extra[key] = value;
}

/** The items the parser has a type for, by their name's bytes. */
enum Item {
  Other,
  UID,
  FLAGS,
  INTERNALDATE,
  SIZE,
  MODSEQ,
  ENVELOPE,
  BODYSTRUCTURE,
  RFC822,
  RFC822_HEADER,
  RFC822_TEXT,
}

/** Recognises an item name without making a string of it (the common path). */
function itemOf(b: Uint8Array, s: number, e: number): Item {
  switch (e - s) {
    case 3:
      return equalsWord(b, s, e, "UID") ? Item.UID : Item.Other;
    case 5:
      return equalsWord(b, s, e, "FLAGS") ? Item.FLAGS : Item.Other;
    case 6:
      if (equalsWord(b, s, e, "MODSEQ")) return Item.MODSEQ;
      return equalsWord(b, s, e, "RFC822") ? Item.RFC822 : Item.Other;
    case 8:
      return equalsWord(b, s, e, "ENVELOPE") ? Item.ENVELOPE : Item.Other;
    case 11:
      if (equalsWord(b, s, e, "RFC822.SIZE")) return Item.SIZE;
      return equalsWord(b, s, e, "RFC822.TEXT") ? Item.RFC822_TEXT : Item.Other;
    case 12:
      return equalsWord(b, s, e, "INTERNALDATE") ? Item.INTERNALDATE : Item.Other;
    case 13:
      if (equalsWord(b, s, e, "BODYSTRUCTURE")) return Item.BODYSTRUCTURE;
      return equalsWord(b, s, e, "RFC822.HEADER") ? Item.RFC822_HEADER : Item.Other;
    default:
      return Item.Other;
  }
}

/** INTERNALDATE: parsed in place from the quoted string when it is a plain one. */
function internalDate(c: Cursor, a: FetchAttributes): void {
  const { buf } = c;
  if (c.peek() === DQUOTE) {
    const close = buf.indexOf(DQUOTE, c.pos + 1);
    if (close > 0 && close < c.end) {
      const date = parseInternalDate(buf, c.pos + 1, close);
      if (date !== undefined) {
        c.pos = close + 1;
        a.internalDate = date;
        return;
      }
    }
  }
  const text = c.nstring();
  const bytes = text === null ? undefined : Buffer.from(text, "latin1");
  const date = bytes === undefined ? undefined : parseInternalDate(bytes, 0, bytes.length);
  if (date) a.internalDate = date;
  else setExtra(a, "INTERNALDATE", text); // kept raw rather than lost
}

/** msg-att list after "* n FETCH ". */
export function fetchAttributes(c: Cursor): FetchAttributes {
  const a: FetchAttributes = {};
  c.open();
  while (!c.close()) {
    const start = c.pos;
    const stop = nameEnd(c);
    if (stop === start) c.fail("expected a FETCH item name");
    c.pos = stop;
    switch (itemOf(c.buf, start, stop)) {
      case Item.UID:
        c.space();
        a.uid = c.number();
        break;
      case Item.FLAGS:
        c.space();
        a.flags = flagList(c);
        break;
      case Item.INTERNALDATE:
        c.space();
        internalDate(c, a);
        break;
      case Item.SIZE:
        c.space();
        if (c.nil()) break;
        a.size = c.number();
        break;
      case Item.MODSEQ:
        // RFC 7162 §3.1.4: MODSEQ (n)
        c.space();
        c.open();
        c.skipSpaces();
        a.modseq = c.bigint();
        if (!c.close()) c.fail("expected )");
        break;
      case Item.ENVELOPE:
        c.space();
        a.envelope = envelope(c);
        break;
      case Item.BODYSTRUCTURE:
        c.space();
        a.bodyStructure = bodyStructure(c);
        break;
      case Item.RFC822:
      case Item.RFC822_HEADER:
      case Item.RFC822_TEXT:
        c.space();
        setSection(a, c.latin1(start, stop).toUpperCase(), sectionValue(c));
        break;
      default:
        fetchBracketed(c, a, c.latin1(start, stop).toUpperCase());
    }
    c.listSpace();
  }
  return a;
}

/** BODY (structure or section), BINARY[...], BINARY.SIZE[...] and unknown items. */
function fetchBracketed(c: Cursor, a: FetchAttributes, name: string): void {
  const bracket = c.peek() === LBRACKET;
  if (name === "BODY" && !bracket) {
    c.space();
    a.bodyStructure = bodyStructure(c);
    return;
  }
  if (bracket && (name === "BODY" || name === "BINARY")) {
    const key = name + section(c);
    skipOrigin(c);
    c.space();
    setSection(a, key, sectionValue(c));
    return;
  }
  if (bracket && name === "BINARY.SIZE") {
    const s = section(c);
    c.space();
    if (c.nil()) return;
    if (a.binarySizes === undefined) a.binarySizes = {};
    a.binarySizes[s.slice(1, -1)] = c.number();
    return;
  }
  // Unknown item (X-GM-MSGID, X-GM-LABELS, EMAILID, THREADID, PREVIEW, SAVEDATE, ...).
  let key = name;
  if (bracket) {
    key += section(c);
    skipOrigin(c);
  }
  c.space();
  const first = c.value();
  // An item name is an atom starting with a letter; anything else after the value (a list,
  // a string, a number) is more of this item's value, e.g. a draft PREVIEW (FUZZY) "text".
  let values: IMAPValue[] | undefined;
  for (;;) {
    const save = c.pos;
    c.skipSpaces();
    const b = c.peek();
    if (b !== LPAREN && b !== DQUOTE && !(b >= 0x30 && b <= 0x39) && !c.atLiteral()) {
      c.pos = save;
      break;
    }
    values ??= [first];
    values.push(c.value());
  }
  setExtra(a, key, values ?? first);
}
