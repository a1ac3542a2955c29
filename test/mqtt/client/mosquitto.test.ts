/**
 * The MQTT client against a real Mosquitto (Debian package `mosquitto`): MQTT 5 and 3.1.1,
 * QoS 0/1/2 both ways, retained messages, wills, session resumption, TLS (verification and
 * client certificates), WebSocket, password authentication, subscription options, request/
 * response and backpressure.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { MQTTError } from "../../../src/errors.js";
import {
  MemoryStore,
  MQTTClient,
  type MQTTClientOptions,
  type MQTTMessage,
  QoS,
} from "../../../src/mqtt/index.js";
import { serverSkip } from "../../servers/common.js";
import { type Mosquitto, startMosquitto } from "../../servers/mosquitto.js";
import { clientPool, isMQTTError, sleep, within } from "../helpers.js";

let topicCounter = 0;
/** A topic no other test uses. */
function uniqueTopic(name: string): string {
  return `mtaio-test/${process.pid}/${++topicCounter}/${name}`;
}

/** Resolves with the first `count` messages a client receives (times out after 10 s). */
function collect(client: MQTTClient, count: number): Promise<MQTTMessage[]> {
  return new Promise((resolve, reject) => {
    const got: MQTTMessage[] = [];
    const timer = setTimeout(
      () => reject(new Error(`received ${got.length} of ${count} messages`)),
      10_000,
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

describe("MQTT client against Mosquitto", { skip: serverSkip("mosquitto", "mosquitto") }, () => {
  let broker: Mosquitto;
  const { client, closeAll } = clientPool();

  before(async () => {
    broker = await startMosquitto({ users: { alice: "wonderland" } });
  });
  after(async () => {
    await closeAll();
    await broker?.stop();
  });

  for (const protocolVersion of [5, 4] as const) {
    describe(`MQTT ${protocolVersion === 5 ? "5.0" : "3.1.1"}`, () => {
      for (const qos of [QoS.AT_MOST_ONCE, QoS.AT_LEAST_ONCE, QoS.EXACTLY_ONCE]) {
        it(`publishes and receives at QoS ${qos} (subscription QoS ${qos})`, async () => {
          const sub = client({ protocolVersion });
          const pub = client({ protocolVersion });
          await sub.connect(broker.host, broker.port);
          await pub.connect(`mqtt://${broker.host}:${broker.port}`);
          const topic = uniqueTopic(`qos${qos}`);
          const granted = await sub.subscribe(topic, { qos });
          assert.deepEqual(granted, [{ topic, reasonCode: qos, qos }]);
          const received = collect(sub, 20);
          const results = await Promise.all(
            Array.from({ length: 20 }, (_, i) =>
              pub.publish(topic, `message ${i} MQTTからこんにちは`, { qos }),
            ),
          );
          for (const result of results) assert.equal(result.reasonCode, 0);
          if (qos > 0) {
            const ids = new Set(results.map((r) => r.messageId));
            assert.equal(ids.size, 20, "packet ids are unique while in flight");
          }
          const messages = await received;
          assert.deepEqual(
            messages.map((m) => m.text()),
            Array.from({ length: 20 }, (_, i) => `message ${i} MQTTからこんにちは`),
          );
          for (const m of messages) {
            assert.equal(m.topic, topic);
            assert.equal(m.qos, qos);
            assert.ok(m.payload instanceof Uint8Array);
            assert.equal(m.messageId === undefined, qos === 0);
          }
        });
      }

      it("delivers retained messages to a later subscriber and json() parses them", async () => {
        const pub = client({ protocolVersion });
        await pub.connect(broker.host, broker.port);
        const topic = uniqueTopic("retained");
        await pub.publish(topic, JSON.stringify({ temperature: 21.5 }), {
          qos: 1,
          retain: true,
        });
        const sub = client({ protocolVersion });
        await sub.connect(broker.host, broker.port);
        const received = collect(sub, 1);
        await sub.subscribe(topic, { qos: 1 });
        const [message] = await received;
        assert.equal(message.retain, true);
        assert.deepEqual(message.json(), { temperature: 21.5 });
        await pub.publish(topic, "", { qos: 1, retain: true }); // clear it
      });

      it("publishes the will when the connection dies without DISCONNECT", async () => {
        const topic = uniqueTopic("will");
        const watcher = client({ protocolVersion });
        await watcher.connect(broker.host, broker.port);
        await watcher.subscribe(topic, { qos: 1 });
        const received = collect(watcher, 1);
        const { startProxy } = await import("../proxy.js");
        const proxy = await startProxy(broker.port);
        const dying = client({
          protocolVersion,
          will: {
            topic,
            payload: "gone",
            qos: 1,
            properties: { userProperties: [["why", "test"]] },
          },
        });
        await dying.connect(broker.host, proxy.port);
        proxy.cut();
        const [will] = await received;
        assert.equal(will.text(), "gone");
        if (protocolVersion === 5)
          assert.deepEqual(will.properties.userProperties, [["why", "test"]]);
        await proxy.close();
      });

      it("resumes a session: messages published while offline arrive after reconnect", async () => {
        const topic = uniqueTopic("session");
        const clientId = `mtaio-session-${protocolVersion}-${process.pid}`;
        const options: MQTTClientOptions =
          protocolVersion === 5
            ? { protocolVersion, clientId, clean: true, sessionExpiryInterval: 60 }
            : { protocolVersion, clientId, clean: false };
        // The session state passes from the first client to the second through the store,
        // as it would through a FileStore from one process to the next.
        const store = new MemoryStore();
        const first = client({ ...options, store });
        const r1 = await first.connect(broker.host, broker.port);
        assert.equal(r1.sessionPresent, protocolVersion === 4 ? r1.sessionPresent : false);
        await first.subscribe(topic, { qos: 2 });
        await first.disconnect();
        const pub = client({ protocolVersion });
        await pub.connect(broker.host, broker.port);
        await pub.publish(topic, "while you were away", { qos: 2 });
        // Asked to, a client without the state refuses to resume (MQTT-3.2.2-4) and closes.
        const stateless = client({ ...options, clean: false, requireKnownSession: true });
        await assert.rejects(
          stateless.connect(broker.host, broker.port),
          isMQTTError("MQTT_UNEXPECTED_SESSION"),
        );
        const second = client({ ...options, clean: false, store });
        const received = collect(second, 1);
        const r2 = await second.connect(broker.host, broker.port);
        assert.equal(r2.sessionPresent, true);
        const [message] = await received;
        assert.equal(message.text(), "while you were away");
        assert.equal(message.qos, 2);
      });

      it("a new client with clean: false collects what was queued while away: 50 QoS 1 and 50 QoS 2, QoS 2 once each", async () => {
        const topic = uniqueTopic("queued");
        // The reference's pattern, as users write it: the same options for both clients, no store.
        const options: MQTTClientOptions = {
          protocolVersion,
          clientId: `mtaio-queued-${protocolVersion}-${process.pid}`,
          clean: false,
          sessionExpiryInterval: 3600,
        };
        const subscriber = client(options);
        await subscriber.connect(broker.host, broker.port);
        await subscriber.subscribe(topic, { qos: QoS.EXACTLY_ONCE });
        await subscriber.disconnect();

        const pub = client({ protocolVersion });
        await pub.connect(broker.host, broker.port);
        const published = Array.from({ length: 100 }, (_, i) => ({
          text: `queued ${i}`,
          qos: i % 2 === 0 ? QoS.AT_LEAST_ONCE : QoS.EXACTLY_ONCE,
        }));
        for (const m of published) await pub.publish(topic, m.text, { qos: m.qos });

        const collector = client(options);
        const got: MQTTMessage[] = [];
        let endSeen: () => void = () => {};
        const end = new Promise<void>((resolve) => {
          endSeen = resolve;
        });
        collector.onMessage((message) => {
          if (message.text() === "end") endSeen();
          else got.push(message);
        });
        const result = await collector.connect(broker.host, broker.port);
        assert.equal(result.sessionPresent, true);
        // Wait for the queued messages, then publish a marker behind them on the same topic:
        // once it arrives, any redelivery of an earlier message would have arrived too.
        const deadline = Date.now() + 10_000;
        while (got.length < 100 && Date.now() < deadline) await sleep(10);
        await pub.publish(topic, "end", { qos: QoS.EXACTLY_ONCE });
        await within(end, "the marker after the queued messages", 10_000);

        const count = (qos: QoS) => {
          const seen = new Map<string, number>();
          for (const m of got) if (m.qos === qos) seen.set(m.text(), (seen.get(m.text()) ?? 0) + 1);
          return seen;
        };
        const expected = (qos: QoS) => published.filter((m) => m.qos === qos).map((m) => m.text);
        const once = count(QoS.EXACTLY_ONCE);
        assert.deepEqual([...once.keys()].sort(), expected(QoS.EXACTLY_ONCE).sort());
        assert.ok(
          [...once.values()].every((n) => n === 1),
          "every QoS 2 message exactly once",
        );
        const atLeastOnce = count(QoS.AT_LEAST_ONCE);
        assert.deepEqual([...atLeastOnce.keys()].sort(), expected(QoS.AT_LEAST_ONCE).sort());
        assert.equal(
          got.length,
          100 + [...atLeastOnce.values()].reduce((sum, n) => sum + n - 1, 0),
          "nothing but the published messages",
        );
      });

      it("a new client with clean: false feeds messages() attached right after connect()", async () => {
        const topic = uniqueTopic("queued-iter");
        const options: MQTTClientOptions = {
          protocolVersion,
          clientId: `mtaio-queued-iter-${protocolVersion}-${process.pid}`,
          clean: false,
          sessionExpiryInterval: 3600,
        };
        const subscriber = client(options);
        await subscriber.connect(broker.host, broker.port);
        await subscriber.subscribe(topic, { qos: QoS.AT_LEAST_ONCE });
        await subscriber.disconnect();
        const pub = client({ protocolVersion });
        await pub.connect(broker.host, broker.port);
        for (let i = 0; i < 20; i++) await pub.publish(topic, `m${i}`, { qos: 1 });

        const collector = client(options);
        await collector.connect(broker.host, broker.port);
        const got: string[] = [];
        await within(
          (async () => {
            for await (const message of collector.messages(topic)) {
              got.push(message.text());
              if (got.length === 20) break;
            }
          })(),
          "the queued messages to reach the iterator",
          10_000,
        );
        assert.deepEqual(
          got,
          Array.from({ length: 20 }, (_, i) => `m${i}`),
        );
      });

      it("refuses a wrong password with MQTTError carrying the reason code", async () => {
        const c = client({ protocolVersion });
        await assert.rejects(
          c.connect(broker.host, broker.authPort, { username: "alice", password: "wrong" }),
          (error: unknown) => {
            assert.ok(error instanceof MQTTError);
            assert.equal(error.code, "MQTT_CONNECT_REFUSED");
            // Mosquitto answers a wrong password with "not authorized" (0x87 / return code 5).
            assert.equal(error.reasonCode, protocolVersion === 5 ? 0x87 : 5);
            return true;
          },
        );
        assert.equal(c.connected, false);
        const ok = client({ protocolVersion });
        const result = await ok.connect(broker.host, broker.authPort, {
          username: "alice",
          password: "wonderland",
        });
        assert.equal(result.reasonCode, 0);
      });
    });
  }

  it("assigns a client id when none is given (MQTT 5)", async () => {
    const c = client();
    const result = await c.connect(broker.host, broker.port);
    assert.ok(result.clientId.length > 0);
    assert.equal(c.clientId, result.clientId);
  });

  it("verifies TLS certificates: a wrong CA fails, the right CA works", async () => {
    const wrong = client();
    await assert.rejects(
      wrong.connect(`mqtts://localhost:${broker.tlsPort}`),
      (error: unknown) => error instanceof MQTTError && error.code === "MQTT_CONNECTION_FAILED",
    );
    const right = client();
    await right.connect(`mqtts://localhost:${broker.tlsPort}`, {
      tls: { ca: broker.certificates.ca },
    });
    const topic = uniqueTopic("tls");
    await right.subscribe(topic, { qos: 1 });
    const received = collect(right, 1);
    await right.publish(topic, "secret", { qos: 1 });
    assert.equal((await received)[0].text(), "secret");
  });

  it("presents a client certificate where the broker requires one", async () => {
    const without = client();
    await assert.rejects(
      without.connect("localhost", broker.mtlsPort, {
        tls: { ca: broker.certificates.ca },
        timeout: 5000,
      }),
      MQTTError,
    );
    const withCert = client();
    const result = await withCert.connect("localhost", broker.mtlsPort, {
      tls: {
        ca: broker.certificates.ca,
        cert: broker.certificates.clientCert,
        key: broker.certificates.clientKey,
      },
    });
    assert.equal(result.reasonCode, 0);
  });

  it("speaks MQTT over WebSocket (subprotocol mqtt)", async () => {
    const ws = client();
    await ws.connect(`ws://127.0.0.1:${broker.wsPort}/mqtt`);
    const topic = uniqueTopic("ws");
    await ws.subscribe(topic, { qos: 2 });
    const received = collect(ws, 50);
    await Promise.all(
      Array.from({ length: 50 }, (_, i) => ws.publish(topic, `ws ${i}`, { qos: (i % 3) as QoS })),
    );
    const messages = await received;
    assert.equal(messages.length, 50);
    assert.deepEqual(
      new Set(messages.map((m) => m.text())),
      new Set(Array.from({ length: 50 }, (_, i) => `ws ${i}`)),
    );
  });

  it("speaks MQTT over secure WebSocket (wss://) with certificate verification", async () => {
    const unverified = client();
    await assert.rejects(
      unverified.connect(`wss://localhost:${broker.wssPort}/mqtt`),
      (error: unknown) => error instanceof MQTTError && error.code === "MQTT_CONNECTION_FAILED",
    );
    const wss = client();
    await wss.connect(`wss://localhost:${broker.wssPort}/mqtt`, {
      tls: { ca: broker.certificates.ca },
    });
    const topic = uniqueTopic("wss");
    await wss.subscribe(topic, { qos: 1 });
    const received = collect(wss, 1);
    await wss.publish(topic, "over wss", { qos: 1 });
    assert.equal((await received)[0].text(), "over wss");
  });

  it("honours noLocal and carries user properties and content type (MQTT 5)", async () => {
    const c = client();
    await c.connect(broker.host, broker.port);
    const topic = uniqueTopic("nolocal");
    await c.subscribe(topic, { qos: 1, noLocal: true });
    const other = client();
    await other.connect(broker.host, broker.port);
    const received = collect(c, 1);
    await c.publish(topic, "from myself", { qos: 1 });
    await other.publish(topic, "from someone else", {
      qos: 1,
      properties: { userProperties: [["k", "v"]], contentType: "text/plain" },
    });
    const [message] = await received;
    assert.equal(message.text(), "from someone else");
    assert.deepEqual(message.properties.userProperties, [["k", "v"]]);
    assert.equal(message.properties.contentType, "text/plain");
  });

  it("shares a $share subscription between two clients (each message once)", async () => {
    const topic = uniqueTopic("shared");
    const a = client();
    const b = client();
    await a.connect(broker.host, broker.port);
    await b.connect(broker.host, broker.port);
    await a.subscribe(`$share/workers/${topic}`, { qos: 1 });
    await b.subscribe(`$share/workers/${topic}`, { qos: 1 });
    const seen: string[] = [];
    a.onMessage((m) => seen.push(m.text()));
    b.onMessage((m) => seen.push(m.text()));
    const pub = client();
    await pub.connect(broker.host, broker.port);
    for (let i = 0; i < 20; i++) await pub.publish(topic, `job ${i}`, { qos: 1 });
    for (let i = 0; i < 100 && seen.length < 20; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(seen.length, 20);
    assert.equal(new Set(seen).size, 20);
  });

  for (const protocolVersion of [5, 4] as const) {
    it(`MQTT ${protocolVersion === 5 ? "5.0" : "3.1.1"}: three consumers of $share/group/topic each get a share, every message exactly one of them`, async () => {
      const topic = uniqueTopic("shared3");
      const control = uniqueTopic("shared3-sync");
      const consumers = [
        client({ protocolVersion }),
        client({ protocolVersion }),
        client({ protocolVersion }),
      ];
      const received = consumers.map(() => [] as string[]);
      const synced = consumers.map(
        (consumer, i) =>
          new Promise<void>((resolve) => {
            consumer.onMessage((m) => {
              if (m.topic === control) resolve();
              else received[i].push(m.text());
            });
          }),
      );
      for (const consumer of consumers) {
        await consumer.connect(broker.host, broker.port);
        const [granted] = await consumer.subscribe(`$share/workers/${topic}`, { qos: 1 });
        assert.equal(granted.qos, 1);
        // An ordinary subscription every consumer holds: the end-of-batch marker.
        await consumer.subscribe(control, { qos: 1 });
      }
      const pub = client({ protocolVersion });
      await pub.connect(broker.host, broker.port);
      const jobs = Array.from({ length: 60 }, (_, i) => `job ${i}`);
      for (const job of jobs) await pub.publish(topic, job, { qos: 1 });
      // Mosquitto forwards one publisher's messages to a client in the order it received
      // them, so a consumer that has the marker has every job it was given.
      await pub.publish(control, "sync", { qos: 1 });
      await within(Promise.all(synced), "every consumer to see the marker", 10_000);

      const all = received.flat();
      assert.equal(all.length, jobs.length, "no job delivered twice");
      assert.deepEqual([...all].sort(), [...jobs].sort(), "every job delivered");
      for (const [i, share] of received.entries()) {
        assert.ok(share.length > 0, `consumer ${i} got a share of the load`);
      }
    });
  }

  it("request() gets the response matched by correlation data (MQTT 5)", async () => {
    const service = client();
    await service.connect(broker.host, broker.port);
    const topic = uniqueTopic("rpc");
    await service.subscribe(topic, { qos: 1 });
    service.onMessage(async (request) => {
      await service.respond(request, `echo: ${request.text()}`, { qos: 1 });
    });
    const caller = client();
    await caller.connect(broker.host, broker.port);
    const [one, two] = await Promise.all([
      caller.request(topic, "one", { qos: 1 }),
      caller.request(topic, "two", { qos: 1 }),
    ]);
    assert.equal(one.text(), "echo: one");
    assert.equal(two.text(), "echo: two");
    // A response topic of the caller's own choosing.
    const mine = uniqueTopic("my-responses");
    await caller.subscribe(mine, { qos: 1 });
    const three = await caller.request(topic, "three", { qos: 1, responseTopic: mine });
    assert.equal(three.text(), "echo: three");
    assert.equal(three.topic, mine);
  });

  it("messages(filter) iterates matching messages and pauses reading for a slow consumer", async () => {
    const c = client({ highWaterMark: 10 });
    await c.connect(broker.host, broker.port);
    const topic = uniqueTopic("iter");
    await c.subscribe(`${topic}/#`, { qos: 1 });
    const iterator = c.messages(`${topic}/wanted`, { highWaterMark: 10 });
    const pub = client();
    await pub.connect(broker.host, broker.port);
    for (let i = 0; i < 200; i++) {
      await pub.publish(`${topic}/${i % 2 ? "other" : "wanted"}`, String(i), { qos: 1 });
    }
    const got: string[] = [];
    for await (const message of iterator) {
      got.push(message.text());
      if (got.length === 100) break;
    }
    assert.deepEqual(
      got,
      Array.from({ length: 100 }, (_, i) => String(i * 2)),
    );
  });

  it("a consumer that stops reading pauses the socket instead of buffering everything", async () => {
    const c = client();
    await c.connect(broker.host, broker.port);
    const topic = uniqueTopic("backpressure");
    await c.subscribe(topic, { qos: 1 });
    let delivered = 0;
    c.onMessage(() => {
      delivered++;
    });
    const iterator = c.messages(topic, { highWaterMark: 5 });
    const pub = client();
    await pub.connect(broker.host, broker.port);
    const payload = new Uint8Array(16 * 1024);
    const count = 1000; // 16 MiB: more than the kernel's socket buffers hold
    const publishing = Promise.all(
      Array.from({ length: count }, () => pub.publish(topic, payload, { qos: 1 })),
    );
    await new Promise((r) => setTimeout(r, 500));
    // Reading stopped near the high-water mark (plus what one socket read carried).
    assert.ok(delivered < 200, `${delivered} messages were read while the consumer slept`);
    let consumed = 0;
    for await (const _ of iterator) {
      if (++consumed === count) break;
    }
    await publishing;
    assert.equal(consumed, count);
    assert.equal(delivered, count);
  });

  it("rejects a wildcard in a published topic and a bad filter without touching the wire", async () => {
    const c = client();
    await c.connect(broker.host, broker.port);
    await assert.rejects(c.publish("a/+/b", "x"), { code: "MQTT_INVALID_TOPIC" });
    await assert.rejects(c.publish("a/#", "x"), { code: "MQTT_INVALID_TOPIC" });
    await assert.rejects(c.subscribe("a/#/b"), { code: "MQTT_INVALID_TOPIC" });
    await assert.rejects(c.subscribe("$share//x"), { code: "MQTT_INVALID_TOPIC" });
    // The connection is still fine afterwards.
    const topic = uniqueTopic("after-invalid");
    await c.subscribe(topic, { qos: 1 });
    const received = collect(c, 1);
    await c.publish(topic, "still works", { qos: 1 });
    assert.equal((await received)[0].text(), "still works");
  });

  it("honours AbortSignal and timeouts", async () => {
    const c = client();
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(c.connect(broker.host, broker.port, { signal: controller.signal }), {
      code: "MQTT_ABORTED",
    });
    await c.connect(broker.host, broker.port);
    const aborted = new AbortController();
    aborted.abort();
    await assert.rejects(c.subscribe(uniqueTopic("x"), { signal: aborted.signal }), {
      code: "MQTT_ABORTED",
    });
    await assert.rejects(c.publish(uniqueTopic("y"), "z", { qos: 1, signal: aborted.signal }), {
      code: "MQTT_ABORTED",
    });
  });

  it("await using closes the client", async () => {
    let leaked: MQTTClient;
    {
      await using c = new MQTTClient({ reconnect: false });
      leaked = c;
      await c.connect(broker.host, broker.port);
      assert.equal(c.connected, true);
    }
    assert.equal(leaked.connected, false);
    await assert.rejects(leaked.publish("a", "b"), { code: "MQTT_CLIENT_CLOSED" });
  });
});
