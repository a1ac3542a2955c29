/**
 * A decoder fed from one read buffer that is overwritten after every push (`reusedChunks`, how
 * the client reads plain TCP): every packet it returned must still hold its own bytes after the
 * buffer was overwritten many times, whatever the payload size and wherever the reads cut.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  encodePacket,
  type Packet,
  PacketDecoder,
  type ProtocolVersion,
  type PublishPacket,
} from "../../../src/mqtt/codec/index.js";
import { concat, packet, splitAt } from "./arbitraries.js";

const RUNS = Number(process.env.MTAIO_FUZZ_RUNS ?? 300);

/**
 * Copies each chunk into the same `readBuffer` before pushing it, and scribbles over the buffer
 * after each push, as a transport's next read would.
 */
function decodeThroughOneBuffer(
  version: ProtocolVersion,
  chunks: Uint8Array[],
  readBuffer: Uint8Array,
): Packet[] {
  const decoder = new PacketDecoder({ version, reusedChunks: true });
  const out: Packet[] = [];
  let scribble = 0;
  for (const chunk of chunks) {
    for (let from = 0; from < chunk.length; from += readBuffer.length) {
      const piece = chunk.subarray(from, from + readBuffer.length);
      readBuffer.set(piece);
      out.push(...decoder.push(readBuffer.subarray(0, piece.length)));
      readBuffer.fill(0xa5 ^ scribble++);
    }
  }
  assert.equal(decoder.bufferedBytes, 0);
  return out;
}

function publish(topic: string, size: number, seed: number): PublishPacket {
  const payload = new Uint8Array(size);
  for (let i = 0; i < size; i++) payload[i] = (i * 31 + seed) & 0xff;
  return { type: "publish", topic, payload, qos: 0, retain: false, dup: false };
}

/** Payload sizes on both sides of the decoder's thresholds (shared slabs, growth by doubling). */
const payloadSize = fc.oneof(
  fc.integer({ min: 0, max: 100 }),
  fc.integer({ min: 2000, max: 2100 }),
  fc.integer({ min: 16_000, max: 17_000 }),
  fc.integer({ min: 64 * 1024 - 50, max: 200 * 1024 }),
);

for (const version of [4, 5] as const) {
  describe(`decoding from a reused read buffer, MQTT ${version === 5 ? "5.0" : "3.1.1"}`, () => {
    it("any packets, split anywhere, keep their bytes after the buffer is overwritten", () => {
      fc.assert(
        fc.property(
          fc.array(packet(version), { minLength: 1, maxLength: 8 }),
          fc.array(fc.nat(), { maxLength: 12 }),
          fc.integer({ min: 1, max: 4096 }),
          (list, points, bufferSize) => {
            const stream = concat(list.map((p) => encodePacket(p, version)));
            const chunks = splitAt(stream, points);
            const got = decodeThroughOneBuffer(version, chunks, new Uint8Array(bufferSize));
            assert.deepEqual(got, list);
          },
        ),
        { numRuns: RUNS },
      );
    });

    it("payloads of every size keep their bytes, inside one read or across many", () => {
      fc.assert(
        fc.property(
          fc.array(payloadSize, { minLength: 1, maxLength: 6 }),
          fc.constantFrom(1000, 16 * 1024, 64 * 1024),
          (sizes, bufferSize) => {
            const list = sizes.map((size, i) => publish(`t/${i}`, size, i));
            const stream = concat(list.map((p) => encodePacket(p, version)));
            const got = decodeThroughOneBuffer(version, [stream], new Uint8Array(bufferSize));
            assert.deepEqual(got, list);
          },
        ),
        { numRuns: Math.max(20, RUNS / 10) },
      );
    });
  });
}

describe("payload copies", () => {
  it("small payloads sharing slabs stay intact after many slabs were filled", () => {
    // 4000 payloads of 100 bytes fill several of the shared slabs small copies go into.
    const list = Array.from({ length: 4000 }, (_, i) => publish("s", 100, i));
    const stream = concat(list.map((p) => encodePacket(p, 5)));
    const got = decodeThroughOneBuffer(5, [stream], new Uint8Array(64 * 1024));
    assert.deepEqual(got, list);
  });

  it("are plain Uint8Arrays, each over bytes no other payload uses", () => {
    const list = [publish("a", 10, 1), publish("b", 3000, 2), publish("c", 10, 3)];
    const stream = concat(list.map((p) => encodePacket(p, 5)));
    const got = decodeThroughOneBuffer(5, [stream], new Uint8Array(64 * 1024));
    for (const p of got as PublishPacket[]) {
      assert.equal(Object.getPrototypeOf(p.payload), Uint8Array.prototype);
    }
    // Writing into one payload must not reach the others (nor a later one from the same slab).
    (got[0] as PublishPacket).payload.fill(0);
    (got[1] as PublishPacket).payload.fill(0);
    const later = decodeThroughOneBuffer(5, [stream], new Uint8Array(64 * 1024));
    assert.deepEqual(got[2], list[2]);
    assert.deepEqual(later, list);
  });

  it("a decoder without reusedChunks hands out views of the chunk (no copy)", () => {
    const stream = encodePacket(publish("v", 5000, 7), 5);
    const [p] = new PacketDecoder({ version: 5 }).push(stream) as PublishPacket[];
    assert.equal(p.payload.buffer, stream.buffer);
  });
});
