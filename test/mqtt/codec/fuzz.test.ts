/**
 * Property-based tests (fast-check):
 *  1. any valid packet sequence survives encode → split anywhere → decode unchanged;
 *  2. random bytes and mutated valid streams only ever yield packets or an MQTTError — never
 *     another error type, never a hang — and the decoder never holds more than one maximum
 *     packet plus one chunk.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { MQTTError } from "../../../src/errors.js";
import {
  encodePacket,
  type Packet,
  PacketDecoder,
  type ProtocolVersion,
} from "../../../src/mqtt/codec/index.js";
import { concat, packet, splitAt } from "./arbitraries.js";

const RUNS = Number(process.env.MTAIO_FUZZ_RUNS ?? 300);
const MAX_PACKET = 2048;

function decodeChunks(version: ProtocolVersion, chunks: Uint8Array[]): Packet[] {
  const decoder = new PacketDecoder({ version });
  const out: Packet[] = [];
  for (const chunk of chunks) out.push(...decoder.push(chunk));
  assert.equal(decoder.bufferedBytes, 0);
  return out;
}

/**
 * Feeds chunks to a bounded decoder; returns the packets, or the MQTTError it threw. Anything
 * else thrown fails the property. Checks the buffered backlog stays bounded after each push.
 */
function feedHostile(version: ProtocolVersion, chunks: Uint8Array[]): Packet[] | MQTTError {
  const decoder = new PacketDecoder({ version, maximumPacketSize: MAX_PACKET });
  const out: Packet[] = [];
  try {
    for (const chunk of chunks) {
      out.push(...decoder.push(chunk));
      assert.ok(
        decoder.bufferedBytes <= MAX_PACKET + chunk.length,
        `backlog ${decoder.bufferedBytes} bytes`,
      );
    }
  } catch (error) {
    if (error instanceof MQTTError) return error;
    throw error;
  }
  return out;
}

/** A packet the decoder accepted must re-encode to something that decodes to itself. */
function reencodes(version: ProtocolVersion, packets: Packet[]): void {
  for (const p of packets) {
    let bytes: Uint8Array;
    try {
      // CONNECT carries its own version; everything else uses the stream's.
      bytes = encodePacket(p, p.type === "connect" ? p.protocolVersion : version);
    } catch (error) {
      // The decoder leaves topic filter structure to the session, so the encoder may refuse.
      assert.ok(error instanceof MQTTError, String(error));
      continue;
    }
    const again = new PacketDecoder({
      version: p.type === "connect" ? p.protocolVersion : version,
    }).push(bytes);
    assert.deepEqual(again, [p]);
  }
}

for (const version of [4, 5] as const) {
  describe(`codec fuzzing, MQTT ${version === 5 ? "5.0" : "3.1.1"}`, () => {
    const packets = fc.array(packet(version), { minLength: 1, maxLength: 8 });
    const cuts = fc.array(fc.nat(), { maxLength: 12 });

    it("encode → split at random points → decode gives the same packets", () => {
      fc.assert(
        fc.property(packets, cuts, (list, points) => {
          const stream = concat(list.map((p) => encodePacket(p, version)));
          assert.deepEqual(decodeChunks(version, splitAt(stream, points)), list);
        }),
        { numRuns: RUNS },
      );
    });

    it("random bytes yield packets or an MQTTError, with a bounded backlog", () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 300 }), cuts, (bytes, points) => {
          const result = feedHostile(version, splitAt(bytes, points));
          if (Array.isArray(result)) reencodes(version, result);
        }),
        { numRuns: RUNS * 3 },
      );
    });

    it("random bytes behind a valid fixed header yield packets or an MQTTError", () => {
      // Random bodies get past the framing, so the body parsers see them.
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: 15 }),
          fc.integer({ min: 0, max: 15 }),
          fc.uint8Array({ maxLength: 120 }),
          (type, flags, body) => {
            const stream = Uint8Array.of((type << 4) | flags, body.length, ...body);
            const result = feedHostile(version, [stream]);
            if (Array.isArray(result)) reencodes(version, result);
          },
        ),
        { numRuns: RUNS * 5 },
      );
    });

    it("mutated valid streams yield packets or an MQTTError", () => {
      const mutation = fc.oneof(
        fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), value: fc.nat(255) }),
        fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), value: fc.nat(255) }),
        fc.record({ kind: fc.constant("delete" as const), at: fc.nat(), value: fc.nat(255) }),
      );
      fc.assert(
        fc.property(
          packets,
          fc.array(mutation, { minLength: 1, maxLength: 4 }),
          cuts,
          (list, mutations, points) => {
            const bytes = [...concat(list.map((p) => encodePacket(p, version)))];
            for (const m of mutations) {
              const at = m.at % (bytes.length + 1);
              if (m.kind === "flip") bytes[at % bytes.length] ^= m.value || 1;
              else if (m.kind === "insert") bytes.splice(at, 0, m.value);
              else bytes.splice(at % bytes.length, 1);
            }
            const result = feedHostile(version, splitAt(Uint8Array.from(bytes), points));
            if (Array.isArray(result)) reencodes(version, result);
          },
        ),
        { numRuns: RUNS * 3 },
      );
    });
  });
}

describe("decoder memory", () => {
  it("holds a huge announced packet back only up to the maximum packet size", () => {
    const decoder = new PacketDecoder({ version: 5, maximumPacketSize: 1 << 20 });
    // Announce 1 MiB - 16 bytes of PUBLISH, then feed it in 1 KiB chunks.
    const body = (1 << 20) - 16;
    const header = Uint8Array.of(
      0x30,
      0x80 | (body & 0x7f),
      0x80 | ((body >> 7) & 0x7f),
      body >> 14,
    );
    const bodyBytes = new Uint8Array(body);
    bodyBytes.set([0, 1, 0x74, 0], 0); // topic "t", no properties
    const stream = concat([header, bodyBytes]);
    let packets: Packet[] = [];
    for (let at = 0; at < stream.length; at += 1024) {
      packets = packets.concat(decoder.push(stream.subarray(at, at + 1024)));
      assert.ok(decoder.bufferedBytes <= stream.length);
    }
    assert.equal(packets.length, 1);
    assert.equal(packets[0].type === "publish" && packets[0].payload.length, body - 4);
    assert.equal(decoder.bufferedBytes, 0);
  });
});

describe("decoder cost", () => {
  it("takes a 256 KiB packet one byte at a time without quadratic copying", {
    timeout: 30_000,
  }, () => {
    // Joining the backlog on every push would copy ~34 GB here and never finish in time.
    const packet: Packet = {
      type: "publish",
      topic: "t",
      payload: new Uint8Array(256 * 1024).fill(3),
      qos: 0,
      retain: false,
      dup: false,
    };
    const bytes = encodePacket(packet, 5);
    const decoder = new PacketDecoder({ version: 5 });
    const out: Packet[] = [];
    for (let i = 0; i < bytes.length; i++) out.push(...decoder.push(bytes.subarray(i, i + 1)));
    assert.deepEqual(out, [packet]);
  });
});
