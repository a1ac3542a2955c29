/**
 * The decoder reuses the string of the last PUBLISH topic while the bytes repeat: it must never
 * hand out that string for different bytes, and a topic it rejects stays rejected.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { MQTTError } from "../../../src/errors.js";
import { encodePacket, PacketDecoder, type PublishPacket } from "../../../src/mqtt/codec/index.js";

function publishBytes(topic: string): Uint8Array {
  return encodePacket(
    { type: "publish", topic, payload: Uint8Array.of(1), qos: 0, retain: false, dup: false },
    5,
  );
}

/** A PUBLISH whose topic field is `topicBytes` as given (the encoder would refuse bad ones). */
function rawPublish(topicBytes: number[]): Uint8Array {
  const body = [topicBytes.length >> 8, topicBytes.length & 0xff, ...topicBytes, 0, 1];
  return Uint8Array.of(0x30, body.length, ...body);
}

const topicsOf = (bytes: Uint8Array) =>
  (new PacketDecoder({ version: 5 }).push(bytes) as PublishPacket[]).map((p) => p.topic);

describe("repeated PUBLISH topics", () => {
  it("a topic of the same length but other bytes is decoded, not reused", () => {
    const topics = ["a/b", "a/b", "a/c", "a/b", "é/x", "Ã©/x", "é/x", "a/b", "b/a"];
    const stream = topics.map(publishBytes);
    assert.deepEqual(
      stream.flatMap((bytes) => topicsOf(bytes)),
      topics,
    );
  });

  it("any sequence of topics decodes to itself", () => {
    const topic = fc.constantFrom("a", "b", "a/b", "a/c", "ab", "é", "Ã©", "x/y/z", "€", "😀");
    fc.assert(
      fc.property(fc.array(topic, { minLength: 1, maxLength: 12 }), (topics) => {
        const decoder = new PacketDecoder({ version: 5 });
        const got = topics.flatMap((t) =>
          (decoder.push(publishBytes(t)) as PublishPacket[]).map((p) => p.topic),
        );
        assert.deepEqual(got, topics);
      }),
    );
  });

  it("a wildcard or NUL topic after a valid one of the same length is still rejected", () => {
    for (const bad of [
      [0x61, 0x2f, 0x2b],
      [0x61, 0x2f, 0x23],
      [0x61, 0x2f, 0x00],
    ]) {
      const decoder = new PacketDecoder({ version: 5 });
      assert.deepEqual(
        (decoder.push(publishBytes("a/b")) as PublishPacket[]).map((p) => p.topic),
        ["a/b"],
      );
      assert.throws(() => decoder.push(rawPublish(bad)), MQTTError);
    }
  });
});
