/**
 * Session Present against the session state the client holds (MQTT 5 §3.2.2.1.1, 3.1.1
 * §3.2.2.2), scripted with the fake broker:
 * - [MQTT-3.2.2-2]: Clean Start 1 answered with Session Present 1 is a broken broker.
 * - `clean: false` holds an (empty) session from the start: a brand-new client resumes the
 *   broker's session, gets what was queued, and answers a PUBREL it never saw with PUBCOMP.
 * - [MQTT-3.2.2-4] with `requireKnownSession`: no session state here but Session Present 1 →
 *   close the connection.
 * - [MQTT-3.2.2-5]: session state here but Session Present 0 → discard it and go on.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { describe, it } from "node:test";
import { encodePacket, type Packet } from "../../../src/mqtt/codec/index.js";
import { MemoryStore, type MQTTMessage } from "../../../src/mqtt/index.js";
import type { FakePeer } from "../fake-broker.js";
import { fakeBrokerSuite, isMQTTError, within } from "../helpers.js";

/** What a broker resuming a session sends: CONNACK and the queued flows, in one write. */
function resumeWith(peer: FakePeer, packets: Packet[]): void {
  const connack: Packet = { type: "connack", sessionPresent: true, reasonCode: 0 };
  peer.sendRaw(Buffer.concat([connack, ...packets].map((p) => encodePacket(p, peer.version))));
}

const queuedPublish = (packetId: number, qos: 1 | 2, text: string, dup = false): Packet => ({
  type: "publish",
  topic: "queued/while/away",
  payload: new Uint8Array(Buffer.from(text)),
  qos,
  retain: false,
  dup,
  packetId,
});

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
    const name = protocolVersion === 5 ? "5" : "3.1.1";

    it(`MQTT ${name}: a new client with clean: false resumes the session and gets what was queued`, async () => {
      // The pattern users write first: handler, then connect, no store.
      const c = client({
        protocolVersion,
        clientId: `resume-empty-${protocolVersion}`,
        clean: false,
        sessionExpiryInterval: 3600,
      });
      const delivered: string[] = [];
      c.onMessage((m) => {
        delivered.push(`${m.qos}:${m.text()}`);
      });
      const peerPromise = fake.broker.connection();
      const connecting = c.connect("127.0.0.1", fake.broker.port);
      const peer = await peerPromise;
      const connect = await peer.expect("connect");
      assert.equal(connect.clean, false);
      resumeWith(peer, [
        queuedPublish(1, 1, "one"),
        queuedPublish(2, 2, "two"),
        // The release of a QoS 2 message an earlier client received: nothing to deliver.
        { type: "pubrel", packetId: 77 },
      ]);
      assert.equal((await connecting).sessionPresent, true);
      assert.equal(c.connected, true);
      assert.equal((await peer.expect("puback")).packetId, 1);
      assert.equal((await peer.expect("pubrec")).packetId, 2);
      const unknown = await peer.expect("pubcomp");
      assert.equal(unknown.packetId, 77);
      // MQTT 5: 0x92 Packet Identifier not found (§3.7.2.1); 3.1.1 has no reason codes.
      assert.equal(unknown.reasonCode ?? 0, protocolVersion === 5 ? 0x92 : 0);
      // The broker re-sends the QoS 2 PUBLISH before its PUBREL (§4.3.3): PUBREC again, no
      // second delivery; then PUBREL completes it.
      peer.send(queuedPublish(2, 2, "two", true));
      assert.equal((await peer.expect("pubrec")).packetId, 2);
      peer.send({ type: "pubrel", packetId: 2 });
      const done = await peer.expect("pubcomp");
      assert.equal(done.packetId, 2);
      assert.equal(done.reasonCode ?? 0, 0);
      assert.deepEqual(delivered, ["1:one", "2:two"]);
      assert.equal(c.connected, true, "nothing in the resumed session ended the connection");
    });

    it(`MQTT ${name}: messages() attached right after connect() gets what came with CONNACK`, async () => {
      const c = client({
        protocolVersion,
        clientId: `resume-iter-${protocolVersion}`,
        clean: false,
      });
      const peerPromise = fake.broker.connection();
      const connecting = c.connect("127.0.0.1", fake.broker.port);
      const peer = await peerPromise;
      await peer.expect("connect");
      resumeWith(
        peer,
        Array.from({ length: 6 }, (_, i) => queuedPublish(i + 1, i % 2 ? 2 : 1, `m${i}`)),
      );
      await connecting;
      const iterator = c.messages("queued/#");
      const got: MQTTMessage[] = [];
      await within(
        (async () => {
          for await (const message of iterator) {
            got.push(message);
            if (got.length === 6) break;
          }
        })(),
        "the queued messages to reach the iterator",
      );
      assert.deepEqual(
        got.map((m) => m.text()),
        ["m0", "m1", "m2", "m3", "m4", "m5"],
      );
    });

    it(`MQTT ${name}: requireKnownSession: Session Present 1 without session state closes the connection (MQTT-3.2.2-4)`, async () => {
      const c = client({
        protocolVersion,
        clientId: `no-state-${protocolVersion}`,
        clean: false,
        sessionExpiryInterval: protocolVersion === 5 ? 60 : undefined,
        requireKnownSession: true,
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

  it("requireKnownSession: an empty store still counts as session state", async () => {
    const c = client({
      clientId: "empty-store",
      clean: false,
      sessionExpiryInterval: 60,
      store: new MemoryStore(),
      requireKnownSession: true,
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
