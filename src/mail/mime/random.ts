/**
 * Random tokens for Message-IDs and multipart boundaries. `randomBytes(16)` costs a few
 * microseconds per call (a trip into OpenSSL), which showed up as ~8 % of the CPU of sending a
 * small message, so bytes are drawn from the CSPRNG 4 KiB at a time and each byte is used once:
 * the tokens are exactly as unpredictable as single `randomBytes` calls. The characters are
 * picked with a table rather than `Buffer#toString`, whose per-call overhead dominates for a
 * 16-byte input.
 */
import { Buffer } from "node:buffer";
import { randomFillSync } from "node:crypto";

const pool = Buffer.allocUnsafeSlow(4096);
let used = pool.length;

function take(bytes: number): number {
  if (used + bytes > pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  const at = used;
  used += bytes;
  return at;
}

const HEX = "0123456789abcdef";

/** `bytes` random bytes as lower-case hex (2 characters per byte). */
export function randomHex(bytes: number): string {
  const at = take(bytes);
  let out = "";
  for (let i = at; i < at + bytes; i++) out += HEX[pool[i] >> 4] + HEX[pool[i] & 15];
  return out;
}

/** `chars` characters picked uniformly from `alphabet`, which must have exactly 64 characters. */
export function randomToken(chars: number, alphabet: string): string {
  if (alphabet.length !== 64) throw new RangeError("randomToken needs a 64-character alphabet");
  const at = take(chars);
  let out = "";
  for (let i = at; i < at + chars; i++) out += alphabet[pool[i] & 63];
  return out;
}
