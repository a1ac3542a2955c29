/**
 * ENVELOPE (RFC 9051 §7.5.2, RFC 3501 §7.4.2). NIL is accepted wherever a string is allowed,
 * and missing or extra trailing items are tolerated, as real servers send both.
 */
import { type Cursor, LPAREN } from "./cursor.js";
import { decodeWords } from "./mime-decode.js";
import type { Address, Envelope } from "./types.js";

/** One address: (name adl mailbox host). */
function address(c: Cursor, out: Address[], group: { name: string | undefined }): void {
  c.open();
  let name: string | null = null;
  let mailbox: string | null = null;
  let host: string | null = null;
  let i = 0;
  while (!c.close()) {
    const v = c.lenientString();
    if (i === 0) name = v;
    else if (i === 2) mailbox = v;
    else if (i === 3) host = v;
    i++;
    c.listSpace();
  }
  if (host === null) {
    // RFC 3501 §7.4.2: host NIL marks a group: mailbox NIL ends it, otherwise it is the name.
    if (mailbox === null) {
      group.name = undefined;
      return;
    }
    if (name === null) {
      group.name = mailbox;
      out.push({ group: mailbox });
      return;
    }
  }
  const entry: Address = {};
  if (name) entry.name = decodeWords(name);
  // an empty host (sent for bounces by some servers) is treated as no host
  if (mailbox !== null) entry.address = host ? `${mailbox}@${host}` : mailbox;
  if (group.name !== undefined) entry.group = group.name;
  out.push(entry);
}

/** An address list: NIL or "(" 1*address ")" (spaces between addresses tolerated). */
function addressList(c: Cursor): Address[] {
  const out: Address[] = [];
  if (c.peek() !== LPAREN) {
    c.lenientString(); // NIL, or a string some servers put here: nothing to keep
    return out;
  }
  c.open();
  const group = { name: undefined as string | undefined };
  while (!c.close()) {
    if (c.peek() === LPAREN) address(c, out, group);
    else c.skipValue();
  }
  return out;
}

export function envelope(c: Cursor): Envelope {
  const env: Envelope = { from: [], sender: [], replyTo: [], to: [], cc: [], bcc: [] };
  if (c.peek() !== LPAREN) {
    c.skipValue();
    return env;
  }
  c.open();
  let i = 0;
  while (!c.close()) {
    switch (i) {
      case 0: {
        const v = c.lenientString();
        if (v !== null) env.date = v;
        break;
      }
      case 1: {
        const v = c.lenientString();
        if (v !== null) env.subject = decodeWords(v);
        break;
      }
      case 2:
        env.from = addressList(c);
        break;
      case 3:
        env.sender = addressList(c);
        break;
      case 4:
        env.replyTo = addressList(c);
        break;
      case 5:
        env.to = addressList(c);
        break;
      case 6:
        env.cc = addressList(c);
        break;
      case 7:
        env.bcc = addressList(c);
        break;
      case 8: {
        const v = c.lenientString();
        if (v !== null) env.inReplyTo = v;
        break;
      }
      case 9: {
        const v = c.lenientString();
        if (v !== null) env.messageId = v;
        break;
      }
      default:
        c.skipValue();
    }
    i++;
    c.listSpace();
  }
  return env;
}
