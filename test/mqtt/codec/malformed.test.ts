/** Every malformation the decoder must refuse, with the typed error it must raise. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MQTTError } from "../../../src/errors.js";
import { PacketDecoder, type ProtocolVersion } from "../../../src/mqtt/codec/index.js";

const hex = (s: string) => Uint8Array.from(s.trim().split(/\s+/), (b) => Number.parseInt(b, 16));

function rejects(
  version: ProtocolVersion,
  bytes: string,
  code: string,
  reasonCode: number,
  options: { maximumPacketSize?: number } = {},
) {
  const decoder = new PacketDecoder({ version, ...options });
  assert.throws(
    () => decoder.push(hex(bytes)),
    (error: unknown) => {
      assert.ok(error instanceof MQTTError, `an MQTTError, got ${String(error)}`);
      assert.equal(error.code, code, error.message);
      assert.equal(error.reasonCode, reasonCode);
      return true;
    },
  );
}

const MALFORMED = "MQTT_MALFORMED_PACKET";
const PROTOCOL = "MQTT_PROTOCOL_ERROR";

describe("fixed header", () => {
  it("rejects a fifth Remaining Length byte (§1.5.5)", () => {
    rejects(5, "30 80 80 80 80 01", MALFORMED, 0x81);
  });
  it("rejects a fifth length byte even before it is complete", () => {
    const decoder = new PacketDecoder({ version: 5 });
    decoder.push(hex("30 FF FF"));
    assert.throws(() => decoder.push(hex("FF FF")), { code: MALFORMED });
  });
  it("rejects a non-minimal Remaining Length (§1.5.5)", () => {
    rejects(4, "C0 80 00", MALFORMED, 0x81);
  });
  it("rejects the reserved packet type 0 and AUTH in 3.1.1 (§2.1.2, 3.1.1 §2.2.1)", () => {
    rejects(5, "00 00", MALFORMED, 0x81);
    rejects(4, "F0 00", MALFORMED, 0x81);
  });
  it("rejects reserved flag bits (§2.1.3)", () => {
    rejects(5, "41 02 00 01", MALFORMED, 0x81); // PUBACK flags 1
    rejects(5, "60 02 00 01", MALFORMED, 0x81); // PUBREL flags must be 0010
    rejects(5, "80 06 00 01 00 01 74 00", MALFORMED, 0x81); // SUBSCRIBE flags 0
    rejects(4, "A0 05 00 01 00 01 74", MALFORMED, 0x81); // UNSUBSCRIBE flags 0
    rejects(4, "C1 00", MALFORMED, 0x81);
  });
});

describe("maximum packet size", () => {
  it("refuses an oversized packet from its header, before buffering the body", () => {
    const decoder = new PacketDecoder({ version: 5, maximumPacketSize: 1024 });
    // Announces 2 097 151 bytes; only the header is sent.
    assert.throws(
      () => decoder.push(hex("30 FF FF 7F")),
      (error: unknown) => {
        assert.ok(error instanceof MQTTError);
        assert.equal(error.code, "MQTT_PACKET_TOO_LARGE");
        assert.equal(error.reasonCode, 0x95);
        return true;
      },
    );
    assert.equal(decoder.bufferedBytes, 0);
  });
  it("counts the fixed header: a packet of exactly the maximum passes, one more byte fails", () => {
    // PUBLISH "t" + 5 payload bytes: remaining 8, whole packet 10 bytes.
    const packet = hex("30 08 00 01 74 01 02 03 04 05");
    assert.equal(new PacketDecoder({ version: 4, maximumPacketSize: 10 }).push(packet).length, 1);
    rejects(4, "30 08 00 01 74 01 02 03 04 05", "MQTT_PACKET_TOO_LARGE", 0x95, {
      maximumPacketSize: 9,
    });
  });
  it("applies a maximum changed between pushes", () => {
    const decoder = new PacketDecoder({ version: 4 });
    decoder.maximumPacketSize = 5;
    assert.throws(() => decoder.push(hex("30 08")), { code: "MQTT_PACKET_TOO_LARGE" });
  });
});

describe("strings (MQTT 5 §1.5.4, 3.1.1 §1.5.3)", () => {
  // PUBLISH QoS 0 whose topic is the given two/three bytes.
  const publishTopic = (topicHex: string) => {
    const bytes = hex(topicHex);
    const len = bytes.length;
    return `30 ${(2 + len).toString(16)} 00 ${len.toString(16)} ${topicHex}`;
  };
  it("rejects U+0000", () => rejects(4, publishTopic("61 00"), MALFORMED, 0x81));
  it("rejects an overlong NUL (C0 80)", () => rejects(4, publishTopic("C0 80"), MALFORMED, 0x81));
  it("rejects an encoded surrogate (ED A0 80)", () =>
    rejects(4, publishTopic("ED A0 80"), MALFORMED, 0x81));
  it("rejects a stray continuation byte and 0xFF", () => {
    rejects(5, publishTopic("80"), MALFORMED, 0x81);
    rejects(5, publishTopic("FF"), MALFORMED, 0x81);
  });
  it("rejects a truncated sequence", () => rejects(4, publishTopic("61 E2 82"), MALFORMED, 0x81));
  it("rejects a code point above U+10FFFF (F4 90 80 80)", () =>
    rejects(4, publishTopic("F4 90 80 80"), MALFORMED, 0x81));
  it("rejects a string longer than the packet", () =>
    rejects(4, "30 04 00 09 61 62", MALFORMED, 0x81));
  it("accepts a long non-ASCII topic", () => {
    const decoder = new PacketDecoder({ version: 5 });
    const topic = "ü".repeat(50);
    const bytes = new TextEncoder().encode(topic);
    const packet = Uint8Array.of(0x30, 2 + 1 + bytes.length, 0, bytes.length, ...bytes, 0);
    assert.equal(decoder.push(packet)[0].type, "publish");
  });
});

describe("PUBLISH (§3.3)", () => {
  it("rejects QoS 3 (§3.3.1.2)", () => rejects(4, "36 05 00 01 74 00 01", MALFORMED, 0x81));
  it("rejects DUP on QoS 0 (§3.3.1.1)", () => rejects(4, "38 03 00 01 74", MALFORMED, 0x81));
  it("rejects packet identifier 0 (§2.2.1)", () =>
    rejects(4, "32 05 00 01 74 00 00", MALFORMED, 0x81));
  it("rejects wildcards in the topic name (§3.3.2.1)", () => {
    rejects(4, "30 03 00 01 23", "MQTT_INVALID_TOPIC", 0x90);
    rejects(5, "30 06 00 03 61 2F 2B 00", "MQTT_INVALID_TOPIC", 0x90);
  });
  it("rejects an empty topic without a topic alias (§3.3.2.3.4)", () => {
    rejects(5, "30 03 00 00 00", PROTOCOL, 0x82);
    rejects(4, "30 02 00 00", "MQTT_INVALID_TOPIC", 0x90);
  });
  it("rejects topic alias 0 (§3.3.2.3.4)", () =>
    rejects(5, "30 07 00 01 74 03 23 00 00", "MQTT_TOPIC_ALIAS_INVALID", 0x94));
  it("rejects a property length running past the packet", () =>
    rejects(5, "30 05 00 01 74 09 01", MALFORMED, 0x81));
});

describe("properties (§2.2.2)", () => {
  it("rejects a property that may appear only once, twice", () => {
    // Message Expiry Interval (0x02) twice.
    rejects(5, "30 0E 00 01 74 0A 02 00 00 00 01 02 00 00 00 02", PROTOCOL, 0x82);
  });
  it("accepts repeated user properties and subscription identifiers in PUBLISH", () => {
    const d = new PacketDecoder({ version: 5 });
    const [p] = d.push(hex("30 08 00 01 74 04 0B 01 0B 02"));
    assert.deepEqual(p.type === "publish" && p.properties, { subscriptionIdentifiers: [1, 2] });
  });
  it("rejects two subscription identifiers in SUBSCRIBE (§3.8.2.1.2)", () =>
    rejects(5, "82 0A 00 01 04 0B 01 0B 02 00 01 74 00", PROTOCOL, 0x82));
  it("rejects a property not allowed on the packet", () => {
    rejects(5, "40 07 00 01 00 03 23 00 01", MALFORMED, 0x81); // topic alias in PUBACK
    rejects(5, "E0 03 00 01 13", MALFORMED, 0x81); // server keep alive (truncated) in DISCONNECT
  });
  it("rejects authentication data without a method (§3.15.2.2.3)", () =>
    rejects(5, "F0 06 18 04 16 00 01 AA", PROTOCOL, 0x82));
  it("rejects an unknown property identifier", () =>
    rejects(5, "40 05 00 01 00 01 7F", MALFORMED, 0x81));
  it("rejects out-of-range property values", () => {
    rejects(5, "20 06 00 00 03 21 00 00", PROTOCOL, 0x82); // Receive Maximum 0
    rejects(5, "20 05 00 00 02 24 02", PROTOCOL, 0x82); // Maximum QoS 2
    rejects(5, "20 05 00 00 02 25 02", PROTOCOL, 0x82); // Retain Available 2
    rejects(5, "20 08 00 00 05 27 00 00 00 00", PROTOCOL, 0x82); // Maximum Packet Size 0
    rejects(5, "30 06 00 01 74 02 01 02", PROTOCOL, 0x82); // Payload Format Indicator 2
    rejects(5, "82 08 00 01 02 0B 00 00 01 74 00", PROTOCOL, 0x82); // Subscription Identifier 0
  });
});

describe("acknowledgements and the rest", () => {
  it("rejects packet identifier 0 in acks, SUBSCRIBE, SUBACK, UNSUBSCRIBE", () => {
    rejects(5, "40 02 00 00", MALFORMED, 0x81);
    rejects(4, "70 02 00 00", MALFORMED, 0x81);
    rejects(4, "82 06 00 00 00 01 74 00", MALFORMED, 0x81);
    rejects(4, "90 03 00 00 00", MALFORMED, 0x81);
    rejects(4, "A2 05 00 00 00 01 74", MALFORMED, 0x81);
  });
  it("rejects trailing bytes (3.1.1 acks are exactly two bytes; PINGRESP is empty)", () => {
    rejects(4, "40 03 00 01 00", MALFORMED, 0x81);
    rejects(4, "D0 01 00", MALFORMED, 0x81);
    rejects(4, "E0 01 00", MALFORMED, 0x81);
  });
  it("rejects a truncated ack", () => rejects(5, "40 01 00", MALFORMED, 0x81));
  it("rejects reason codes the packet cannot carry", () => {
    rejects(5, "40 03 00 01 92", MALFORMED, 0x81); // 0x92 is for PUBREL/PUBCOMP only
    rejects(5, "90 04 00 01 00 03", MALFORMED, 0x81); // SUBACK reason 3
    rejects(4, "90 03 00 01 03", MALFORMED, 0x81); // 3.1.1 SUBACK return code 3
    rejects(4, "20 02 00 06", MALFORMED, 0x81); // 3.1.1 CONNACK return code 6
  });
  it("rejects CONNACK reserved flags and session present on a refusal (§3.2.2.1)", () => {
    rejects(4, "20 02 02 00", MALFORMED, 0x81);
    rejects(5, "20 03 01 87 00", PROTOCOL, 0x82);
  });
  it("rejects SUBACK/UNSUBACK without reason codes and SUBSCRIBE without filters", () => {
    rejects(4, "90 02 00 01", PROTOCOL, 0x82);
    rejects(5, "B0 03 00 01 00", PROTOCOL, 0x82);
    rejects(4, "82 02 00 01", PROTOCOL, 0x82);
    rejects(5, "A2 03 00 01 00", PROTOCOL, 0x82);
  });
  it("rejects bad subscription options (§3.8.3.1)", () => {
    rejects(4, "82 06 00 01 00 01 74 04", MALFORMED, 0x81); // 3.1.1 reserved bit
    rejects(5, "82 07 00 01 00 00 01 74 40", MALFORMED, 0x81); // reserved bit 6
    rejects(5, "82 07 00 01 00 00 01 74 30", PROTOCOL, 0x82); // retain handling 3
    rejects(5, "82 07 00 01 00 00 01 74 03", MALFORMED, 0x81); // QoS 3
  });
  it("rejects No Local on a shared subscription (§3.8.3.1)", () => {
    // "$share/g/t" = 10 bytes
    rejects(5, "82 10 00 01 00 00 0A 24 73 68 61 72 65 2F 67 2F 74 04", PROTOCOL, 0x82);
  });
});

describe("CONNECT (§3.1)", () => {
  const connect = (name: string, level: string, flags: string) =>
    `10 0D 00 04 ${name} ${level} ${flags} 00 0A 00 01 63`;
  it("rejects an unknown protocol name or level with 0x84", () => {
    rejects(5, connect("4D 51 54 58", "04", "02"), "MQTT_UNSUPPORTED_PROTOCOL_VERSION", 0x84);
    rejects(5, connect("4D 51 54 54", "03", "02"), "MQTT_UNSUPPORTED_PROTOCOL_VERSION", 0x84);
  });
  it("rejects the reserved flag, will QoS 3 and will QoS/retain without a will", () => {
    rejects(4, connect("4D 51 54 54", "04", "03"), MALFORMED, 0x81);
    rejects(4, connect("4D 51 54 54", "04", "1C"), MALFORMED, 0x81);
    rejects(4, connect("4D 51 54 54", "04", "08"), MALFORMED, 0x81);
    rejects(4, connect("4D 51 54 54", "04", "20"), MALFORMED, 0x81);
  });
  it("rejects a 3.1.1 password without a user name", () => {
    rejects(4, connect("4D 51 54 54", "04", "42"), MALFORMED, 0x81);
  });
});

describe("after an error", () => {
  it("keeps failing: the stream is out of sync", () => {
    const decoder = new PacketDecoder({ version: 4 });
    assert.throws(() => decoder.push(hex("00 00")), { code: MALFORMED });
    assert.throws(() => decoder.push(hex("C0 00")), { code: MALFORMED });
  });
});
