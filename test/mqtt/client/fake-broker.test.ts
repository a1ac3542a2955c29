/**
 * The client against a scripted fake broker: hostile or broken behaviour (wrong SUBACK count,
 * unknown packet ids, bad topic aliases, oversized packets, garbage, silence) must end in a
 * typed MQTTError and a clean disconnect; plus protocol details a real broker does not let us
 * steer (Receive Maximum, Maximum Packet Size, enhanced AUTH, topic aliases, SUBACK failures).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { MQTTError } from "../../../src/errors.js";
import { MemoryStore, type MQTTClient, QoS } from "../../../src/mqtt/index.js";
import { authRound, fakeBrokerSuite, sleep } from "../helpers.js";

function nextError(client: MQTTClient): Promise<Error> {
  return new Promise((resolve) => client.once("error", resolve));
}

describe("MQTT client against a scripted fake broker", () => {
  const fake = fakeBrokerSuite();
  const { client, connected } = fake;

  it("sends CONNECT with the session options, will and credentials", async () => {
    const c = client({
      clientId: "abc",
      keepalive: 30,
      clean: false,
      sessionExpiryInterval: 120,
      receiveMaximum: 100,
      will: {
        topic: "w",
        payload: "bye",
        qos: 1,
        retain: true,
        properties: { willDelayInterval: 5 },
      },
    });
    const peerPromise = fake.broker.connection();
    const connecting = c.connect("127.0.0.1", fake.broker.port, { username: "u", password: "p" });
    const peer = await peerPromise;
    const connect = await peer.accept({
      serverKeepAlive: 10,
      assignedClientIdentifier: "ignored-but-used",
    });
    const result = await connecting;
    assert.equal(connect.clientId, "abc");
    assert.equal(connect.clean, false);
    assert.equal(connect.keepalive, 30);
    assert.equal(connect.username, "u");
    assert.equal(Buffer.from(connect.password as Uint8Array).toString(), "p");
    assert.equal(connect.properties?.sessionExpiryInterval, 120);
    assert.equal(connect.properties?.receiveMaximum, 100);
    assert.equal(connect.will?.topic, "w");
    assert.equal(Buffer.from(connect.will?.payload ?? []).toString(), "bye");
    assert.equal(connect.will?.qos, 1);
    assert.equal(connect.will?.retain, true);
    assert.equal(connect.will?.properties?.willDelayInterval, 5);
    assert.equal(result.clientId, "ignored-but-used");
  });

  it("a SUBACK with the wrong number of reason codes is a protocol error (0x82)", async () => {
    const { c, peer } = await connected();
    const subscribing = c.subscribe(["a", "b"], { qos: 1 });
    const subscribe = await peer.expect("subscribe");
    peer.send({ type: "suback", packetId: subscribe.packetId, reasonCodes: [1] });
    await assert.rejects(
      subscribing,
      (e: unknown) => e instanceof MQTTError && e.reasonCode === 0x82,
    );
    const disconnect = await peer.expect("disconnect");
    assert.equal(disconnect.reasonCode, 0x82);
    await peer.closed;
  });

  it("a PUBACK for an unknown packet id ends the connection with an MQTTError", async () => {
    const { c, peer } = await connected();
    const error = nextError(c);
    peer.send({ type: "puback", packetId: 4242 });
    const e = await error;
    assert.ok(e instanceof MQTTError);
    assert.equal(e.code, "MQTT_PROTOCOL_ERROR");
    assert.equal((await peer.expect("disconnect")).reasonCode, 0x82);
    await peer.closed;
    assert.equal(c.connected, false);
  });

  it("a topic alias above our maximum is refused with 0x94", async () => {
    const { c, peer } = await connected({ topicAliasMaximum: 5 });
    const error = nextError(c);
    peer.send({
      type: "publish",
      topic: "t",
      payload: new Uint8Array([1]),
      qos: 0,
      retain: false,
      dup: false,
      properties: { topicAlias: 6 },
    });
    assert.equal(((await error) as MQTTError).reasonCode, 0x94);
    assert.equal((await peer.expect("disconnect")).reasonCode, 0x94);
  });

  it("an unknown topic alias is a protocol error", async () => {
    const { c, peer } = await connected();
    const error = nextError(c);
    peer.send({
      type: "publish",
      topic: "",
      payload: new Uint8Array([1]),
      qos: 0,
      retain: false,
      dup: false,
      properties: { topicAlias: 3 },
    });
    assert.equal(((await error) as MQTTError).reasonCode, 0x82);
    await peer.closed;
  });

  it("resolves inbound topic aliases", async () => {
    const { c, peer } = await connected();
    const got: string[] = [];
    c.onMessage((m) => got.push(`${m.topic}=${m.text()}`));
    const publish = (topic: string, text: string) =>
      peer.send({
        type: "publish",
        topic,
        payload: new Uint8Array(Buffer.from(text)),
        qos: 0,
        retain: false,
        dup: false,
        properties: { topicAlias: 1 },
      });
    publish("sensors/long/topic/name", "1");
    publish("", "2");
    publish("other", "3");
    publish("", "4");
    for (let i = 0; i < 50 && got.length < 4; i++) await sleep(10);
    assert.deepEqual(got, [
      "sensors/long/topic/name=1",
      "sensors/long/topic/name=2",
      "other=3",
      "other=4",
    ]);
  });

  it("an announced length above our Maximum Packet Size is refused before buffering (0x95)", async () => {
    const { c, peer } = await connected({ maximumPacketSize: 1024 });
    const error = nextError(c);
    // PUBLISH fixed header announcing 1 MiB; the body never needs to arrive.
    peer.sendRaw(new Uint8Array([0x30, 0x80, 0x80, 0x40]));
    const e = (await error) as MQTTError;
    assert.equal(e.code, "MQTT_PACKET_TOO_LARGE");
    assert.equal((await peer.expect("disconnect")).reasonCode, 0x95);
  });

  it("garbage from the broker is a malformed packet (0x81), not a crash", async () => {
    const { c, peer } = await connected();
    const error = nextError(c);
    peer.sendRaw(new Uint8Array([0x00, 0x02, 0xff, 0xff]));
    const e = (await error) as MQTTError;
    assert.ok(e instanceof MQTTError);
    assert.ok(e.reasonCode === 0x81 || e.reasonCode === 0x82, `reason ${e.reasonCode}`);
    await peer.closed;
  });

  it("a broker that stops answering PINGREQ is detected by the keep-alive", async () => {
    const { c, peer } = await connected({ keepalive: 1, pingTimeout: 300 });
    const error = nextError(c);
    assert.equal((await peer.next(3000))?.type, "pingreq");
    const e = (await error) as MQTTError;
    assert.equal(e.code, "MQTT_KEEPALIVE_TIMEOUT");
    await peer.closed;
  });

  it("a broker that never sends CONNACK makes connect() time out", async () => {
    const c = client();
    const peerPromise = fake.broker.connection();
    const connecting = c.connect("127.0.0.1", fake.broker.port, { timeout: 300 });
    const peer = await peerPromise;
    await peer.expect("connect");
    await assert.rejects(connecting, { code: "MQTT_TIMEOUT" });
    await peer.closed;
  });

  it("close() during connect() ends the pending connect at once", async () => {
    const c = client();
    const peerPromise = fake.broker.connection();
    const connecting = c.connect("127.0.0.1", fake.broker.port, { timeout: 20_000 });
    const peer = await peerPromise;
    await peer.expect("connect");
    await c.close();
    // Not MQTT_TIMEOUT (20 s away): the close itself ended it.
    await assert.rejects(connecting, { code: "MQTT_CLIENT_DISCONNECTED" });
    await peer.closed;
  });

  it("honours the broker's Receive Maximum, and the new one after a reconnect", async () => {
    // A session that outlives the connection, so the reconnect asks to resume it.
    const c = client({ sessionExpiryInterval: 60, reconnect: { initialDelay: 1, maxDelay: 5 } });
    let peerPromise = fake.broker.connection();
    const connecting = c.connect("127.0.0.1", fake.broker.port);
    let peer = await peerPromise;
    await peer.accept({ receiveMaximum: 2 });
    await connecting;
    const publishes = Array.from({ length: 6 }, (_, i) => c.publish("t", `m${i}`, { qos: 1 }));
    // Only two go out before an ack.
    const first = await peer.expect("publish");
    const second = await peer.expect("publish");
    await assert.rejects(peer.next(150), /no packet from the client within/);
    peer.send({ type: "puback", packetId: first.packetId as number });
    const third = await peer.expect("publish");
    assert.deepEqual(
      [first, second, third].map((p) => Buffer.from(p.payload).toString()),
      ["m0", "m1", "m2"],
    );
    // Cut; the new connection allows only one at a time and has the session.
    peerPromise = fake.broker.connection();
    peer.socket.destroy();
    peer = await peerPromise;
    await peer.accept({ receiveMaximum: 1 }, true);
    const resent = await peer.expect("publish");
    assert.equal(resent.dup, true);
    assert.equal(resent.packetId, second.packetId, "resent with its original packet id");
    await assert.rejects(peer.next(150), /no packet from the client within/);
    const order: string[] = [Buffer.from(resent.payload).toString()];
    peer.send({ type: "puback", packetId: resent.packetId as number });
    for (let i = 0; i < 4; i++) {
      const p = await peer.expect("publish");
      order.push(Buffer.from(p.payload).toString());
      peer.send({ type: "puback", packetId: p.packetId as number });
    }
    assert.deepEqual(order, ["m1", "m2", "m3", "m4", "m5"]);
    await Promise.all(publishes.slice(1));
    // The first was acked on the old connection.
    await publishes[0];
  });

  it("completes QoS 2 both ways exactly per §4.3.3 and answers a duplicate PUBLISH with PUBREC only", async () => {
    const { c, peer } = await connected();
    const got: string[] = [];
    c.onMessage((m) => got.push(m.text()));
    const message = {
      type: "publish" as const,
      topic: "q2",
      payload: new Uint8Array(Buffer.from("once")),
      qos: 2 as const,
      retain: false,
      dup: false,
      packetId: 9,
    };
    peer.send(message);
    assert.equal((await peer.expect("pubrec")).packetId, 9);
    peer.send({ ...message, dup: true });
    assert.equal((await peer.expect("pubrec")).packetId, 9);
    peer.send({ type: "pubrel", packetId: 9 });
    assert.equal((await peer.expect("pubcomp")).packetId, 9);
    assert.deepEqual(got, ["once"]);

    const publishing = c.publish("out", "x", { qos: QoS.EXACTLY_ONCE });
    const publish = await peer.expect("publish");
    assert.equal(publish.qos, 2);
    peer.send({ type: "pubrec", packetId: publish.packetId as number });
    const pubrel = await peer.expect("pubrel");
    assert.equal(pubrel.packetId, publish.packetId);
    peer.send({ type: "pubcomp", packetId: publish.packetId as number });
    assert.equal((await publishing).reasonCode, 0);
  });

  for (const dedupeRedeliveries of [true, false]) {
    it(`a PUBLISH re-sent after its PUBREL is ${dedupeRedeliveries ? "not delivered again" : "delivered again (dedupe off)"}`, async () => {
      const { c, peer } = await connected({ dedupeRedeliveries });
      const got: string[] = [];
      c.onMessage((m) => got.push(`${m.text()}${m.dup ? " (dup)" : ""}`));
      const message = {
        type: "publish" as const,
        topic: "q2",
        payload: new Uint8Array(Buffer.from("x")),
        qos: 2 as const,
        retain: false,
        dup: false,
        packetId: 5,
      };
      peer.send(message);
      await peer.expect("pubrec");
      peer.send({ type: "pubrel", packetId: 5 });
      await peer.expect("pubcomp");
      // What Mosquitto 2.0 does after a reconnect: the same PUBLISH again, DUP set.
      peer.send({ ...message, dup: true });
      await peer.expect("pubrec");
      peer.send({ type: "pubrel", packetId: 5 });
      await peer.expect("pubcomp");
      // A new message on the same id (DUP clear) is always delivered.
      peer.send(message);
      await peer.expect("pubrec");
      assert.deepEqual(got, dedupeRedeliveries ? ["x", "x"] : ["x", "x (dup)", "x"]);
    });
  }

  it("a refusing PUBACK rejects publish() with the reason code", async () => {
    const { c, peer } = await connected();
    const publishing = c.publish("t", "x", { qos: 1 });
    const publish = await peer.expect("publish");
    peer.send({ type: "puback", packetId: publish.packetId as number, reasonCode: 0x87 });
    await assert.rejects(publishing, { code: "MQTT_PUBLISH_REFUSED", reasonCode: 0x87 });
  });

  it("refuses to publish above the broker's Maximum Packet Size without sending", async () => {
    const { c, peer } = await connected({}, { maximumPacketSize: 200 });
    await assert.rejects(c.publish("t", new Uint8Array(500), { qos: 1 }), {
      code: "MQTT_PACKET_TOO_LARGE",
      reasonCode: 0x95,
    });
    await c.publish("t", "small", { qos: 0 });
    const p = await peer.expect("publish");
    assert.equal(Buffer.from(p.payload).toString(), "small");
  });

  it("subscribe(): per-topic reason codes, and MQTTError when every topic is refused", async () => {
    const { c, peer } = await connected();
    const partial = c.subscribe({ a: { qos: 2 }, b: { qos: 1, noLocal: true, retainHandling: 2 } });
    const sub = await peer.expect("subscribe");
    assert.deepEqual(
      sub.subscriptions.map((s) => [
        s.topicFilter,
        s.qos,
        s.noLocal ?? false,
        s.retainHandling ?? 0,
      ]),
      [
        ["a", 2, false, 0],
        ["b", 1, true, 2],
      ],
    );
    peer.send({ type: "suback", packetId: sub.packetId, reasonCodes: [1, 0x87] });
    assert.deepEqual(await partial, [
      { topic: "a", reasonCode: 1, qos: 1 },
      { topic: "b", reasonCode: 0x87, qos: undefined },
    ]);
    const refused = c.subscribe("x");
    const sub2 = await peer.expect("subscribe");
    peer.send({ type: "suback", packetId: sub2.packetId, reasonCodes: [0x8f] });
    await assert.rejects(refused, { code: "MQTT_SUBSCRIBE_FAILED", reasonCode: 0x8f });
  });

  it("resubscribes when a reconnect finds no session", async () => {
    const c = client({ reconnect: { initialDelay: 1, maxDelay: 5 } });
    let peerPromise = fake.broker.connection();
    const connecting = c.connect("127.0.0.1", fake.broker.port);
    let peer = await peerPromise;
    await peer.accept();
    await connecting;
    const subscribing = c.subscribe("keep/me", { qos: 1 });
    const sub = await peer.expect("subscribe");
    peer.send({ type: "suback", packetId: sub.packetId, reasonCodes: [1] });
    await subscribing;
    peerPromise = fake.broker.connection();
    peer.socket.destroy();
    peer = await peerPromise;
    await peer.accept({}, false);
    const again = await peer.expect("subscribe");
    assert.deepEqual(
      again.subscriptions.map((s) => [s.topicFilter, s.qos]),
      [["keep/me", 1]],
    );
    peer.send({ type: "suback", packetId: again.packetId, reasonCodes: [1] });
  });

  it("a SUBSCRIBE cut off before its SUBACK is sent again after the reconnect", async () => {
    const c = client({ sessionExpiryInterval: 60, reconnect: { initialDelay: 1, maxDelay: 5 } });
    let peerPromise = fake.broker.connection();
    const connecting = c.connect("127.0.0.1", fake.broker.port);
    let peer = await peerPromise;
    await peer.accept();
    await connecting;
    const subscribing = c.subscribe("late/ack", { qos: 2 });
    const first = await peer.expect("subscribe");
    peerPromise = fake.broker.connection();
    peer.socket.destroy(); // no SUBACK on this connection
    peer = await peerPromise;
    await peer.accept({}, true);
    const again = await peer.expect("subscribe");
    assert.equal(again.packetId, first.packetId);
    assert.deepEqual(
      again.subscriptions.map((s) => s.topicFilter),
      ["late/ack"],
    );
    peer.send({ type: "suback", packetId: again.packetId, reasonCodes: [2] });
    assert.deepEqual(await subscribing, [{ topic: "late/ack", reasonCode: 2, qos: 2 }]);
  });

  it("runs the enhanced AUTH exchange through the hook", async () => {
    const challenges: string[] = [];
    const c = client({
      auth: {
        method: "TEST-SCRAM",
        data: new Uint8Array(Buffer.from("client-first")),
        onChallenge(data) {
          challenges.push(Buffer.from(data ?? []).toString());
          return new Uint8Array(Buffer.from("client-final"));
        },
      },
    });
    const peerPromise = fake.broker.connection();
    const connecting = c.connect("127.0.0.1", fake.broker.port);
    const peer = await peerPromise;
    const connect = await peer.expect("connect");
    assert.equal(connect.properties?.authenticationMethod, "TEST-SCRAM");
    assert.equal(
      Buffer.from(connect.properties?.authenticationData ?? []).toString(),
      "client-first",
    );
    assert.equal(await authRound(peer, "TEST-SCRAM", "server-first"), "client-final");
    peer.send({
      type: "connack",
      sessionPresent: false,
      reasonCode: 0,
      properties: { authenticationMethod: "TEST-SCRAM" },
    });
    await connecting;
    assert.deepEqual(challenges, ["server-first"]);
  });

  it("reauthenticate() sends AUTH 0x19 and answers the broker's challenge", async () => {
    const { c, peer } = await connected(
      {
        auth: {
          method: "TEST",
          onChallenge: (data) =>
            new Uint8Array(Buffer.from(`answer to ${Buffer.from(data ?? []).toString()}`)),
        },
      },
      { authenticationMethod: "TEST" },
    );
    await c.reauthenticate(new Uint8Array(Buffer.from("again")));
    const start = await peer.expect("auth");
    assert.equal(start.reasonCode, 0x19);
    assert.equal(Buffer.from(start.properties?.authenticationData ?? []).toString(), "again");
    assert.equal(await authRound(peer, "TEST", "nonce"), "answer to nonce");
    peer.send({ type: "auth", reasonCode: 0, properties: { authenticationMethod: "TEST" } });
    await sleep(20);
    assert.equal(c.connected, true);
  });

  it("treats more unreleased QoS 2 messages than our Receive Maximum as 0x93", async () => {
    const { c, peer } = await connected({ receiveMaximum: 2 });
    const error = nextError(c);
    for (let id = 1; id <= 3; id++) {
      peer.send({
        type: "publish",
        topic: "t",
        payload: new Uint8Array(0),
        qos: 2,
        retain: false,
        dup: false,
        packetId: id,
      });
    }
    assert.equal(((await error) as MQTTError).reasonCode, 0x93);
  });

  it("uses outgoing topic aliases when enabled and the broker allows them", async () => {
    const { c, peer } = await connected({ outgoingTopicAliases: true }, { topicAliasMaximum: 4 });
    await c.publish("very/long/topic", "1");
    await c.publish("very/long/topic", "2");
    const a = await peer.expect("publish");
    const b = await peer.expect("publish");
    assert.equal(a.topic, "very/long/topic");
    assert.equal(a.properties?.topicAlias, 1);
    assert.equal(b.topic, "");
    assert.equal(b.properties?.topicAlias, 1);
  });

  it("a DISCONNECT 0x8E (session taken over) stops reconnection; other reasons reconnect", async () => {
    const c = client({ reconnect: { initialDelay: 1, maxDelay: 5 } });
    const events: string[] = [];
    c.on("disconnect", ({ reasonCode }) => events.push(`disconnect ${reasonCode}`));
    c.on("connect", () => {
      events.push("connect");
      throw new Error("a listener that throws");
    });
    const listenerErrors: Error[] = [];
    c.on("error", (e) => listenerErrors.push(e));
    let peerPromise = fake.broker.connection();
    const connecting = c.connect("127.0.0.1", fake.broker.port);
    let peer = await peerPromise;
    await peer.accept();
    await connecting;
    peerPromise = fake.broker.connection();
    peer.send({ type: "disconnect", reasonCode: 0x89 }); // server busy: come back later
    peer = await peerPromise;
    await peer.accept();
    for (let i = 0; i < 50 && !c.connected; i++) await sleep(5);
    const closed = new Promise((resolve) => c.once("close", resolve));
    peer.send({ type: "disconnect", reasonCode: 0x8e });
    await closed;
    await sleep(50);
    assert.equal(c.connected, false);
    assert.deepEqual(events, ["connect", "disconnect 137", "connect", "disconnect 142"]);
    assert.ok(listenerErrors.some((e) => e.message === "a listener that throws"));
  });

  it("queues publishes while offline up to queueLimit and sends them after the reconnect", async () => {
    const c = client({ reconnect: { initialDelay: 1, maxDelay: 5 }, queueLimit: 3 });
    const offline = new Promise((resolve) => c.once("offline", resolve));
    let peerPromise = fake.broker.connection();
    const connecting = c.connect("127.0.0.1", fake.broker.port);
    let peer = await peerPromise;
    await peer.accept();
    await connecting;
    peerPromise = fake.broker.connection();
    peer.socket.destroy();
    await offline;
    peer = await peerPromise; // connected at TCP level, but no CONNACK yet: still offline
    const queued = [0, 1, 2].map((i) => c.publish("q", `m${i}`, { qos: 1 }));
    await assert.rejects(c.publish("q", "one too many", { qos: 1 }), { code: "MQTT_QUEUE_FULL" });
    await peer.accept();
    for (let i = 0; i < 3; i++) {
      const p = await peer.expect("publish");
      assert.equal(Buffer.from(p.payload).toString(), `m${i}`);
      peer.send({ type: "puback", packetId: p.packetId as number });
    }
    for (const result of await Promise.all(queued)) assert.equal(result.reasonCode, 0);
  });

  it("a store that fails to save ends the connection with MQTT_STORE_ERROR, not a crash", async () => {
    class BrokenStore extends MemoryStore {
      failing = false;
      flush(): void {
        if (this.failing) throw new Error("disk full");
      }
    }
    const store = new BrokenStore();
    const { c, peer } = await connected({ store });
    const error = nextError(c);
    store.failing = true;
    // reconnect is off here, so the lost connection fails the caller too.
    const publishing = assert.rejects(c.publish("t", "x", { qos: 1 }), MQTTError);
    const e = (await error) as MQTTError;
    assert.equal(e.code, "MQTT_STORE_ERROR");
    await peer.closed;
    assert.equal(peer.ended, true);
    await publishing;
  });

  it("random bytes from the broker only ever produce MQTTErrors (fuzz)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 300 }), async (garbage) => {
        const { c, peer } = await connected();
        const errors: Error[] = [];
        c.on("error", (e) => errors.push(e));
        peer.sendRaw(garbage);
        await Promise.race([peer.closed, sleep(30)]);
        await c.close();
        for (const e of errors) assert.ok(e instanceof MQTTError, `not an MQTTError: ${e}`);
        peer.socket.destroy();
      }),
      { numRuns: 60 },
    );
  });
});
