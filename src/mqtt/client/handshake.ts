/**
 * CONNECT and CONNACK: what the client asks for (MQTT 5 §3.1, 3.1.1 §3.1) and what it learns
 * from the answer (MQTT 5 §3.2, 3.1.1 §3.2). No state of its own: the session uses these.
 */
import { Buffer } from "node:buffer";
import { MQTTError } from "../../errors.js";
import type { ConnackPacket, ConnectPacket, Properties } from "../codec/index.js";
import { toProperties } from "./message-properties.js";
import type { ConnectOptions, Endpoint, MQTTClientOptions } from "./options.js";
import { assertTopicName } from "./topic-match.js";

/** Our default Maximum Packet Size, inbound (MQTT 5 §3.1.2.11.4). */
export const DEFAULT_MAXIMUM_PACKET_SIZE = 16 * 1024 * 1024;

const EMPTY = new Uint8Array(0);

/**
 * 3.1.1 CONNACK return codes and MQTT 5 reason codes after which retrying the same server
 * cannot help: unsupported version, client id not valid, bad credentials, not authorized,
 * banned, bad authentication method, bad Will topic, and 0x9D Server moved (when its Server
 * Reference could not be followed: the server will not take us back).
 */
const FATAL_CONNACK_V4 = new Set([1, 2, 4, 5]);
const FATAL_CONNACK_V5 = new Set([0x84, 0x85, 0x86, 0x87, 0x8a, 0x8c, 0x90, 0x9d]);

const CONNACK_TEXT_V4: Record<number, string> = {
  1: "unacceptable protocol version",
  2: "identifier rejected",
  3: "server unavailable",
  4: "bad user name or password",
  5: "not authorized",
};

export function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, Math.trunc(value)));
}

/** The CONNECT packet for this client, endpoint and connect() options. */
export function buildConnect(
  version: 4 | 5,
  clientId: string,
  o: MQTTClientOptions,
  cleanStart: boolean,
  endpoint: Endpoint,
  options: ConnectOptions,
): ConnectPacket {
  const v5 = version === 5;
  const properties: Properties = {};
  if (v5) {
    if (o.sessionExpiryInterval) properties.sessionExpiryInterval = o.sessionExpiryInterval;
    properties.receiveMaximum = clamp(o.receiveMaximum ?? 65535, 1, 65535);
    properties.maximumPacketSize = o.maximumPacketSize ?? DEFAULT_MAXIMUM_PACKET_SIZE;
    properties.topicAliasMaximum = clamp(o.topicAliasMaximum ?? 64, 0, 65535);
    if (o.requestResponseInformation) properties.requestResponseInformation = true;
    if (o.userProperties) properties.userProperties = o.userProperties;
    if (o.auth) {
      properties.authenticationMethod = o.auth.method;
      if (o.auth.data) properties.authenticationData = o.auth.data;
    }
  }
  const packet: ConnectPacket = {
    type: "connect",
    protocolVersion: version,
    clientId,
    clean: cleanStart,
    keepalive: clamp(o.keepalive ?? 60, 0, 65535),
    properties: v5 ? properties : undefined,
  };
  const username = options.username ?? endpoint.username;
  const password = options.password ?? endpoint.password;
  if (username !== undefined) packet.username = username;
  if (password !== undefined) packet.password = password;
  if (o.will) {
    assertTopicName(o.will.topic);
    const payload = o.will.payload ?? EMPTY;
    packet.will = {
      topic: o.will.topic,
      payload: typeof payload === "string" ? Buffer.from(payload, "utf8") : payload,
      qos: o.will.qos ?? 0,
      retain: o.will.retain ?? false,
      properties: v5 ? toProperties(o.will.properties) : undefined,
    };
  }
  return packet;
}

/** Whether CONNACK refuses the connection (3.1.1 §3.2.2.3, MQTT 5 §3.2.2.2). */
export function isRefusal(packet: ConnackPacket, version: 4 | 5): boolean {
  return packet.reasonCode >= (version === 5 ? 0x80 : 1);
}

export function connackError(packet: ConnackPacket, version: 4 | 5): MQTTError {
  const code = packet.reasonCode;
  const why =
    version === 4
      ? (CONNACK_TEXT_V4[code] ?? `return code ${code}`)
      : `reason 0x${code.toString(16)}${packet.properties?.reasonString ? `: ${packet.properties.reasonString}` : ""}`;
  return new MQTTError(`the broker refused the connection (${why})`, {
    code: "MQTT_CONNECT_REFUSED",
    reasonCode: code,
  });
}

/**
 * A refusal that another attempt at the same server would only repeat (bad credentials,
 * banned, …, or redirections that go round in a loop).
 */
export function isFatalRefusal(error: unknown, version: 4 | 5): boolean {
  if (!(error instanceof MQTTError)) return false;
  if (error.code === "MQTT_REDIRECT_LOOP") return true;
  return (
    error.code === "MQTT_CONNECT_REFUSED" &&
    error.reasonCode !== undefined &&
    (version === 5 ? FATAL_CONNACK_V5 : FATAL_CONNACK_V4).has(error.reasonCode)
  );
}

/**
 * Checks CONNACK's Session Present against the Clean Start we sent and the session state we
 * hold (MQTT 5 §3.2.2.1.1; 3.1.1 §3.2.2.2). Returns the error to close the connection with,
 * or undefined when the answer is consistent.
 * - Clean Start 1 answered with Session Present 1 breaks [MQTT-3.2.2-2] (3.1.1:
 *   [MQTT-3.2.2-1]): the broker is broken.
 * - Session Present 1 when we hold no session state: [MQTT-3.2.2-4] says the client MUST close
 *   the Network Connection (3.1.1 lets the client choose). The broker may have flows we know
 *   nothing of (a PUBREL for a QoS 2 message we never recorded, an unacked PUBLISH we would
 *   never resend). Which state counts is the client's call (see `hasSessionState` there): by
 *   default `clean: false` alone holds an empty session, so this only fires with
 *   `requireKnownSession`.
 * The converse — state here, Session Present 0 — is not an error: [MQTT-3.2.2-5] has the client
 * discard its session state and go on (Outbound, Inbound and Subscriptions do that).
 */
export function sessionPresentError(
  sessionPresent: boolean,
  cleanStart: boolean,
  hasSessionState: boolean,
): MQTTError | undefined {
  if (!sessionPresent) return undefined;
  if (cleanStart) {
    return new MQTTError("the broker answered Clean Start with Session Present 1", {
      code: "MQTT_PROTOCOL_ERROR",
      reasonCode: 0x82,
    });
  }
  if (hasSessionState) return undefined;
  return new MQTTError(
    "the broker resumed a session this client holds no state for (MQTT-3.2.2-4, requireKnownSession); connect with clean: true to start a new session, give the client the store that holds the old one, or drop requireKnownSession to resume it from empty state",
    { code: "MQTT_UNEXPECTED_SESSION" },
  );
}
