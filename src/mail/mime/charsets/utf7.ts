/**
 * UTF-7 (RFC 2152), which old Outlook versions still send as `charset=utf-7`; the WHATWG
 * decoders Node ships have none. Directly encoded characters stand for themselves; `+` opens
 * a run of modified base64 (no `=` padding) holding UTF-16 code units, closed by the first
 * character outside the base64 alphabet, a `-` there being absorbed; `+-` is a plain `+`.
 * Bits left over at the end of a run are discarded (§ "Rule 2"); a lone surrogate becomes
 * U+FFFD. Never throws.
 */

/** Value of a base64 character (RFC 2045 alphabet), or -1. */
function base64Value(c: number): number {
  if (c >= 0x41 && c <= 0x5a) return c - 0x41;
  if (c >= 0x61 && c <= 0x7a) return c - 0x61 + 26;
  if (c >= 0x30 && c <= 0x39) return c - 0x30 + 52;
  if (c === 0x2b) return 62;
  if (c === 0x2f) return 63;
  return -1;
}

const PLUS = 0x2b;
/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const MINUS = 0x2d;

export function decodeUtf7(bytes: Uint8Array): string {
  const units: number[] = [];
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const b = bytes[i];
    if (b !== PLUS) {
      // A byte over 0x7F is not UTF-7 at all: kept as its Latin-1 character, never dropped.
      units.push(b);
      i++;
      continue;
    }
    i++;
    if (i < n && bytes[i] === MINUS) {
      units.push(PLUS);
      i++;
      continue;
    }
    let bits = 0;
    let count = 0;
    while (i < n) {
      const v = base64Value(bytes[i]);
      if (v < 0) break;
      bits = ((bits << 6) | v) & 0xffffff;
      count += 6;
      if (count >= 16) {
        count -= 16;
        units.push((bits >> count) & 0xffff);
      }
      i++;
    }
    if (i < n && bytes[i] === MINUS) i++;
  }
  let out = "";
  for (let k = 0; k < units.length; k += 4096) {
    out += String.fromCharCode(...units.slice(k, k + 4096));
  }
  return out.replace(LONE_SURROGATE, "\uFFFD");
}
