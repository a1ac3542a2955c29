/**
 * examples/sensor-alerts against a real Mosquitto and Postfix's smtp-sink: readings posted over
 * HTTP come back from the broker as server-sent events, and crossing the threshold sends one
 * alert mail with the chart attached. Also runs `npm run example:sensors -- --demo` as a user
 * would, so the documented command cannot rot.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { AsyncSMTPClient, MailMessage, MQTTClient, serve } from "mtaio/protocols";
import { SensorApp } from "../../examples/sensor-alerts/app.js";
import { serverSkip } from "../servers/common.js";
import { MOSQUITTO, type Mosquitto, startMosquitto } from "../servers/mosquitto.js";
import { SMTP_SINK, type SmtpSink, startSmtpSink } from "../servers/smtp-sink.js";

const root = new URL("../..", import.meta.url).pathname;

/** Reads server-sent events from a streamed response until `count` `reading` events came. */
async function readEvents(body: ReadableStream<Uint8Array>, count: number): Promise<unknown[]> {
  const decoder = new TextDecoder();
  const reader = body.getReader();
  const events: unknown[] = [];
  let buffer = "";
  while (events.length < count) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end = buffer.indexOf("\n\n");
    while (end >= 0) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      if (frame.includes("event: reading")) {
        events.push(JSON.parse(/^data: (.*)$/m.exec(frame)?.[1] ?? "null"));
      }
      end = buffer.indexOf("\n\n");
    }
  }
  await reader.cancel();
  return events;
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("examples/sensor-alerts", {
  skip: serverSkip([MOSQUITTO, SMTP_SINK], "mosquitto, postfix"),
}, () => {
  let broker: Mosquitto;
  let sink: SmtpSink;
  before(async () => {
    [broker, sink] = await Promise.all([startMosquitto(), startSmtpSink({ dump: true })]);
  });
  after(async () => {
    await Promise.all([broker?.stop(), sink?.stop()]);
  });

  it("streams readings over SSE and mails one alert with the chart", async () => {
    const mqtt = new MQTTClient();
    await mqtt.connect(`mqtt://127.0.0.1:${broker.port}`);
    const mailer = new AsyncSMTPClient();
    await mailer.connect("127.0.0.1", sink.port, { security: "none" });
    const app = new SensorApp({
      mqtt,
      mailer,
      threshold: 30,
      alertFrom: "sensors@example.com",
      alertTo: "ops@example.com",
    });
    const server = await serve(app, { port: 0, logger: { error() {}, info() {} } });
    try {
      const stream = await fetch(`${server.url}/readings/stream`);
      assert.equal(stream.headers.get("content-type"), "text/event-stream");
      const events = readEvents(stream.body as ReadableStream<Uint8Array>, 4);

      const post = (sensor: string, value: unknown) =>
        fetch(`${server.url}/readings`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ sensor, value }),
        });
      // Give the SSE subscription a moment to be in place before publishing.
      await new Promise((resolve) => setTimeout(resolve, 100));
      for (const value of [25, 31, 35, 20]) assert.equal((await post("hall", value)).status, 202);
      assert.equal((await post("Hall<script>", 1)).status, 422);
      assert.equal((await post("hall", "hot")).status, 422);

      const received = (await events) as Array<{ sensor: string; value: number }>;
      assert.deepEqual(
        received.map((r) => [r.sensor, r.value]),
        [
          ["hall", 25],
          ["hall", 31],
          ["hall", 35],
          ["hall", 20],
        ],
      );
      await until(() => app.history.get("hall")?.length === 4, "the watcher to see 4 readings");
      await Promise.all(app.pendingAlerts);
      const latest = await (await fetch(`${server.url}/readings/latest`)).json();
      assert.deepEqual(latest, { hall: 20 });

      // 31 crossed the threshold; 35 was still above it: one alert, not two.
      const mails = await sink.messages();
      assert.equal(mails.length, 1);
      const raw = mails[0] as string;
      const message = MailMessage.parse(raw.slice(raw.search(/^[A-Za-z-]+: /m)));
      assert.equal(message.subject, "Alert: hall at 31 (threshold 30)");
      assert.equal(message.attachments.length, 1);
      const chart = message.attachments[0];
      assert.equal(chart?.filename, "hall.svg");
      assert.equal(chart?.contentType, "image/svg+xml");
      const svg = Buffer.from(chart?.content as Uint8Array).toString("utf8");
      assert.match(svg, /^<svg /);
      assert.match(svg, /threshold 30/);
      assert.match(svg, /hall: last 2 readings/);
    } finally {
      await server.close();
      await mailer.close();
      await mqtt.close();
    }
  });

  it("runs as documented: npm run example:sensors -- --demo", () => {
    const run = spawnSync(
      process.execPath,
      ["--import", "tsx", "examples/sensor-alerts/main.ts", "--demo"],
      { cwd: root, encoding: "utf8", timeout: 60_000 },
    );
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /POST kitchen 33 → 202/);
    assert.match(run.stdout, /latest: \{"kitchen":29\}/);
    assert.match(run.stdout, /mail: Alert: kitchen at 33 \(threshold 30\)/);
  });
});
