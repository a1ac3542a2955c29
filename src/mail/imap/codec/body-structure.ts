/**
 * BODY and BODYSTRUCTURE (RFC 9051 §7.5.2 body, body-type-1part, body-type-mpart, body-ext-*;
 * RFC 3501 §7.4.2). Every field is read leniently because real servers send NIL where strings
 * are expected, numbers as strings, missing or extra extension data, and mixed case; the list
 * is walked item by item, so a short or long list never derails the parse.
 */
import { type Cursor, DQUOTE, LPAREN } from "./cursor.js";
import { envelope } from "./envelope.js";
import { decodeParameters } from "./mime-decode.js";
import type { BodyStructure } from "./types.js";

/** A number, a number sent as a string, or NIL/anything else (-> undefined). */
function lenientNumber(c: Cursor): number | undefined {
  const ch = c.peek();
  if (ch >= 0x30 && ch <= 0x39) return c.number();
  if (ch === DQUOTE) {
    const n = Number(c.quoted().trim());
    return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
  }
  c.skipValue();
  return undefined;
}

/** body-fld-param: NIL or "(" string SP string *(SP string SP string) ")" */
function parameters(c: Cursor): Record<string, string> {
  const out: Record<string, string> = {};
  if (c.peek() !== LPAREN) {
    c.skipValue();
    return out;
  }
  c.open();
  let key: string | null = null;
  let odd = false;
  while (!c.close()) {
    const v = c.lenientString();
    if (odd) {
      // "__proto__" as a plain assignment would not make a key (and could change the prototype)
      if (key !== null && !Object.hasOwn(out, key)) {
        Object.defineProperty(out, key, {
          value: v ?? "",
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
    } else key = v === null ? null : v.toLowerCase();
    odd = !odd;
    c.listSpace();
  }
  return decodeParameters(out);
}

/** body-fld-dsp: NIL or "(" string SP body-fld-param ")"; a bare string is taken as the type. */
function disposition(c: Cursor): BodyStructure["disposition"] {
  if (c.peek() !== LPAREN) {
    const type = c.lenientString();
    return type ? { type: type.toLowerCase(), parameters: {} } : undefined;
  }
  c.open();
  let type = "";
  let params: Record<string, string> = {};
  let i = 0;
  while (!c.close()) {
    if (i === 0) type = (c.lenientString() ?? "").toLowerCase();
    else if (i === 1) params = parameters(c);
    else c.skipValue();
    i++;
    c.listSpace();
  }
  return type ? { type, parameters: params } : undefined;
}

/** body-fld-lang: NIL, a string, or a list of strings. */
function language(c: Cursor): string[] | undefined {
  if (c.peek() !== LPAREN) {
    const v = c.lenientString();
    return v === null ? undefined : [v];
  }
  c.open();
  const out: string[] = [];
  while (!c.close()) {
    const v = c.lenientString();
    if (v !== null) out.push(v);
    c.listSpace();
  }
  return out;
}

/** Extension data shared by both forms, from its index (0 = parameters for multipart, md5 for single). */
function extension(c: Cursor, node: BodyStructure, index: number): void {
  switch (index) {
    case 1: {
      const d = disposition(c);
      if (d) node.disposition = d;
      return;
    }
    case 2: {
      const l = language(c);
      if (l) node.language = l;
      return;
    }
    case 3: {
      const v = c.lenientString();
      if (v !== null) node.location = v;
      return;
    }
    default:
      c.skipValue();
  }
}

function multipart(c: Cursor, part: string): BodyStructure {
  const node: BodyStructure = { type: "multipart", subtype: "mixed", parameters: {}, part };
  const children: BodyStructure[] = [];
  node.childNodes = children;
  while (c.peek() === LPAREN) {
    const child = part ? `${part}.${children.length + 1}` : `${children.length + 1}`;
    children.push(bodyAt(c, child, child));
    c.skipSpaces();
  }
  let i = -1; // -1: the subtype; then body-ext-mpart from 0
  while (!c.close()) {
    if (i === -1) node.subtype = (c.lenientString() ?? "mixed").toLowerCase();
    else if (i === 0) node.parameters = parameters(c);
    else extension(c, node, i);
    i++;
    c.listSpace();
  }
  return node;
}

function single(c: Cursor, part: string, multi: string): BodyStructure {
  const node: BodyStructure = { type: "", subtype: "", parameters: {}, part };
  let i = 0;
  let ext = -1; // index of the first extension item (md5), once known
  let message = false;
  while (!c.close()) {
    if (i < 7) {
      switch (i) {
        case 0:
          node.type = (c.lenientString() ?? "").toLowerCase();
          break;
        case 1:
          node.subtype = (c.lenientString() ?? "").toLowerCase();
          break;
        case 2:
          node.parameters = parameters(c);
          break;
        case 3: {
          const v = c.lenientString();
          if (v !== null) node.id = v;
          break;
        }
        case 4: {
          const v = c.lenientString();
          if (v !== null) node.description = v;
          break;
        }
        case 5: {
          const v = c.lenientString();
          if (v !== null) node.encoding = v.toLowerCase();
          break;
        }
        default: {
          const n = lenientNumber(c);
          if (n !== undefined) node.size = n;
        }
      }
    } else {
      if (i === 7) {
        message =
          node.type === "message" &&
          (node.subtype === "rfc822" || node.subtype === "global") &&
          c.peek() === LPAREN; // some servers send message/rfc822 as a basic body
        ext = node.type === "text" ? 8 : message ? 10 : 7;
      }
      if (message && i === 7) node.envelope = envelope(c);
      else if (message && i === 8) node.body = bodyAt(c, `${part}.1`, part);
      else if ((message && i === 9) || (node.type === "text" && i === 7)) {
        const n = lenientNumber(c);
        if (n !== undefined) node.lines = n;
      } else if (i === ext) {
        const v = c.lenientString();
        if (v !== null) node.md5 = v;
      } else extension(c, node, i - ext);
    }
    i++;
    c.listSpace();
  }
  if (i === 1) {
    // ("ALTERNATIVE"): Gmail's empty multipart, a subtype alone (seen in the wild)
    return { type: "multipart", subtype: node.type, parameters: {}, childNodes: [], part: multi };
  }
  return node;
}

/**
 * A body at a position in the part tree: `single` is its number if it is not a multipart,
 * `multi` if it is (a multipart has no number of its own at the top or inside a message).
 */
function bodyAt(c: Cursor, single_: string, multi: string): BodyStructure {
  if (c.peek() !== LPAREN) {
    c.skipValue(); // NIL body (seen from broken servers): an empty text/plain stands in
    return { type: "text", subtype: "plain", parameters: {}, part: single_ };
  }
  c.open();
  c.skipSpaces();
  return c.peek() === LPAREN ? multipart(c, multi) : single(c, single_, multi);
}

/** The body structure of a whole message (RFC 9051 §6.4.5 part numbering). */
export function bodyStructure(c: Cursor): BodyStructure {
  return bodyAt(c, "1", "");
}
