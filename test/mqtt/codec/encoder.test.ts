/** The encoder refuses what MQTT cannot carry, with typed errors, before writing anything. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MQTTError } from "../../../src/errors.js";
import { encodePacket, type Packet, type ProtocolVersion } from "../../../src/mqtt/codec/index.js";

function refuses(packet: unknown, code: string, version: ProtocolVersion = 5, max?: number) {
  assert.throws(
    () => encodePacket(packet as Packet, version, max),
    (error: unknown) => {
      assert.ok(error instanceof MQTTError, `an MQTTError, got ${String(error)}`);
      assert.equal(error.code, code, error.message);
      return true;
    },
  );
}

const publish = (over: Record<string, unknown> = {}) => ({
  type: "publish",
  topic: "a/b",
  payload: new Uint8Array(1),
  qos: 0,
  retain: false,
  dup: false,
  ...over,
});

describe("encoder validation", () => {
  it("refuses wildcards and empty topics in PUBLISH", () => {
    refuses(publish({ topic: "a/+" }), "MQTT_INVALID_TOPIC");
    refuses(publish({ topic: "a/#" }), "MQTT_INVALID_TOPIC");
    refuses(publish({ topic: "" }), "MQTT_INVALID_TOPIC");
    refuses(publish({ topic: "", properties: { topicAlias: 1 } }), "MQTT_INVALID_TOPIC", 4);
  });
  it("refuses U+0000, lone surrogates and strings over 65535 bytes", () => {
    refuses(publish({ topic: "a\u0000b" }), "MQTT_INVALID_TOPIC");
    refuses(publish({ topic: "a\uD800" }), "MQTT_INVALID_PACKET");
    refuses(publish({ topic: "é".repeat(40_000) }), "MQTT_INVALID_PACKET");
    refuses(
      { type: "connect", protocolVersion: 5, clientId: "x\u0000", clean: true, keepalive: 0 },
      "MQTT_INVALID_PACKET",
    );
    refuses(publish({ properties: { userProperties: [["k", "\uDC00"]] } }), "MQTT_INVALID_PACKET");
  });
  it("accepts a 65535-byte topic", () => {
    const bytes = encodePacket(publish({ topic: "t".repeat(65535) }) as Packet, 5);
    assert.equal(bytes.length, 1 + 3 + 2 + 65535 + 1 + 1);
  });
  it("refuses packet identifiers outside 1..65535 and a missing one", () => {
    refuses(publish({ qos: 1 }), "MQTT_INVALID_PACKET");
    refuses(publish({ qos: 1, packetId: 0 }), "MQTT_INVALID_PACKET");
    refuses(publish({ qos: 2, packetId: 65536 }), "MQTT_INVALID_PACKET");
    refuses({ type: "puback", packetId: 0 }, "MQTT_INVALID_PACKET");
    refuses(
      { type: "subscribe", packetId: 1.5, subscriptions: [{ topicFilter: "a", qos: 0 }] },
      "MQTT_INVALID_PACKET",
    );
  });
  it("refuses QoS 3, DUP on QoS 0 and a non-byte payload", () => {
    refuses(publish({ qos: 3, packetId: 1 }), "MQTT_INVALID_PACKET");
    refuses(publish({ dup: true }), "MQTT_INVALID_PACKET");
    refuses(publish({ payload: "text" }), "MQTT_INVALID_PACKET");
  });
  it("refuses properties a packet may not carry and out-of-range values", () => {
    refuses(publish({ properties: { sessionExpiryInterval: 1 } }), "MQTT_INVALID_PACKET");
    refuses(publish({ properties: { topicAlias: 0 } }), "MQTT_INVALID_PACKET");
    refuses(publish({ properties: { messageExpiryInterval: -1 } }), "MQTT_INVALID_PACKET");
    refuses(publish({ properties: { bogus: 1 } }), "MQTT_INVALID_PACKET");
    refuses(
      { type: "auth", reasonCode: 0x18, properties: { authenticationData: Uint8Array.of(1) } },
      "MQTT_INVALID_PACKET",
    );
    refuses(
      {
        type: "subscribe",
        packetId: 1,
        subscriptions: [{ topicFilter: "a", qos: 0 }],
        properties: { subscriptionIdentifiers: [1, 2] },
      },
      "MQTT_INVALID_PACKET",
    );
  });
  it("refuses bad topic filters, empty SUBSCRIBE and No Local on shared subscriptions", () => {
    const sub = (s: unknown[]) => ({ type: "subscribe", packetId: 1, subscriptions: s });
    refuses(sub([{ topicFilter: "a/#/b", qos: 0 }]), "MQTT_INVALID_TOPIC");
    refuses(sub([{ topicFilter: "a+", qos: 0 }]), "MQTT_INVALID_TOPIC");
    refuses(sub([{ topicFilter: "$share/g", qos: 0 }]), "MQTT_INVALID_TOPIC");
    refuses(sub([]), "MQTT_INVALID_PACKET");
    refuses(sub([{ topicFilter: "$share/g/t", qos: 0, noLocal: true }]), "MQTT_INVALID_PACKET");
    refuses({ type: "unsubscribe", packetId: 1, topicFilters: [] }, "MQTT_INVALID_PACKET");
  });
  it("refuses what 3.1.1 cannot express", () => {
    refuses({ type: "auth", reasonCode: 0 }, "MQTT_INVALID_PACKET", 4);
    refuses({ type: "puback", packetId: 1, reasonCode: 0x80 }, "MQTT_INVALID_PACKET", 4);
    refuses({ type: "disconnect", reasonCode: 0x04 }, "MQTT_INVALID_PACKET", 4);
    refuses(
      { type: "connect", protocolVersion: 4, clientId: "", clean: false, keepalive: 0 },
      "MQTT_INVALID_PACKET",
      4,
    );
    refuses(
      {
        type: "connect",
        protocolVersion: 4,
        clientId: "c",
        clean: true,
        keepalive: 0,
        password: "p",
      },
      "MQTT_INVALID_PACKET",
      4,
    );
  });
  it("refuses reason codes a packet cannot carry", () => {
    refuses({ type: "puback", packetId: 1, reasonCode: 0x92 }, "MQTT_INVALID_PACKET");
    refuses({ type: "connack", sessionPresent: true, reasonCode: 0x87 }, "MQTT_INVALID_PACKET");
    refuses({ type: "auth", reasonCode: 0x80 }, "MQTT_INVALID_PACKET");
  });
  it("refuses a packet over the given maximum packet size", () => {
    refuses(publish({ payload: new Uint8Array(100) }), "MQTT_PACKET_TOO_LARGE", 5, 100);
    assert.equal(
      encodePacket(publish({ payload: new Uint8Array(92) }) as Packet, 5, 100).length,
      100,
    );
  });
  it("accepts a password given as a string (sent as UTF-8)", () => {
    const bytes = encodePacket(
      {
        type: "connect",
        protocolVersion: 5,
        clientId: "c",
        clean: true,
        keepalive: 0,
        username: "u",
        password: "pé",
      },
      5,
    );
    assert.deepEqual([...bytes.subarray(-5)], [0, 3, 0x70, 0xc3, 0xa9]);
  });
  it("refuses a CONNECT whose protocolVersion differs from the encoder version", () => {
    refuses(
      { type: "connect", protocolVersion: 4, clientId: "c", clean: true, keepalive: 0 },
      "MQTT_INVALID_PACKET",
      5,
    );
  });
  it("refuses an unknown packet type", () => refuses({ type: "hello" }, "MQTT_INVALID_PACKET"));
});
