/**
 * The MQTT packet model shared by the encoder and the decoder: one plain object per control
 * packet, discriminated by `type`, fields in camelCase. Covers MQTT 3.1.1 (protocol level 4)
 * and MQTT 5.0 (protocol level 5).
 *
 * Conventions
 * - Reason codes are plain numbers (names in reason-codes.ts). In 3.1.1 the CONNACK return
 *   code and the SUBACK return codes use the same fields; 3.1.1 has no other reason codes, so
 *   the decoder reports `reasonCode: 0` for PUBACK/PUBREC/PUBREL/PUBCOMP/DISCONNECT there.
 * - `properties` exist only in MQTT 5; the encoder ignores them for version 4 and the decoder
 *   sets `properties` only when the packet carried at least one property.
 * - Binary fields (payload, password, correlation/authentication data) are `Uint8Array`.
 *   The decoder returns views (see PacketDecoder for the lifetime rules).
 */

export type ProtocolVersion = 4 | 5;

/** Quality of service of a delivery (MQTT 5 §4.3, 3.1.1 §4.3). */
export type QoSLevel = 0 | 1 | 2;

/**
 * MQTT 5 properties (MQTT 5 §2.2.2.2). One interface for every packet type; which ones a packet
 * may carry is checked at runtime by both the encoder and the decoder (the table lives in
 * properties.ts), and each property may appear once except `userProperties` and (in PUBLISH)
 * `subscriptionIdentifiers`.
 */
export interface Properties {
  /** 0x01 — 0: unspecified bytes, 1: UTF-8 text (PUBLISH, will). */
  payloadFormatIndicator?: 0 | 1;
  /** 0x02 — seconds (PUBLISH, will). */
  messageExpiryInterval?: number;
  /** 0x03 — MIME type of the payload (PUBLISH, will). */
  contentType?: string;
  /** 0x08 — topic for the response (PUBLISH, will). */
  responseTopic?: string;
  /** 0x09 — correlation data of a request/response (PUBLISH, will). */
  correlationData?: Uint8Array;
  /**
   * 0x0B — subscription identifiers, 1..268435455. SUBSCRIBE carries at most one; a PUBLISH
   * from the server carries one per matching subscription.
   */
  subscriptionIdentifiers?: number[];
  /** 0x11 — seconds; 0xFFFFFFFF means never expires (CONNECT, CONNACK, DISCONNECT). */
  sessionExpiryInterval?: number;
  /** 0x12 — client id chosen by the server (CONNACK). */
  assignedClientIdentifier?: string;
  /** 0x13 — keep alive the server wants the client to use, seconds (CONNACK). */
  serverKeepAlive?: number;
  /** 0x15 — enhanced authentication method (CONNECT, CONNACK, AUTH). */
  authenticationMethod?: string;
  /** 0x16 — enhanced authentication data (CONNECT, CONNACK, AUTH). */
  authenticationData?: Uint8Array;
  /** 0x17 — whether the server may send reason strings/user properties on failures (CONNECT). */
  requestProblemInformation?: boolean;
  /** 0x18 — seconds to delay the will message (will). */
  willDelayInterval?: number;
  /** 0x19 — ask the server for response information (CONNECT). */
  requestResponseInformation?: boolean;
  /** 0x1A — basis for response topics (CONNACK). */
  responseInformation?: string;
  /** 0x1C — another server to use (CONNACK, DISCONNECT). */
  serverReference?: string;
  /** 0x1F — human-readable diagnostic (acks, CONNACK, DISCONNECT, AUTH). */
  reasonString?: string;
  /** 0x21 — maximum concurrent QoS 1/2 publications the sender accepts, 1..65535. */
  receiveMaximum?: number;
  /** 0x22 — highest topic alias the sender accepts (CONNECT, CONNACK). */
  topicAliasMaximum?: number;
  /** 0x23 — topic alias, 1..65535 (PUBLISH). */
  topicAlias?: number;
  /** 0x24 — highest QoS the server supports, 0 or 1 (absent means 2) (CONNACK). */
  maximumQoS?: 0 | 1;
  /** 0x25 — whether the server supports retained messages (CONNACK). */
  retainAvailable?: boolean;
  /** 0x26 — user properties, in order, duplicates allowed (every packet). */
  userProperties?: [string, string][];
  /** 0x27 — largest packet the sender accepts, bytes, ≥ 1 (CONNECT, CONNACK). */
  maximumPacketSize?: number;
  /** 0x28 — whether wildcard subscriptions are supported (CONNACK). */
  wildcardSubscriptionAvailable?: boolean;
  /** 0x29 — whether subscription identifiers are supported (CONNACK). */
  subscriptionIdentifiersAvailable?: boolean;
  /** 0x2A — whether shared subscriptions are supported (CONNACK). */
  sharedSubscriptionAvailable?: boolean;
}

/** The will message of a CONNECT (MQTT 5 §3.1.3.2–3.1.3.4, 3.1.1 §3.1.2.5–3.1.2.7). */
export interface Will {
  topic: string;
  payload: Uint8Array;
  qos: QoSLevel;
  retain: boolean;
  /** MQTT 5 will properties (payload format, expiry, content type, response topic, …). */
  properties?: Properties;
}

export interface ConnectPacket {
  type: "connect";
  /** Protocol level written into the packet; the decoder reports what the peer sent. */
  protocolVersion: ProtocolVersion;
  clientId: string;
  /** Clean Start (5) / Clean Session (3.1.1). */
  clean: boolean;
  /** Keep alive, seconds, 0..65535. */
  keepalive: number;
  username?: string;
  /** Encoder accepts a string (sent as UTF-8); the decoder always returns bytes. */
  password?: Uint8Array | string;
  will?: Will;
  properties?: Properties;
}

export interface ConnackPacket {
  type: "connack";
  sessionPresent: boolean;
  /** MQTT 5 reason code, or the 3.1.1 return code (0..5). */
  reasonCode: number;
  properties?: Properties;
}

export interface PublishPacket {
  type: "publish";
  /** May be "" in MQTT 5 when `properties.topicAlias` names an alias already set. */
  topic: string;
  payload: Uint8Array;
  qos: QoSLevel;
  retain: boolean;
  dup: boolean;
  /** 1..65535; present exactly when qos > 0. */
  packetId?: number;
  properties?: Properties;
}

/** PUBACK, PUBREC, PUBREL and PUBCOMP share a layout (MQTT 5 §3.4–3.7). */
interface AckFields {
  packetId: number;
  /** Defaults to 0 (success) when encoding; always set by the decoder. */
  reasonCode?: number;
  properties?: Properties;
}
export interface PubackPacket extends AckFields {
  type: "puback";
}
export interface PubrecPacket extends AckFields {
  type: "pubrec";
}
export interface PubrelPacket extends AckFields {
  type: "pubrel";
}
export interface PubcompPacket extends AckFields {
  type: "pubcomp";
}

/** One topic filter of a SUBSCRIBE with its options (MQTT 5 §3.8.3.1). */
export interface Subscription {
  topicFilter: string;
  qos: QoSLevel;
  /** MQTT 5: do not send my own publications back to me. */
  noLocal?: boolean;
  /** MQTT 5: keep the RETAIN flag as published instead of clearing it. */
  retainAsPublished?: boolean;
  /** MQTT 5: 0 send retained on subscribe, 1 only if new subscription, 2 never. */
  retainHandling?: 0 | 1 | 2;
}

export interface SubscribePacket {
  type: "subscribe";
  packetId: number;
  subscriptions: Subscription[];
  properties?: Properties;
}

export interface SubackPacket {
  type: "suback";
  packetId: number;
  /** One per requested filter, in order: granted QoS (0..2) or a failure code (≥ 0x80). */
  reasonCodes: number[];
  properties?: Properties;
}

export interface UnsubscribePacket {
  type: "unsubscribe";
  packetId: number;
  topicFilters: string[];
  properties?: Properties;
}

export interface UnsubackPacket {
  type: "unsuback";
  packetId: number;
  /** MQTT 5: one per filter. MQTT 3.1.1 UNSUBACK has no payload, so this is `[]` there. */
  reasonCodes: number[];
  properties?: Properties;
}

export interface PingreqPacket {
  type: "pingreq";
}

export interface PingrespPacket {
  type: "pingresp";
}

export interface DisconnectPacket {
  type: "disconnect";
  /** MQTT 5 only; defaults to 0 (normal disconnection). */
  reasonCode?: number;
  properties?: Properties;
}

/** MQTT 5 only (§3.15): enhanced authentication exchange. */
export interface AuthPacket {
  type: "auth";
  /** 0x00 success, 0x18 continue authentication, 0x19 re-authenticate. Defaults to 0. */
  reasonCode?: number;
  properties?: Properties;
}

export type Packet =
  | ConnectPacket
  | ConnackPacket
  | PublishPacket
  | PubackPacket
  | PubrecPacket
  | PubrelPacket
  | PubcompPacket
  | SubscribePacket
  | SubackPacket
  | UnsubscribePacket
  | UnsubackPacket
  | PingreqPacket
  | PingrespPacket
  | DisconnectPacket
  | AuthPacket;

export type PacketType = Packet["type"];

/** Control packet type numbers of the fixed header (MQTT 5 §2.1.2, 3.1.1 §2.2.1). */
export const PACKET_TYPE_CODES: Readonly<Record<PacketType, number>> = {
  connect: 1,
  connack: 2,
  publish: 3,
  puback: 4,
  pubrec: 5,
  pubrel: 6,
  pubcomp: 7,
  subscribe: 8,
  suback: 9,
  unsubscribe: 10,
  unsuback: 11,
  pingreq: 12,
  pingresp: 13,
  disconnect: 14,
  auth: 15,
};

/** Largest Remaining Length a four-byte variable byte integer can carry (MQTT 5 §1.5.5). */
export const MAX_REMAINING_LENGTH = 268_435_455;

/** Largest whole packet: 1 byte of type/flags + 4 length bytes + the remaining length. */
export const MAX_PACKET_SIZE = 1 + 4 + MAX_REMAINING_LENGTH;
