/**
 * Packet → bytes. Each packet is measured first and written into one buffer of exactly its
 * size, so a packet is always one socket write. Everything the caller gives is validated; a
 * value MQTT cannot carry throws MQTTError (MQTT_INVALID_PACKET, MQTT_INVALID_TOPIC or
 * MQTT_PACKET_TOO_LARGE) rather than producing bytes the peer would reject.
 */
import { Buffer } from "node:buffer";
import { invalidPacket, packetTooLarge } from "./errors.js";
import {
  type AuthPacket,
  type ConnackPacket,
  type ConnectPacket,
  type DisconnectPacket,
  MAX_REMAINING_LENGTH,
  type Packet,
  type Properties,
  type ProtocolVersion,
  type PublishPacket,
  type QoSLevel,
  type SubackPacket,
  type SubscribePacket,
  type UnsubackPacket,
  type UnsubscribePacket,
} from "./packets.js";
import { propertiesLength, varintLength, writeProperties } from "./properties.js";
import { ALLOWED_REASON_CODES, ALLOWED_RETURN_CODES_V4 } from "./reason-codes.js";
import { assertTopicFilter, assertTopicName, parseSharedSubscription } from "./topics.js";
import { stringByteLength, Writer } from "./writer.js";

const encoder = new TextEncoder();

/**
 * Encodes one packet for protocol `version` (4 = 3.1.1, 5 = 5.0) into one new buffer.
 * `maximumPacketSize` (e.g. the server's Maximum Packet Size from CONNACK, MQTT 5 §3.2.2.3.6)
 * makes an oversized packet throw MQTT_PACKET_TOO_LARGE before anything is allocated.
 * MQTT 5 `properties` are not written for version 4.
 */
export function encodePacket(
  packet: Packet,
  version: ProtocolVersion,
  maximumPacketSize?: number,
): Uint8Array {
  if (version !== 4 && version !== 5) throw invalidPacket(`unknown protocol version ${version}`);
  const max = maximumPacketSize ?? Number.POSITIVE_INFINITY;
  switch (packet.type) {
    case "publish":
      return encodePublish(packet, version, max);
    case "puback":
    case "pubrec":
    case "pubrel":
    case "pubcomp":
      return encodeAck(
        packet.type,
        packet.packetId,
        packet.reasonCode,
        packet.properties,
        version,
        max,
      );
    case "connect":
      return encodeConnect(packet, version, max);
    case "connack":
      return encodeConnack(packet, version, max);
    case "subscribe":
      return encodeSubscribe(packet, version, max);
    case "suback":
      return encodeSuback(packet, version, max);
    case "unsubscribe":
      return encodeUnsubscribe(packet, version, max);
    case "unsuback":
      return encodeUnsuback(packet, version, max);
    case "pingreq":
      return Uint8Array.of(0xc0, 0); // §3.12
    case "pingresp":
      return Uint8Array.of(0xd0, 0); // §3.13
    case "disconnect":
    case "auth":
      return encodeDisconnectOrAuth(packet, version, max);
    default:
      throw invalidPacket(
        `unknown packet type ${JSON.stringify((packet as { type: unknown }).type)}`,
      );
  }
}

/** Allocates the packet and writes the fixed header (§2.1.1): type/flags then Remaining Length. */
function start(firstByte: number, remaining: number, max: number): Writer {
  const w = new Writer(Buffer.allocUnsafe(packetSize(remaining, max)));
  w.u8(firstByte);
  w.varint(remaining);
  return w;
}

/**
 * The whole size of a packet with this Remaining Length (§2.1.4); throws MQTT_PACKET_TOO_LARGE
 * above `max` or above what a Remaining Length can express.
 */
export function packetSize(remaining: number, max: number): number {
  if (remaining > MAX_REMAINING_LENGTH) packetTooLargeThrow(remaining + 5, max);
  const size = 1 + varintLength(remaining) + remaining;
  if (size > max) packetTooLargeThrow(size, max);
  return size;
}

function packetTooLargeThrow(size: number, max: number): never {
  throw packetTooLarge(size, Math.min(max, MAX_REMAINING_LENGTH + 5));
}

function checkPacketId(id: unknown, what: string): void {
  // §2.2.1: a Packet Identifier is a non-zero 16-bit integer.
  if (typeof id !== "number" || !Number.isInteger(id) || id < 1 || id > 0xffff) {
    throw invalidPacket(
      `${what} packet identifier must be an integer in 1..65535, got ${String(id)}`,
    );
  }
}

function checkQoS(qos: unknown, what: string): asserts qos is 0 | 1 | 2 {
  if (qos !== 0 && qos !== 1 && qos !== 2) {
    throw invalidPacket(`${what} QoS must be 0, 1 or 2, got ${String(qos)}`);
  }
}

function checkBytes(value: unknown, what: string, max = Number.POSITIVE_INFINITY): Uint8Array {
  if (!(value instanceof Uint8Array)) throw invalidPacket(`${what} must be a Uint8Array`);
  if (value.length > max) throw invalidPacket(`${what} is longer than ${max} bytes`);
  return value;
}

function checkReasonCode(
  code: number,
  type: keyof typeof ALLOWED_REASON_CODES,
  version: ProtocolVersion,
): void {
  const allowed = version === 5 ? ALLOWED_REASON_CODES[type] : ALLOWED_RETURN_CODES_V4[type];
  if (allowed !== undefined && !allowed.has(code)) {
    throw invalidPacket(
      `reason code 0x${Number(code).toString(16)} is not valid in ${type} (MQTT ${version === 5 ? "5" : "3.1.1"})`,
    );
  }
}

function writePropsBlock(
  w: Writer,
  props: Parameters<typeof writeProperties>[1],
  length: number,
): void {
  w.varint(length);
  writeProperties(w, props);
}

// --- PUBLISH (§3.3) ---------------------------------------------------------------------------

function encodePublish(p: PublishPacket, version: ProtocolVersion, max: number): Uint8Array {
  const remaining = measurePublish(
    p.topic,
    p.payload,
    p.qos,
    p.dup,
    p.packetId,
    p.properties,
    version,
  );
  const w = start(publishFirstByte(p.qos, p.retain, p.dup), remaining, max);
  writePublishHeader(w, p.topic, p.qos, p.packetId, p.properties, version);
  w.raw(p.payload);
  return w.buf;
}

/**
 * The topic name that passed the checks last, and its length in bytes: a client publishing
 * many messages to one topic checks and measures it once (strings are immutable, so a string
 * equal to this one is as valid).
 */
let checkedTopic: string | undefined;
let checkedTopicLength = 0;
/** What the latest measurePublish learnt, for writePublishHeader. */
let measuredPropertiesLength = 0;
let measuredTopicIsAscii = false;

/**
 * Checks the fields of a PUBLISH and returns its Remaining Length (§3.3.1.4). Throws MQTTError
 * (MQTT_INVALID_PACKET, MQTT_INVALID_TOPIC) for anything MQTT cannot carry. The fields come one
 * by one rather than as a packet object so that a publisher need not build one per message.
 */
export function measurePublish(
  topic: string,
  payload: Uint8Array,
  qos: QoSLevel,
  dup: boolean,
  packetId: number | undefined,
  properties: Properties | undefined,
  version: ProtocolVersion,
): number {
  checkQoS(qos, "PUBLISH");
  checkBytes(payload, "PUBLISH payload");
  // [MQTT-3.3.1-2]: DUP must be 0 for QoS 0.
  if (dup && qos === 0) throw invalidPacket("a QoS 0 PUBLISH must not have DUP set");
  const props = version === 5 ? properties : undefined;
  let topicLength = checkedTopicLength;
  if (topic !== checkedTopic || checkedTopic === undefined) {
    // §3.3.2.1 / §3.3.2.3.4: an empty topic name is only valid together with a topic alias.
    if (!(topic === "" && props?.topicAlias !== undefined)) assertTopicName(topic);
    topicLength = stringByteLength(topic, "topic");
    if (topic !== "") {
      checkedTopic = topic;
      checkedTopicLength = topicLength;
    }
  }
  // As many UTF-8 bytes as UTF-16 units only when every character is ASCII.
  measuredTopicIsAscii = topicLength === topic.length;
  let remaining = 2 + topicLength + payload.length;
  if (qos > 0) {
    checkPacketId(packetId, "PUBLISH");
    remaining += 2;
  }
  measuredPropertiesLength = 0;
  if (version === 5) {
    measuredPropertiesLength = propertiesLength(props, "publish");
    remaining += varintLength(measuredPropertiesLength) + measuredPropertiesLength;
  }
  return remaining;
}

/** The fixed header's first byte of a PUBLISH (§3.3.1): type 3, DUP, QoS, RETAIN. */
export function publishFirstByte(qos: QoSLevel, retain: boolean, dup: boolean): number {
  return 0x30 | (dup ? 8 : 0) | (qos << 1) | (retain ? 1 : 0);
}

/**
 * Writes a PUBLISH's variable header (§3.3.2) after its fixed header; the payload follows.
 * Call right after measurePublish with the same fields.
 */
export function writePublishHeader(
  w: Writer,
  topic: string,
  qos: QoSLevel,
  packetId: number | undefined,
  properties: Properties | undefined,
  version: ProtocolVersion,
): void {
  if (measuredTopicIsAscii) w.asciiString(topic);
  else w.string(topic);
  if (qos > 0) w.u16(packetId as number);
  if (version === 5) writePropsBlock(w, properties, measuredPropertiesLength);
}

// --- PUBACK, PUBREC, PUBREL, PUBCOMP (§3.4–3.7) ------------------------------------------------

function encodeAck(
  type: "puback" | "pubrec" | "pubrel" | "pubcomp",
  packetId: number,
  reasonCode: number | undefined,
  props: Parameters<typeof propertiesLength>[0],
  version: ProtocolVersion,
  max: number,
): Uint8Array {
  checkPacketId(packetId, type.toUpperCase());
  // §3.6.1: PUBREL's fixed header flags are 0b0010.
  const first =
    type === "puback" ? 0x40 : type === "pubrec" ? 0x50 : type === "pubrel" ? 0x62 : 0x70;
  const code = reasonCode ?? 0;
  if (version === 4) {
    if (code !== 0) throw invalidPacket(`MQTT 3.1.1 ${type} cannot carry reason code ${code}`);
    const w = start(first, 2, max);
    w.u16(packetId);
    return w.buf;
  }
  checkReasonCode(code, type, version);
  const propsLength = propertiesLength(props, type);
  // §3.4.2.1: reason code and property length may be left out for success without properties.
  const remaining =
    propsLength > 0 ? 3 + varintLength(propsLength) + propsLength : code !== 0 ? 3 : 2;
  const w = start(first, remaining, max);
  w.u16(packetId);
  if (remaining > 2) w.u8(code);
  if (propsLength > 0) writePropsBlock(w, props, propsLength);
  return w.buf;
}

// --- CONNECT (§3.1) ---------------------------------------------------------------------------

function encodeConnect(p: ConnectPacket, version: ProtocolVersion, max: number): Uint8Array {
  const level = p.protocolVersion ?? version;
  if (level !== version) {
    throw invalidPacket(
      `CONNECT protocolVersion ${level} does not match the encoder version ${version}`,
    );
  }
  if (!Number.isInteger(p.keepalive) || p.keepalive < 0 || p.keepalive > 0xffff) {
    throw invalidPacket("keepalive must be an integer in 0..65535 seconds");
  }
  const clientIdLength = stringByteLength(p.clientId, "client identifier");
  // 3.1.1 [MQTT-3.1.3-7]: a zero-byte client id requires Clean Session.
  if (version === 4 && clientIdLength === 0 && !p.clean) {
    throw invalidPacket("MQTT 3.1.1 needs clean: true when the client id is empty");
  }
  // 3.1.1 [MQTT-3.1.2-22]: no password without a user name (MQTT 5 allows it, §3.1.2.9).
  if (version === 4 && p.password !== undefined && p.username === undefined) {
    throw invalidPacket("MQTT 3.1.1 does not allow a password without a user name");
  }
  const password = typeof p.password === "string" ? encoder.encode(p.password) : p.password;
  if (password !== undefined) checkBytes(password, "password", 0xffff);
  let remaining = 6 + 1 + 1 + 2 + 2 + clientIdLength; // "MQTT", level, flags, keepalive, id
  let propsLength = 0;
  if (version === 5) {
    propsLength = propertiesLength(p.properties, "connect");
    remaining += varintLength(propsLength) + propsLength;
  }
  let flags = p.clean ? 0x02 : 0;
  const will = p.will;
  let willPropsLength = 0;
  if (will !== undefined) {
    checkQoS(will.qos, "will");
    assertTopicName(will.topic);
    checkBytes(will.payload, "will payload", 0xffff);
    remaining += 2 + stringByteLength(will.topic, "will topic") + 2 + will.payload.length;
    if (version === 5) {
      willPropsLength = propertiesLength(will.properties, "will");
      remaining += varintLength(willPropsLength) + willPropsLength;
    }
    flags |= 0x04 | (will.qos << 3) | (will.retain ? 0x20 : 0);
  }
  if (p.username !== undefined) {
    remaining += 2 + stringByteLength(p.username, "user name");
    flags |= 0x80;
  }
  if (password !== undefined) {
    remaining += 2 + password.length;
    flags |= 0x40;
  }
  const w = start(0x10, remaining, max);
  w.string("MQTT"); // §3.1.2.1
  w.u8(version);
  w.u8(flags);
  w.u16(p.keepalive);
  if (version === 5) writePropsBlock(w, p.properties, propsLength);
  w.string(p.clientId);
  if (will !== undefined) {
    if (version === 5) writePropsBlock(w, will.properties, willPropsLength);
    w.string(will.topic);
    w.binary(will.payload);
  }
  if (p.username !== undefined) w.string(p.username);
  if (password !== undefined) w.binary(password);
  return w.buf;
}

// --- CONNACK (§3.2) ---------------------------------------------------------------------------

function encodeConnack(p: ConnackPacket, version: ProtocolVersion, max: number): Uint8Array {
  checkReasonCode(p.reasonCode, "connack", version);
  // [MQTT-3.2.2-6] / 3.1.1 [MQTT-3.2.2-4]: session present is 0 when the connection is refused.
  if (p.sessionPresent && p.reasonCode !== 0) {
    throw invalidPacket("CONNACK cannot have sessionPresent with a failure reason code");
  }
  const propsLength = version === 5 ? propertiesLength(p.properties, "connack") : 0;
  const remaining = 2 + (version === 5 ? varintLength(propsLength) + propsLength : 0);
  const w = start(0x20, remaining, max);
  w.u8(p.sessionPresent ? 1 : 0);
  w.u8(p.reasonCode);
  if (version === 5) writePropsBlock(w, p.properties, propsLength);
  return w.buf;
}

// --- SUBSCRIBE / SUBACK / UNSUBSCRIBE / UNSUBACK (§3.8–3.11) ------------------------------------

function encodeSubscribe(p: SubscribePacket, version: ProtocolVersion, max: number): Uint8Array {
  checkPacketId(p.packetId, "SUBSCRIBE");
  // [MQTT-3.8.3-2]: at least one topic filter.
  if (!Array.isArray(p.subscriptions) || p.subscriptions.length === 0) {
    throw invalidPacket("SUBSCRIBE needs at least one subscription");
  }
  const propsLength = version === 5 ? propertiesLength(p.properties, "subscribe") : 0;
  let remaining = 2 + (version === 5 ? varintLength(propsLength) + propsLength : 0);
  const options: number[] = [];
  for (const s of p.subscriptions) {
    checkQoS(s.qos, "subscription");
    assertTopicFilter(s.topicFilter);
    remaining += 2 + stringByteLength(s.topicFilter, "topic filter") + 1;
    let o = s.qos;
    if (version === 5) {
      const rh = s.retainHandling ?? 0;
      if (rh !== 0 && rh !== 1 && rh !== 2) throw invalidPacket("retainHandling must be 0, 1 or 2");
      // [MQTT-3.8.3-4]: No Local on a shared subscription is a Protocol Error.
      if (s.noLocal && parseSharedSubscription(s.topicFilter) !== undefined) {
        throw invalidPacket("noLocal cannot be set on a shared subscription");
      }
      o |= (s.noLocal ? 0x04 : 0) | (s.retainAsPublished ? 0x08 : 0) | (rh << 4);
    }
    options.push(o);
  }
  const w = start(0x82, remaining, max); // §3.8.1: flags 0b0010
  w.u16(p.packetId);
  if (version === 5) writePropsBlock(w, p.properties, propsLength);
  for (let i = 0; i < p.subscriptions.length; i++) {
    w.string(p.subscriptions[i].topicFilter);
    w.u8(options[i]);
  }
  return w.buf;
}

function encodeSuback(p: SubackPacket, version: ProtocolVersion, max: number): Uint8Array {
  checkPacketId(p.packetId, "SUBACK");
  if (!Array.isArray(p.reasonCodes) || p.reasonCodes.length === 0) {
    throw invalidPacket("SUBACK needs one reason code per subscription");
  }
  for (const c of p.reasonCodes) checkReasonCode(c, "suback", version);
  const propsLength = version === 5 ? propertiesLength(p.properties, "suback") : 0;
  const remaining =
    2 + (version === 5 ? varintLength(propsLength) + propsLength : 0) + p.reasonCodes.length;
  const w = start(0x90, remaining, max);
  w.u16(p.packetId);
  if (version === 5) writePropsBlock(w, p.properties, propsLength);
  for (const c of p.reasonCodes) w.u8(c);
  return w.buf;
}

function encodeUnsubscribe(
  p: UnsubscribePacket,
  version: ProtocolVersion,
  max: number,
): Uint8Array {
  checkPacketId(p.packetId, "UNSUBSCRIBE");
  // [MQTT-3.10.3-2]: at least one topic filter.
  if (!Array.isArray(p.topicFilters) || p.topicFilters.length === 0) {
    throw invalidPacket("UNSUBSCRIBE needs at least one topic filter");
  }
  const propsLength = version === 5 ? propertiesLength(p.properties, "unsubscribe") : 0;
  let remaining = 2 + (version === 5 ? varintLength(propsLength) + propsLength : 0);
  for (const f of p.topicFilters) {
    assertTopicFilter(f);
    remaining += 2 + stringByteLength(f, "topic filter");
  }
  const w = start(0xa2, remaining, max); // §3.10.1: flags 0b0010
  w.u16(p.packetId);
  if (version === 5) writePropsBlock(w, p.properties, propsLength);
  for (const f of p.topicFilters) w.string(f);
  return w.buf;
}

function encodeUnsuback(p: UnsubackPacket, version: ProtocolVersion, max: number): Uint8Array {
  checkPacketId(p.packetId, "UNSUBACK");
  if (version === 4) {
    // 3.1.1 §3.11: UNSUBACK is the packet identifier only.
    const w = start(0xb0, 2, max);
    w.u16(p.packetId);
    return w.buf;
  }
  if (!Array.isArray(p.reasonCodes) || p.reasonCodes.length === 0) {
    throw invalidPacket("MQTT 5 UNSUBACK needs one reason code per topic filter");
  }
  for (const c of p.reasonCodes) checkReasonCode(c, "unsuback", version);
  const propsLength = propertiesLength(p.properties, "unsuback");
  const remaining = 2 + varintLength(propsLength) + propsLength + p.reasonCodes.length;
  const w = start(0xb0, remaining, max);
  w.u16(p.packetId);
  writePropsBlock(w, p.properties, propsLength);
  for (const c of p.reasonCodes) w.u8(c);
  return w.buf;
}

// --- DISCONNECT (§3.14) and AUTH (§3.15) --------------------------------------------------------

function encodeDisconnectOrAuth(
  p: DisconnectPacket | AuthPacket,
  version: ProtocolVersion,
  max: number,
): Uint8Array {
  const first = p.type === "disconnect" ? 0xe0 : 0xf0;
  const code = p.reasonCode ?? 0;
  if (version === 4) {
    // 3.1.1 has no AUTH, and its DISCONNECT has no variable header (§3.14).
    if (p.type === "auth") throw invalidPacket("AUTH does not exist in MQTT 3.1.1");
    if (code !== 0) throw invalidPacket(`MQTT 3.1.1 DISCONNECT cannot carry reason code ${code}`);
    return Uint8Array.of(0xe0, 0);
  }
  checkReasonCode(code, p.type, version);
  const propsLength = propertiesLength(p.properties, p.type);
  // §3.14.2.1 / §3.15.2.1: success without properties may be sent with Remaining Length 0.
  const remaining =
    propsLength > 0 ? 1 + varintLength(propsLength) + propsLength : code !== 0 ? 1 : 0;
  const w = start(first, remaining, max);
  if (remaining > 0) w.u8(code);
  if (propsLength > 0) writePropsBlock(w, p.properties, propsLength);
  return w.buf;
}
