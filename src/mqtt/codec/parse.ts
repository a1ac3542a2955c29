/**
 * Parses the body of one complete packet (fixed header already read) into a Packet object.
 * Every rule a receiver must enforce is checked here; violations throw MQTTError with the code
 * and reason code MQTT 5 §4.13 prescribes (Malformed Packet 0x81 or Protocol Error 0x82).
 */
import { MQTTError } from "../../errors.js";
import { CodecErrorCode, malformed, protocolError } from "./errors.js";
import { ownedCopy } from "./owned-bytes.js";
import type {
  ConnectPacket,
  Packet,
  PacketType,
  ProtocolVersion,
  PublishPacket,
  QoSLevel,
  Subscription,
  Will,
} from "./packets.js";
import { type PropertyContext, readProperties } from "./properties.js";
import { Reader } from "./reader.js";
import { ALLOWED_REASON_CODES, ALLOWED_RETURN_CODES_V4 } from "./reason-codes.js";

const TYPES: (PacketType | undefined)[] = [
  undefined, // 0 is reserved (§2.1.2)
  "connect",
  "connack",
  "publish",
  "puback",
  "pubrec",
  "pubrel",
  "pubcomp",
  "subscribe",
  "suback",
  "unsubscribe",
  "unsuback",
  "pingreq",
  "pingresp",
  "disconnect",
  "auth",
];

/**
 * `buf[start..end)` is the packet body (variable header + payload), `first` the first byte of
 * the fixed header. Binary fields are copies, except the PUBLISH payload: a view into `buf`,
 * or a copy when `copyPayload` is set (the caller will overwrite `buf`).
 */
export function parsePacket(
  first: number,
  buf: Uint8Array,
  start: number,
  end: number,
  version: ProtocolVersion,
  copyPayload = false,
): Packet {
  const code = first >> 4;
  const flags = first & 0x0f;
  const type = TYPES[code];
  // §2.1.2: type 0 is reserved; 3.1.1 §2.2.1: type 15 is reserved there (AUTH is MQTT 5 only).
  if (type === undefined || (type === "auth" && version === 4)) {
    throw malformed(`reserved control packet type ${code}`);
  }
  if (type === "publish") return parsePublish(flags, buf, start, end, version, copyPayload);
  // §2.1.3 (3.1.1 §2.2.2): PUBREL, SUBSCRIBE and UNSUBSCRIBE have flags 0b0010, all others 0.
  const expected = type === "pubrel" || type === "subscribe" || type === "unsubscribe" ? 2 : 0;
  if (flags !== expected) throw malformed(`reserved flag bits of ${type} are ${flags}`);
  const r = new Reader(buf, start, end);
  let packet: Packet;
  switch (type) {
    case "connect":
      packet = parseConnect(r);
      break;
    case "connack":
      packet = parseConnack(r, version);
      break;
    case "puback":
    case "pubrec":
    case "pubrel":
    case "pubcomp":
      packet = parseAck(type, r, version);
      break;
    case "subscribe":
      packet = parseSubscribe(r, version);
      break;
    case "suback":
      packet = parseSubscriptionAck(r, version, "suback");
      break;
    case "unsubscribe":
      packet = parseUnsubscribe(r, version);
      break;
    case "unsuback":
      packet = parseSubscriptionAck(r, version, "unsuback");
      break;
    case "pingreq":
    case "pingresp":
      packet = { type };
      break;
    case "disconnect":
    case "auth":
      packet = parseDisconnectOrAuth(type, r, version);
      break;
  }
  // Bytes left over mean the Remaining Length and the content disagree.
  if (r.pos !== r.end) throw malformed(`${r.end - r.pos} unexpected trailing bytes in ${type}`);
  return packet;
}

function packetId(r: Reader, type: string): number {
  const id = r.u16();
  // §2.2.1 [MQTT-2.2.1-3]: packet identifiers are non-zero.
  if (id === 0) throw malformed(`${type} has packet identifier 0`);
  return id;
}

function props(r: Reader, version: ProtocolVersion, context: PropertyContext) {
  return version === 5 ? readProperties(r, context) : undefined;
}

function reasonCode(code: number, type: PacketType, version: ProtocolVersion): number {
  const allowed = version === 5 ? ALLOWED_REASON_CODES[type] : ALLOWED_RETURN_CODES_V4[type];
  if (allowed !== undefined && !allowed.has(code)) {
    throw malformed(`reason code 0x${code.toString(16)} is not valid in ${type}`);
  }
  return code;
}

/**
 * MQTT 5 packets whose reason code and properties may both be left out when the packet ends
 * (acks §3.4.2.1, DISCONNECT §3.14.2.1, AUTH §3.15.2.1): absent means 0x00 and none.
 */
function optionalReason(
  r: Reader,
  version: ProtocolVersion,
  type: "puback" | "pubrec" | "pubrel" | "pubcomp" | "disconnect" | "auth",
): { code: number; properties: ReturnType<typeof props> } {
  if (version !== 5 || r.remaining() === 0) return { code: 0, properties: undefined };
  const code = reasonCode(r.u8(), type, version);
  return { code, properties: r.remaining() > 0 ? readProperties(r, type) : undefined };
}

// --- PUBLISH (§3.3) ---------------------------------------------------------------------------

function parsePublish(
  flags: number,
  buf: Uint8Array,
  start: number,
  end: number,
  version: ProtocolVersion,
  copyPayload: boolean,
): PublishPacket {
  const qos = ((flags >> 1) & 3) as QoSLevel | 3;
  // [MQTT-3.3.1-4]: QoS 3 is a Malformed Packet.
  if (qos === 3) throw malformed("PUBLISH with QoS 3");
  const dup = (flags & 8) !== 0;
  // [MQTT-3.3.1-2]: DUP must be 0 for QoS 0.
  if (dup && qos === 0) throw malformed("QoS 0 PUBLISH with DUP set");
  const r = new Reader(buf, start, end);
  const known = repeatedTopic(buf, start, end);
  let topic: string;
  if (known !== undefined) {
    topic = known;
    r.pos = start + 2 + known.length;
  } else topic = r.string();
  const packet: PublishPacket = {
    type: "publish",
    topic,
    payload: EMPTY,
    qos,
    retain: (flags & 1) !== 0,
    dup,
  };
  if (qos > 0) packet.packetId = packetId(r, "PUBLISH");
  if (version === 5) {
    const p = readProperties(r, "publish");
    if (p !== undefined) packet.properties = p;
  }
  // [MQTT-3.3.2-2]: no wildcards in a topic name. §3.3.2.3.4: an empty topic name needs an alias.
  if (topic.length === 0) {
    if (packet.properties?.topicAlias === undefined) {
      if (version === 5) throw protocolError("PUBLISH with an empty topic and no topic alias");
      throw invalidTopic("PUBLISH with an empty topic name");
    }
  } else if (known === undefined) {
    if (topic.includes("+") || topic.includes("#")) {
      throw invalidTopic(`PUBLISH topic ${JSON.stringify(topic)} contains a wildcard`);
    }
    // The topic passed every check: the next PUBLISH with the same bytes may reuse it.
    rememberTopic(topic, buf, start);
  }
  packet.payload = copyPayload ? ownedCopy(buf, r.pos, end) : r.bytes(r.remaining());
  return packet;
}

const EMPTY = new Uint8Array(0);

/**
 * The last valid PUBLISH topic decoded (ASCII only, so its bytes are its character codes).
 * Messages usually come in runs on one topic; comparing the bytes with it is cheaper than
 * decoding and checking the same string again.
 */
let lastTopic = "";

/** `lastTopic` when the topic field at `buf[start]` holds exactly its bytes. */
function repeatedTopic(buf: Uint8Array, start: number, end: number): string | undefined {
  const topic = lastTopic;
  const length = topic.length;
  if (length === 0 || start + 2 + length > end) return undefined;
  if (buf[start] !== length >> 8 || buf[start + 1] !== (length & 0xff)) return undefined;
  const from = start + 2;
  for (let i = 0; i < length; i++) if (buf[from + i] !== topic.charCodeAt(i)) return undefined;
  return topic;
}

function rememberTopic(topic: string, buf: Uint8Array, start: number): void {
  // Same number of bytes as UTF-16 code units only when every character is ASCII.
  if (topic.length === ((buf[start] << 8) | buf[start + 1]) && topic.length <= 256) {
    lastTopic = topic;
  }
}

function invalidTopic(message: string): MQTTError {
  return new MQTTError(`Invalid MQTT topic: ${message}`, {
    code: CodecErrorCode.INVALID_TOPIC,
    reasonCode: 0x90,
  });
}

// --- CONNECT (§3.1) ---------------------------------------------------------------------------

function parseConnect(r: Reader): ConnectPacket {
  const name = r.string();
  const level = r.u8();
  // §3.1.2.1–3.1.2.2: protocol name "MQTT", level 4 (3.1.1) or 5.
  if (name !== "MQTT" || (level !== 4 && level !== 5)) {
    throw new MQTTError(`unsupported protocol ${JSON.stringify(name)} level ${level}`, {
      code: CodecErrorCode.UNSUPPORTED_PROTOCOL_VERSION,
      reasonCode: 0x84,
    });
  }
  const version = level as ProtocolVersion;
  const flags = r.u8();
  // [MQTT-3.1.2-3]: the reserved flag bit must be 0.
  if (flags & 1) throw malformed("CONNECT reserved flag bit is set");
  const willFlag = (flags & 0x04) !== 0;
  const willQoS = (flags >> 3) & 3;
  const willRetain = (flags & 0x20) !== 0;
  if (willQoS === 3) throw malformed("CONNECT will QoS 3"); // [MQTT-3.1.2-12]
  // [MQTT-3.1.2-11], [MQTT-3.1.2-13]: without a will, will QoS and will retain are 0.
  if (!willFlag && (willQoS !== 0 || willRetain)) {
    throw malformed("CONNECT will QoS/retain set without the will flag");
  }
  const hasUser = (flags & 0x80) !== 0;
  const hasPassword = (flags & 0x40) !== 0;
  // 3.1.1 [MQTT-3.1.2-22]: a password needs a user name.
  if (version === 4 && hasPassword && !hasUser) throw malformed("password flag without user name");
  const keepalive = r.u16();
  const properties = props(r, version, "connect");
  const clientId = r.string();
  const packet: ConnectPacket = {
    type: "connect",
    protocolVersion: version,
    clientId,
    clean: (flags & 0x02) !== 0,
    keepalive,
  };
  if (properties !== undefined) packet.properties = properties;
  if (willFlag) {
    const willProps = props(r, version, "will");
    const topic = r.string();
    const will: Will = {
      topic,
      payload: r.binary(),
      qos: willQoS as 0 | 1 | 2,
      retain: willRetain,
    };
    if (willProps !== undefined) will.properties = willProps;
    packet.will = will;
  }
  if (hasUser) packet.username = r.string();
  if (hasPassword) packet.password = r.binary();
  return packet;
}

// --- CONNACK (§3.2) ---------------------------------------------------------------------------

function parseConnack(r: Reader, version: ProtocolVersion): Packet {
  const ackFlags = r.u8();
  // [MQTT-3.2.2-1]: bits 7–1 of the acknowledge flags are reserved, 0.
  if (ackFlags & 0xfe) throw malformed("CONNACK reserved acknowledge flag bits are set");
  const code = reasonCode(r.u8(), "connack", version);
  const sessionPresent = (ackFlags & 1) === 1;
  // [MQTT-3.2.2-6] (3.1.1 [MQTT-3.2.2-4]): a refusal never has session present.
  if (sessionPresent && code !== 0) throw protocolError("CONNACK refusal with session present");
  const properties = props(r, version, "connack");
  return properties === undefined
    ? { type: "connack", sessionPresent, reasonCode: code }
    : { type: "connack", sessionPresent, reasonCode: code, properties };
}

// --- PUBACK, PUBREC, PUBREL, PUBCOMP (§3.4–3.7) ------------------------------------------------

function parseAck(
  type: "puback" | "pubrec" | "pubrel" | "pubcomp",
  r: Reader,
  version: ProtocolVersion,
): Packet {
  const id = packetId(r, type.toUpperCase());
  // §3.4.2.1: with Remaining Length 2 the reason code is 0x00 and there are no properties;
  // with 3, there are no properties. 3.1.1 acks are exactly the packet identifier.
  const { code, properties } = optionalReason(r, version, type);
  return properties === undefined
    ? { type, packetId: id, reasonCode: code }
    : { type, packetId: id, reasonCode: code, properties };
}

// --- SUBSCRIBE family (§3.8–3.11) ----------------------------------------------------------------

function parseSubscribe(r: Reader, version: ProtocolVersion): Packet {
  const id = packetId(r, "SUBSCRIBE");
  const properties = props(r, version, "subscribe");
  const subscriptions: Subscription[] = [];
  while (r.remaining() > 0) {
    const topicFilter = r.string();
    const o = r.u8();
    const qos = (o & 3) as QoSLevel | 3;
    if (qos === 3) throw malformed("SUBSCRIBE with QoS 3"); // [MQTT-3.8.3-4] (3.1.1)
    if (version === 4) {
      // 3.1.1 [MQTT-3-8.3-4]: the upper six bits of the options byte are reserved, 0.
      if (o & 0xfc) throw malformed("reserved subscription option bits are set");
      subscriptions.push({ topicFilter, qos });
      continue;
    }
    // §3.8.3.1: bits 7–6 are reserved [MQTT-3.8.3-5]; retain handling 3 is a Protocol Error.
    if (o & 0xc0) throw malformed("reserved subscription option bits are set");
    const retainHandling = (o >> 4) & 3;
    if (retainHandling === 3) throw protocolError("retain handling 3");
    const noLocal = (o & 4) !== 0;
    // [MQTT-3.8.3-4]: No Local on a shared subscription is a Protocol Error.
    if (noLocal && topicFilter.startsWith("$share/")) {
      throw protocolError("No Local set on a shared subscription");
    }
    subscriptions.push({
      topicFilter,
      qos,
      noLocal,
      retainAsPublished: (o & 8) !== 0,
      retainHandling: retainHandling as 0 | 1 | 2,
    });
  }
  // [MQTT-3.8.3-2]: at least one topic filter.
  if (subscriptions.length === 0) throw protocolError("SUBSCRIBE without topic filters");
  return properties === undefined
    ? { type: "subscribe", packetId: id, subscriptions }
    : { type: "subscribe", packetId: id, subscriptions, properties };
}

/**
 * SUBACK and UNSUBACK (§3.9, §3.11): the packet identifier, properties, then one reason code
 * per topic filter of the request — so never none. A 3.1.1 UNSUBACK is only the packet
 * identifier (3.1.1 §3.11).
 */
function parseSubscriptionAck(
  r: Reader,
  version: ProtocolVersion,
  type: "suback" | "unsuback",
): Packet {
  const name = type.toUpperCase();
  const id = packetId(r, name);
  if (type === "unsuback" && version === 4) return { type, packetId: id, reasonCodes: [] };
  const properties = props(r, version, type);
  const reasonCodes: number[] = [];
  while (r.remaining() > 0) reasonCodes.push(reasonCode(r.u8(), type, version));
  if (reasonCodes.length === 0) throw protocolError(`${name} without reason codes`);
  return properties === undefined
    ? { type, packetId: id, reasonCodes }
    : { type, packetId: id, reasonCodes, properties };
}

function parseUnsubscribe(r: Reader, version: ProtocolVersion): Packet {
  const id = packetId(r, "UNSUBSCRIBE");
  const properties = props(r, version, "unsubscribe");
  const topicFilters: string[] = [];
  while (r.remaining() > 0) topicFilters.push(r.string());
  // [MQTT-3.10.3-2]: at least one topic filter.
  if (topicFilters.length === 0) throw protocolError("UNSUBSCRIBE without topic filters");
  return properties === undefined
    ? { type: "unsubscribe", packetId: id, topicFilters }
    : { type: "unsubscribe", packetId: id, topicFilters, properties };
}

// --- DISCONNECT (§3.14), AUTH (§3.15) ------------------------------------------------------------

function parseDisconnectOrAuth(
  type: "disconnect" | "auth",
  r: Reader,
  version: ProtocolVersion,
): Packet {
  // §3.14.2.1 / §3.15.2.1: Remaining Length 0 means reason 0x00 and no properties; 3.1.1
  // DISCONNECT has no variable header (trailing bytes are rejected by the caller).
  const { code, properties } = optionalReason(r, version, type);
  return properties === undefined
    ? { type, reasonCode: code }
    : { type, reasonCode: code, properties };
}
