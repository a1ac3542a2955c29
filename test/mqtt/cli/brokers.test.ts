/**
 * `mtaio mqtt pub|sub` with more than the one plain broker, run as a user runs them (a child
 * process) against real Mosquittos: several brokers given with `-h a,b` or repeated `-L`
 * (the first one down, so the second one is used; all down is exit code 2 naming each), and
 * `--insecure` against a broker whose certificate names another host: refused without it
 * (exit code 2), accepted with it, the chain still checked.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { MQTTClient, type MQTTMessage, QoS } from "../../../src/mqtt/index.js";
import { freePort, serverSkip } from "../../servers/common.js";
import { type Mosquitto, startMosquitto } from "../../servers/mosquitto.js";
import { finished, mtaio, type Run, repeatUntilExit } from "./run.js";

const topicOf = (name: string) => `mtaio-cli-brokers/${process.pid}/${name}`;

async function expectExit(run: Run, code: number): Promise<void> {
  const actual = await finished(run, 60_000);
  assert.equal(actual, code, `exit ${actual}\nstdout: ${run.stdout()}\nstderr: ${run.stderr()}`);
}

/** A subscriber on `broker` for `topic`; `next()` resolves with the next message. */
async function witness(broker: Mosquitto, topic: string) {
  const client = new MQTTClient({ reconnect: false });
  await client.connect(broker.host, broker.port);
  await client.subscribe(topic, { qos: QoS.AT_LEAST_ONCE });
  const queue: MQTTMessage[] = [];
  let wake: (() => void) | undefined;
  client.onMessage((message) => {
    queue.push(message);
    wake?.();
  });
  return {
    client,
    async next(): Promise<string> {
      const deadline = Date.now() + 30_000;
      while (queue.length === 0) {
        if (Date.now() > deadline) throw new Error(`no message on ${topic}`);
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 500);
        });
      }
      return (queue.shift() as MQTTMessage).text();
    },
  };
}

describe("mtaio mqtt with several brokers and TLS host names", {
  skip: serverSkip("mosquitto", "mosquitto"),
}, () => {
  let up: Mosquitto;
  /** A port where a Mosquitto ran and was stopped: nothing listens there now. */
  let downPort: number;
  const clients: MQTTClient[] = [];

  before(async () => {
    const down = await startMosquitto();
    downPort = down.port;
    await down.stop();
    up = await startMosquitto();
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await up?.stop();
  });

  it("pub -h a,b: the first broker down, the second one used", async () => {
    const topic = topicOf("pub");
    const seen = await witness(up, topic);
    clients.push(seen.client);
    const hosts = `127.0.0.1:${downPort},127.0.0.1:${up.port}`;
    await expectExit(mtaio(["pub", "-h", hosts, "-t", topic, "-q", "1", "-m", "via b"]), 0);
    assert.equal(await seen.next(), "via b");
  });

  it("sub -L … -L …: the first broker down, the second one used", async () => {
    const topic = topicOf("sub");
    const first = `mqtt://127.0.0.1:${downPort}/${topic}`;
    const second = `mqtt://127.0.0.1:${up.port}`;
    const sub = mtaio(["sub", "-L", first, "-L", second, "-C", "1", "-W", "50"]);
    const publisher = new MQTTClient({ reconnect: false });
    clients.push(publisher);
    await publisher.connect(up.host, up.port);
    const code = await repeatUntilExit(
      sub,
      () => publisher.publish(topic, "to sub", { qos: QoS.AT_LEAST_ONCE }),
      60_000,
    );
    assert.equal(code, 0, sub.stderr());
    assert.equal(sub.stdout(), "to sub\n");
  });

  it("every broker down: exit code 2, one line naming each", async () => {
    const other = await freePort();
    const hosts = ["-h", `127.0.0.1:${downPort}`, "-h", `127.0.0.1:${other}`];
    const run = mtaio(["pub", ...hosts, "-t", "x", "-m", "y"]);
    await expectExit(run, 2);
    assert.match(run.stderr(), new RegExp(`no server accepted.*:${downPort}: .*:${other}: `));
    assert.equal(run.stderr().trimEnd().split("\n").length, 1);
  });

  it("--insecure skips the host name check only: a certificate for another name", async () => {
    // A broker whose certificate names wrong.invalid, not the 127.0.0.1 we dial.
    const mismatched = await startMosquitto({ serverNames: ["DNS:wrong.invalid"] });
    try {
      const topic = topicOf("insecure");
      const seen = await witness(mismatched, topic);
      clients.push(seen.client);
      const tls = ["-h", "127.0.0.1", "-p", String(mismatched.tlsPort), "-t", topic];
      const ca = ["--cafile", mismatched.certificates.caFile];

      const checked = mtaio(["pub", ...tls, ...ca, "-m", "checked"]);
      await expectExit(checked, 2);
      assert.match(checked.stderr(), /^mtaio mqtt pub: .*(altnames|host name|hostname)/i);
      assert.equal(checked.stderr().trimEnd().split("\n").length, 1);

      // The chain is still verified: --insecure with no CA that trusts it fails as before.
      const untrusted = mtaio(["pub", ...tls, "--insecure", "--tls-use-os-certs", "-m", "x"]);
      await expectExit(untrusted, 2);
      assert.match(untrusted.stderr(), /certificate/i);

      await expectExit(mtaio(["pub", ...tls, ...ca, "--insecure", "-q", "1", "-m", "ok"]), 0);
      assert.equal(await seen.next(), "ok", "only the --insecure publication arrives");
    } finally {
      await mismatched.stop();
    }
  });
});
