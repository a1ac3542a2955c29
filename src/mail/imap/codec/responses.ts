/**
 * Dispatch of one framed response to its kind (RFC 9051 §7, RFC 3501 §7 and the extensions
 * named on each reader). Untagged responses the parser has no type for are kept as
 * `unknown` with their raw text, never an error.
 */
import { type Cursor, DQUOTE, LPAREN, RPAREN } from "./cursor.js";
import { fetchAttributes, flagList } from "./fetch.js";
import { respText } from "./response-code.js";
import { equalsWord } from "./text.js";
import type { IMAPResponse, Namespace } from "./types.js";

const PLUS = 0x2b;
const STAR = 0x2a;

function isDigit(b: number): boolean {
  return b >= 0x30 && b <= 0x39;
}

/** Upper-cased atoms to the end of the line (CAPABILITY, ENABLED). */
function atoms(c: Cursor): string[] {
  const out: string[] = [];
  c.skipSpaces();
  while (!c.atLineEnd()) {
    out.push(c.atom().toUpperCase());
    c.skipSpaces();
  }
  return out;
}

/** RFC 9051 §7.3.1 LIST, with RFC 5258 extended data (CHILDINFO, OLDNAME). */
function list(c: Cursor, kind: "list" | "lsub"): IMAPResponse {
  c.space();
  const flags = flagList(c);
  c.space();
  const delimiter = c.nstring();
  c.space();
  const name = c.astring();
  const response: IMAPResponse = { kind, flags, delimiter, name };
  c.skipSpaces();
  if (c.peek() !== LPAREN) return response;
  c.open();
  while (!c.close()) {
    const tag = c.astring().toUpperCase();
    c.space();
    if ((tag === "CHILDINFO" || tag === "OLDNAME") && c.peek() === LPAREN) {
      const values: string[] = [];
      c.open();
      while (!c.close()) {
        values.push(c.astring());
        c.listSpace();
      }
      if (tag === "CHILDINFO") response.childInfo = values.map((v) => v.toUpperCase());
      else if (values.length > 0) response.oldName = values[0];
    } else c.skipValue();
    c.listSpace();
  }
  return response;
}

/** RFC 9051 §7.2.4 STATUS: mailbox "(" name SP number ... ")". */
function status(c: Cursor): IMAPResponse {
  c.space();
  const mailbox = c.astring();
  c.skipSpaces();
  const attributes: Record<string, bigint> = {};
  c.open();
  while (!c.close()) {
    const key = c.atom().toUpperCase();
    c.space();
    if (c.nil()) continue;
    attributes[key] = c.bigint();
    c.listSpace();
  }
  return { kind: "status-response", mailbox, attributes };
}

/** SEARCH results with the RFC 7162 §3.1.5 "(MODSEQ n)" suffix. */
function search(c: Cursor): IMAPResponse {
  const numbers: number[] = [];
  let modseq: bigint | undefined;
  c.skipSpaces();
  while (!c.atLineEnd()) {
    if (c.peek() === LPAREN) {
      c.open();
      c.skipSpaces();
      const key = c.atom().toUpperCase();
      c.space();
      if (key === "MODSEQ") modseq = c.bigint();
      else c.skipValue();
      if (!c.close()) c.fail("expected )");
    } else numbers.push(c.number());
    c.skipSpaces();
  }
  return modseq === undefined ? { kind: "search", numbers } : { kind: "search", numbers, modseq };
}

/** RFC 4731 §3.1 ESEARCH: [(TAG "t")] [UID] *(SP name SP value). */
function esearch(c: Cursor): IMAPResponse {
  const r: Extract<IMAPResponse, { kind: "esearch" }> = { kind: "esearch", uid: false };
  c.skipSpaces();
  while (!c.atLineEnd()) {
    if (c.peek() === LPAREN) {
      c.open();
      c.skipSpaces();
      const key = c.atom().toUpperCase();
      c.space();
      if (key === "TAG") r.tag = c.astring();
      else c.skipValue();
      if (!c.close()) c.fail("expected )");
    } else {
      const key = c.atom().toUpperCase();
      if (key === "UID") r.uid = true;
      else {
        c.space();
        if (key === "MIN") r.min = c.number();
        else if (key === "MAX") r.max = c.number();
        else if (key === "COUNT") r.count = c.number();
        else if (key === "ALL") r.all = c.atom();
        else if (key === "MODSEQ") r.modseq = c.bigint();
        else c.skipValue();
      }
    }
    c.skipSpaces();
  }
  return r;
}

/** One namespace list of RFC 2342 §5: NIL or "(" 1*( "(" prefix SP delim *ext ")" ) ")". */
function namespaces(c: Cursor): Namespace[] | null {
  if (c.nil()) return null;
  const out: Namespace[] = [];
  c.open();
  while (!c.close()) {
    c.open();
    const prefix = c.astring(); // a string by the grammar; an atom tolerated
    c.space();
    const delimiter = c.nstring();
    while (!c.close()) c.skipValue(); // namespace response extensions
    out.push({ prefix, delimiter });
  }
  return out;
}

/** RFC 2971 §3.2 ID: NIL or "(" string SP nstring ... ")". */
function id(c: Cursor): IMAPResponse {
  c.space();
  if (c.nil()) return { kind: "id", params: null };
  const params: Record<string, string | null> = {};
  c.open();
  while (!c.close()) {
    const key = c.string();
    c.space();
    // defined, not assigned: a server's "__proto__" key stays a key
    Object.defineProperty(params, key, {
      value: c.nstring(),
      enumerable: true,
      writable: true,
      configurable: true,
    });
    c.listSpace();
  }
  return { kind: "id", params };
}

/** RFC 7162 §3.2.10 VANISHED [(EARLIER)] known-uids. */
function vanished(c: Cursor): IMAPResponse {
  c.space();
  let earlier = false;
  if (c.peek() === LPAREN) {
    c.open();
    c.skipSpaces();
    earlier = c.atom().toUpperCase() === "EARLIER";
    if (!c.close()) c.fail("expected )");
    c.space();
  }
  return { kind: "vanished", earlier, uids: c.atom() };
}

function numbered(c: Cursor, textStart: number): IMAPResponse {
  const n = c.number();
  c.space();
  const start = c.pos;
  const stop = c.atomEnd();
  if (equalsWord(c.buf, start, stop, "FETCH")) {
    c.pos = stop;
    c.space();
    return { kind: "fetch", seq: n, attributes: fetchAttributes(c) };
  }
  const name = c.atom().toUpperCase();
  switch (name) {
    case "FETCH":
      c.space();
      return { kind: "fetch", seq: n, attributes: fetchAttributes(c) };
    case "EXISTS":
      return { kind: "exists", count: n };
    case "RECENT":
      return { kind: "recent", count: n };
    case "EXPUNGE":
      return { kind: "expunge", seq: n };
    default:
      c.pos = textStart;
      return { kind: "unknown", name, text: c.rest() };
  }
}

function untagged(c: Cursor): IMAPResponse {
  const textStart = c.pos;
  if (isDigit(c.peek())) return numbered(c, textStart);
  const name = c.atom().toUpperCase();
  switch (name) {
    case "OK":
    case "NO":
    case "BAD":
    case "BYE":
    case "PREAUTH":
      return { kind: "status", status: name, ...respText(c) };
    case "CAPABILITY":
      return { kind: "capability", capabilities: atoms(c) };
    case "ENABLED":
      return { kind: "enabled", capabilities: atoms(c) };
    case "FLAGS":
      c.space();
      return { kind: "flags", flags: flagList(c) };
    case "LIST":
      return list(c, "list");
    case "LSUB":
      return list(c, "lsub");
    case "STATUS":
      return status(c);
    case "SEARCH":
      return search(c);
    case "ESEARCH":
      return esearch(c);
    case "NAMESPACE": {
      c.space();
      const personal = namespaces(c);
      c.space();
      const otherUsers = namespaces(c);
      c.space();
      const shared = namespaces(c);
      return { kind: "namespace", personal, otherUsers, shared };
    }
    case "ID":
      return id(c);
    case "VANISHED":
      return vanished(c);
    default:
      c.skipSpaces();
      return { kind: "unknown", name, text: c.rest() };
  }
}

/** Parses one complete response (its bytes framed by the ResponseParser). */
export function parseResponse(c: Cursor): IMAPResponse {
  const first = c.peek();
  if (first === PLUS) {
    c.pos++;
    return { kind: "continuation", ...respText(c) };
  }
  if (first === STAR) {
    c.pos++;
    c.space();
    return untagged(c);
  }
  if (first === DQUOTE || first === LPAREN || first === RPAREN) c.fail("expected a tag");
  const tag = c.atom();
  c.space();
  const status = c.atom().toUpperCase();
  if (status !== "OK" && status !== "NO" && status !== "BAD") {
    c.fail("expected OK, NO or BAD after the tag");
  }
  return { kind: "tagged", tag, status, ...respText(c) };
}
