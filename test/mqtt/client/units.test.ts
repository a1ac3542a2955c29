/** Small pieces of the MQTT client on their own: backoff, topic matching, the FIFO, messages,
 * endpoint parsing, packet identifier allocation, and a connection whose packet handler throws. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { MQTTError } from "../../../src/errors.js";
import { Backoff } from "../../../src/mqtt/client/backoff.js";
import { Connection } from "../../../src/mqtt/client/connection.js";
import { Deque } from "../../../src/mqtt/client/deque.js";
import { parseEndpoint } from "../../../src/mqtt/client/options.js";
import { PacketIds } from "../../../src/mqtt/client/packet-ids.js";
import { MQTTMessage, QoS, topicMatches } from "../../../src/mqtt/index.js";

describe("Backoff", () => {
  it("grows exponentially up to the maximum, with jitter inside [d/2, d]", () => {
    const low = new Backoff({ initialDelay: 100, maxDelay: 1000 }, () => 0);
    assert.deepEqual(
      Array.from({ length: 6 }, () => low.next()),
      [50, 100, 200, 400, 500, 500],
    );
    const high = new Backoff({ initialDelay: 100, maxDelay: 1000 }, () => 1);
    assert.deepEqual(
      Array.from({ length: 6 }, () => high.next()),
      [100, 200, 400, 800, 1000, 1000],
    );
    high.reset();
    assert.equal(high.next(), 100);
  });
});

describe("topicMatches", () => {
  it("follows §4.7 wildcard rules", () => {
    const cases: Array<[string, string, boolean]> = [
      ["a/b", "a/b", true],
      ["a/+", "a/b", true],
      ["a/+", "a/b/c", false],
      ["a/#", "a", true],
      ["a/#", "a/b/c", true],
      ["#", "a/b", true],
      ["#", "$SYS/x", false],
      ["+/x", "$SYS/x", false],
      ["$SYS/#", "$SYS/x", true],
      ["+/+", "/x", true],
      ["$share/group/a/+", "a/b", true],
      ["a/b", "a/c", false],
    ];
    for (const [filter, topic, expected] of cases) {
      assert.equal(topicMatches(filter, topic), expected, `${filter} vs ${topic}`);
    }
  });

  it("a topic always matches itself and '#' matches every non-$ topic (property)", () => {
    const level = fc.stringMatching(/^[a-z0-9]{0,4}$/);
    const topic = fc.array(level, { minLength: 1, maxLength: 5 }).map((l) => l.join("/"));
    fc.assert(fc.property(topic, (t) => topicMatches(t, t) && topicMatches("#", t)));
  });
});

describe("Deque", () => {
  it("behaves like an array queue under random operations (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.integer(), fc.constant(null)), { maxLength: 3000 }),
        (ops) => {
          const deque = new Deque<number>();
          const model: number[] = [];
          for (const op of ops) {
            if (op === null) assert.equal(deque.shift(), model.shift());
            else {
              deque.push(op);
              model.push(op);
            }
            assert.equal(deque.length, model.length);
          }
          assert.deepEqual([...deque], model);
        },
      ),
    );
  });
});

describe("PacketIds", () => {
  it("never hands out an identifier that is still in use, and wraps at 65535", () => {
    const ids = new PacketIds();
    const first = ids.allocate();
    assert.equal(first, 1);
    for (let i = 2; i <= 65535; i++) assert.equal(ids.allocate(), i);
    assert.equal(ids.allocate(), 0, "all in use");
    ids.release(7);
    assert.equal(ids.allocate(), 7);
    ids.release(3);
    ids.release(65535);
    assert.equal(ids.allocate(), 65535);
    assert.equal(ids.allocate(), 3);
  });
});

describe("MQTTMessage", () => {
  it("text(), json() and bytes()", () => {
    const m = new MQTTMessage({
      topic: "t",
      payload: new Uint8Array(Buffer.from('{"a":"ü"}')),
      qos: QoS.AT_LEAST_ONCE,
    });
    assert.equal(m.text(), '{"a":"ü"}');
    assert.deepEqual(m.json(), { a: "ü" });
    assert.equal(m.qos, 1);
    assert.equal(m.retain, false);
    const s = new MQTTMessage({ topic: "t", payload: "plain" });
    assert.deepEqual(Buffer.from(s.bytes()), Buffer.from("plain"));
    assert.throws(
      () => s.json(),
      (e: unknown) => e instanceof MQTTError && e.code === "MQTT_INVALID_JSON",
    );
  });

  it("json() cannot pollute prototypes", () => {
    const m = new MQTTMessage({ topic: "t", payload: '{"__proto__":{"polluted":true}}' });
    const value = m.json<Record<string, unknown>>();
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.ok(Object.hasOwn(value, "__proto__"));
  });
});

describe("parseEndpoint", () => {
  it("reads URLs and host/port forms", () => {
    assert.deepEqual(parseEndpoint("mqtt://broker:1884", undefined, {}), {
      protocol: "mqtt",
      host: "broker",
      port: 1884,
      path: undefined,
      username: undefined,
      password: undefined,
    });
    const wss = parseEndpoint("wss://u%40x:p%3A@example.com/ws?x=1", undefined, {});
    assert.equal(wss.protocol, "wss");
    assert.equal(wss.port, 443);
    assert.equal(wss.path, "/ws?x=1");
    assert.equal(wss.username, "u@x");
    assert.equal(wss.password, "p:");
    assert.equal(parseEndpoint("mqtts://[::1]", undefined, {}).host, "::1");
    assert.equal(parseEndpoint("mqtts://h", undefined, {}).port, 8883);
    assert.equal(parseEndpoint("h", undefined, {}).port, 1883);
    assert.equal(parseEndpoint("h", undefined, { tls: {} }).protocol, "mqtts");
    assert.throws(() => parseEndpoint("http://h", undefined, {}), {
      code: "MQTT_INVALID_ARGUMENT",
    });
    assert.throws(() => parseEndpoint("h", 70000, {}), { code: "MQTT_INVALID_ARGUMENT" });
  });
});

describe("Connection", () => {
  it("turns an exception from a packet handler into a failed connection, never a throw", () => {
    for (const thrown of [
      new MQTTError("cannot answer", { code: "MQTT_INVALID_PACKET" }),
      new TypeError("bug"),
    ]) {
      const failures: MQTTError[] = [];
      const handled: string[] = [];
      const connection = new Connection(4, 1024, {
        packet: (packet) => {
          handled.push(packet.type);
          throw thrown;
        },
        failed: (error) => failures.push(error),
        beforeWrite: () => {},
      });
      // Two PUBACKs in one chunk: the first handler's failure closes the connection, so the
      // second is not handled.
      assert.doesNotThrow(() => connection.receive(Uint8Array.of(0x40, 2, 0, 1, 0x40, 2, 0, 2)));
      assert.deepEqual(handled, ["puback"]);
      assert.equal(failures.length, 1);
      const [failure] = failures;
      assert.ok(failure instanceof MQTTError);
      if (thrown instanceof MQTTError) assert.equal(failure, thrown);
      else {
        assert.equal(failure.code, "MQTT_PROTOCOL_ERROR");
        assert.equal(failure.cause, thrown);
      }
      assert.equal(connection.isClosed, true);
    }
  });
});
