/**
 * Packets encoded back to back for one write to the transport. Each packet is measured and
 * checked first (nothing is written for a packet that throws), then encoded straight into a
 * shared slab after the previous one: a burst of small packets costs no buffer of its own per
 * packet and reaches the transport as one chunk. A payload of `ZERO_COPY_MIN` bytes or more is
 * not copied: the batch keeps the caller's bytes as a chunk of their own behind the header, for
 * a vectored write (writev).
 *
 * The slab is only appended to. Bytes handed out by `take()` are never written again (the
 * transport may hold them until the kernel accepts them); when the slab is full a new one
 * replaces it and the old one is freed once the transport lets go of its bytes.
 */
import { Buffer } from "node:buffer";
import {
  encodePacket,
  measurePublish,
  packetSize,
  publishFirstByte,
  writePublishHeader,
} from "./encoder.js";
import type { Packet, Properties, ProtocolVersion, QoSLevel } from "./packets.js";
import { Writer } from "./writer.js";

/** Bytes per slab: many small packets, while a few large ones do not pin much memory. */
const SLAB_SIZE = 64 * 1024;
/** Payloads from this size on are written from the caller's buffer instead of being copied. */
export const ZERO_COPY_MIN = 8 * 1024;

const EMPTY = Buffer.alloc(0);
/** Type and flags of each acknowledgement's fixed header (§3.6.1: PUBREL's flags are 0b0010). */
const ACK_FIRST_BYTE = { puback: 0x40, pubrec: 0x50, pubrel: 0x62, pubcomp: 0x70 } as const;

export class WriteBatch {
  /** Writes into the current slab; `writer.pos` is where the next packet goes. */
  private readonly writer = new Writer(EMPTY);
  /** Start of the slab bytes written but not yet handed out as a chunk. */
  private start = 0;
  private chunks: Uint8Array[] = [];
  private bytes = 0;

  constructor(readonly version: ProtocolVersion) {}

  /** Bytes encoded since the last `take()`. */
  get byteLength(): number {
    return this.bytes;
  }

  /** Encodes a packet of any type; throws MQTTError (nothing is added) when it cannot. */
  add(packet: Packet, maximumPacketSize = Number.POSITIVE_INFINITY): void {
    if (packet.type === "publish") {
      this.publish(
        packet.topic,
        packet.payload,
        packet.qos,
        packet.retain,
        packet.dup,
        packet.packetId,
        packet.properties,
        maximumPacketSize,
      );
    } else {
      this.append(encodePacket(packet, this.version, maximumPacketSize));
    }
  }

  /**
   * Encodes a PUBLISH (§3.3) from its fields. Returns true when the batch keeps `payload` itself
   * rather than a copy (`ZERO_COPY_MIN` bytes or more): its bytes must stay unchanged until
   * the transport has written them. Throws MQTTError (MQTT_INVALID_PACKET, MQTT_INVALID_TOPIC,
   * MQTT_PACKET_TOO_LARGE above `maximumPacketSize`) before adding anything.
   */
  publish(
    topic: string,
    payload: Uint8Array,
    qos: QoSLevel,
    retain: boolean,
    dup: boolean,
    packetId: number | undefined,
    properties: Properties | undefined,
    maximumPacketSize = Number.POSITIVE_INFINITY,
  ): boolean {
    const version = this.version;
    const remaining = measurePublish(topic, payload, qos, dup, packetId, properties, version);
    const size = packetSize(remaining, maximumPacketSize);
    const copy = payload.length < ZERO_COPY_MIN;
    const w = this.room(copy ? size : size - payload.length);
    w.u8(publishFirstByte(qos, retain, dup));
    w.varint(remaining);
    writePublishHeader(w, topic, qos, packetId, properties, version);
    if (copy) w.raw(payload);
    else {
      this.cut();
      this.chunks.push(payload);
    }
    this.bytes += size;
    return !copy;
  }

  /**
   * Encodes a PUBACK, PUBREC, PUBREL or PUBCOMP of success without properties: the four bytes
   * both versions share (MQTT 5 §3.4.2.1 lets the reason code and properties be left out).
   */
  acknowledge(type: "puback" | "pubrec" | "pubrel" | "pubcomp", packetId: number): void {
    // §2.2.1: a Packet Identifier is a non-zero 16-bit integer.
    if (!Number.isInteger(packetId) || packetId < 1 || packetId > 0xffff) {
      this.append(encodePacket({ type, packetId }, this.version)); // throws the codec's error
      return;
    }
    const w = this.room(4);
    w.u8(ACK_FIRST_BYTE[type]);
    w.u8(2);
    w.u16(packetId);
    this.bytes += 4;
  }

  /** Adds bytes already encoded (copied when small, kept as they are when large). */
  append(bytes: Uint8Array): void {
    if (bytes.length < ZERO_COPY_MIN) this.room(bytes.length).raw(bytes);
    else {
      this.cut();
      this.chunks.push(bytes);
    }
    this.bytes += bytes.length;
  }

  /** Everything added since the last call, in order, as few chunks as possible; empties the batch. */
  take(): Uint8Array[] {
    this.cut();
    const chunks = this.chunks;
    this.chunks = [];
    this.bytes = 0;
    return chunks;
  }

  /** Drops everything added since the last `take()`. */
  clear(): void {
    this.start = this.writer.pos;
    this.chunks = [];
    this.bytes = 0;
  }

  /** The writer, with `size` bytes of room at its position (in a new slab if need be). */
  private room(size: number): Writer {
    const w = this.writer;
    if (w.pos + size > w.buf.length) {
      this.cut();
      w.buf = Buffer.allocUnsafe(Math.max(SLAB_SIZE, size));
      w.pos = 0;
      this.start = 0;
    }
    return w;
  }

  /** Closes the slab bytes written since `start` into a chunk. */
  private cut(): void {
    const w = this.writer;
    if (w.pos > this.start) {
      this.chunks.push(w.buf.subarray(this.start, w.pos));
      this.start = w.pos;
    }
  }
}
