/**
 * A hostile or broken broker (scripted with FakeBroker) must give the client a typed MQTTError
 * and a clean disconnect — never a crash, a hang, or an unhandled rejection.
 * "Clean" here means: the operation rejects or an `error` event carries the MQTTError, the
 * client tells an MQTT 5 broker why (DISCONNECT with the reason code), and the socket closes.
 */
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import fc from "fast-check";
import { MQTTError } from "../../../src/errors.js";
import type { DisconnectPacket } from "../../../src/mqtt/codec/index.js";
import { MQTTClient } from "../../../src/mqtt/index.js";
import { FakeBroker, type FakePeer } from "../fake-broker.js";
import { isMQTTError, within } from "../helpers.js";

const hex = (s: string) => Uint8Array.from(s.trim().split(/\s+/), (b) => Number.parseInt(b, 16));

let broker: FakeBroker;
let client: MQTTClient;
let errors: Error[];
/** Resolves when the client has stopped for good (its `close` event). */
let clientClosed: Promise<void>;

function newClient(options: ConstructorParameters<typeof MQTTClient>[0] = {}): MQTTClient {
  client = new MQTTClient({ reconnect: false, timeout: 3000, keepalive: 0, ...options });
  errors = [];
  client.on("error", (error) => errors.push(error));
  const current = client;
  clientClosed = new Promise((resolve) => current.on("close", () => resolve()));
  return client;
}

/** The first `error` event, as soon as it arrives. */
async function firstError(): Promise<Error> {
  if (errors.length > 0) return errors[0];
  return new Promise((resolve) => {
    const remove = client.on("error", (error) => {
      remove();
      resolve(error);
    });
  });
}

/** Connects through a broker that accepts, then runs `script` on the connection. */
async function connected(
  script: (peer: FakePeer) => void | Promise<void>,
  version: 4 | 5 = 5,
  options: ConstructorParameters<typeof MQTTClient>[0] = {},
): Promise<FakePeer> {
  let resolvePeer!: (peer: FakePeer) => void;
  const peerReady = new Promise<FakePeer>((resolve) => {
    resolvePeer = resolve;
  });
  let clientConnected!: () => void;
  const connectedPromise = new Promise<void>((resolve) => {
    clientConnected = resolve;
  });
  broker.onConnection(async (peer) => {
    await peer.accept();
    resolvePeer(peer);
    // Misbehave only once connect() has resolved, so the hostile bytes never share a read with
    // the CONNACK (the decoder rejects a whole chunk that holds a malformed packet).
    await connectedPromise;
    await script(peer);
  });
  newClient({ protocolVersion: version, ...options });
  await within(client.connect(broker.host, broker.port), "connect");
  clientConnected();
  return peerReady;
}

/** connect() must reject with `code` (and `reasonCode`), and the client must hang up. */
async function connectFails(code: string, reasonCode?: number, timeout?: number): Promise<void> {
  const peer = broker.nextPeer();
  await assert.rejects(
    within(client.connect(broker.host, broker.port, { timeout }), "connect"),
    isMQTTError(code, reasonCode),
  );
  await within((await peer).closed, "socket close");
}

/** The client's last words to an MQTT 5 broker before it hung up. */
function lastDisconnectReason(peer: FakePeer): number | undefined {
  const last = peer.received.findLast((p): p is DisconnectPacket => p.type === "disconnect");
  return last?.reasonCode;
}

beforeEach(async () => {
  broker = await FakeBroker.start();
});

afterEach(async () => {
  await client?.close();
  await broker.close();
  assert.deepEqual(broker.scriptErrors, [], "the fake broker's scripts ran as written");
});

describe("hostile broker: CONNECT / CONNACK", () => {
  it("a CONNACK refusal (MQTT 5, 0x87) rejects connect() with that reason code", async () => {
    broker.onConnection(async (peer) => {
      await peer.expect("connect");
      peer.send({
        type: "connack",
        sessionPresent: false,
        reasonCode: 0x87,
        properties: { reasonString: "no" },
      });
    });
    newClient({ protocolVersion: 5 });
    await connectFails("MQTT_CONNECT_REFUSED", 0x87);
    assert.equal(client.connected, false);
  });

  it("a CONNACK refusal (3.1.1, return code 5) rejects connect()", async () => {
    broker.onConnection(async (peer) => {
      await peer.expect("connect");
      peer.send({ type: "connack", sessionPresent: false, reasonCode: 5 });
    });
    newClient({ protocolVersion: 4 });
    await connectFails("MQTT_CONNECT_REFUSED", 5);
  });

  it("a broker that never answers CONNECT makes connect() time out and hang up", async () => {
    broker.onConnection(async (peer) => {
      await peer.expect("connect");
    });
    newClient();
    await connectFails("MQTT_TIMEOUT", undefined, 300);
  });

  it("garbage instead of CONNACK rejects connect() with MQTT_MALFORMED_PACKET", async () => {
    broker.onConnection(async (peer) => {
      await peer.expect("connect");
      peer.sendRaw(hex("00 00 DE AD BE EF"));
    });
    newClient();
    await connectFails("MQTT_MALFORMED_PACKET", 0x81);
  });

  it("a PUBLISH before CONNACK is a protocol error", async () => {
    broker.onConnection(async (peer) => {
      await peer.expect("connect");
      peer.send({
        type: "publish",
        topic: "t",
        payload: hex("01"),
        qos: 0,
        retain: false,
        dup: false,
      });
    });
    newClient();
    await assert.rejects(
      within(client.connect(broker.host, broker.port), "connect"),
      isMQTTError("MQTT_PROTOCOL_ERROR", 0x82),
    );
  });

  it("a connection closed in the middle of CONNACK rejects connect()", async () => {
    broker.onConnection(async (peer) => {
      await peer.expect("connect");
      peer.sendRaw(hex("20 03 00"));
      peer.socket.end();
    });
    newClient();
    await assert.rejects(within(client.connect(broker.host, broker.port), "connect"), (e) => {
      assert.ok(e instanceof MQTTError, String(e));
      return true;
    });
  });
});

describe("hostile broker: acknowledgements", () => {
  it("a SUBACK with the wrong number of reason codes rejects subscribe() and disconnects", async () => {
    const peer = await connected(async (p) => {
      const subscribe = await p.expect("subscribe");
      p.send({ type: "suback", packetId: subscribe.packetId, reasonCodes: [0] });
    });
    await assert.rejects(
      within(client.subscribe(["a", "b"]), "subscribe"),
      isMQTTError("MQTT_PROTOCOL_ERROR", 0x82),
    );
    await within(peer.closed, "socket close");
    assert.equal(lastDisconnectReason(peer), 0x82);
  });

  it("a SUBACK for an unknown packet id is a protocol error", async () => {
    const peer = await connected(async (p) => {
      const subscribe = await p.expect("subscribe");
      p.send({ type: "suback", packetId: (subscribe.packetId % 65535) + 1, reasonCodes: [0] });
    });
    const subscribing = client.subscribe("a");
    subscribing.catch(() => {});
    assert.ok(isMQTTError("MQTT_PROTOCOL_ERROR", 0x82)(await within(firstError(), "error")));
    await within(peer.closed, "socket close");
    await assert.rejects(within(subscribing, "subscribe"), MQTTError);
  });

  for (const type of ["puback", "pubcomp"] as const) {
    it(`a ${type.toUpperCase()} for a packet id never used is a protocol error`, async () => {
      const peer = await connected((p) => {
        p.send({ type, packetId: 4242, reasonCode: 0 });
      });
      assert.ok(isMQTTError("MQTT_PROTOCOL_ERROR", 0x82)(await within(firstError(), "error")));
      await within(Promise.all([peer.closed, clientClosed]), "close");
      assert.equal(client.connected, false);
    });
  }

  it("a PUBREC for an unknown packet id is answered with PUBREL 0x92 (§4.3.3)", async () => {
    const peer = await connected((p) => {
      p.send({ type: "pubrec", packetId: 4242, reasonCode: 0 });
    });
    const pubrel = await within(peer.expect("pubrel"), "PUBREL");
    assert.equal(pubrel.packetId, 4242);
    assert.equal(pubrel.reasonCode, 0x92);
    assert.equal(client.connected, true);
  });

  it("over MQTT 3.1.1 the same PUBREC is answered with a plain PUBREL (no reason code, §3.6)", async () => {
    // Found by the fuzz test below: a reason code cannot be encoded in a 3.1.1 PUBREL, and the
    // encoder's error escaped the socket's data handler and ended the process.
    const peer = await connected((p) => {
      p.send({ type: "pubrec", packetId: 4242 });
    }, 4);
    const pubrel = await within(peer.expect("pubrel"), "PUBREL");
    assert.equal(pubrel.packetId, 4242);
    assert.equal(pubrel.reasonCode ?? 0, 0);
    assert.equal(client.connected, true);
    assert.deepEqual(errors, []);
  });

  it("a PUBACK that answers a QoS 2 publish is a protocol error, and publish() rejects", async () => {
    const peer = await connected(async (p) => {
      const publish = await p.expect("publish");
      p.send({ type: "puback", packetId: publish.packetId!, reasonCode: 0 });
    });
    await assert.rejects(within(client.publish("t", "x", { qos: 2 }), "publish"), MQTTError);
    await within(peer.closed, "socket close");
    assert.ok(isMQTTError("MQTT_PROTOCOL_ERROR", 0x82)(errors[0]));
  });
});

describe("hostile broker: a broker that goes quiet or hangs up", () => {
  it("a broker that stops answering PINGREQ is declared dead", async () => {
    const peer = await connected(() => {}, 5, { keepalive: 1, pingTimeout: 300 });
    await within(peer.expect("pingreq"), "PINGREQ");
    assert.ok(isMQTTError("MQTT_KEEPALIVE_TIMEOUT")(await within(firstError(), "error")));
    await within(Promise.all([peer.closed, clientClosed]), "close");
    assert.equal(client.connected, false);
  });

  it("a DISCONNECT with a failure reason surfaces as MQTT_DISCONNECTED_BY_BROKER", async () => {
    const peer = await connected((p) => {
      p.send({ type: "disconnect", reasonCode: 0x89, properties: { reasonString: "busy" } });
      p.socket.end();
    });
    const error = await within(firstError(), "error");
    assert.ok(isMQTTError("MQTT_DISCONNECTED_BY_BROKER", 0x89)(error));
    assert.match(error.message, /busy/);
    await within(peer.closed, "socket close");
  });

  it("a PUBREL for an unknown packet id is answered with PUBCOMP 0x92 (§4.3.3)", async () => {
    const peer = await connected((p) => p.send({ type: "pubrel", packetId: 777, reasonCode: 0 }));
    const pubcomp = await within(peer.expect("pubcomp"), "PUBCOMP");
    assert.equal(pubcomp.packetId, 777);
    assert.equal(pubcomp.reasonCode, 0x92);
    assert.equal(client.connected, true);
  });
});

describe("hostile broker: topic aliases (MQTT 5 §3.3.2.3.4)", () => {
  it("topic alias 0 is refused with 0x94", async () => {
    // PUBLISH QoS 0, topic "t", properties: Topic Alias (0x23) = 0 — not encodable, so raw.
    const peer = await connected((p) => p.sendRaw(hex("30 07 00 01 74 03 23 00 00")));
    assert.ok(isMQTTError("MQTT_TOPIC_ALIAS_INVALID", 0x94)(await within(firstError(), "error")));
    await within(peer.closed, "socket close");
    assert.equal(lastDisconnectReason(peer), 0x94);
  });

  it("a topic alias above our Topic Alias Maximum is refused with 0x94", async () => {
    const peer = await connected(
      (p) =>
        p.send({
          type: "publish",
          topic: "t",
          payload: hex("01"),
          qos: 0,
          retain: false,
          dup: false,
          properties: { topicAlias: 11 },
        }),
      5,
      { topicAliasMaximum: 10 },
    );
    assert.ok(isMQTTError("MQTT_TOPIC_ALIAS_INVALID", 0x94)(await within(firstError(), "error")));
    await within(peer.closed, "socket close");
  });

  it("an alias used before it was set is a protocol error", async () => {
    const peer = await connected((p) =>
      p.send({
        type: "publish",
        topic: "",
        payload: hex("01"),
        qos: 0,
        retain: false,
        dup: false,
        properties: { topicAlias: 3 },
      }),
    );
    assert.ok(isMQTTError("MQTT_PROTOCOL_ERROR", 0x82)(await within(firstError(), "error")));
    await within(peer.closed, "socket close");
  });
});

describe("hostile broker: framing", () => {
  it("an announced length above our Maximum Packet Size is refused before the body", async () => {
    // Announces a 2 MiB PUBLISH; sends only the header.
    const peer = await connected((p) => p.sendRaw(hex("30 80 80 80 01")), 5, {
      maximumPacketSize: 1024,
    });
    assert.ok(isMQTTError("MQTT_PACKET_TOO_LARGE", 0x95)(await within(firstError(), "error")));
    await within(peer.closed, "socket close");
    assert.equal(lastDisconnectReason(peer), 0x95);
  });

  it("a fifth Remaining Length byte is a malformed packet", async () => {
    const peer = await connected((p) => p.sendRaw(hex("30 FF FF FF FF 01")));
    assert.ok(isMQTTError("MQTT_MALFORMED_PACKET", 0x81)(await within(firstError(), "error")));
    await within(peer.closed, "socket close");
  });

  for (const version of [4, 5] as const) {
    it(`garbage bytes after CONNACK (MQTT ${version}) are a malformed packet`, async () => {
      const peer = await connected((p) => p.sendRaw(hex("00 05 01 02 03 04 05")), version);
      assert.ok(isMQTTError("MQTT_MALFORMED_PACKET", 0x81)(await within(firstError(), "error")));
      await within(peer.closed, "socket close");
    });
  }

  it("ill-formed UTF-8 in a topic is a malformed packet", async () => {
    const peer = await connected((p) => p.sendRaw(hex("30 05 00 03 ED A0 80")));
    assert.ok(isMQTTError("MQTT_MALFORMED_PACKET", 0x81)(await within(firstError(), "error")));
    await within(peer.closed, "socket close");
  });

  it("a wildcard in a PUBLISH topic is refused", async () => {
    const peer = await connected((p) => p.sendRaw(hex("30 04 00 01 23 00")));
    assert.ok(isMQTTError("MQTT_INVALID_TOPIC", 0x90)(await within(firstError(), "error")));
    await within(peer.closed, "socket close");
  });

  it("a client-only packet from the broker (SUBSCRIBE) is a protocol error", async () => {
    const peer = await connected((p) =>
      p.send({ type: "subscribe", packetId: 1, subscriptions: [{ topicFilter: "x", qos: 0 }] }),
    );
    assert.ok(isMQTTError("MQTT_PROTOCOL_ERROR", 0x82)(await within(firstError(), "error")));
    await within(peer.closed, "socket close");
  });

  it("with reconnect on, a garbage-sending broker is left and reconnected to", async () => {
    let connections = 0;
    let firstConnected!: () => void;
    const gate = new Promise<void>((resolve) => {
      firstConnected = resolve;
    });
    broker.onConnection(async (peer) => {
      connections++;
      await peer.accept();
      if (connections > 1) return;
      await gate;
      peer.sendRaw(hex("FF FF FF FF FF"));
    });
    client = new MQTTClient({ reconnect: { initialDelay: 10, maxDelay: 20 }, keepalive: 0 });
    errors = [];
    client.on("error", (error) => errors.push(error));
    const reconnected = new Promise<void>((resolve) => {
      let seen = 0;
      client.on("connect", () => {
        if (++seen === 2) resolve();
      });
    });
    await within(client.connect(broker.host, broker.port), "connect");
    firstConnected();
    await within(reconnected, "reconnect");
    assert.ok(isMQTTError("MQTT_MALFORMED_PACKET", 0x81)(errors[0]));
    assert.equal(client.connected, true);
  });
});

describe("hostile broker: fuzzed streams", () => {
  it("random bytes after CONNACK only ever surface as MQTTErrors, then a clean close", async () => {
    const stream = fc.tuple(
      fc.oneof(
        fc.uint8Array({ maxLength: 64 }),
        // A valid fixed header in front of random bytes reaches the packet parsers.
        fc
          .tuple(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 60 }))
          .map(([first, body]) => Uint8Array.of(first, body.length, ...body)),
      ),
      fc.constantFrom<4 | 5>(4, 5),
    );
    await fc.assert(
      fc.asyncProperty(stream, async ([bytes, version]) => {
        const peer = await connected((p) => {
          p.sendRaw(bytes);
          p.socket.end();
        }, version);
        const closed = new Promise<void>((resolve) => client.on("close", () => resolve()));
        await within(Promise.all([closed, peer.closed]), "close");
        for (const error of errors) assert.ok(error instanceof MQTTError, String(error));
        assert.equal(client.connected, false);
        await client.close();
      }),
      { numRuns: 40 },
    );
  });
});
