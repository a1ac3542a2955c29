/**
 * FileStore: its log format on its own (replay, torn tail, compaction), and QoS 1/2 state that
 * survives kill -9 of a publishing process, against a real Mosquitto.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { appendFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { FileStore, MQTTClient } from "../../../src/mqtt/index.js";
import { serverSkip, type TempDir, tempDir } from "../../servers/common.js";
import { type Mosquitto, startMosquitto } from "../../servers/mosquitto.js";
import { sleep } from "../helpers.js";

const bytes = (text: string) => new Uint8Array(Buffer.from(text));

describe("FileStore log", () => {
  let dir: TempDir;
  before(async () => {
    dir = await tempDir("filestore");
  });
  after(() => dir.remove());

  it("replays puts, releases, deletes and incoming ids in order", async () => {
    const path = join(dir.path, "replay.log");
    const store = new FileStore(path);
    store.load();
    store.putOutgoing({
      packetId: 1,
      topic: "a",
      payload: bytes("one"),
      qos: 1,
      retain: false,
      state: "publish",
    });
    store.putOutgoing({
      packetId: 2,
      topic: "b/ü",
      payload: bytes("two"),
      qos: 2,
      retain: true,
      properties: { correlationData: bytes("corr"), userProperties: [["k", "v"]] },
      state: "publish",
    });
    store.putOutgoing({
      packetId: 3,
      topic: "c",
      payload: bytes("three"),
      qos: 2,
      retain: false,
      state: "publish",
    });
    store.releaseOutgoing(2);
    store.deleteOutgoing(1);
    store.putIncoming(7);
    store.putIncoming(8);
    store.deleteIncoming(7);
    store.flush();
    await store.close();

    const again = new FileStore(path).load();
    assert.deepEqual(
      again.outgoing.map((m) => [m.packetId, m.topic, Buffer.from(m.payload).toString(), m.state]),
      [
        [2, "b/ü", "two", "pubrel"],
        [3, "c", "three", "publish"],
      ],
    );
    assert.equal(again.outgoing[0].retain, true);
    assert.deepEqual(
      Buffer.from(again.outgoing[0].properties?.correlationData ?? []),
      Buffer.from("corr"),
    );
    assert.deepEqual(again.outgoing[0].properties?.userProperties, [["k", "v"]]);
    assert.deepEqual(again.incoming, [8]);
  });

  it("drops a torn last record and keeps the whole ones", async () => {
    const path = join(dir.path, "torn.log");
    const store = new FileStore(path);
    store.load();
    store.putOutgoing({
      packetId: 5,
      topic: "t",
      payload: bytes("x"),
      qos: 1,
      retain: false,
      state: "publish",
    });
    store.flush();
    await store.close();
    const whole = statSync(path).size;
    appendFileSync(path, Buffer.from([40, 0, 0, 0, 1, 9])); // a record cut short
    const reopened = new FileStore(path);
    assert.deepEqual(
      reopened.load().outgoing.map((m) => m.packetId),
      [5],
    );
    await reopened.close();
    assert.equal(statSync(path).size, whole, "the torn tail was truncated");
  });

  it("compacts a log of mostly finished flows", async () => {
    const path = join(dir.path, "compact.log");
    const store = new FileStore(path, { compactAfterBytes: 64 * 1024 });
    store.load();
    const payload = new Uint8Array(1000);
    for (let i = 1; i <= 500; i++) {
      store.putOutgoing({
        packetId: i,
        topic: "t",
        payload,
        qos: 1,
        retain: false,
        state: "publish",
      });
      if (i !== 250) store.deleteOutgoing(i);
      store.flush();
    }
    await store.close();
    assert.ok(statSync(path).size < 64 * 1024, `log is ${statSync(path).size} bytes`);
    assert.deepEqual(
      new FileStore(path).load().outgoing.map((m) => m.packetId),
      [250],
    );
  });
});

describe("FileStore across kill -9", { skip: serverSkip("mosquitto", "mosquitto") }, () => {
  let broker: Mosquitto;
  let dir: TempDir;
  before(async () => {
    broker = await startMosquitto();
    dir = await tempDir("filestore-kill");
  });
  after(async () => {
    await broker?.stop();
    await dir?.remove();
  });

  function runChild(args: string[], until: (line: string, lines: string[]) => boolean) {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", join(import.meta.dirname, "fixtures", "store-child.ts"), ...args],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    const lines: string[] = [];
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    const exited = new Promise<number | null>((resolve) =>
      child.on("exit", (code) => resolve(code)),
    );
    const reached = new Promise<void>((resolve, reject) => {
      let buffer = "";
      child.stdout.on("data", (chunk: Buffer) => {
        buffer += chunk.toString();
        const parts = buffer.split("\n");
        buffer = parts.pop() ?? "";
        for (const line of parts) {
          lines.push(line);
          if (until(line, lines)) resolve();
        }
      });
      exited.then((code) => reject(new Error(`child exited (${code}) early:\n${stderr}`)));
    });
    return { child, lines, reached, exited };
  }

  for (const qos of [1, 2] as const) {
    it(`QoS ${qos}: a publisher killed mid-flow finishes its messages after a restart`, async () => {
      const clientId = `mtaio-kill-${qos}-${process.pid}`;
      const storePath = join(dir.path, `qos${qos}.log`);
      const subscriber = new MQTTClient({ reconnect: false });
      const received = new Map<string, number>();
      subscriber.onMessage((m) => received.set(m.text(), (received.get(m.text()) ?? 0) + 1));
      await subscriber.connect(broker.host, broker.port);
      await subscriber.subscribe("store/test", { qos });
      try {
        const port = String(broker.port);
        const first = runChild(
          [port, storePath, clientId, String(qos), "publish", "100000"],
          (_line, lines) => lines.length >= 400,
        );
        await first.reached;
        first.child.kill("SIGKILL");
        await first.exited;
        const acked = first.lines
          .filter((l) => l.startsWith("acked "))
          .map((l) => Number(l.slice(6)));

        // What the dead process left in flight.
        const inspect = new FileStore(storePath);
        const left = inspect
          .load()
          .outgoing.map((m) => Number(Buffer.from(m.payload).toString().slice(1)));
        await inspect.close();
        assert.ok(left.length > 0, "the kill left messages in flight");

        const second = runChild(
          [port, storePath, clientId, String(qos), "recover", "0"],
          (line) => line === "drained",
        );
        await second.reached;
        await second.exited;

        const highest = Math.max(...acked, ...left);
        for (let i = 0; i < 100 && received.size < highest + 1; i++) await sleep(20);
        const missing = Array.from({ length: highest + 1 }, (_, i) => `m${i}`).filter(
          (k) => !received.has(k),
        );
        assert.deepEqual(missing, [], "nothing the killed process had started is lost");
        if (qos === 2) {
          const dups = [...received].filter(([, n]) => n > 1).map(([k]) => k);
          assert.deepEqual(dups, [], "exactly once across kill -9");
        }
        const after = new FileStore(storePath);
        assert.equal(after.load().outgoing.length, 0, "the store is empty once drained");
        await after.close();
      } finally {
        await subscriber.close();
      }
    });
  }
});
