/**
 * Session Present against the session state the client holds (MQTT 5 §3.2.2.1.1, 3.1.1
 * §3.2.2.2), scripted with the fake broker:
 * - [MQTT-3.2.2-2]: Clean Start 1 answered with Session Present 1 is a broken broker.
 * - [MQTT-3.2.2-4]: no session state here but Session Present 1 → close the connection.
 * - [MQTT-3.2.2-5]: session state here but Session Present 0 → discard it and go on.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MemoryStore } from "../../../src/mqtt/index.js";
import { fakeBrokerSuite, isMQTTError, within } from "../helpers.js";

const text = (payload: Uint8Array) => Buffer.from(payload).toString();

describe("MQTT client: Session Present vs. the session state it holds", () => {
  const fake = fakeBrokerSuite();
  const { client } = fake;

  it("Clean Start 1 answered with Session Present 1 is a protocol error (0x82)", async () => {
    const c = client();
    const peerPromise = fake.broker.connection();
    const connecting = c.connect("127.0.0.1", fake.broker.port);
    const peer = await peerPromise;
    const connect = await peer.accept({}, true);
    assert.equal(connect.clean, true);
    await assert.rejects(connecting, isMQTTError("MQTT_PROTOCOL_ERROR", 0x82));
    await within(peer.closed, "the client closing the connection");
    assert.equal(c.connected, false);
    const disconnect = peer.received.find((p) => p.type === "disconnect");
    assert.equal(disconnect?.type === "disconnect" && disconnect.reasonCode, 0x82);
  });

  for (const protocolVersion of [4, 5] as const) {
    it(`MQTT ${protocolVersion === 5 ? "5" : "3.1.1"}: Session Present 1 without session state closes the connection (MQTT-3.2.2-4)`, async () => {
      const c = client({
        protocolVersion,
        clientId: `no-state-${protocolVersion}`,
        clean: false,
        sessionExpiryInterval: protocolVersion === 5 ? 60 : undefined,
      });
      let peerPromise = fake.broker.connection();
      const connecting = c.connect("127.0.0.1", fake.broker.port);
      let peer = await peerPromise;
      const connect = await peer.accept({}, true);
      assert.equal(connect.clean, false);
      await assert.rejects(connecting, isMQTTError("MQTT_UNEXPECTED_SESSION"));
      await within(peer.closed, "the client closing the connection");
      assert.equal(c.connected, false);
      assert.deepEqual(
        peer.received.map((p) => p.type),
        ["connect"],
        "nothing after CONNECT: no PUBACK/PUBCOMP for flows the client never knew",
      );
      // The client stays usable: the caller may try again (here the broker lost the session).
      peerPromise = fake.broker.connection();
      const again = c.connect("127.0.0.1", fake.broker.port);
      peer = await peerPromise;
      await peer.accept({}, false);
      assert.equal((await again).sessionPresent, false);
      assert.equal(c.connected, true);
    });
  }

  it("a store the caller gives holds the session state: Session Present 1 resumes its flows", async () => {
    const store = new MemoryStore();
    store.putOutgoing({
      packetId: 7,
      topic: "resume/me",
      payload: new Uint8Array(Buffer.from("from the last run")),
      qos: 1,
      retain: false,
      state: "publish",
    });
    const c = client({ clientId: "with-store", clean: false, sessionExpiryInterval: 60, store });
    const peerPromise = fake.broker.connection();
    const connecting = c.connect("127.0.0.1", fake.broker.port);
    const peer = await peerPromise;
    await peer.accept({}, true);
    assert.equal((await connecting).sessionPresent, true);
    const resent = await peer.expect("publish");
    assert.equal(resent.packetId, 7);
    assert.equal(resent.dup, true, "a resend of the stored flow (§4.4)");
    assert.equal(text(resent.payload), "from the last run");
    peer.send({ type: "puback", packetId: 7 });
    await within(
      (async () => {
        while (c.pendingCount > 0) await new Promise((r) => setTimeout(r, 5));
      })(),
      "the resumed flow to finish",
    );
    assert.deepEqual(store.load().outgoing, []);
  });

  it("an empty store still counts as session state: Session Present 1 is accepted", async () => {
    const c = client({
      clientId: "empty-store",
      clean: false,
      sessionExpiryInterval: 60,
      store: new MemoryStore(),
    });
    const peerPromise = fake.broker.connection();
    const connecting = c.connect("127.0.0.1", fake.broker.port);
    await (await peerPromise).accept({}, true);
    assert.equal((await connecting).sessionPresent, true);
  });

  it("session state here but Session Present 0: the old flows are discarded (MQTT-3.2.2-5), the messages published anew", async () => {
    const store = new MemoryStore();
    const c = client({
      clientId: "lost-session",
      sessionExpiryInterval: 60,
      store,
      reconnect: { initialDelay: 1, maxDelay: 5 },
    });
    const delivered: string[] = [];
    c.onMessage((m) => {
      delivered.push(text(m.payload as Uint8Array));
    });
    let peerPromise = fake.broker.connection();
    const connecting = c.connect("127.0.0.1", fake.broker.port);
    let peer = await peerPromise;
    await peer.accept();
    await connecting;
    // QoS 1 sent, not acked; QoS 2 past PUBREC (PUBREL sent), not completed.
    const one = c.publish("out/1", "one", { qos: 1 });
    const two = c.publish("out/2", "two", { qos: 2 });
    await peer.expect("publish");
    const p2 = await peer.expect("publish");
    peer.send({ type: "pubrec", packetId: p2.packetId as number });
    await peer.expect("pubrel");
    // A QoS 2 message to the client, PUBREC sent, PUBREL not yet.
    peer.send({
      type: "publish",
      topic: "in/2",
      payload: new Uint8Array(Buffer.from("incoming")),
      qos: 2,
      retain: false,
      dup: false,
      packetId: 42,
    });
    assert.equal((await peer.expect("pubrec")).packetId, 42);
    assert.equal(store.load().outgoing.length, 2);
    assert.deepEqual(store.load().incoming, [42]);

    peerPromise = fake.broker.connection();
    peer.socket.destroy();
    peer = await peerPromise;
    const connect = await peer.accept({}, false);
    assert.equal(connect.clean, false, "the reconnect asked to resume");
    // Nothing of the old flows is resent as such: no DUP, no PUBREL; new PUBLISHes instead.
    const again1 = await peer.expect("publish");
    const again2 = await peer.expect("publish");
    assert.deepEqual(
      [again1, again2].map((p) => [text(p.payload), p.qos, p.dup]),
      [
        ["one", 1, false],
        ["two", 2, false],
      ],
    );
    assert.equal(
      store.load().incoming.length,
      0,
      "the received QoS 2 id is forgotten with the session",
    );
    // The old incoming id means nothing now: PUBREL for it is "Packet Identifier not found".
    peer.send({ type: "pubrel", packetId: 42 });
    const pubcomp = await peer.expect("pubcomp");
    assert.equal(pubcomp.packetId, 42);
    assert.equal(pubcomp.reasonCode, 0x92);
    // The new flows complete normally.
    peer.send({ type: "puback", packetId: again1.packetId as number });
    peer.send({ type: "pubrec", packetId: again2.packetId as number });
    const rel = await peer.expect("pubrel");
    peer.send({ type: "pubcomp", packetId: rel.packetId });
    await within(Promise.all([one, two]), "both publishes to resolve");
    assert.deepEqual(delivered, ["incoming"], "delivered once, before the cut");
    assert.deepEqual(store.load().outgoing, []);
  });
});
