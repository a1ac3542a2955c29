/**
 * A bounds-checked cursor over the bytes of one packet. Every read past `end` is a Malformed
 * Packet (the Remaining Length promised more than the packet holds).
 */
import { Buffer, isUtf8 } from "node:buffer";
import { malformed } from "./errors.js";

export class Reader {
  readonly buf: Uint8Array;
  pos: number;
  end: number;
  /** A Buffer over the same memory for UTF-8 decoding, made on first use. */
  private view: Buffer | undefined;

  constructor(buf: Uint8Array, pos: number, end: number) {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
  }

  private buffer(): Buffer {
    const b = this.buf;
    this.view ??= Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.length);
    return this.view;
  }

  remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number): void {
    if (this.pos + n > this.end) throw malformed("the packet ends in the middle of a field");
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++];
  }

  u16(): number {
    this.need(2);
    const v = (this.buf[this.pos] << 8) | this.buf[this.pos + 1];
    this.pos += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const b = this.buf;
    const p = this.pos;
    this.pos += 4;
    return b[p] * 0x1000000 + ((b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]);
  }

  /** Variable Byte Integer (MQTT 5 §1.5.5): at most four bytes, minimal encoding. */
  varint(): number {
    let value = 0;
    let multiplier = 1;
    for (let i = 0; i < 4; i++) {
      const byte = this.u8();
      value += (byte & 0x7f) * multiplier;
      if ((byte & 0x80) === 0) {
        // §1.5.5: "The encoded value MUST use the minimum number of bytes necessary".
        if (byte === 0 && i > 0) throw malformed("variable byte integer is not minimally encoded");
        return value;
      }
      multiplier *= 128;
    }
    throw malformed("variable byte integer longer than four bytes");
  }

  /**
   * UTF-8 Encoded String (MQTT 5 §1.5.4, 3.1.1 §1.5.3): two-byte length, then well-formed UTF-8
   * without U+0000 ([MQTT-1.5.4-1], [MQTT-1.5.4-2]). Surrogate code points and overlong forms
   * are ill-formed UTF-8 and rejected by the validator.
   */
  string(): string {
    const length = this.u16();
    this.need(length);
    const start = this.pos;
    const end = start + length;
    this.pos = end;
    const b = this.buf;
    // Fast path for short ASCII, the usual case for topics and ids.
    if (length <= 48) {
      let s = "";
      let i = start;
      for (; i < end; i++) {
        const c = b[i];
        if (c === 0 || c > 0x7f) break;
        s += String.fromCharCode(c);
      }
      if (i === end) return s;
    }
    const slice = this.buffer().subarray(start, end);
    if (slice.indexOf(0) !== -1) throw malformed("a UTF-8 string contains U+0000");
    if (!isUtf8(slice)) throw malformed("a string is not well-formed UTF-8");
    return slice.toString("utf8");
  }

  /** Binary Data (§1.5.6): two-byte length then bytes; returns a copy (small, rarely hot). */
  binary(): Uint8Array {
    const length = this.u16();
    return this.bytes(length).slice();
  }

  /** A view of the next `length` bytes (no copy). */
  bytes(length: number): Uint8Array {
    this.need(length);
    const start = this.pos;
    this.pos += length;
    return new Uint8Array(this.buf.buffer, this.buf.byteOffset + start, length);
  }
}
