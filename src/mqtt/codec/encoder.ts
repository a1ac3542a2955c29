/** Packet → bytes. Stub; implementation follows. */
import { invalidPacket } from "./errors.js";
import type { Packet, ProtocolVersion } from "./packets.js";

/**
 * Encodes one packet into one freshly allocated buffer (one socket write). Validates what it is
 * given and throws MQTTError (code MQTT_INVALID_PACKET / MQTT_INVALID_TOPIC) instead of writing
 * a packet the peer would reject.
 */
export function encodePacket(packet: Packet, version: ProtocolVersion): Uint8Array {
  throw invalidPacket(`encoder not implemented yet (${packet.type}, v${version})`);
}
