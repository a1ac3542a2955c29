/**
 * Writes into a buffer with room for what is written: one pre-sized packet buffer, or the slab
 * of a WriteBatch. The encoder measures a packet first (stringByteLength, varintLength, …),
 * makes room once, then writes; the writer does no bounds checks of its own.
 */
import { Buffer } from "node:buffer";
import { invalidPacket } from "./errors.js";

const LONE_SURROGATE = /\p{Surrogate}/u;

/**
 * Byte length of `value` as an MQTT UTF-8 Encoded String (MQTT 5 §1.5.4), validating it:
 * a string, no U+0000, no lone surrogate (which cannot be encoded as UTF-8), ≤ 65535 bytes.
 */
export function stringByteLength(value: unknown, what: string): number {
  if (typeof value !== "string") throw invalidPacket(`${what} must be a string`);
  const n = value.length;
  let ascii = n <= 64;
  if (ascii) {
    for (let i = 0; i < n; i++) {
      const c = value.charCodeAt(i);
      if (c === 0 || c > 0x7f) {
        ascii = false;
        break;
      }
    }
  }
  if (ascii) return n;
  if (value.includes("\u0000")) throw invalidPacket(`${what} must not contain U+0000`);
  if (LONE_SURROGATE.test(value)) {
    throw invalidPacket(`${what} contains a lone surrogate, which is not valid UTF-8`);
  }
  const length = Buffer.byteLength(value, "utf8");
  if (length > 0xffff) throw invalidPacket(`${what} is longer than 65535 bytes of UTF-8`);
  return length;
}

export class Writer {
  buf: Buffer;
  pos: number;

  constructor(buf: Buffer, pos = 0) {
    this.buf = buf;
    this.pos = pos;
  }

  u8(v: number): void {
    this.buf[this.pos++] = v;
  }

  u16(v: number): void {
    this.buf[this.pos++] = v >>> 8;
    this.buf[this.pos++] = v & 0xff;
  }

  u32(v: number): void {
    this.buf.writeUInt32BE(v, this.pos);
    this.pos += 4;
  }

  varint(v: number): void {
    do {
      let byte = v % 128;
      v = Math.floor(v / 128);
      if (v > 0) byte |= 0x80;
      this.buf[this.pos++] = byte;
    } while (v > 0);
  }

  /** A string already validated and measured by stringByteLength. */
  string(s: string): void {
    const lengthAt = this.pos;
    this.pos += 2;
    const n = s.length <= 64 ? asciiWrite(this.buf, s, this.pos) : -1;
    const written = n >= 0 ? n : this.buf.write(s, this.pos, "utf8");
    this.buf[lengthAt] = written >>> 8;
    this.buf[lengthAt + 1] = written & 0xff;
    this.pos += written;
  }

  /** A string known to be all ASCII (its UTF-8 length is its length), already validated. */
  asciiString(s: string): void {
    const n = s.length;
    const buf = this.buf;
    let at = this.pos;
    buf[at++] = n >>> 8;
    buf[at++] = n & 0xff;
    for (let i = 0; i < n; i++) buf[at + i] = s.charCodeAt(i);
    this.pos = at + n;
  }

  binary(b: Uint8Array): void {
    this.u16(b.length);
    this.raw(b);
  }

  raw(b: Uint8Array): void {
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
}

/** Writes an all-ASCII string byte by byte; returns -1 (writing nothing) otherwise. */
function asciiWrite(buf: Buffer, s: string, at: number): number {
  const n = s.length;
  for (let i = 0; i < n; i++) if (s.charCodeAt(i) > 0x7f) return -1;
  for (let i = 0; i < n; i++) buf[at + i] = s.charCodeAt(i);
  return n;
}
