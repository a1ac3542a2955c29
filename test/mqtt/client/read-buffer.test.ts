/**
 * Plain TCP connections read into one reused buffer: received payloads must be the client's
 * own bytes, intact however many reads came after them. Against a real Mosquitto, messages of
 * every size (inside one read, across reads, larger than the read buffer) are kept until the
 * end and then checked byte for byte, over TCP, TLS and WebSocket.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type MQTTClient, type MQTTMessage, QoS } from "../../../src/mqtt/index.js";
import { serverSkip } from "../../servers/common.js";
import { type Mosquitto, startMosquitto } from "../../servers/mosquitto.js";
import { clientPool } from "../helpers.js";

/** The payload of message `i`: its size and a pattern that differs per message. */
function payloadOf(i: number, size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let j = 0; j < size; j++) bytes[j] = (j * 7 + i * 13) & 0xff;
  return bytes;
}

function collect(client: MQTTClient, count: number): Promise<MQTTMessage[]> {
  return new Promise((resolve, reject) => {
    const got: MQTTMessage[] = [];
    const timer = setTimeout(
      () => reject(new Error(`received ${got.length} of ${count} messages`)),
      30_000,
    );
    const remove = client.onMessage((message) => {
      got.push(message);
      if (got.length === count) {
        clearTimeout(timer);
        remove();
        resolve(got);
      }
    });
  });
}

describe("received payloads own their bytes", {
  skip: serverSkip("mosquitto", "mosquitto"),
}, () => {
  let broker: Mosquitto;
  const { client, closeAll } = clientPool();
  // Sizes on both sides of the decoder's thresholds and of the 64 KiB read buffer, then a
  // burst of small messages that share reads and slabs.
  const sizes = [0, 1, 100, 2048, 2049, 16 * 1024, 65_000, 70_000, 300_000];
  const burst = 600;

  before(async () => {
    broker = await startMosquitto();
  });
  after(async () => {
    await closeAll();
    await broker?.stop();
  });

  const transports = [
    { name: "TCP", url: () => `mqtt://127.0.0.1:${broker.port}`, tls: false },
    { name: "TLS", url: () => `mqtts://localhost:${broker.tlsPort}`, tls: true },
    { name: "WebSocket", url: () => `ws://127.0.0.1:${broker.wsPort}`, tls: false },
  ];
  for (const transport of transports) {
    it(`over ${transport.name}: every payload is intact after all later reads`, async () => {
      const topic = `mtaio-test/${process.pid}/read-buffer/${transport.name}`;
      const subscriber = client();
      await subscriber.connect(
        transport.url(),
        transport.tls ? { tls: { ca: broker.certificates.ca } } : {},
      );
      await subscriber.subscribe(topic, { qos: QoS.AT_LEAST_ONCE });
      const publisher = client();
      await publisher.connect("127.0.0.1", broker.port);
      const all = sizes.concat(Array.from({ length: burst }, (_, i) => 10 + (i % 50)));
      const got = collect(subscriber, all.length);
      await Promise.all(
        all.map((size, i) =>
          publisher.publish(topic, payloadOf(i, size), { qos: QoS.AT_LEAST_ONCE }),
        ),
      );
      const messages = await got;
      // QoS 1 from one publisher on one topic keeps its order (MQTT 5 §4.6).
      for (let i = 0; i < all.length; i++) {
        assert.deepEqual(messages[i].bytes(), payloadOf(i, all[i]), `message ${i}`);
      }
    });
  }
});
