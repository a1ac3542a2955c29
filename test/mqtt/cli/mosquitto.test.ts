/**
 * `mtaio mqtt pub|sub` run as a user runs them (a child process), against a real Mosquitto:
 * every payload source, QoS/retain/MQTT 5 properties, the output formats, -C/-W/-T/-R/-E,
 * signals, wills, TLS and WebSocket, the exit codes of each kind of failure, and messages
 * crossing between mtaio and mosquitto_pub/mosquitto_sub (Debian package mosquitto-clients).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type MQTTClient, type MQTTMessage, QoS } from "../../../src/mqtt/index.js";
import { freePort, serverSkip, type TempDir, tempDir } from "../../servers/common.js";
import { type Mosquitto, startMosquitto } from "../../servers/mosquitto.js";
import { clientPool } from "../helpers.js";
import { finished, mosquittoPub, mosquittoSub, mtaio, type Run, repeatUntilExit } from "./run.js";

let topicCounter = 0;
function uniqueTopic(name: string): string {
  return `mtaio-cli/${process.pid}/${++topicCounter}/${name}`;
}

function collect(client: MQTTClient, count: number): Promise<MQTTMessage[]> {
  return new Promise((resolve, reject) => {
    const got: MQTTMessage[] = [];
    const timer = setTimeout(
      () => reject(new Error(`received ${got.length} of ${count} messages`)),
      20_000,
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

/** Runs to the end and checks the exit code, showing the output when it differs. */
async function expectExit(run: Run, code: number): Promise<void> {
  const actual = await finished(run);
  assert.equal(actual, code, `exit ${actual}\nstdout: ${run.stdout()}\nstderr: ${run.stderr()}`);
}

describe("mtaio mqtt against Mosquitto", { skip: serverSkip("mosquitto", "mosquitto") }, () => {
  let broker: Mosquitto;
  let files: TempDir;
  const { client, closeAll } = clientPool();
  const at = () => ["-h", "127.0.0.1", "-p", String(broker.port)];

  async function listener(topic: string, qos: QoS = QoS.AT_LEAST_ONCE): Promise<MQTTClient> {
    const c = client();
    await c.connect(broker.host, broker.port);
    await c.subscribe(topic, { qos });
    return c;
  }

  async function retain(topic: string, payload: string): Promise<void> {
    const c = client();
    await c.connect(broker.host, broker.port);
    await c.publish(topic, payload, { qos: QoS.AT_LEAST_ONCE, retain: true });
    await c.close();
  }

  before(async () => {
    broker = await startMosquitto({ users: { alice: "wonderland" } });
    files = await tempDir("mqtt-cli");
  });
  after(async () => {
    await closeAll();
    await broker?.stop();
    await files?.remove();
  });

  describe("pub", () => {
    it("publishes from -m, -f, -s, -n and -l, in order, byte for byte", async () => {
      const topic = uniqueTopic("sources");
      const got = collect(await listener(topic), 6);
      const file = await files.file("payload.bin", new Uint8Array([0, 1, 2, 0xff]));
      const t = ["-t", topic, "-q", "1"];
      await expectExit(mtaio(["pub", ...at(), ...t, "-m", "hello"]), 0);
      await expectExit(mtaio(["pub", ...at(), ...t, "-f", file]), 0);
      await expectExit(mtaio(["pub", ...at(), ...t, "-s"], "whole\nstdin"), 0);
      await expectExit(mtaio(["pub", ...at(), ...t, "-n"]), 0);
      await expectExit(mtaio(["pub", ...at(), ...t, "-l"], "one\r\ntwo\n\n"), 0);
      const messages = await got;
      assert.deepEqual(
        messages.map((m) => [...m.bytes()]),
        ["hello", [0, 1, 2, 0xff], "whole\nstdin", "", "one", "two"].map((p) =>
          typeof p === "string" ? [...new TextEncoder().encode(p)] : p,
        ),
      );
    });

    it("sets QoS, retain and MQTT 5 properties", async () => {
      const topic = uniqueTopic("props");
      await expectExit(
        mtaio([
          ...["pub", ...at(), "-t", topic, "-m", '{"ok":true}', "-q", "2", "-r"],
          ...["-D", "publish", "content-type", "application/json"],
          ...["-D", "publish", "user-property", "origin", "cli"],
          ...["-D", "publish", "correlation-data", "req-1"],
          ...["-D", "publish", "response-topic", "replies/1"],
          ...["-D", "publish", "payload-format-indicator", "1"],
          ...["-D", "publish", "message-expiry-interval", "300"],
        ]),
        0,
      );
      const c = client();
      await c.connect(broker.host, broker.port);
      const got = collect(c, 1);
      await c.subscribe(topic, { qos: QoS.EXACTLY_ONCE });
      const [message] = await got;
      assert.equal(message.text(), '{"ok":true}');
      assert.equal(message.qos, 2);
      assert.equal(message.retain, true);
      assert.equal(message.properties.contentType, "application/json");
      assert.deepEqual(message.properties.userProperties, [["origin", "cli"]]);
      assert.equal(new TextDecoder().decode(message.properties.correlationData), "req-1");
      assert.equal(message.properties.responseTopic, "replies/1");
      assert.equal(message.properties.payloadFormatIndicator, 1);
      const expiry = message.properties.messageExpiryInterval ?? 0;
      assert.ok(expiry > 0 && expiry <= 300, `expiry ${expiry}`);
    });

    it("speaks MQTT 3.1.1 with -V mqttv311 and repeats with --repeat", async () => {
      const topic = uniqueTopic("v311");
      const got = collect(await listener(topic), 3);
      await expectExit(
        mtaio(["pub", ...at(), "-V", "mqttv311", "-t", topic, "-m", "x", "--repeat", "3"]),
        0,
      );
      assert.deepEqual(
        (await got).map((m) => m.text()),
        ["x", "x", "x"],
      );
    });

    it("sends its will when it is killed (--will-topic, --will-payload)", async () => {
      const topic = uniqueTopic("will-trigger");
      const willTopic = uniqueTopic("will");
      const got = collect(await listener(willTopic), 1);
      await retain(topic, "ready");
      const sub = mtaio([
        ...["sub", ...at(), "-t", topic, "-v"],
        ...["--will-topic", willTopic, "--will-payload", "gone", "--will-qos", "1"],
      ]);
      await waitForOutput(sub, /ready/);
      sub.child.kill("SIGKILL");
      const [will] = await got;
      assert.equal(will.text(), "gone");
    });
  });

  describe("sub", () => {
    it("prints retained messages with -v and exits after -C messages", async () => {
      const base = uniqueTopic("count");
      await retain(`${base}/a`, "A");
      await retain(`${base}/b`, "B");
      const run = mtaio(["sub", ...at(), "-t", `${base}/#`, "-v", "-C", "2"]);
      await expectExit(run, 0);
      assert.deepEqual(run.stdout().split("\n").sort(), ["", `${base}/a A`, `${base}/b B`]);
    });

    it("prints live messages as JSON lines with --json, MQTT 5 properties included", async () => {
      const topic = uniqueTopic("json");
      const run = mtaio(["sub", ...at(), "-t", topic, "-q", "1", "-C", "1", "--json"]);
      const publisher = client();
      await publisher.connect(broker.host, broker.port);
      const code = await repeatUntilExit(run, () =>
        publisher.publish(topic, '{"n":1}', {
          qos: QoS.AT_LEAST_ONCE,
          properties: { contentType: "application/json", userProperties: [["k", "v"]] },
        }),
      );
      assert.equal(code, 0, run.stderr());
      const lines = run.stdout().trimEnd().split("\n");
      assert.equal(lines.length, 1);
      const line = JSON.parse(lines[0]);
      assert.equal(line.topic, topic);
      assert.deepEqual(line.payload, { n: 1 });
      assert.equal(line.qos, 1);
      assert.equal(line.retain, 0);
      assert.ok(!Number.isNaN(Date.parse(line.tst)));
      assert.deepEqual(line.properties, {
        "content-type": "application/json",
        "user-properties": { k: "v" },
      });
    });

    it("formats with -F, drops the newline with -N", async () => {
      const topic = uniqueTopic("format");
      await retain(topic, "p");
      const run = mtaio(["sub", ...at(), "-t", topic, "-C", "1", "-N", "-F", "%t|%p|%q|%r|%l"]);
      await expectExit(run, 0);
      assert.equal(run.stdout(), `${topic}|p|0|1|1`);
    });

    it("leaves out -T topics and, with -R, retained messages", async () => {
      const base = uniqueTopic("filter");
      await retain(`${base}/skip`, "S");
      await retain(`${base}/keep`, "K");
      const filtered = mtaio(["sub", ...at(), "-t", `${base}/#`, "-T", `${base}/skip`, "-v"]);
      const stale = mtaio(["sub", ...at(), "-t", `${base}/#`, "-R", "-W", "1"]);
      await waitForOutput(filtered, /K/);
      filtered.child.kill("SIGTERM");
      await expectExit(filtered, 0);
      assert.equal(filtered.stdout(), `${base}/keep K\n`);
      await expectExit(stale, 5);
      assert.equal(stale.stdout(), "");
    });

    it("exits 5 with a one-line message when -W passes first", async () => {
      const run = mtaio(["sub", ...at(), "-t", uniqueTopic("quiet"), "-W", "1", "-C", "1"]);
      await expectExit(run, 5);
      assert.equal(run.stdout(), "");
      assert.match(run.stderr(), /^mtaio mqtt sub: no more messages within -W 1 s\n$/);
    });

    it("exits 0 after subscribing with -E, and on SIGINT", async () => {
      await expectExit(mtaio(["sub", ...at(), "-t", uniqueTopic("e"), "-E"]), 0);
      const topic = uniqueTopic("sigint");
      await retain(topic, "here");
      const run = mtaio(["sub", ...at(), "-t", topic]);
      await waitForOutput(run, /here/);
      run.child.kill("SIGINT");
      await expectExit(run, 0);
    });

    it("-c keeps the session between runs: QoS 1 messages wait for the next run", async () => {
      const topic = uniqueTopic("session");
      const id = `mtaio-cli-${process.pid}-session`;
      const args = ["sub", ...at(), "-t", topic, "-q", "1", "-c", "-i", id];
      await expectExit(mtaio([...args, "-E"]), 0);
      const publisher = client();
      await publisher.connect(broker.host, broker.port);
      await publisher.publish(topic, "while away", { qos: QoS.AT_LEAST_ONCE });
      const run = mtaio([...args, "-C", "1", "-W", "10"]);
      await expectExit(run, 0);
      assert.equal(run.stdout(), "while away\n");
    });

    it("stops cleanly when the reader of its output goes away (| head -1)", async () => {
      const topic = uniqueTopic("epipe");
      const run = mtaio(["sub", ...at(), "-t", topic, "-q", "1"]);
      const publisher = client();
      await publisher.connect(broker.host, broker.port);
      const payload = "x".repeat(64 * 1024);
      while (run.stdout().length === 0) {
        await publisher.publish(topic, payload, { qos: QoS.AT_LEAST_ONCE });
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      run.child.stdout?.destroy();
      for (let i = 0; i < 20; i++) {
        await publisher.publish(topic, payload, { qos: QoS.AT_LEAST_ONCE });
      }
      await expectExit(run, 0);
      assert.equal(run.stderr(), "");
    });

    it("reports a lost connection with exit code 2", async () => {
      const topic = uniqueTopic("takeover");
      await retain(topic, "r");
      const id = `mtaio-cli-${process.pid}-takeover`;
      const run = mtaio(["sub", ...at(), "-t", topic, "-i", id]);
      await waitForOutput(run, /r/);
      // A second connection with the same client id takes the session over (MQTT 5 §3.1.4).
      const thief = client({ clientId: id });
      await thief.connect(broker.host, broker.port);
      await expectExit(run, 2);
      assert.match(run.stderr(), /^mtaio mqtt sub: .*(0x8e|lost)/i);
    });
  });

  describe("failures and exit codes", () => {
    it("1 for usage errors, with a pointer to --help; --help itself exits 0", async () => {
      const run = mtaio(["pub", "-t", "x"]);
      await expectExit(run, 1);
      assert.match(run.stderr(), /exactly one of -m.*mtaio mqtt pub --help/);
      const unknown = mtaio(["sub", "-t", "x", "--frobnicate"]);
      await expectExit(unknown, 1);
      assert.match(unknown.stderr(), /unknown option --frobnicate/);
      const help = mtaio(["sub", "--help"]);
      await expectExit(help, 0);
      assert.match(help.stdout(), /--filter-out/);
      const top = mtaio(["nonsense"]);
      await expectExit(top, 1);
      assert.match(top.stderr(), /unknown command 'nonsense'/);
    });

    it("2 when nothing listens on the port", async () => {
      const port = await freePort();
      const run = mtaio(["pub", "-h", "127.0.0.1", "-p", String(port), "-t", "x", "-m", "y"]);
      await expectExit(run, 2);
      assert.match(run.stderr(), /^mtaio mqtt pub: connection refused: .*127\.0\.0\.1/);
      assert.equal(run.stderr().trimEnd().split("\n").length, 1);
    });

    it("3 when the broker refuses the credentials; 0 with the right ones", async () => {
      const auth = ["-h", "127.0.0.1", "-p", String(broker.authPort)];
      const wrong = mtaio(["pub", ...auth, "-u", "alice", "-P", "nope", "-t", "x", "-m", "y"]);
      await expectExit(wrong, 3);
      assert.match(wrong.stderr(), /refused the connection.*(0x86|0x87|not authori|password)/i);
      const anonymous = mtaio(["sub", ...auth, "-V", "mqttv311", "-t", "x"]);
      await expectExit(anonymous, 3);
      await expectExit(
        mtaio(["pub", ...auth, "-u", "alice", "-P", "wonderland", "-t", "x", "-m", "y"]),
        0,
      );
    });

    it("4 for a topic MQTT does not allow, before connecting", async () => {
      const pub = mtaio(["pub", ...at(), "-t", "a/#/b", "-m", "y"]);
      await expectExit(pub, 4);
      assert.match(pub.stderr(), /invalid topic name "a\/#\/b"/);
      const sub = mtaio(["sub", ...at(), "-t", "ok", "-t", "a/#/b"]);
      await expectExit(sub, 4);
      assert.match(sub.stderr(), /invalid topic filter "a\/#\/b"/);
      await expectExit(mtaio(["pub", ...at(), "-t", "a/+", "-m", "y"]), 4);
    });
  });

  describe("TLS and WebSocket", () => {
    it("verifies the broker with --cafile; an unknown CA fails with exit code 2", async () => {
      const topic = uniqueTopic("tls");
      const got = collect(await listener(topic), 2);
      const tls = ["-h", "localhost", "-p", String(broker.tlsPort)];
      await expectExit(
        mtaio(["pub", ...tls, "--cafile", broker.certificates.caFile, "-t", topic, "-m", "a"]),
        0,
      );
      const untrusted = mtaio(["pub", ...tls, "--tls-use-os-certs", "-t", topic, "-m", "b"]);
      await expectExit(untrusted, 2);
      assert.match(untrusted.stderr(), /certificate/i);
      await expectExit(
        mtaio([
          ...["pub", "-h", "localhost", "-p", String(broker.mtlsPort)],
          ...["--cafile", broker.certificates.caFile, "-t", topic, "-m", "c"],
          ...["--cert", broker.certificates.clientCertFile],
          ...["--key", broker.certificates.clientKeyFile],
        ]),
        0,
      );
      assert.deepEqual(
        (await got).map((m) => m.text()),
        ["a", "c"],
      );
    });

    it("connects with -L mqtts://, ws:// and wss:// URLs", async () => {
      const topic = uniqueTopic("urls");
      const got = collect(await listener(topic), 3);
      await expectExit(
        mtaio([
          ...["pub", "-L", `mqtts://localhost:${broker.tlsPort}/${topic}`],
          ...["--cafile", broker.certificates.caFile, "-m", "over tls"],
        ]),
        0,
      );
      await expectExit(
        mtaio(["pub", "-L", `ws://127.0.0.1:${broker.wsPort}/mqtt`, "-t", topic, "-m", "over ws"]),
        0,
      );
      await expectExit(
        mtaio([
          ...["pub", "-L", `wss://localhost:${broker.wssPort}/mqtt`, "-t", topic],
          ...["--cafile", broker.certificates.caFile, "-m", "over wss"],
        ]),
        0,
      );
      assert.deepEqual(
        (await got).map((m) => m.text()),
        ["over tls", "over ws", "over wss"],
      );
    });
  });

  describe("with mosquitto_pub and mosquitto_sub", {
    skip: serverSkip(["mosquitto_pub", "mosquitto_sub"], "mosquitto-clients"),
  }, () => {
    it("mtaio pub → mosquitto_sub, live and retained, MQTT 5 properties intact", async () => {
      const live = uniqueTopic("to-mosquitto");
      const sub = mosquittoSub([...at(), "-t", live, "-C", "1", "-v"]);
      const code = await repeatUntilExit(sub, () =>
        finished(mtaio(["pub", ...at(), "-t", live, "-m", "hello mosquitto"])),
      );
      assert.equal(code, 0, sub.stderr());
      assert.equal(sub.stdout(), `${live} hello mosquitto\n`);

      const kept = uniqueTopic("to-mosquitto-retained");
      await expectExit(
        mtaio([
          ...["pub", ...at(), "-t", kept, "-m", "kept", "-r", "-q", "1"],
          ...["-D", "publish", "content-type", "text/plain"],
          ...["-D", "publish", "user-property", "k", "v"],
        ]),
        0,
      );
      const props = mosquittoSub(
        [...at(), "-V", "mqttv5", "-t", kept, "-C", "1"].concat(["-F", "%t %p %C %P %r"]),
      );
      await expectExit(props, 0);
      assert.equal(props.stdout(), `${kept} kept text/plain k:v 1\n`);
    });

    it("mosquitto_pub → mtaio sub, live and retained (JSON)", async () => {
      const live = uniqueTopic("from-mosquitto");
      const sub = mtaio(["sub", ...at(), "-t", live, "-C", "1", "-v", "-q", "1"]);
      const code = await repeatUntilExit(sub, () =>
        finished(mosquittoPub([...at(), "-t", live, "-m", "hello mtaio", "-q", "1"])),
      );
      assert.equal(code, 0, sub.stderr());
      assert.equal(sub.stdout(), `${live} hello mtaio\n`);

      const kept = uniqueTopic("from-mosquitto-retained");
      await expectExit(
        mosquittoPub([
          ...[...at(), "-V", "mqttv5", "-t", kept, "-m", '{"a":1}', "-r"],
          ...["-D", "publish", "content-type", "application/json"],
          ...["-D", "publish", "user-property", "from", "mosquitto"],
        ]),
        0,
      );
      const json = mtaio(["sub", ...at(), "-t", kept, "-C", "1", "--json"]);
      await expectExit(json, 0);
      const line = JSON.parse(json.stdout());
      assert.deepEqual(line.payload, { a: 1 });
      assert.equal(line.retain, 1);
      assert.deepEqual(line.properties, {
        "content-type": "application/json",
        "user-properties": { from: "mosquitto" },
      });
      // The same message as mosquitto_sub prints it with -F %J: the same fields and values
      // (only the time stamp is written differently).
      const theirs = mosquittoSub([...at(), "-V", "mqttv5", "-t", kept, "-C", "1", "-F", "%J"]);
      await expectExit(theirs, 0);
      const { tst: _ours, ...ourFields } = line;
      const { tst: _theirs, ...theirFields } = JSON.parse(theirs.stdout());
      assert.deepEqual(ourFields, theirFields);
    });
  });
});

/** Waits until the process printed something matching `pattern` (it must stay running). */
async function waitForOutput(run: Run, pattern: RegExp, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pattern.test(run.stdout())) {
    if (run.child.exitCode !== null) {
      throw new Error(`exited ${run.child.exitCode}: ${run.stdout()} ${run.stderr()}`);
    }
    if (Date.now() > deadline) throw new Error(`no ${pattern} in: ${run.stdout()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
