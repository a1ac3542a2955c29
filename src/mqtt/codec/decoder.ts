/** Bytes → packets. Stub; implementation follows. */
import type { Packet, ProtocolVersion } from "./packets.js";
import { MAX_PACKET_SIZE } from "./packets.js";

export interface PacketDecoderOptions {
  version: ProtocolVersion;
  /** Largest whole packet accepted, bytes (default: the protocol maximum, 268435460). */
  maximumPacketSize?: number;
}

export class PacketDecoder {
  version: ProtocolVersion;
  maximumPacketSize: number;

  constructor(options: PacketDecoderOptions) {
    this.version = options.version;
    this.maximumPacketSize = options.maximumPacketSize ?? MAX_PACKET_SIZE;
  }

  /** Feeds one chunk; returns the zero or more whole packets it completed. Throws MQTTError. */
  push(_chunk: Uint8Array): Packet[] {
    return [];
  }
}
