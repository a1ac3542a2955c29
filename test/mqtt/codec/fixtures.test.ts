/**
 * Byte-exact fixtures worked out by hand from the specification text (sections cited), so the
 * codec is checked against the spec rather than against itself.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  encodePacket,
  type Packet,
  PacketDecoder,
  type ProtocolVersion,
} from "../../../src/mqtt/codec/index.js";

const hex = (s: string) => Uint8Array.from(s.trim().split(/\s+/), (b) => Number.parseInt(b, 16));
const ascii = (s: string) => new TextEncoder().encode(s);

function check(version: ProtocolVersion, packet: Packet, bytes: string) {
  const expected = hex(bytes);
  assert.deepEqual([...encodePacket(packet, version)], [...expected], "encoding");
  assert.deepEqual(new PacketDecoder({ version }).push(expected), [packet], "decoding");
}

describe("spec fixtures, MQTT 3.1.1", () => {
  it("CONNECT with the variable header of 3.1.1 §3.1.2.10 (flags 0xCE, keep alive 10)", () => {
    // Flags 0xCE = user name (0x80) | password (0x40) | will QoS 1 (0x08) | will (0x04) |
    // clean session (0x02); figure 3.6 shows 00 04 'M' 'Q' 'T' 'T' 04 CE 00 0A.
    // Payload order (§3.1.3): client id "c", will topic "w", will message "m", user "u", password "p".
    const packet: Packet = {
      type: "connect",
      protocolVersion: 4,
      clientId: "c",
      clean: true,
      keepalive: 10,
      will: { topic: "w", payload: ascii("m"), qos: 1, retain: false },
      username: "u",
      password: ascii("p"),
    };
    check(
      4,
      packet,
      "10 19  00 04 4D 51 54 54 04 CE 00 0A  00 01 63  00 01 77  00 01 6D  00 01 75  00 01 70",
    );
  });

  it("SUBSCRIBE of 3.1.1 §3.8.3 figure 3.22: packet id 10, 'a/b' QoS 1, 'c/d' QoS 2", () => {
    check(
      4,
      {
        type: "subscribe",
        packetId: 10,
        subscriptions: [
          { topicFilter: "a/b", qos: 1 },
          { topicFilter: "c/d", qos: 2 },
        ],
      },
      "82 0E 00 0A 00 03 61 2F 62 01 00 03 63 2F 64 02",
    );
  });

  it("SUBACK of 3.1.1 §3.9.3 figure 3.26: return codes 0, 1, 2 and failure 0x80", () => {
    check(
      4,
      { type: "suback", packetId: 10, reasonCodes: [0, 1, 2, 0x80] },
      "90 06 00 0A 00 01 02 80",
    );
  });

  it("PUBLISH topic 'A𪛔' from the UTF-8 example of 3.1.1 §1.5.3 figure 1.3", () => {
    // U+2A6D4 is F0 AA 9B 94 in UTF-8; the string is 00 05 41 F0 AA 9B 94.
    check(
      4,
      {
        type: "publish",
        topic: "A\u{2A6D4}",
        payload: new Uint8Array(0),
        qos: 0,
        retain: false,
        dup: false,
      },
      "30 07 00 05 41 F0 AA 9B 94",
    );
  });

  it("CONNACK, PINGREQ, PINGRESP, DISCONNECT, UNSUBACK (§3.2, §3.12–3.14, §3.11)", () => {
    check(4, { type: "connack", sessionPresent: true, reasonCode: 0 }, "20 02 01 00");
    check(4, { type: "connack", sessionPresent: false, reasonCode: 5 }, "20 02 00 05");
    check(4, { type: "pingreq" }, "C0 00");
    check(4, { type: "pingresp" }, "D0 00");
    check(4, { type: "disconnect", reasonCode: 0 }, "E0 00");
    check(4, { type: "unsuback", packetId: 0x1234, reasonCodes: [] }, "B0 02 12 34");
    check(4, { type: "pubrel", packetId: 1, reasonCode: 0 }, "62 02 00 01");
  });
});

describe("spec fixtures, MQTT 5.0", () => {
  it("CONNECT with the variable header example of MQTT 5 §3.1.2.12", () => {
    // Figure 3-8: 00 04 'M' 'Q' 'T' 'T' 05 C2 00 0A, properties length 05, Session Expiry
    // Interval (0x11) = 10. Flags 0xC2 = user name | password | clean start.
    check(
      5,
      {
        type: "connect",
        protocolVersion: 5,
        clientId: "",
        clean: true,
        keepalive: 10,
        username: "u",
        password: ascii("p"),
        properties: { sessionExpiryInterval: 10 },
      },
      "10 18  00 04 4D 51 54 54 05 C2 00 0A  05 11 00 00 00 0A  00 00  00 01 75  00 01 70",
    );
  });

  it("PUBACK short forms of §3.4.2.1", () => {
    // Remaining Length 2: success without properties; 3: a reason code without properties.
    check(5, { type: "puback", packetId: 1, reasonCode: 0 }, "40 02 00 01");
    check(5, { type: "puback", packetId: 1, reasonCode: 0x10 }, "40 03 00 01 10");
    check(
      5,
      { type: "puback", packetId: 1, reasonCode: 0, properties: { reasonString: "ok" } },
      "40 09 00 01 00 05 1F 00 02 6F 6B",
    );
  });

  it("DISCONNECT and AUTH with Remaining Length 0 mean reason 0x00 (§3.14.2.1, §3.15.2.1)", () => {
    check(5, { type: "disconnect", reasonCode: 0 }, "E0 00");
    check(5, { type: "disconnect", reasonCode: 0x8e }, "E0 01 8E");
    check(5, { type: "auth", reasonCode: 0 }, "F0 00");
  });

  it("subscription options byte of §3.8.3.1", () => {
    // QoS 1 | No Local (bit 2) | Retain As Published (bit 3) | Retain Handling 2 (bits 4–5) = 0x2D
    check(
      5,
      {
        type: "subscribe",
        packetId: 1,
        subscriptions: [
          { topicFilter: "t", qos: 1, noLocal: true, retainAsPublished: true, retainHandling: 2 },
        ],
      },
      "82 07 00 01 00 00 01 74 2D",
    );
  });

  it("PUBLISH with a topic alias and a user property (§3.3.2.3)", () => {
    // props: 23 00 07 (topic alias 7), 26 00 01 6B 00 01 76 (user property k=v) → length 10
    check(
      5,
      {
        type: "publish",
        topic: "",
        payload: ascii("hi"),
        qos: 1,
        retain: true,
        dup: true,
        packetId: 258,
        properties: { topicAlias: 7, userProperties: [["k", "v"]] },
      },
      "3B 11 00 00 01 02 0A 23 00 07 26 00 01 6B 00 01 76 68 69",
    );
  });
});

describe("Remaining Length encoding (MQTT 5 §1.5.5 table 1-1)", () => {
  // Boundary values from the table, seen in the fixed header of a PUBLISH.
  const cases: [number, string][] = [
    [127, "7F"],
    [128, "80 01"],
    [16_383, "FF 7F"],
    [16_384, "80 80 01"],
    [2_097_151, "FF FF 7F"],
    [2_097_152, "80 80 80 01"],
  ];
  for (const [remaining, encoded] of cases) {
    it(`${remaining} → ${encoded}`, () => {
      // topic "t" (3 bytes) + payload
      const packet: Packet = {
        type: "publish",
        topic: "t",
        payload: new Uint8Array(remaining - 3),
        qos: 0,
        retain: false,
        dup: false,
      };
      const bytes = encodePacket(packet, 4);
      const lengthBytes = hex(encoded);
      assert.deepEqual([...bytes.subarray(1, 1 + lengthBytes.length)], [...lengthBytes]);
      assert.equal(bytes.length, 1 + lengthBytes.length + remaining);
      assert.deepEqual(new PacketDecoder({ version: 4 }).push(bytes), [packet]);
    });
  }
});
