/**
 * WriteBatch: packets encoded back to back must be byte for byte what encodePacket gives, in
 * order, whatever mix of small and large packets and wherever the batch is taken; a packet that
 * throws adds nothing; bytes handed out are never written again.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { encodePacket, type Packet, type PublishPacket } from "../../../src/mqtt/codec/index.js";
import { WriteBatch, ZERO_COPY_MIN } from "../../../src/mqtt/codec/write-batch.js";
import { concat, packet } from "./arbitraries.js";

function publish(payloadLength: number, fields: Partial<PublishPacket> = {}): PublishPacket {
  return {
    type: "publish",
    topic: "a/b",
    payload: new Uint8Array(payloadLength).fill(payloadLength % 251),
    qos: 1,
    retain: false,
    dup: false,
    packetId: 7,
    ...fields,
  };
}

describe("WriteBatch", () => {
  for (const version of [4, 5] as const) {
    it(`MQTT ${version}: the chunks are encodePacket's bytes, in order, wherever taken`, () => {
      const item = fc.oneof(
        { weight: 4, arbitrary: packet(version) },
        {
          weight: 1,
          arbitrary: fc
            .integer({ min: ZERO_COPY_MIN - 2, max: 70_000 })
            .map((n): Packet => publish(n)),
        },
      );
      fc.assert(
        fc.property(fc.array(fc.tuple(item, fc.boolean()), { maxLength: 40 }), (steps) => {
          const batch = new WriteBatch(version);
          const written: Uint8Array[] = [];
          const expected: Uint8Array[] = [];
          for (const [p, takeAfter] of steps) {
            expected.push(encodePacket(p, version));
            batch.add(p);
            if (takeAfter) written.push(concat(batch.take()));
          }
          written.push(concat(batch.take()));
          assert.deepEqual(concat(written), concat(expected));
          assert.equal(batch.byteLength, 0);
        }),
        { numRuns: 150 },
      );
    });
  }

  it("keeps a large payload as its own chunk and copies a small one", () => {
    const batch = new WriteBatch(5);
    const large = publish(ZERO_COPY_MIN);
    const small = publish(ZERO_COPY_MIN - 1);
    assert.equal(
      batch.publish(large.topic, large.payload, 1, false, false, 1, undefined),
      true,
      "a large payload is kept",
    );
    assert.equal(
      batch.publish(small.topic, small.payload, 1, false, false, 2, undefined),
      false,
      "a small payload is copied",
    );
    const chunks = batch.take();
    assert.ok(chunks.includes(large.payload), "the large payload is sent from the caller's bytes");
    assert.ok(!chunks.includes(small.payload));
  });

  it("adds nothing for a packet that throws, and goes on after it", () => {
    const batch = new WriteBatch(5);
    batch.add(publish(3));
    assert.throws(() => batch.add(publish(3, { topic: "bad/+" })), { code: "MQTT_INVALID_TOPIC" });
    assert.throws(() => batch.add(publish(300), 100), { code: "MQTT_PACKET_TOO_LARGE" });
    assert.throws(
      () => batch.publish("a", new Uint8Array(100), 0, false, false, undefined, undefined, 50),
      { code: "MQTT_PACKET_TOO_LARGE" },
    );
    batch.add(publish(4));
    assert.deepEqual(
      concat(batch.take()),
      concat([encodePacket(publish(3), 5), encodePacket(publish(4), 5)]),
    );
  });

  it("never writes again into bytes it handed out", () => {
    const batch = new WriteBatch(4);
    const handedOut: Array<{ chunk: Uint8Array; copy: Uint8Array }> = [];
    for (let i = 0; i < 3000; i++) {
      batch.add(publish(i % 300, { packetId: (i % 65535) + 1 }));
      if (i % 7 === 0) {
        for (const chunk of batch.take()) handedOut.push({ chunk, copy: chunk.slice() });
      }
    }
    batch.take();
    for (const { chunk, copy } of handedOut) assert.deepEqual(chunk, copy);
  });

  it("acknowledge() writes the same bytes as encodePacket, and checks the packet id", () => {
    for (const version of [4, 5] as const) {
      for (const type of ["puback", "pubrec", "pubrel", "pubcomp"] as const) {
        for (const packetId of [1, 0x1234, 65535]) {
          const batch = new WriteBatch(version);
          batch.acknowledge(type, packetId);
          assert.deepEqual(
            concat(batch.take()),
            concat([encodePacket({ type, packetId }, version)]),
            `${type} ${packetId} (MQTT ${version})`,
          );
        }
        for (const bad of [0, 65536, 1.5, Number.NaN]) {
          const batch = new WriteBatch(version);
          assert.throws(() => batch.acknowledge(type, bad), { code: "MQTT_INVALID_PACKET" });
          assert.equal(batch.byteLength, 0);
        }
      }
    }
  });

  it("clear() drops what was added since the last take", () => {
    const batch = new WriteBatch(5);
    batch.add(publish(10));
    batch.clear();
    assert.equal(batch.byteLength, 0);
    batch.add(publish(20));
    assert.deepEqual(concat(batch.take()), concat([encodePacket(publish(20), 5)]));
  });
});
