/**
 * Bytes → packets: the framing layer (MQTT 5 §2.1, 3.1.1 §2.2) over parse.ts.
 *
 * TCP delivers arbitrary slices of the stream. The decoder parses whole packets straight out of
 * each chunk; only a packet cut by a chunk boundary is copied, piece by piece as its bytes
 * arrive, into a buffer of its own (grown geometrically up to the packet's size, so a packet
 * is copied at most a few times however the stream is split, and the memory held is bounded by
 * what actually arrived). The announced Remaining Length is checked against
 * `maximumPacketSize` as soon as the length bytes are in, before any of the body is buffered.
 *
 * Lifetime of decoded bytes: a PUBLISH payload is a view into the chunk it came in, or into the
 * buffer of a packet that spanned chunks. With `reusedChunks`, the caller overwrites each chunk
 * after `push()` returns (a transport reading into one reused buffer): then the decoder keeps no
 * view of a chunk, and payloads parsed out of one are copies (owned-bytes.ts). Other binary
 * fields are always copies. The decoder never writes into pushed chunks.
 */
import { malformed, packetTooLarge } from "./errors.js";
import { uninitialized } from "./owned-bytes.js";
import { MAX_PACKET_SIZE, type Packet, type ProtocolVersion } from "./packets.js";
import { parsePacket } from "./parse.js";

export interface PacketDecoderOptions {
  version: ProtocolVersion;
  /** Largest whole packet accepted, bytes (default: the protocol maximum, 268435460). */
  maximumPacketSize?: number;
  /** The caller overwrites each chunk once `push()` returns: keep no views of it. */
  reusedChunks?: boolean;
}

/** First size of the buffer for a packet that spans chunks (then doubled, up to its size). */
const FIRST_ASSEMBLY_SIZE = 64 * 1024;

export class PacketDecoder {
  /**
   * Protocol version used to parse everything but CONNECT. A CONNECT carries its own level, and
   * decoding one sets this field, so a server-side decoder learns the version by itself.
   */
  version: ProtocolVersion;
  /** Largest whole packet accepted (fixed header included, as MQTT 5 §3.1.2.11.4 counts it). */
  maximumPacketSize: number;
  /** See PacketDecoderOptions.reusedChunks (a transport may change it before the first push). */
  reusedChunks: boolean;

  /** The fixed header of an incomplete packet while it is itself incomplete (≤ 5 bytes). */
  private readonly head = new Uint8Array(5);
  /** The bytes of an incomplete packet whose size is known, from its first byte. */
  private assembly: Uint8Array | undefined;
  /** Bytes of the incomplete packet received so far (in `head` or `assembly`). */
  private filled = 0;
  /** Size of the incomplete packet once its header is known, else -1. */
  private needed = -1;
  /** Length of the fixed header of the incomplete packet once known. */
  private neededHeader = 0;
  private failure: Error | undefined;
  /** Body length of the packet frameSize() last measured. */
  private lastBodyLength = 0;

  constructor(options: PacketDecoderOptions) {
    this.version = options.version;
    this.maximumPacketSize = options.maximumPacketSize ?? MAX_PACKET_SIZE;
    this.reusedChunks = options.reusedChunks ?? false;
  }

  /** Bytes held back for an incomplete packet. */
  get bufferedBytes(): number {
    return this.filled;
  }

  /**
   * Feeds one chunk; returns the whole packets it completed (possibly none). Throws MQTTError
   * on malformed input; after that the stream is out of sync, so every later call rethrows the
   * same error and the connection must be closed.
   */
  push(chunk: Uint8Array): Packet[] {
    if (this.failure !== undefined) throw this.failure;
    try {
      const out: Packet[] = [];
      let pos = 0;
      if (this.filled > 0) {
        pos = this.continuePending(chunk, out);
        if (this.filled > 0) return out;
      }
      this.parseFrom(chunk, pos, out);
      return out;
    } catch (error) {
      this.failure = error as Error;
      this.assembly = undefined;
      this.filled = 0;
      throw error;
    }
  }

  /**
   * Adds the start of `chunk` to the incomplete packet; parses it once complete. Returns how
   * many bytes of `chunk` it took.
   */
  private continuePending(chunk: Uint8Array, out: Packet[]): number {
    let pos = 0;
    if (this.needed < 0) {
      // Still inside the fixed header: take bytes until its length is known.
      const head = this.head;
      while (this.needed < 0 && pos < chunk.length) {
        head[this.filled++] = chunk[pos++];
        this.needed = this.frameSize(head, 0, this.filled);
      }
      if (this.needed < 0) return pos;
      this.startAssembly(head.subarray(0, this.filled));
    }
    const take = Math.min(this.needed - this.filled, chunk.length - pos);
    this.reserve(this.filled + take);
    (this.assembly as Uint8Array).set(chunk.subarray(pos, pos + take), this.filled);
    this.filled += take;
    pos += take;
    if (this.filled === this.needed) {
      const packet = this.assembly as Uint8Array;
      const headerLength = this.neededHeader;
      this.assembly = undefined;
      this.filled = 0;
      this.needed = -1;
      // The packet's buffer is its own: its payload can be a view of it.
      this.emit(packet, 0, headerLength, packet.length, false, out);
    }
    return pos;
  }

  /** Parses whole packets from `buf` at `pos`; copies an incomplete tail. */
  private parseFrom(buf: Uint8Array, pos: number, out: Packet[]): void {
    const length = buf.length;
    const copy = this.reusedChunks;
    while (pos < length) {
      const size = this.frameSize(buf, pos, length);
      if (size < 0) {
        // Not even the fixed header is complete (at most 4 bytes are left).
        this.head.set(buf.subarray(pos), 0);
        this.filled = length - pos;
        this.needed = -1;
        return;
      }
      if (pos + size > length) {
        this.needed = size;
        this.startAssembly(buf.subarray(pos));
        return;
      }
      this.emit(buf, pos, size - this.lastBodyLength, size, copy, out);
      pos += size;
    }
  }

  private emit(
    buf: Uint8Array,
    pos: number,
    headerLength: number,
    size: number,
    copyPayload: boolean,
    out: Packet[],
  ): void {
    const packet = parsePacket(
      buf[pos],
      buf,
      pos + headerLength,
      pos + size,
      this.version,
      copyPayload,
    );
    if (packet.type === "connect") this.version = packet.protocolVersion;
    out.push(packet);
  }

  /** The incomplete packet's size is known (`needed`): copy its first bytes into its buffer. */
  private startAssembly(first: Uint8Array): void {
    this.neededHeader = this.needed - this.lastBodyLength;
    this.assembly = uninitialized(
      Math.min(this.needed, Math.max(FIRST_ASSEMBLY_SIZE, first.length)),
    );
    this.assembly.set(first, 0);
    this.filled = first.length;
  }

  /** Grows the assembly buffer to hold `bytes`: doubling, capped at the packet's size. */
  private reserve(bytes: number): void {
    const current = this.assembly as Uint8Array;
    if (bytes <= current.length) return;
    const grown = uninitialized(Math.min(this.needed, Math.max(bytes, current.length * 2)));
    grown.set(current.subarray(0, this.filled), 0);
    this.assembly = grown;
  }

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
}
