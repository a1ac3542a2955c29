/**
 * Bytes → packets: the framing layer (MQTT 5 §2.1, 3.1.1 §2.2) over parse.ts.
 *
 * TCP delivers arbitrary slices of the stream. The decoder parses whole packets straight out of
 * each chunk; only a packet cut by a chunk boundary is kept back, as a list of pieces, and
 * joined once — when its last byte has arrived, into a buffer of exactly its size — so only
 * bytes of packets that straddle chunks are copied, each once, and the cost stays linear
 * however the stream is split. The announced Remaining Length is checked
 * against `maximumPacketSize` as soon as the length bytes are in, before any of the body is
 * buffered, which bounds the memory a peer can make us hold.
 *
 * Lifetime of decoded bytes: a PUBLISH payload is a view (`Uint8Array`) into the chunk it came
 * in, or into a fresh buffer when the packet spanned chunks. The decoder never writes into
 * those bytes, so the payload stays valid as long as the caller does not overwrite a chunk it
 * pushed (Node's socket chunks are never reused). Other binary fields are copies.
 */
import { Buffer } from "node:buffer";
import { malformed, packetTooLarge } from "./errors.js";
import { MAX_PACKET_SIZE, type Packet, type ProtocolVersion } from "./packets.js";
import { parsePacket } from "./parse.js";

export interface PacketDecoderOptions {
  version: ProtocolVersion;
  /** Largest whole packet accepted, bytes (default: the protocol maximum, 268435460). */
  maximumPacketSize?: number;
}

export class PacketDecoder {
  /**
   * Protocol version used to parse everything but CONNECT. A CONNECT carries its own level, and
   * decoding one sets this field, so a server-side decoder learns the version by itself.
   */
  version: ProtocolVersion;
  /** Largest whole packet accepted (fixed header included, as MQTT 5 §3.1.2.11.4 counts it). */
  maximumPacketSize: number;

  /** Pieces of an incomplete packet, oldest first. */
  private pieces: Uint8Array[] = [];
  private pendingBytes = 0;
  /** Size of the incomplete packet once its header is known, else -1. */
  private needed = -1;
  private failure: Error | undefined;

  constructor(options: PacketDecoderOptions) {
    this.version = options.version;
    this.maximumPacketSize = options.maximumPacketSize ?? MAX_PACKET_SIZE;
  }

  /** Bytes held back for an incomplete packet. */
  get bufferedBytes(): number {
    return this.pendingBytes;
  }

  /**
   * Feeds one chunk; returns the whole packets it completed (possibly none). Throws MQTTError
   * on malformed input; after that the stream is out of sync, so every later call rethrows the
   * same error and the connection must be closed.
   */
  push(chunk: Uint8Array): Packet[] {
    if (this.failure !== undefined) throw this.failure;
    try {
      return this.pushChunk(chunk);
    } catch (error) {
      this.failure = error as Error;
      this.pieces = [];
      this.pendingBytes = 0;
      throw error;
    }
  }

  private pushChunk(chunk: Uint8Array): Packet[] {
    const out: Packet[] = [];
    if (chunk.length === 0) return out;
    if (this.pendingBytes === 0) {
      this.parseFrom(chunk, 0, out);
      return out;
    }
    const before = this.pendingBytes;
    this.pieces.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.needed < 0) this.needed = this.headerOfPending();
    if (this.needed < 0 || this.pendingBytes < this.needed) return out;
    // The held-back packet is complete. Every earlier piece belongs to it (it was incomplete
    // before this chunk); copy those and just the bytes of this chunk it still needs into one
    // buffer of the packet's size, then go on parsing the rest of this chunk in place.
    const size = this.needed;
    const joined = Buffer.allocUnsafe(size); // every byte is written below
    let at = 0;
    for (let i = 0; i < this.pieces.length - 1; i++) {
      joined.set(this.pieces[i], at);
      at += this.pieces[i].length;
    }
    const fromChunk = size - before;
    joined.set(chunk.subarray(0, fromChunk), at);
    this.pieces = [];
    this.pendingBytes = 0;
    this.needed = -1;
    this.parseFrom(joined, 0, out);
    if (fromChunk < chunk.length) this.parseFrom(chunk, fromChunk, out);
    return out;
  }

  /** Parses whole packets from `buf` at `pos`; keeps an incomplete tail as a pending piece. */
  private parseFrom(buf: Uint8Array, pos: number, out: Packet[]): void {
    const length = buf.length;
    while (pos < length) {
      const size = this.frameSize(buf, pos, length);
      if (size < 0 || pos + size > length) {
        const rest = buf.subarray(pos);
        this.pieces.push(rest);
        this.pendingBytes = rest.length;
        this.needed = size;
        return;
      }
      const first = buf[pos];
      const headerLength = size - this.lastBodyLength;
      const packet = parsePacket(first, buf, pos + headerLength, pos + size, this.version);
      if (packet.type === "connect") this.version = packet.protocolVersion;
      out.push(packet);
      pos += size;
    }
  }

  private lastBodyLength = 0;

  /**
   * Total size of the packet starting at buf[pos], from its fixed header; -1 when the header
   * itself is not complete yet. Throws for a bad length or one above the maximum.
   */
  private frameSize(buf: Uint8Array, pos: number, end: number): number {
    let value = 0;
    let multiplier = 1;
    for (let i = 1; i <= 4; i++) {
      if (pos + i >= end) return -1;
      const byte = buf[pos + i];
      value += (byte & 0x7f) * multiplier;
      if ((byte & 0x80) === 0) {
        // §1.5.5: the minimum number of bytes must be used.
        if (byte === 0 && i > 1) throw malformed("Remaining Length is not minimally encoded");
        const size = 1 + i + value;
        if (size > this.maximumPacketSize) throw packetTooLarge(size, this.maximumPacketSize);
        this.lastBodyLength = value;
        return size;
      }
      multiplier *= 128;
    }
    // §1.5.5 / 3.1.1 §2.2.3: at most four bytes; a fifth continuation is a Malformed Packet.
    throw malformed("Remaining Length has more than four bytes");
  }

  /** frameSize over the pending pieces (the header is at most 5 bytes, so this is cheap). */
  private headerOfPending(): number {
    const head = new Uint8Array(Math.min(5, this.pendingBytes));
    let at = 0;
    for (const piece of this.pieces) {
      const take = Math.min(piece.length, head.length - at);
      head.set(piece.subarray(0, take), at);
      at += take;
      if (at === head.length) break;
    }
    return this.frameSize(head, 0, head.length);
  }
}
