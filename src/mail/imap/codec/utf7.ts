/**
 * Modified UTF-7 mailbox names (RFC 3501 §5.1.3): printable US-ASCII stands for itself except
 * "&", written "&-"; any other run of characters is UTF-16BE in modified base64 ("," for "/",
 * no padding) between "&" and "-". UTF8=ACCEPT (RFC 6855 §3) replaces it with plain UTF-8.
 */
import { Buffer } from "node:buffer";

function printable(code: number): boolean {
  return code >= 0x20 && code <= 0x7e;
}

export function encodeModifiedUTF7(name: string): string {
  let out = "";
  let i = 0;
  while (i < name.length) {
    const code = name.charCodeAt(i);
    if (printable(code)) {
      out += code === 0x26 ? "&-" : name[i];
      i++;
      continue;
    }
    let j = i + 1;
    while (j < name.length && !printable(name.charCodeAt(j))) j++;
    const units = Buffer.allocUnsafe((j - i) * 2);
    for (let k = i; k < j; k++) units.writeUInt16BE(name.charCodeAt(k), (k - i) * 2);
    out += `&${units.toString("base64").replace(/=+$/, "").replace(/\//g, ",")}-`;
    i = j;
  }
  return out;
}

const MODIFIED_BASE64 = /^[A-Za-z0-9+,]+$/;

/** Decodes a modified UTF-7 name; a malformed one is returned as it came (never throws). */
export function decodeModifiedUTF7(wire: string): string {
  if (!wire.includes("&")) return wire;
  let out = "";
  let i = 0;
  while (i < wire.length) {
    const amp = wire.indexOf("&", i);
    if (amp < 0) {
      out += wire.slice(i);
      break;
    }
    out += wire.slice(i, amp);
    const dash = wire.indexOf("-", amp + 1);
    if (dash < 0) return wire;
    if (dash === amp + 1) {
      out += "&";
      i = dash + 1;
      continue;
    }
    const b64 = wire.slice(amp + 1, dash);
    // A length of 4k+1 cannot come from whole bytes; UTF-16 needs an even byte count.
    if (!MODIFIED_BASE64.test(b64) || b64.length % 4 === 1) return wire;
    const bytes = Buffer.from(b64.replace(/,/g, "/"), "base64");
    if (bytes.length % 2 !== 0 || bytes.length === 0) return wire;
    for (let k = 0; k < bytes.length; k += 2) {
      const unit = bytes.readUInt16BE(k);
      // printable ASCII "MUST NOT" be encoded (§5.1.3): such a name is not modified UTF-7
      if (printable(unit)) return wire;
      out += String.fromCharCode(unit);
    }
    i = dash + 1;
  }
  return out;
}

/** A mailbox name from the wire (LIST, STATUS, ...) for people: mUTF-7 unless UTF-8 is on. */
export function decodeMailboxName(wire: string, utf8: boolean): string {
  return utf8 ? wire : decodeModifiedUTF7(wire);
}
