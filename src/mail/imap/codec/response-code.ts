/**
 * resp-text and its response codes (RFC 9051 §7.1, RFC 4315 §3 UIDPLUS, RFC 7162 §3.1
 * CONDSTORE). A known code whose arguments do not parse is not an error: the response keeps
 * no code and its text starts at the "[" (servers have been seen to get these wrong, and
 * the connection should survive it).
 */
import { IMAPError } from "../../../errors.js";
import { type Cursor, DQUOTE, LBRACKET, RBRACKET, SP } from "./cursor.js";
import { flagList } from "./fetch.js";
import type { ResponseCode } from "./types.js";

function closeBracket(c: Cursor): void {
  c.skipSpaces();
  c.expect(RBRACKET, "]");
}

/** Raw text inside the brackets up to the closing "]" (quoted strings may hold "]"). */
function rawCodeText(c: Cursor): string {
  const { buf, end } = c;
  const from = c.pos;
  let i = from;
  while (i < end && buf[i] !== RBRACKET) {
    if (buf[i] === DQUOTE) {
      c.pos = i;
      c.quoted();
      i = c.pos;
    } else i++;
  }
  if (i >= end) c.fail("unterminated response code");
  c.pos = i + 1;
  return buf.toString("utf8", from, i);
}

function codeBody(c: Cursor, name: string): ResponseCode {
  switch (name) {
    case "UIDVALIDITY":
    case "UIDNEXT":
    case "UNSEEN": {
      c.space();
      const value = c.number();
      closeBracket(c);
      return { name, value };
    }
    case "HIGHESTMODSEQ": {
      c.space();
      const value = c.bigint();
      closeBracket(c);
      return { name, value };
    }
    case "PERMANENTFLAGS": {
      c.space();
      const flags = flagList(c);
      closeBracket(c);
      return { name, flags };
    }
    case "CAPABILITY": {
      const capabilities: string[] = [];
      while (c.peek() === SP) {
        c.skipSpaces();
        if (c.peek() === RBRACKET) break;
        capabilities.push(c.atom().toUpperCase());
      }
      closeBracket(c);
      return { name, capabilities };
    }
    case "COPYUID": {
      c.space();
      const uidValidity = c.number();
      c.space();
      const source = c.atom();
      c.space();
      const destination = c.atom();
      closeBracket(c);
      return { name, uidValidity, source, destination };
    }
    case "APPENDUID": {
      c.space();
      const uidValidity = c.number();
      c.space();
      const uids = c.atom();
      closeBracket(c);
      return { name, uidValidity, uids };
    }
    case "MODIFIED": {
      c.space();
      const set = c.atom();
      closeBracket(c);
      return { name, set };
    }
    default: {
      c.skipSpaces();
      if (c.peek() === RBRACKET) {
        c.pos++;
        return { name };
      }
      return { name, text: rawCodeText(c) };
    }
  }
}

/** resp-text = ["[" resp-text-code "]" SP] text; called with pos after the status word. */
export function respText(c: Cursor): { code?: ResponseCode; text: string } {
  c.skipSpaces();
  if (c.peek() === LBRACKET) {
    const start = c.pos;
    c.pos++;
    try {
      const name = c.atom().toUpperCase();
      const code = codeBody(c, name);
      if (c.peek() === SP) c.pos++;
      return { code, text: c.restOfLine() };
    } catch (error) {
      if (!(error instanceof IMAPError && error.code === "IMAP_PARSE_ERROR")) throw error;
      c.pos = start;
      c.depth = 0;
    }
  }
  return { text: c.restOfLine() };
}
