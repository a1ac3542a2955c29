/**
 * The FileStore lock: one live user of a store at a time (MQTT_STORE_LOCKED for the second,
 * in this process or another), a lock left by a killed process is taken over.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { FileStore, MQTTClient } from "../../../src/mqtt/index.js";
import { type TempDir, tempDir } from "../../servers/common.js";
import { isMQTTError, within } from "../helpers.js";

/** A process that holds the store at `path` until killed. */
async function holder(path: string) {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", join(import.meta.dirname, "fixtures", "store-lock-child.ts"), path],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const exited = once(child, "exit");
  let output = "";
  await within(
    new Promise<void>((resolve, reject) => {
      child.stdout.on("data", (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes("holding\n")) resolve();
      });
      exited.then(() => reject(new Error("the lock holder exited early")));
    }),
    "the child to take the lock",
    20_000,
  );
  return { child, exited };
}

/** The pid of a process that has exited (so certainly not alive now). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  const pid = child.pid as number;
  await once(child, "exit");
  return pid;
}

describe("FileStore lock", () => {
  let dir: TempDir;
  before(async () => {
    dir = await tempDir("filestore-lock");
  });
  after(() => dir.remove());

  it("a second FileStore on the same path is refused until the first closes", async () => {
    const path = join(dir.path, "same-process.log");
    const first = new FileStore(path);
    first.load();
    assert.ok(existsSync(`${path}.lock`));
    assert.match(readFileSync(`${path}.lock`, "utf8"), new RegExp(`^${process.pid} `));
    const second = new FileStore(path);
    assert.throws(() => second.load(), isMQTTError("MQTT_STORE_LOCKED"));
    await first.close();
    assert.equal(existsSync(`${path}.lock`), false, "close() releases the lock");
    second.load();
    await second.close();
  });

  it("a store held by another live process is refused, and taken over once it is killed", async () => {
    const path = join(dir.path, "child.log");
    const { child, exited } = await holder(path);
    try {
      const store = new FileStore(path);
      assert.throws(
        () => store.load(),
        (error: unknown) =>
          isMQTTError("MQTT_STORE_LOCKED")(error) &&
          (error as Error).message.includes(`process ${child.pid}`),
      );
      // The client reports it from connect(), before any network traffic.
      const client = new MQTTClient({ store: new FileStore(path), reconnect: false });
      await assert.rejects(client.connect("127.0.0.1", 1), isMQTTError("MQTT_STORE_LOCKED"));
      await client.close();

      child.kill("SIGKILL");
      await exited;
      // The dead holder's lock file is still there; it is stale now.
      assert.ok(existsSync(`${path}.lock`));
      store.load();
      assert.match(readFileSync(`${path}.lock`, "utf8"), new RegExp(`^${process.pid} `));
      await store.close();
    } finally {
      child.kill("SIGKILL");
    }
  });

  it("a lock file naming a dead process is taken over", async () => {
    const path = join(dir.path, "stale.log");
    writeFileSync(`${path}.lock`, `${await deadPid()} 0123456789abcdef\n`);
    const store = new FileStore(path);
    store.load();
    assert.match(readFileSync(`${path}.lock`, "utf8"), new RegExp(`^${process.pid} `));
    await store.close();
  });

  it("a fresh lock file without a whole pid line counts as held (a writer mid-create)", async () => {
    const path = join(dir.path, "half-written.log");
    writeFileSync(`${path}.lock`, "");
    assert.throws(() => new FileStore(path).load(), isMQTTError("MQTT_STORE_LOCKED"));
  });
});
