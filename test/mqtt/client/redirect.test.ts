/**
 * MQTT 5 server redirection (§4.11) and refusals that only another member can fix, against
 * scripted fake brokers: a CONNACK or DISCONNECT with 0x9C / 0x9D and a Server Reference sends
 * the client to the server named there; redirections in a loop end in MQTT_REDIRECT_LOOP; a
 * member that refuses for good (not authorized, banned, …) makes the reconnect try the next
 * member, and reconnection stops only when every member has refused.
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import fc from "fast-check";
import { MQTTError } from "../../../src/errors.js";
import type { Endpoint } from "../../../src/mqtt/client/options.js";
import { parseServerReference, serverRedirect } from "../../../src/mqtt/client/redirect.js";
import { MQTTClient, type MQTTClientOptions } from "../../../src/mqtt/index.js";
import { freePort } from "../../servers/common.js";
import { FakeBroker, type FakePeer } from "../fake-broker.js";
import { isMQTTError, within } from "../helpers.js";

const from: Endpoint = {
  protocol: "mqtts",
  host: "a.example",
  port: 8883,
  username: "u",
  password: "p",
};

describe("MQTT client: reading a Server Reference", () => {
  it("any string gives at most 16 well-formed targets, never an exception (fuzz)", () => {
    const word = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.constantFrom("h", "h:1", "[::1]:2", "::1", "mqtts://x:3", "mqtt://y", "a:b:c", "[", "]:"),
    );
    fc.assert(
      fc.property(
        fc.array(word, { maxLength: 30 }),
        fc.constantFrom(" ", "  ", "\t", "\n"),
        (words, gap) => {
          const targets = parseServerReference(words.join(gap), from);
          assert.ok(targets.length <= 16);
          for (const t of targets) {
            assert.match(t.host, /^[A-Za-z0-9_.:%-]+$/, t.host);
            assert.ok(Number.isInteger(t.port) && t.port >= 1 && t.port <= 65535);
            assert.ok(t.protocol === "mqtts" || t.protocol === "wss", "never down to plain text");
            assert.equal(t.password, from.password);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it("reads host, host:port, [v6]:port, bare IPv6 and URLs; keeps transport and credentials", () => {
    const targets = parseServerReference(
      "b.example  c.example:9000 [fe80::1]:1884 ::1 wss://d.example:1999/m",
      from,
    );
    assert.deepEqual(
      targets.map(({ protocol, host, port, username }) => ({ protocol, host, port, username })),
      [
        { protocol: "mqtts", host: "b.example", port: 8883, username: "u" },
        { protocol: "mqtts", host: "c.example", port: 9000, username: "u" },
        { protocol: "mqtts", host: "fe80::1", port: 1884, username: "u" },
        { protocol: "mqtts", host: "::1", port: 8883, username: "u" },
        { protocol: "wss", host: "d.example", port: 1999, username: "u" },
      ],
    );
  });

  it("skips references that name no server; none readable is no redirection", () => {
    assert.deepEqual(
      parseServerReference("a/b host:0 host:99999 host:x bad\u0000host ftp:// e.example", from).map(
        (t) => t.host,
      ),
      ["e.example"],
    );
    // From TLS, never to plain text (the credentials would travel in the clear).
    assert.deepEqual(
      parseServerReference("mqtt://plain.example ws://plain.example mqtts://tls.example", from).map(
        (t) => `${t.protocol}://${t.host}`,
      ),
      ["mqtts://tls.example"],
    );
    const plain: Endpoint = { protocol: "mqtt", host: "a", port: 1883 };
    assert.equal(parseServerReference("mqtts://up.example", plain)[0]?.protocol, "mqtts");
    assert.equal(serverRedirect(0x9c, { serverReference: "a/b" }, 5, from), undefined);
    assert.equal(serverRedirect(0x9c, {}, 5, from), undefined, "no reference");
    assert.equal(serverRedirect(0x87, { serverReference: "b" }, 5, from), undefined, "reason");
    assert.equal(serverRedirect(0x9c, { serverReference: "b" }, 4, from), undefined, "3.1.1");
    assert.equal(serverRedirect(0x9d, { serverReference: "b" }, 5, from)?.moved, true);
    assert.equal(serverRedirect(0x9c, { serverReference: "b" }, 5, from)?.moved, false);
    const many = Array.from({ length: 40 }, (_, i) => `h${i}`).join(" ");
    assert.equal(parseServerReference(many, from).length, 16, "a bounded number of targets");
  });
});

/** A broker that refuses every CONNECT with `reasonCode`, pointing at `reference()`. */
function redirecting(reasonCode: number, reference: () => string) {
  return async (peer: FakePeer) => {
    await peer.expect("connect");
    peer.send({
      type: "connack",
      sessionPresent: false,
      reasonCode,
      properties: { serverReference: reference() },
    });
  };
}

describe("MQTT client: server redirection between fake brokers", () => {
  const brokers: FakeBroker[] = [];
  const clients: MQTTClient[] = [];
  const broker = async (script?: (peer: FakePeer) => void | Promise<void>) => {
    const b = await FakeBroker.start(script);
    brokers.push(b);
    return b;
  };
  const client = (options: MQTTClientOptions = {}) => {
    const c = new MQTTClient({ reconnect: false, timeout: 5000, ...options });
    clients.push(c);
    return c;
  };
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all(brokers.map((b) => b.close()));
  });

  it("CONNACK 0x9C Use another server: connect() ends up at the server named", async () => {
    const target = await broker((peer) => void peer.accept());
    const origin = await broker(redirecting(0x9c, () => `127.0.0.1:${target.port}`));
    const c = client();
    const result = await c.connect(origin.url);
    assert.equal(result.reasonCode, 0);
    assert.equal(c.connected, true);
    assert.equal(c.server?.port, target.port);
    assert.equal(origin.peers.length, 1);
    assert.equal(target.peers.length, 1);
    await c.disconnect();
  });

  it("several references: a dead one is skipped, the next one is used", async () => {
    const target = await broker((peer) => void peer.accept());
    const dead = await freePort();
    const origin = await broker(
      redirecting(0x9c, () => `127.0.0.1:${dead} 127.0.0.1:${target.port}`),
    );
    const c = client();
    await c.connect(origin.url);
    assert.equal(c.server?.port, target.port);
    await c.disconnect();
  });

  it("0x9D Server moved: later reconnects go to the new address directly", async () => {
    const moved = await broker((peer) => void peer.accept());
    const origin = await broker(redirecting(0x9d, () => `127.0.0.1:${moved.port}`));
    const c = client({ reconnect: { initialDelay: 10, jitter: 0, maxAttempts: 3 } });
    await c.connect(origin.url);
    assert.equal(c.server?.port, moved.port);

    const back = new Promise((resolve) => c.once("connect", resolve));
    moved.peers[0].destroy();
    await within(back, "the reconnect");
    assert.equal(c.server?.port, moved.port);
    assert.equal(origin.peers.length, 1, "the old address is not asked again");
    assert.equal(moved.peers.length, 2);
    await c.disconnect();
  });

  it("0x9C is temporary: after losing the other server the member itself is tried again", async () => {
    const other = await broker((peer) => void peer.accept());
    let redirected = false;
    const origin = await broker(async (peer) => {
      if (redirected) return void peer.accept();
      redirected = true;
      await redirecting(0x9c, () => `127.0.0.1:${other.port}`)(peer);
    });
    const c = client({ reconnect: { initialDelay: 10, jitter: 0, maxAttempts: 3 } });
    await c.connect(origin.url);
    assert.equal(c.server?.port, other.port);
    const back = new Promise((resolve) => c.once("connect", resolve));
    other.peers[0].destroy();
    await within(back, "the reconnect");
    assert.equal(c.server?.port, origin.port);
    assert.equal(origin.peers.length, 2);
    await c.disconnect();
  });

  it("DISCONNECT 0x9C with a reference while connected: the reconnect goes there", async () => {
    const other = await broker((peer) => void peer.accept());
    const origin = await broker(async (peer) => {
      await peer.accept();
      peer.send({
        type: "disconnect",
        reasonCode: 0x9c,
        properties: { serverReference: `127.0.0.1:${other.port}` },
      });
      peer.destroy();
    });
    const c = client({ reconnect: { initialDelay: 10, jitter: 0, maxAttempts: 3 } });
    const disconnects: number[] = [];
    c.on("disconnect", ({ reasonCode }) => disconnects.push(reasonCode));
    c.on("error", () => {});
    const moved = new Promise((resolve) => {
      c.on("connect", () => {
        if (c.server?.port === other.port) resolve(undefined);
      });
    });
    await c.connect(origin.url);
    await within(moved, "the reconnect to the referenced server");
    assert.deepEqual(disconnects, [0x9c]);
    assert.equal(origin.peers.length, 1);
    await c.disconnect();
  });

  it("DISCONNECT 0x9D with a reference instead of CONNACK is followed too", async () => {
    const target = await broker((peer) => void peer.accept());
    const origin = await broker(async (peer) => {
      await peer.expect("connect");
      peer.send({
        type: "disconnect",
        reasonCode: 0x9d,
        properties: { serverReference: `127.0.0.1:${target.port}` },
      });
      peer.destroy();
    });
    const c = client();
    c.on("error", () => {});
    await c.connect(origin.url);
    assert.equal(c.server?.port, target.port);
    await c.disconnect();
  });

  it("a redirection loop fails with MQTT_REDIRECT_LOOP after maxRedirects hops", async () => {
    const ports: { a: number; b: number } = { a: 0, b: 0 };
    const a = await broker(redirecting(0x9c, () => `127.0.0.1:${ports.b}`));
    const b = await broker(redirecting(0x9c, () => `127.0.0.1:${ports.a}`));
    ports.a = a.port;
    ports.b = b.port;
    const c = client({ maxRedirects: 3 });
    await assert.rejects(c.connect(a.url), (error: unknown) => {
      assert.ok(error instanceof MQTTError);
      assert.equal(error.code, "MQTT_REDIRECT_LOOP");
      assert.equal(error.reasonCode, 0x9c);
      assert.match(error.message, /more than 3 times/);
      assert.match(error.message, new RegExp(`:${a.port} → .*:${b.port} → `));
      assert.ok(error.cause instanceof MQTTError, "the last refusal is the cause");
      return true;
    });
    assert.equal(a.peers.length + b.peers.length, 4, "the first attempt and 3 redirections");
    assert.equal(c.connected, false);

    // The default bound is 5.
    const d = client();
    await assert.rejects(d.connect(a.url), isMQTTError("MQTT_REDIRECT_LOOP", 0x9c));
    assert.equal(a.peers.length + b.peers.length, 4 + 6);
  });

  it("DISCONNECT redirections in a loop: MQTT_REDIRECT_LOOP, then the own list again", async () => {
    const ports = { a: 0, b: 0 };
    const bouncing = (to: () => number) => async (peer: FakePeer) => {
      await peer.accept();
      peer.send({
        type: "disconnect",
        reasonCode: 0x9c,
        properties: { serverReference: `127.0.0.1:${to()}` },
      });
      peer.destroy();
    };
    const a = await broker(bouncing(() => ports.b));
    const b = await broker(bouncing(() => ports.a));
    ports.a = a.port;
    ports.b = b.port;
    const c = client({ maxRedirects: 2, reconnect: { initialDelay: 10, jitter: 0 } });
    const loop = new Promise<MQTTError>((resolve) => {
      c.on("error", (error) => {
        if (error instanceof MQTTError && error.code === "MQTT_REDIRECT_LOOP") resolve(error);
      });
    });
    const visited: Array<number | undefined> = [];
    c.on("connect", () => visited.push(c.server?.port));
    await c.connect(a.url);
    const error = await within(loop, "the loop error");
    assert.match(error.message, /more than 2 times/);
    // A, then B and A through two redirections; the third is refused.
    assert.deepEqual(visited.slice(0, 3), [a.port, b.port, a.port]);
    const next = new Promise((resolve) => c.once("connect", resolve));
    await within(next, "the reconnect after the loop");
    assert.equal(visited[3], a.port, "back to the client's own list (A), not to B");
    await c.disconnect();
  });

  it("maxRedirects 0 follows nothing: the refusal itself", async () => {
    const target = await broker((peer) => void peer.accept());
    const origin = await broker(redirecting(0x9c, () => `127.0.0.1:${target.port}`));
    const c = client({ maxRedirects: 0 });
    await assert.rejects(c.connect(origin.url), isMQTTError("MQTT_CONNECT_REFUSED", 0x9c));
    assert.equal(target.peers.length, 0);
  });
});

describe("MQTT client: refusals another attempt cannot fix, with several members", () => {
  const brokers: FakeBroker[] = [];
  const clients: MQTTClient[] = [];
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all(brokers.map((b) => b.close()));
  });

  /** Accepts the first `accepts` connections, then refuses each with `reasonCode`. */
  const acceptingThenRefusing = async (accepts: number, reasonCode: number) => {
    let seen = 0;
    const b = await FakeBroker.start(async (peer) => {
      if (seen++ < accepts) return void peer.accept();
      await peer.expect("connect");
      peer.send({ type: "connack", sessionPresent: false, reasonCode });
    });
    brokers.push(b);
    return b;
  };

  it("a member refusing for good makes the reconnect try the next; all refusing stops it", async () => {
    // A accepts twice, then refuses (not authorized); B always refuses (bad credentials).
    const a = await acceptingThenRefusing(2, 0x87);
    const b = await acceptingThenRefusing(0, 0x86);
    const c = new MQTTClient({ reconnect: { initialDelay: 10, jitter: 0, maxAttempts: 20 } });
    clients.push(c);
    const errors: MQTTError[] = [];
    c.on("error", (error) => errors.push(error as MQTTError));
    await c.connect({ servers: [a.url, b.url] });
    assert.equal(c.server?.port, a.port);

    // Lost: B refuses for good, so the next member (A) is tried rather than giving up.
    const back = new Promise((resolve) => c.once("connect", resolve));
    a.peers[0].destroy();
    await within(back, "the reconnect to A after B refused");
    assert.equal(c.server?.port, a.port);
    assert.equal(b.peers.length, 1);
    assert.ok(errors.some((e) => e.reasonCode === 0x86));

    // Lost again: now both refuse; reconnection stops with an error naming each member.
    const queued = c.publish("t", "x", { qos: 1 });
    queued.catch(() => {});
    const closed = new Promise((resolve) => c.once("close", resolve));
    a.peers[1].destroy();
    await within(closed, "giving up once every member refused");
    await assert.rejects(queued, (error: unknown) => {
      assert.ok(error instanceof MQTTError);
      assert.equal(error.code, "MQTT_CONNECT_REFUSED");
      assert.equal(error.reasonCode, undefined, "the members refused differently");
      assert.match(error.message, new RegExp(`:${b.port}: .*0x86.*; .*:${a.port}: .*0x87`));
      return true;
    });
    assert.equal(a.peers.length, 3);
    assert.equal(b.peers.length, 2, "each member refused once per loss, never retried");
  });

  it("a member that refused is left out while the others are merely down", async () => {
    const a = await acceptingThenRefusing(1, 0);
    const b = await acceptingThenRefusing(0, 0x8a); // banned
    const c = new MQTTClient({ reconnect: { initialDelay: 10, jitter: 0, maxAttempts: 5 } });
    clients.push(c);
    c.on("error", () => {});
    await c.connect({ servers: [a.url, b.url] });
    const attempts: Array<number | undefined> = [];
    c.on("reconnect", () => attempts.push(c.server?.port));
    const closed = new Promise((resolve) => c.once("close", resolve));
    const aPort = a.port;
    await a.close(); // A is down (retryable); B refuses for good.
    await within(closed, "giving up after maxAttempts");
    assert.deepEqual(attempts, [b.port, aPort, aPort, aPort, aPort]);
    assert.equal(b.peers.length, 1);
  });
});
