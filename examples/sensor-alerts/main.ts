/**
 * Runs the sensor-alerts example: `npm run example:sensors` (add `-- --demo` for a scripted
 * run that sends readings, waits for the alert mail and exits).
 *
 * With no MQTT_URL it starts a local Mosquitto, and with no SMTP_HOST a local Postfix
 * smtp-sink (both from test/servers/, on free loopback ports; Debian packages `mosquitto`
 * and `postfix`). Set them to use your own:
 *   MQTT_URL=mqtt://broker:1883  SMTP_HOST=mail.example.com  SMTP_PORT=587
 *   SMTP_USER=…  SMTP_PASSWORD=…  ALERT_TO=ops@example.com  THRESHOLD=30  PORT=8001
 */
import { AsyncSMTPClient, MQTTClient, serve } from "mtaio/protocols";
import { startMosquitto } from "../../test/servers/mosquitto.js";
import { startSmtpSink } from "../../test/servers/smtp-sink.js";
import { SensorApp } from "./app.js";

const env = process.env;
const demo = process.argv.includes("--demo");
const stops: Array<() => Promise<void>> = [];

let mqttUrl = env.MQTT_URL;
if (!mqttUrl) {
  const broker = await startMosquitto();
  stops.push(() => broker.stop());
  mqttUrl = `mqtt://127.0.0.1:${broker.port}`;
  console.log(`local Mosquitto on ${mqttUrl}`);
}
let smtpHost = env.SMTP_HOST;
let smtpPort = Number(env.SMTP_PORT ?? 587);
let sink: Awaited<ReturnType<typeof startSmtpSink>> | undefined;
if (!smtpHost) {
  sink = await startSmtpSink({ dump: true });
  stops.push(() => (sink as NonNullable<typeof sink>).stop());
  smtpHost = "127.0.0.1";
  smtpPort = sink.port;
  console.log(`local smtp-sink on ${smtpHost}:${smtpPort}`);
}

const mqtt = new MQTTClient();
await mqtt.connect(mqttUrl);
const mailer = new AsyncSMTPClient();
// The local sink speaks plain SMTP; a real server gets STARTTLS (the default) and a login.
await mailer.connect(smtpHost, smtpPort, sink ? { security: "none" } : {});
if (env.SMTP_USER) await mailer.login(env.SMTP_USER, env.SMTP_PASSWORD ?? "");

const app = new SensorApp({
  mqtt,
  mailer,
  threshold: Number(env.THRESHOLD ?? 30),
  alertFrom: env.ALERT_FROM ?? "sensors@example.com",
  alertTo: env.ALERT_TO ?? "ops@example.com",
});
const server = await serve(app, { port: Number(env.PORT ?? (demo ? 0 : 8001)) });
console.log(`sensor-alerts on ${server.url}`);

async function stop(): Promise<void> {
  await server.close();
  await mailer.close();
  await mqtt.close();
  for (const stopOne of stops.reverse()) await stopOne();
}

if (demo) {
  for (const value of [21, 24, 28, 33, 29]) {
    const response = await fetch(`${server.url}/readings`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ sensor: "kitchen", value }),
    });
    console.log(`POST kitchen ${value} → ${response.status}`);
  }
  const deadline = Date.now() + 10_000;
  while (app.history.get("kitchen")?.length !== 5 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await Promise.all(app.pendingAlerts);
  console.log("latest:", await (await fetch(`${server.url}/readings/latest`)).text());
  const mails = sink ? await sink.messages() : [];
  for (const mail of mails) console.log(`mail: ${/^Subject: (.*)$/m.exec(mail)?.[1] ?? "?"}`);
  await stop();
} else {
  console.log(`try: curl -N ${server.url}/readings/stream`);
  console.log(
    `and:  curl -X POST ${server.url}/readings -H 'content-type: application/json' ` +
      `-d '{"sensor":"kitchen","value":35}'`,
  );
  process.once("SIGINT", () => void stop());
  process.once("SIGTERM", () => void stop());
}
