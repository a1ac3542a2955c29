/**
 * Several brokers (`connect({ servers })`): the order members are tried in, reconnects that
 * cycle through the list with the backoff only between rounds (scripted fake brokers), and a
 * real failover between two Mosquittos: the broker in use stops mid-flow, the client moves to
 * the other, and no QoS 1 message is lost.
 */
import assert from "node:assert/strict";
import { after, afterEach, beforeEach, describe, it } from "node:test";
import { MQTTError } from "../../../src/errors.js";
import { parseServers } from "../../../src/mqtt/client/options.js";
import { ServerList } from "../../../src/mqtt/client/servers.js";
import { MQTTClient, QoS } from "../../../src/mqtt/index.js";
import { freePort, serverSkip } from "../../servers/common.js";
import { type Mosquitto, startMosquitto } from "../../servers/mosquitto.js";
import { FakeBroker, type FakePeer } from "../fake-broker.js";
import { isMQTTError, sleep, within } from "../helpers.js";

async function waitFor(condition: () => boolean, what: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

const endpoints = (...hosts: string[]) =>
  parseServers({ servers: hosts.map((host) => ({ host, port: 1883 })) });

/** The hosts a ServerList visits over `steps` moves, starting with the current one. */
function walk(list: ServerList, steps: number): Array<{ host: string; newRound: boolean }> {
  const seen = [{ host: list.current.host, newRound: true }];
  for (let i = 0; i < steps; i++) {
    const newRound = list.next();
    seen.push({ host: list.current.host, newRound });
  }
  return seen;
}

describe("MQTT client: the broker list", () => {
  it("in order: rounds of every member, continuing after the one that failed", () => {
    const list = new ServerList(endpoints("a", "b", "c"));
    assert.deepEqual(walk(list, 4), [
      { host: "a", newRound: true },
      { host: "b", newRound: false },
      { host: "c", newRound: false },
      { host: "a", newRound: true },
      { host: "b", newRound: false },
    ]);
    // Connected to b: losing it starts a round that tries b last.
    list.connected();
    assert.deepEqual(walk(list, 3).slice(1), [
      { host: "c", newRound: true },
      { host: "a", newRound: false },
      { host: "b", newRound: false },
    ]);
  });

  it("random: each round a permutation, the member just lost tried last", () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    const list = new ServerList(endpoints("a", "b", "c", "d"), "random", random);
    const orders = new Set<string>();
    for (let round = 0; round < 20; round++) {
      const hosts = [list.current.host];
      for (let i = 1; i < 4; i++) {
        assert.equal(list.next(), false, "still inside the round");
        hosts.push(list.current.host);
      }
      assert.deepEqual([...hosts].sort(), ["a", "b", "c", "d"], "every member once a round");
      orders.add(hosts.join(""));
      list.connected(); // connected to the round's last member …
      const lost = list.current.host;
      assert.equal(list.next(), true, "… and losing it begins a new round");
      assert.notEqual(list.current.host, lost, "the member just lost is not tried first");
    }
    assert.ok(orders.size > 1, "the shuffle changes the order");
  });

  it("reads URLs and { host, port, protocol } alike; refuses an empty list", () => {
    const parsed = parseServers({
      servers: ["mqtt://b.example:1884", { host: "c.example", protocol: "mqtts" }, "wss://d/x"],
      protocol: "mqtt",
    });
    assert.deepEqual(
      parsed.map(({ protocol, host, port }) => ({ protocol, host, port })),
      [
        { protocol: "mqtt", host: "b.example", port: 1884 },
        { protocol: "mqtts", host: "c.example", port: 8883 },
        { protocol: "wss", host: "d", port: 443 },
      ],
    );
    assert.throws(() => parseServers({ servers: [] }), isMQTTError("MQTT_INVALID_ARGUMENT"));
    assert.throws(
      () => parseServers({ servers: [{ host: "a", port: 70_000 }] }),
      isMQTTError("MQTT_INVALID_ARGUMENT"),
    );
  });
});

describe("MQTT client: failover between fake brokers", () => {
  const clients: MQTTClient[] = [];
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
  });

  it("connect() skips a dead member; all dead rejects naming each one", async () => {
    const live = await FakeBroker.start((peer) => void peer.accept());
    const dead = await freePort();
    try {
      const c = new MQTTClient({ reconnect: false });
      clients.push(c);
      await c.connect({
        servers: [{ host: "127.0.0.1", port: dead }, live.url],
        timeout: 5000,
      });
      assert.equal(c.connected, true);
      assert.equal(c.server?.port, live.port);
      await c.disconnect();

      const c2 = new MQTTClient({ reconnect: false });
      clients.push(c2);
      const dead2 = await freePort();
      await assert.rejects(
        c2.connect({ servers: [`mqtt://127.0.0.1:${dead}`, `mqtt://127.0.0.1:${dead2}`] }),
        (error: unknown) => {
          assert.ok(error instanceof MQTTError);
          assert.equal(error.code, "MQTT_CONNECTION_FAILED");
          assert.match(error.message, new RegExp(`:${dead}: .*:${dead2}: `));
          assert.ok(error.cause instanceof AggregateError);
          assert.equal(error.cause.errors.length, 2);
          return true;
        },
      );
    } finally {
      await live.close();
    }
  });

  it("every member refusing alike rejects with that refusal's code and reason", async () => {
    const refuse = async (peer: FakePeer) => {
      await peer.expect("connect");
      peer.send({ type: "connack", sessionPresent: false, reasonCode: 0x87 });
    };
    const [one, two] = await Promise.all([FakeBroker.start(refuse), FakeBroker.start(refuse)]);
    try {
      const c = new MQTTClient({ reconnect: false });
      clients.push(c);
      await assert.rejects(
        c.connect({ servers: [one.url, two.url] }),
        isMQTTError("MQTT_CONNECT_REFUSED", 0x87),
      );
      assert.equal(one.peers.length + two.peers.length, 2, "each member tried once");
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  });

  it("reconnect moves to the next member; backoff only between full rounds", async () => {
    const first = await FakeBroker.start((peer) => void peer.accept());
    const second = await FakeBroker.start((peer) => void peer.accept());
    const c = new MQTTClient({
      reconnect: { initialDelay: 40, factor: 2, jitter: 0, maxAttempts: 4 },
    });
    clients.push(c);
    // A closed FakeBroker reports port 0: keep the ports.
    const [firstPort, secondPort] = [first.port, second.port];
    await c.connect({ servers: [first.url, second.url] });
    assert.equal(c.server?.port, firstPort);

    const moved = new Promise((resolve) => c.once("connect", resolve));
    await first.close();
    await within(moved, "the reconnect to the second broker", 5000);
    assert.equal(c.server?.port, secondPort);

    // Both gone: rounds of [first, second], the delay before each round, none inside it.
    const attempts: Array<{ attempt: number; delay: number; port: number | undefined }> = [];
    c.on("reconnect", ({ attempt, delay }) =>
      attempts.push({ attempt, delay, port: c.server?.port }),
    );
    const closed = new Promise((resolve) => c.once("close", resolve));
    await second.close();
    await within(closed, "giving up after maxAttempts", 5000);
    assert.deepEqual(attempts, [
      { attempt: 1, delay: 40, port: firstPort },
      { attempt: 2, delay: 0, port: secondPort },
      { attempt: 3, delay: 80, port: firstPort },
      { attempt: 4, delay: 0, port: secondPort },
    ]);
  });
});

describe("MQTT client: failover between two Mosquittos", {
  skip: serverSkip("mosquitto", "mosquitto"),
}, () => {
  // Fresh brokers for each test: each one stops its broker A.
  let a: Mosquitto | undefined;
  let b: Mosquitto | undefined;
  let clients: MQTTClient[] = [];

  beforeEach(async () => {
    [a, b] = await Promise.all([startMosquitto(), startMosquitto()]);
  });
  afterEach(async () => {
    await Promise.all(clients.map((c) => c.close()));
    clients = [];
    await Promise.all([a?.stop(), b?.stop()]);
    a = b = undefined;
  });

  const newClient = (name: string, extra: ConstructorParameters<typeof MQTTClient>[0] = {}) => {
    const client = new MQTTClient({
      clientId: `mtaio-failover-${name}-${process.pid}`,
      timeout: 30_000,
      reconnect: false,
      ...extra,
    });
    clients.push(client);
    return client;
  };

  for (const qos of [QoS.AT_LEAST_ONCE, QoS.EXACTLY_ONCE]) {
    it(`the broker in use stops mid-flow: the client moves on, no QoS ${qos} message is lost`, async () => {
      assert.ok(a && b);
      const [brokerA, brokerB] = [a, b];
      const topic = `failover/qos${qos}`;
      const count = 3000;
      const servers = [
        { host: brokerA.host, port: brokerA.port },
        { host: brokerB.host, port: brokerB.port },
      ];

      // Witnesses: one plain subscriber on each broker. A message A completed (PUBACK, PUBCOMP)
      // reached the witness on A (Mosquitto forwards it first); any other must reach B. QoS 2
      // with a new member that lacks the session is at least once: duplicates are allowed.
      const receivedOnA = new Set<string>();
      const receivedOnB = new Set<string>();
      const witnessA = newClient("witness-a");
      const witnessB = newClient("witness-b");
      witnessA.onMessage((m) => receivedOnA.add(m.text()));
      witnessB.onMessage((m) => receivedOnB.add(m.text()));
      await witnessA.connect(brokerA.host, brokerA.port);
      await witnessB.connect(brokerB.host, brokerB.port);
      await witnessA.subscribe(topic, { qos });
      await witnessB.subscribe(topic, { qos });

      // A failover subscriber: B has no session for it, so it subscribes there again.
      const markers: string[] = [];
      const subscriber = newClient("sub", {
        reconnect: { initialDelay: 5, maxDelay: 80 },
        clean: false,
        sessionExpiryInterval: 300,
      });
      subscriber.onMessage((m) => {
        if (m.topic === "failover/marker") markers.push(m.text());
      });
      await subscriber.connect({ servers });
      await subscriber.subscribe("failover/marker", { qos: QoS.AT_LEAST_ONCE });

      const publisher = newClient("pub", {
        reconnect: { initialDelay: 5, maxDelay: 80 },
        clean: false,
        sessionExpiryInterval: 300,
        keepalive: 5,
      });
      const sessions: boolean[] = [];
      publisher.on("connect", ({ sessionPresent }) => sessions.push(sessionPresent));
      await publisher.connect({ servers });
      assert.equal(publisher.server?.port, brokerA.port);

      const failed: unknown[] = [];
      // Messages A acknowledged (PUBACK, or PUBCOMP) while the publisher was still on it.
      const ackedByA = new Set<string>();
      const publishing = (async () => {
        const window = 100;
        const inFlight = new Set<Promise<unknown>>();
        for (let i = 0; i < count; i++) {
          const p = publisher
            .publish(topic, `m${i}`, { qos })
            .then(() => {
              if (publisher.server?.port === brokerA.port) ackedByA.add(`m${i}`);
            })
            .catch((error: unknown) => failed.push(error))
            .finally(() => inFlight.delete(p));
          inFlight.add(p);
          if (inFlight.size >= window) await Promise.race(inFlight);
        }
        await Promise.all(inFlight);
      })();

      await waitFor(() => receivedOnA.size >= 500, "the flow through A to get going");
      a = undefined; // stopped here, not again in afterEach
      await brokerA.stop();
      await publishing;

      assert.deepEqual(failed, [], "every publish completed");
      assert.equal(publisher.server?.port, brokerB.port, "the publisher moved to B");
      assert.deepEqual(sessions, [false, false], "B had no session for the publisher");
      assert.ok(receivedOnB.size > 0, "part of the flow went through B");
      await waitFor(
        () => new Set([...receivedOnA, ...receivedOnB]).size === count,
        "every message on A or B",
      ).catch(() => undefined); // the assertion below names what is missing
      const missing = Array.from({ length: count }, (_, i) => `m${i}`).filter(
        (k) => !receivedOnA.has(k) && !receivedOnB.has(k),
      );
      // The client's part: everything A had not acknowledged is published again on B. A
      // message A did acknowledge is A's to deliver; a broker stopped at that moment may not
      // flush its forward to the witness, which no client can redo (it has no copy to send).
      assert.deepEqual(
        missing.filter((k) => !ackedByA.has(k)),
        [],
        `no QoS ${qos} message that A had not acknowledged was lost`,
      );

      // The subscriber re-subscribed on B: a message published there reaches it.
      await waitFor(
        () => subscriber.connected && subscriber.server?.port === brokerB.port,
        "subscriber on B",
      );
      // Its SUBSCRIBE to B races this publisher: publish markers until one arrives.
      for (let i = 0; markers.length === 0; i++) {
        assert.ok(i < 100, "the subscriber receives through B");
        await publisher.publish("failover/marker", `after${i}`, { qos: QoS.AT_LEAST_ONCE });
        await sleep(100);
      }
    });
  }
});
