/**
 * MQTT 5 reason codes (MQTT 5 §2.4 table 2-6) and the 3.1.1 CONNACK return codes
 * (3.1.1 §3.2.2.3), with the sets each packet type may carry.
 */
import type { PacketType } from "./packets.js";

export const ReasonCode = {
  SUCCESS: 0x00,
  /** Same value as SUCCESS, used in DISCONNECT. */
  NORMAL_DISCONNECTION: 0x00,
  GRANTED_QOS_0: 0x00,
  GRANTED_QOS_1: 0x01,
  GRANTED_QOS_2: 0x02,
  DISCONNECT_WITH_WILL_MESSAGE: 0x04,
  NO_MATCHING_SUBSCRIBERS: 0x10,
  NO_SUBSCRIPTION_EXISTED: 0x11,
  CONTINUE_AUTHENTICATION: 0x18,
  RE_AUTHENTICATE: 0x19,
  UNSPECIFIED_ERROR: 0x80,
  MALFORMED_PACKET: 0x81,
  PROTOCOL_ERROR: 0x82,
  IMPLEMENTATION_SPECIFIC_ERROR: 0x83,
  UNSUPPORTED_PROTOCOL_VERSION: 0x84,
  CLIENT_IDENTIFIER_NOT_VALID: 0x85,
  BAD_USER_NAME_OR_PASSWORD: 0x86,
  NOT_AUTHORIZED: 0x87,
  SERVER_UNAVAILABLE: 0x88,
  SERVER_BUSY: 0x89,
  BANNED: 0x8a,
  SERVER_SHUTTING_DOWN: 0x8b,
  BAD_AUTHENTICATION_METHOD: 0x8c,
  KEEP_ALIVE_TIMEOUT: 0x8d,
  SESSION_TAKEN_OVER: 0x8e,
  TOPIC_FILTER_INVALID: 0x8f,
  TOPIC_NAME_INVALID: 0x90,
  PACKET_IDENTIFIER_IN_USE: 0x91,
  PACKET_IDENTIFIER_NOT_FOUND: 0x92,
  RECEIVE_MAXIMUM_EXCEEDED: 0x93,
  TOPIC_ALIAS_INVALID: 0x94,
  PACKET_TOO_LARGE: 0x95,
  MESSAGE_RATE_TOO_HIGH: 0x96,
  QUOTA_EXCEEDED: 0x97,
  ADMINISTRATIVE_ACTION: 0x98,
  PAYLOAD_FORMAT_INVALID: 0x99,
  RETAIN_NOT_SUPPORTED: 0x9a,
  QOS_NOT_SUPPORTED: 0x9b,
  USE_ANOTHER_SERVER: 0x9c,
  SERVER_MOVED: 0x9d,
  SHARED_SUBSCRIPTIONS_NOT_SUPPORTED: 0x9e,
  CONNECTION_RATE_EXCEEDED: 0x9f,
  MAXIMUM_CONNECT_TIME: 0xa0,
  SUBSCRIPTION_IDENTIFIERS_NOT_SUPPORTED: 0xa1,
  WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED: 0xa2,
} as const;

/** 3.1.1 CONNACK return codes (3.1.1 §3.2.2.3, table 3.1). */
export const ConnectReturnCode = {
  ACCEPTED: 0,
  UNACCEPTABLE_PROTOCOL_VERSION: 1,
  IDENTIFIER_REJECTED: 2,
  SERVER_UNAVAILABLE: 3,
  BAD_USER_NAME_OR_PASSWORD: 4,
  NOT_AUTHORIZED: 5,
} as const;

const NAMES: Record<number, string> = {
  0: "Success",
  1: "Granted QoS 1",
  2: "Granted QoS 2",
  4: "Disconnect with Will Message",
  16: "No matching subscribers",
  17: "No subscription existed",
  24: "Continue authentication",
  25: "Re-authenticate",
  128: "Unspecified error",
  129: "Malformed Packet",
  130: "Protocol Error",
  131: "Implementation specific error",
  132: "Unsupported Protocol Version",
  133: "Client Identifier not valid",
  134: "Bad User Name or Password",
  135: "Not authorized",
  136: "Server unavailable",
  137: "Server busy",
  138: "Banned",
  139: "Server shutting down",
  140: "Bad authentication method",
  141: "Keep Alive timeout",
  142: "Session taken over",
  143: "Topic Filter invalid",
  144: "Topic Name invalid",
  145: "Packet Identifier in use",
  146: "Packet Identifier not found",
  147: "Receive Maximum exceeded",
  148: "Topic Alias invalid",
  149: "Packet too large",
  150: "Message rate too high",
  151: "Quota exceeded",
  152: "Administrative action",
  153: "Payload format invalid",
  154: "Retain not supported",
  155: "QoS not supported",
  156: "Use another server",
  157: "Server moved",
  158: "Shared Subscriptions not supported",
  159: "Connection rate exceeded",
  160: "Maximum connect time",
  161: "Subscription Identifiers not supported",
  162: "Wildcard Subscriptions not supported",
};

const CONNECT_RETURN_NAMES = [
  "Connection Accepted",
  "Connection Refused, unacceptable protocol version",
  "Connection Refused, identifier rejected",
  "Connection Refused, Server unavailable",
  "Connection Refused, bad user name or password",
  "Connection Refused, not authorized",
];

/** Human-readable name of a reason code, e.g. `reasonCodeName(0x87)` → "Not authorized". */
export function reasonCodeName(code: number, version: 4 | 5 = 5, packet?: PacketType): string {
  if (version === 4 && packet === "connack") {
    return CONNECT_RETURN_NAMES[code] ?? `Unknown return code ${code}`;
  }
  if (version === 4 && packet === "suback") {
    return code === 0x80 ? "Failure" : (NAMES[code] ?? `Unknown return code ${code}`);
  }
  if (code === 0 && packet === "disconnect") return "Normal disconnection";
  if (code === 0 && packet === "suback") return "Granted QoS 0";
  return NAMES[code] ?? `Unknown reason code 0x${code.toString(16).padStart(2, "0")}`;
}

/** True when the code signals a failure (MQTT 5 §2.4: 0x80 and above). */
export function isFailure(code: number): boolean {
  return code >= 0x80;
}

function set(...codes: number[]): ReadonlySet<number> {
  return new Set(codes);
}

/**
 * The reason codes each MQTT 5 packet may carry (MQTT 5 §3.2.2.2, §3.4.2.1, §3.5.2.1,
 * §3.6.2.1, §3.7.2.1, §3.9.3, §3.11.3, §3.14.2.1, §3.15.2.1). A value outside the set is
 * treated as a malformed packet.
 */
export const ALLOWED_REASON_CODES: Readonly<Partial<Record<PacketType, ReadonlySet<number>>>> = {
  connack: set(
    0x00,
    0x80,
    0x81,
    0x82,
    0x83,
    0x84,
    0x85,
    0x86,
    0x87,
    0x88,
    0x89,
    0x8a,
    0x8c,
    0x90,
    0x95,
    0x97,
    0x99,
    0x9a,
    0x9b,
    0x9c,
    0x9d,
    0x9f,
  ),
  puback: set(0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99),
  pubrec: set(0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99),
  pubrel: set(0x00, 0x92),
  pubcomp: set(0x00, 0x92),
  suback: set(0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8f, 0x91, 0x97, 0x9e, 0xa1, 0xa2),
  unsuback: set(0x00, 0x11, 0x80, 0x83, 0x87, 0x8f, 0x91),
  disconnect: set(
    0x00,
    0x04,
    0x80,
    0x81,
    0x82,
    0x83,
    0x87,
    0x89,
    0x8b,
    0x8d,
    0x8e,
    0x8f,
    0x90,
    0x93,
    0x94,
    0x95,
    0x96,
    0x97,
    0x98,
    0x99,
    0x9a,
    0x9b,
    0x9c,
    0x9d,
    0x9e,
    0x9f,
    0xa0,
    0xa1,
    0xa2,
  ),
  auth: set(0x00, 0x18, 0x19),
};

/** 3.1.1: CONNACK return codes 0..5 (§3.2.2.3), SUBACK 0, 1, 2 or 0x80 (§3.9.3). */
export const ALLOWED_RETURN_CODES_V4: Readonly<Partial<Record<PacketType, ReadonlySet<number>>>> = {
  connack: set(0, 1, 2, 3, 4, 5),
  suback: set(0x00, 0x01, 0x02, 0x80),
};
