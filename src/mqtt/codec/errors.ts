/**
 * The typed errors the codec raises. Each maps to the MQTT 5 reason code a server or client
 * would put in the DISCONNECT it sends before closing (MQTT 5 §4.13: a Malformed Packet or a
 * Protocol Error ends the connection).
 */
import { MQTTError } from "../../errors.js";

/** Stable `code`s of codec errors. */
export const CodecErrorCode = {
  /** The bytes break the packet grammar (MQTT 5 §4.13, reason 0x81). */
  MALFORMED_PACKET: "MQTT_MALFORMED_PACKET",
  /** Well-formed bytes that break a protocol rule (reason 0x82). */
  PROTOCOL_ERROR: "MQTT_PROTOCOL_ERROR",
  /** Larger than the Maximum Packet Size (reason 0x95). */
  PACKET_TOO_LARGE: "MQTT_PACKET_TOO_LARGE",
  /** CONNECT with a protocol name/level we do not speak (reason 0x84). */
  UNSUPPORTED_PROTOCOL_VERSION: "MQTT_UNSUPPORTED_PROTOCOL_VERSION",
  /** A topic name or filter that breaks MQTT 5 §4.7 (reason 0x90 / 0x8F). */
  INVALID_TOPIC: "MQTT_INVALID_TOPIC",
  /** A PUBLISH with Topic Alias 0 (MQTT 5 §3.3.2.3.4, reason 0x94). */
  TOPIC_ALIAS_INVALID: "MQTT_TOPIC_ALIAS_INVALID",
  /** The caller asked the encoder for something MQTT cannot carry. */
  INVALID_PACKET: "MQTT_INVALID_PACKET",
} as const;

export function malformed(message: string): MQTTError {
  return new MQTTError(`Malformed MQTT packet: ${message}`, {
    code: CodecErrorCode.MALFORMED_PACKET,
    reasonCode: 0x81,
  });
}

export function protocolError(message: string): MQTTError {
  return new MQTTError(`MQTT protocol error: ${message}`, {
    code: CodecErrorCode.PROTOCOL_ERROR,
    reasonCode: 0x82,
  });
}

export function packetTooLarge(size: number, maximum: number): MQTTError {
  return new MQTTError(
    `MQTT packet of ${size} bytes exceeds the maximum packet size of ${maximum} bytes`,
    { code: CodecErrorCode.PACKET_TOO_LARGE, reasonCode: 0x95 },
  );
}

/** An argument given to the encoder cannot be put on the wire. */
export function invalidPacket(message: string): MQTTError {
  return new MQTTError(`Cannot encode MQTT packet: ${message}`, {
    code: CodecErrorCode.INVALID_PACKET,
  });
}

export function topicAliasInvalid(message: string): MQTTError {
  return new MQTTError(`Invalid MQTT topic alias: ${message}`, {
    code: CodecErrorCode.TOPIC_ALIAS_INVALID,
    reasonCode: 0x94,
  });
}
