/**
 * MQTT 5 properties (MQTT 5 §2.2.2): the identifier table, which packet may carry which
 * property, and their encoding and decoding.
 */
import { invalidPacket, malformed, protocolError, topicAliasInvalid } from "./errors.js";
import type { PacketType, Properties } from "./packets.js";
import type { Reader } from "./reader.js";
import { stringByteLength, type Writer } from "./writer.js";

/** Where properties occur: a packet type, or the will properties of a CONNECT (§3.1.3.2). */
export type PropertyContext = PacketType | "will";

type Kind = "byte" | "bool" | "u16" | "u32" | "varint" | "string" | "binary" | "pair";

interface PropertyDef {
  id: number;
  key: keyof Properties;
  kind: Kind;
  /** Contexts allowed by MQTT 5 §2.2.2.2 (table 2-4). */
  allowed: ReadonlySet<PropertyContext>;
  /** Smallest legal value of a numeric property (0 where any value goes). */
  min?: number;
  /** Largest legal value of a `byte` property. */
  max?: number;
}

const ACKS: PropertyContext[] = ["puback", "pubrec", "pubrel", "pubcomp"];
const ALL: PropertyContext[] = [
  "connect",
  "connack",
  "publish",
  "will",
  ...ACKS,
  "subscribe",
  "suback",
  "unsubscribe",
  "unsuback",
  "disconnect",
  "auth",
];

function def(
  id: number,
  key: keyof Properties,
  kind: Kind,
  allowed: PropertyContext[],
  limits: { min?: number; max?: number } = {},
): PropertyDef {
  return { id, key, kind, allowed: new Set(allowed), ...limits };
}

// MQTT 5 §2.2.2.2 table 2-4, plus the value rules of each property's own section.
const DEFINITIONS: PropertyDef[] = [
  def(0x01, "payloadFormatIndicator", "byte", ["publish", "will"], { max: 1 }), // §3.3.2.3.2
  def(0x02, "messageExpiryInterval", "u32", ["publish", "will"]),
  def(0x03, "contentType", "string", ["publish", "will"]),
  def(0x08, "responseTopic", "string", ["publish", "will"]),
  def(0x09, "correlationData", "binary", ["publish", "will"]),
  // §3.8.2.1.2: 1..268435455; 0 is a Protocol Error.
  def(0x0b, "subscriptionIdentifiers", "varint", ["publish", "subscribe"], { min: 1 }),
  def(0x11, "sessionExpiryInterval", "u32", ["connect", "connack", "disconnect"]),
  def(0x12, "assignedClientIdentifier", "string", ["connack"]),
  def(0x13, "serverKeepAlive", "u16", ["connack"]),
  def(0x15, "authenticationMethod", "string", ["connect", "connack", "auth"]),
  def(0x16, "authenticationData", "binary", ["connect", "connack", "auth"]),
  def(0x17, "requestProblemInformation", "bool", ["connect"]), // §3.1.2.11.7
  def(0x18, "willDelayInterval", "u32", ["will"]),
  def(0x19, "requestResponseInformation", "bool", ["connect"]), // §3.1.2.11.6
  def(0x1a, "responseInformation", "string", ["connack"]),
  def(0x1c, "serverReference", "string", ["connack", "disconnect"]),
  def(0x1f, "reasonString", "string", [
    "connack",
    ...ACKS,
    "suback",
    "unsuback",
    "disconnect",
    "auth",
  ]),
  // §3.1.2.11.3 / §3.2.2.3.3: Receive Maximum 0 is a Protocol Error.
  def(0x21, "receiveMaximum", "u16", ["connect", "connack"], { min: 1 }),
  def(0x22, "topicAliasMaximum", "u16", ["connect", "connack"]),
  // §3.3.2.3.4: a Topic Alias of 0 is a Protocol Error.
  def(0x23, "topicAlias", "u16", ["publish"], { min: 1 }),
  def(0x24, "maximumQoS", "byte", ["connack"], { max: 1 }), // §3.2.2.3.4
  def(0x25, "retainAvailable", "bool", ["connack"]),
  def(0x26, "userProperties", "pair", ALL),
  // §3.1.2.11.4 / §3.2.2.3.6: Maximum Packet Size 0 is a Protocol Error.
  def(0x27, "maximumPacketSize", "u32", ["connect", "connack"], { min: 1 }),
  def(0x28, "wildcardSubscriptionAvailable", "bool", ["connack"]),
  def(0x29, "subscriptionIdentifiersAvailable", "bool", ["connack"]),
  def(0x2a, "sharedSubscriptionAvailable", "bool", ["connack"]),
];

const BY_ID: (PropertyDef | undefined)[] = [];
const BY_KEY = new Map<string, PropertyDef>();
for (const d of DEFINITIONS) {
  BY_ID[d.id] = d;
  BY_KEY.set(d.key, d);
}

/** Largest Subscription Identifier (a four-byte variable byte integer, §3.8.2.1.2). */
const MAX_VARINT = 268_435_455;

// ---------------------------------------------------------------------------------------------
// Decoding

/**
 * Reads a property block (Property Length + properties) at the reader's position.
 * Returns undefined when the block is empty, so decoded packets carry `properties` only when
 * the peer sent some.
 */
export function readProperties(reader: Reader, context: PropertyContext): Properties | undefined {
  const length = reader.varint();
  if (length === 0) return undefined;
  const end = reader.pos + length;
  if (end > reader.end) malformedThrow("property length exceeds the packet");
  const props: Record<string, unknown> = {};
  while (reader.pos < end) {
    const id = reader.varint(); // §2.2.2.2: the identifier is a variable byte integer
    const d = BY_ID[id];
    if (d === undefined) throw malformed(`unknown property identifier 0x${id.toString(16)}`);
    // §2.2.2.2: an identifier not valid for the packet type makes it a Malformed Packet.
    if (!d.allowed.has(context)) {
      throw malformed(`property ${d.key} is not allowed in ${context}`);
    }
    const repeatable = d.kind === "pair" || (d.id === 0x0b && context === "publish");
    if (!repeatable && props[d.key] !== undefined) {
      // §2.2.2.2: including a property more than once is a Protocol Error.
      throw protocolError(`property ${d.key} appears more than once in ${context}`);
    }
    const value = readValue(reader, d, end);
    if (d.kind === "pair") {
      const list = (props.userProperties as [string, string][] | undefined) ?? [];
      list.push(value as [string, string]);
      props.userProperties = list;
    } else if (d.id === 0x0b) {
      const list = (props.subscriptionIdentifiers as number[] | undefined) ?? [];
      list.push(value as number);
      props.subscriptionIdentifiers = list;
    } else {
      props[d.key] = value;
    }
  }
  if (reader.pos !== end) throw malformed("a property runs past the property length");
  // §3.1.2.11.10, §3.2.2.3.18, §3.15.2.2.3: Authentication Data without an Authentication
  // Method is a Protocol Error.
  if (props.authenticationData !== undefined && props.authenticationMethod === undefined) {
    throw protocolError("authentication data without an authentication method");
  }
  return props as Properties;
}

function malformedThrow(message: string): never {
  throw malformed(message);
}

function readValue(reader: Reader, d: PropertyDef, end: number): unknown {
  const saved = reader.end;
  reader.end = end; // a value must not run past the property block
  try {
    switch (d.kind) {
      case "byte": {
        const v = reader.u8();
        if (d.max !== undefined && v > d.max) {
          throw protocolError(`property ${d.key} has invalid value ${v}`);
        }
        return v;
      }
      case "bool": {
        const v = reader.u8();
        if (v > 1) throw protocolError(`property ${d.key} must be 0 or 1, got ${v}`);
        return v === 1;
      }
      case "u16":
      case "u32":
      case "varint": {
        const v =
          d.kind === "u16" ? reader.u16() : d.kind === "u32" ? reader.u32() : reader.varint();
        if (d.min !== undefined && v < d.min) {
          // §3.3.2.3.4 [MQTT-3.3.2-8]: alias 0 is never valid; reported with the DISCONNECT
          // reason a receiver uses for a bad alias, "Topic Alias invalid" (0x94).
          if (d.id === 0x23) throw topicAliasInvalid("a Topic Alias of 0 is not permitted");
          throw protocolError(`property ${d.key} must be at least ${d.min}, got ${v}`);
        }
        return v;
      }
      case "string":
        return reader.string();
      case "binary":
        return reader.binary();
      case "pair":
        return [reader.string(), reader.string()];
    }
  } finally {
    reader.end = saved;
  }
}

// ---------------------------------------------------------------------------------------------
// Encoding

/**
 * Validates `props` for `context` and returns the byte length of the property block *without*
 * the Property Length prefix. Throws MQTTError (MQTT_INVALID_PACKET) for a property the packet
 * may not carry or a value out of range.
 */
export function propertiesLength(props: Properties | undefined, context: PropertyContext): number {
  if (props === undefined) return 0;
  if (props.authenticationData !== undefined && props.authenticationMethod === undefined) {
    throw invalidPacket("authenticationData needs an authenticationMethod (MQTT 5 §3.1.2.11.10)");
  }
  let size = 0;
  for (const key in props) {
    const value = props[key as keyof Properties];
    if (value === undefined) continue;
    const d = BY_KEY.get(key);
    if (d === undefined) throw invalidPacket(`unknown MQTT 5 property ${JSON.stringify(key)}`);
    if (!d.allowed.has(context))
      throw invalidPacket(`property ${key} is not allowed in ${context}`);
    if (d.kind === "pair") {
      if (!Array.isArray(value)) throw invalidPacket("userProperties must be [name, value] pairs");
      for (const pair of value as unknown[]) {
        if (!Array.isArray(pair) || pair.length !== 2) {
          throw invalidPacket("userProperties must be [name, value] pairs");
        }
        size += 1 + 2 + stringByteLength(pair[0], "user property name");
        size += 2 + stringByteLength(pair[1], "user property value");
      }
    } else if (d.id === 0x0b) {
      if (!Array.isArray(value)) throw invalidPacket("subscriptionIdentifiers must be an array");
      if (context === "subscribe" && value.length > 1) {
        // §3.8.2.1.2: SUBSCRIBE carries at most one Subscription Identifier.
        throw invalidPacket("a SUBSCRIBE carries at most one subscription identifier");
      }
      for (const id of value as unknown[]) {
        checkInteger(id, 1, MAX_VARINT, key);
        size += 1 + varintLength(id as number);
      }
    } else {
      size += 1 + valueLength(d, value);
    }
  }
  return size;
}

function checkInteger(value: unknown, min: number, max: number, key: string): void {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw invalidPacket(`property ${key} must be an integer in ${min}..${max}`);
  }
}

function valueLength(d: PropertyDef, value: unknown): number {
  switch (d.kind) {
    case "byte":
      checkInteger(value, 0, d.max ?? 255, d.key);
      return 1;
    case "bool":
      if (typeof value !== "boolean") throw invalidPacket(`property ${d.key} must be a boolean`);
      return 1;
    case "u16":
      checkInteger(value, d.min ?? 0, 0xffff, d.key);
      return 2;
    case "u32":
      checkInteger(value, d.min ?? 0, 0xffffffff, d.key);
      return 4;
    case "varint":
      checkInteger(value, d.min ?? 0, MAX_VARINT, d.key);
      return varintLength(value as number);
    case "string":
      return 2 + stringByteLength(value, d.key);
    case "binary":
      if (!(value instanceof Uint8Array)) throw invalidPacket(`property ${d.key} must be bytes`);
      if (value.length > 0xffff) throw invalidPacket(`property ${d.key} exceeds 65535 bytes`);
      return 2 + value.length;
    case "pair":
      return 0; // handled by the caller
  }
}

/** Writes the properties measured by propertiesLength (without the length prefix). */
export function writeProperties(writer: Writer, props: Properties | undefined): void {
  if (props === undefined) return;
  for (const key in props) {
    const value = props[key as keyof Properties];
    if (value === undefined) continue;
    const d = BY_KEY.get(key)!;
    if (d.kind === "pair") {
      for (const [name, v] of value as [string, string][]) {
        writer.u8(d.id);
        writer.string(name);
        writer.string(v);
      }
      continue;
    }
    if (d.id === 0x0b) {
      for (const id of value as number[]) {
        writer.u8(d.id);
        writer.varint(id);
      }
      continue;
    }
    writer.u8(d.id);
    switch (d.kind) {
      case "byte":
        writer.u8(value as number);
        break;
      case "bool":
        writer.u8(value ? 1 : 0);
        break;
      case "u16":
        writer.u16(value as number);
        break;
      case "u32":
        writer.u32(value as number);
        break;
      case "varint":
        writer.varint(value as number);
        break;
      case "string":
        writer.string(value as string);
        break;
      case "binary":
        writer.binary(value as Uint8Array);
        break;
    }
  }
}

/** Bytes a variable byte integer takes (§1.5.5). */
export function varintLength(value: number): number {
  if (value < 128) return 1;
  if (value < 16_384) return 2;
  if (value < 2_097_152) return 3;
  return 4;
}
