/**
 * publish() sends large payloads from the caller's buffer, without a copy. Once its promise has
 * settled the caller may reuse the buffer: every message must arrive with the bytes it had when
 * it was published, whatever its size and QoS (against a real Mosquitto).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type MQTTClient, type MQTTMessage, QoS } from "../../../src/mqtt/index.js";
import { serverSkip } from "../../servers/common.js";
import { type Mosquitto, startMosquitto } from "../../servers/mosquitto.js";
import { clientPool, within } from "../helpers.js";

function collect(client: MQTTClient, count: number): Promise<MQTTMessage[]> {
  const got: MQTTMessage[] = [];
  return within(
    new Promise((resolve) => {
      const remove = client.onMessage((message) => {
        got.push(message);
        if (got.length === count) {
          remove();
          resolve(got);
        }
      });
    }),
    `${count} messages`,
    15_000,
  );
}

describe("publish() and the caller's buffer", {
  skip: serverSkip("mosquitto", "mosquitto"),
}, () => {
  let broker: Mosquitto;
  const { client, closeAll } = clientPool();

  before(async () => {
    broker = await startMosquitto();
  });
  after(async () => {
    await closeAll();
    await broker?.stop();
  });

  const cases = [
    ...[100, 9000, 256 * 1024].flatMap((size) =>
      [QoS.AT_MOST_ONCE, QoS.AT_LEAST_ONCE].map((qos) => ({ size, qos, transport: "tcp" })),
    ),
    { size: 64 * 1024, qos: QoS.AT_MOST_ONCE, transport: "ws" },
  ];
  for (const { size, qos, transport } of cases) {
    it(`${size} B at QoS ${qos} over ${transport}: the buffer may be refilled once publish() settled`, async () => {
      const topic = `mtaio-test/${process.pid}/reuse/${transport}/${size}/${qos}`;
      const subscriber = client();
      await subscriber.connect(broker.host, broker.port);
      await subscriber.subscribe(topic, { qos: QoS.AT_LEAST_ONCE });
      const publisher = client();
      if (transport === "ws") await publisher.connect(`ws://127.0.0.1:${broker.wsPort}/mqtt`);
      else await publisher.connect(broker.host, broker.port);
      const count = 12;
      const arriving = collect(subscriber, count);
      const buffer = new Uint8Array(size);
      for (let i = 0; i < count; i++) {
        buffer.fill(i + 1);
        await publisher.publish(topic, buffer, { qos });
      }
      buffer.fill(0xee);
      const messages = await arriving;
      messages.forEach((message, i) => {
        const bytes = message.bytes();
        assert.equal(bytes.length, size);
        assert.ok(
          bytes.every((b) => b === i + 1),
          `message ${i} was changed after publish() settled`,
        );
      });
    });
  }
});
