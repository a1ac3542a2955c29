/**
 * `-D command identifier value`: MQTT 5 properties from the command line, with the names
 * `mosquitto_pub` / `mosquitto_sub` use (MQTT 5.0 §2.2.2.2 lists which packet carries which).
 * Pure; a wrong command, name or value is an MQTTError `MQTT_CLI_USAGE`.
 */
import { Buffer } from "node:buffer";
import type { MessageProperties } from "../client/message.js";
import { usageError } from "./exit-codes.js";

export type PropertyCommand = "connect" | "publish" | "will" | "subscribe" | "disconnect";

export interface ConnectProperties {
  sessionExpiryInterval?: number;
  receiveMaximum?: number;
  maximumPacketSize?: number;
  topicAliasMaximum?: number;
  requestResponseInformation?: boolean;
  userProperties?: Array<[string, string]>;
}

export interface SubscribeProperties {
  subscriptionIdentifier?: number;
  userProperties?: Array<[string, string]>;
}

export interface DisconnectProperties {
  sessionExpiryInterval?: number;
  reasonString?: string;
  userProperties?: Array<[string, string]>;
}

export interface CommandProperties {
  connect: ConnectProperties;
  publish: MessageProperties;
  will: MessageProperties & { willDelayInterval?: number };
  subscribe: SubscribeProperties;
  disconnect: DisconnectProperties;
}

type Kind = "indicator" | "u16" | "u32" | "varint" | "string" | "binary" | "bool";

/** identifier → [field, value type, the commands that may carry it]. */
const IDENTIFIERS: Record<string, [string, Kind, PropertyCommand[]]> = {
  "payload-format-indicator": ["payloadFormatIndicator", "indicator", ["publish", "will"]],
  "message-expiry-interval": ["messageExpiryInterval", "u32", ["publish", "will"]],
  "content-type": ["contentType", "string", ["publish", "will"]],
  "response-topic": ["responseTopic", "string", ["publish", "will"]],
  "correlation-data": ["correlationData", "binary", ["publish", "will"]],
  "will-delay-interval": ["willDelayInterval", "u32", ["will"]],
  "session-expiry-interval": ["sessionExpiryInterval", "u32", ["connect", "disconnect"]],
  "receive-maximum": ["receiveMaximum", "u16", ["connect"]],
  "maximum-packet-size": ["maximumPacketSize", "u32", ["connect"]],
  "topic-alias-maximum": ["topicAliasMaximum", "u16", ["connect"]],
  "request-response-information": ["requestResponseInformation", "bool", ["connect"]],
  "subscription-identifier": ["subscriptionIdentifier", "varint", ["subscribe"]],
  "reason-string": ["reasonString", "string", ["disconnect"]],
};

const MAXIMUM: Record<string, number> = {
  indicator: 1,
  u16: 65535,
  u32: 0xffffffff,
  varint: 268_435_455,
};

export function emptyProperties(): CommandProperties {
  return { connect: {}, publish: {}, will: {}, subscribe: {}, disconnect: {} };
}

/**
 * Reads every `-D` into per-command property objects. `allowed` is what the tool sends
 * (`pub` never subscribes, `sub` never publishes).
 */
export function parseProperties(
  entries: readonly string[][],
  allowed: readonly PropertyCommand[],
): CommandProperties {
  const result = emptyProperties();
  for (const entry of entries) {
    const [command, identifier] = entry;
    if (!(allowed as readonly string[]).includes(command)) {
      throw usageError(`-D ${command}: unknown or unused command here (use ${allowed.join(", ")})`);
    }
    const target = result[command as PropertyCommand] as Record<string, unknown>;
    if (identifier === "user-property") {
      const [, , name, value] = entry;
      checkString(name, "user-property name");
      checkString(value, "user-property value");
      const list = (target.userProperties as Array<[string, string]> | undefined) ?? [];
      list.push([name, value]);
      target.userProperties = list;
      continue;
    }
    const known = IDENTIFIERS[identifier];
    if (!known) throw usageError(`-D ${command} ${identifier}: unknown property`);
    const [field, kind, commands] = known;
    if (!commands.includes(command as PropertyCommand)) {
      throw usageError(`-D ${command} ${identifier}: not a ${command} property`);
    }
    target[field] = convert(entry[2], kind, identifier);
  }
  return result;
}

function convert(value: string, kind: Kind, identifier: string): unknown {
  switch (kind) {
    case "string":
      checkString(value, identifier);
      return value;
    case "binary":
      return new Uint8Array(Buffer.from(value, "utf8"));
    case "bool":
      if (value !== "0" && value !== "1") throw usageError(`${identifier} must be 0 or 1`);
      return value === "1";
    default: {
      const number = Number(value);
      const minimum = kind === "varint" ? 1 : 0;
      if (!/^\d+$/.test(value) || number < minimum || number > MAXIMUM[kind]) {
        throw usageError(
          `${identifier} must be a whole number from ${minimum} to ${MAXIMUM[kind]}, not '${value}'`,
        );
      }
      return number;
    }
  }
}

/** MQTT UTF-8 strings must not hold U+0000 (MQTT 5.0 §1.5.4); nothing else is refused. */
function checkString(value: string, what: string): void {
  if (value.includes("\u0000")) throw usageError(`${what} must not contain a NUL character`);
}

/** True when any -D was given (MQTT 3.1.1 has no properties). */
export function hasProperties(properties: CommandProperties): boolean {
  return Object.values(properties).some((p) => Object.keys(p).length > 0);
}
