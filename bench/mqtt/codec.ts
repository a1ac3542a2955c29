/**
 * Codec microbenchmark (no broker, no sockets): mtaio's codec vs mqtt-packet, the codec inside
 * MQTT.js. Encodes PUBLISH packets and decodes a stream of them cut into 64 KiB chunks; best of
 * five alternating runs each.
 *
 *   npx tsx bench/mqtt/codec.ts
 */
import { createRequire } from "node:module";
import { encodePacket, type Packet, PacketDecoder } from "../../src/mqtt/codec/index.js";

const require = createRequire(import.meta.url);
interface MqttPacketParser {
  on(event: "packet", listener: () => void): void;
  on(event: "error", listener: (error: Error) => void): void;
  parse(chunk: Buffer): number;
}
const mqttPacket = require("mqtt-packet") as {
  generate(packet: object, options: { protocolVersion: number }): Buffer;
  parser(options: { protocolVersion: number }): MqttPacketParser;
};

const SIZES = [64, 1024, 16_384];
const CHUNK = 65_536;

/**
 * Best of five timed runs of each, alternating ours/theirs so that load from other processes on
 * the shared machine hits both alike. Returns operations per second.
 */
function compare(ours: () => number, theirs: () => number): { ours: number; theirs: number } {
  ours();
  theirs(); // warm up
  const best = { ours: 0, theirs: 0 };
  for (let run = 0; run < 5; run++) {
    for (const [name, fn] of [
      ["ours", ours],
      ["theirs", theirs],
    ] as const) {
      const start = process.hrtime.bigint();
      const n = fn();
      const rate = n / (Number(process.hrtime.bigint() - start) / 1e9);
      best[name] = Math.max(best[name], rate);
    }
  }
  return best;
}

function chunks(stream: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < stream.length; at += CHUNK) out.push(stream.subarray(at, at + CHUNK));
  return out;
}

const rows: string[] = [
  "| operation | payload | mqtt-packet ops/s | mtaio ops/s | ratio |",
  "|---|---|--:|--:|--:|",
];
const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

for (const size of SIZES) {
  const count = size >= 16_384 ? 20_000 : 200_000;
  const payload = Buffer.alloc(size, 0x61);
  for (const qos of [0, 1] as const) {
    const packet: Packet = {
      type: "publish",
      topic: "bench/codec/topic",
      payload,
      qos,
      retain: false,
      dup: false,
      ...(qos > 0 ? { packetId: 1 } : {}),
    };
    const theirs = {
      cmd: "publish",
      topic: packet.topic,
      payload,
      qos,
      retain: false,
      dup: false,
      messageId: qos > 0 ? 1 : undefined,
    };

    const enc = compare(
      () => {
        let bytes = 0;
        for (let i = 0; i < count; i++) bytes += encodePacket(packet, 5).length;
        return bytes > 0 ? count : 0;
      },
      () => {
        let bytes = 0;
        for (let i = 0; i < count; i++) {
          bytes += mqttPacket.generate(theirs, { protocolVersion: 5 }).length;
        }
        return bytes > 0 ? count : 0;
      },
    );
    rows.push(
      `| encode PUBLISH QoS ${qos} | ${size} B | ${fmt(enc.theirs)} | ${fmt(enc.ours)} | ${(enc.ours / enc.theirs).toFixed(2)}× |`,
    );

    const one = Buffer.from(encodePacket(packet, 5));
    const stream = chunks(Buffer.concat(Array.from({ length: count }, () => one)));
    const dec = compare(
      () => {
        const decoder = new PacketDecoder({ version: 5 });
        let n = 0;
        for (const chunk of stream) n += decoder.push(chunk).length;
        return n;
      },
      () => {
        const parser = mqttPacket.parser({ protocolVersion: 5 });
        let n = 0;
        parser.on("packet", () => {
          n++;
        });
        for (const chunk of stream) parser.parse(chunk);
        return n;
      },
    );
    rows.push(
      `| decode PUBLISH QoS ${qos} (64 KiB chunks) | ${size} B | ${fmt(dec.theirs)} | ${fmt(dec.ours)} | ${(dec.ours / dec.theirs).toFixed(2)}× |`,
    );
  }
}
console.log(rows.join("\n"));
