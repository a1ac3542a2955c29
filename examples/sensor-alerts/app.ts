/**
 * Sensor alerts: the three protocols of mtaio in one small program.
 *
 *   POST /readings {"sensor":"kitchen","value":21.5}   → published to MQTT
 *                                                         (sensors/kitchen/temperature, QoS 1)
 *   GET  /readings/latest                              → the last value of every sensor
 *   GET  /readings/stream                              → every reading, as server-sent events
 *
 * Everything the app knows comes back from the broker (it subscribes to sensors/+/temperature),
 * so readings that other devices publish straight to MQTT show up too. When a sensor crosses
 * the threshold, one alert mail goes out with a chart of its last readings attached; the next
 * goes out only after the sensor has come back below the threshold.
 */
import {
  ASGIApplication,
  Attachment,
  HTTPError,
  MailMessage,
  type MQTTClient,
  type MQTTMessage,
  QoS,
  Response,
  Router,
  type ServerSentEvent,
  type SMTPSender,
} from "mtaio/protocols";
import { type Reading, renderChart } from "./chart.js";

export interface SensorAppOptions {
  /** A connected client; the app subscribes with it and publishes through it. */
  mqtt: MQTTClient;
  /** Where alert mails go out: an `AsyncSMTPClient` or an `SMTPPool`. */
  mailer: SMTPSender;
  /** A reading above this sends an alert. */
  threshold: number;
  alertFrom: string;
  alertTo: string;
  /** How many readings per sensor the chart shows. Default 20. */
  history?: number;
}

const TOPICS = "sensors/+/temperature";
const SENSOR_NAME = /^[a-z0-9-]{1,32}$/;

function parseReading(body: unknown): { sensor: string; value: number } {
  const { sensor, value } = (body ?? {}) as { sensor?: unknown; value?: unknown };
  if (typeof sensor !== "string" || !SENSOR_NAME.test(sensor)) {
    throw new HTTPError(422, "sensor: 1-32 characters of a-z, 0-9 and -");
  }
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new HTTPError(422, "value: a finite number");
  }
  return { sensor, value };
}

function toReading(message: MQTTMessage): Reading | undefined {
  const sensor = message.topic.split("/")[1];
  const value = Number(message.text());
  return sensor && Number.isFinite(value) ? { sensor, value, at: Date.now() } : undefined;
}

export class SensorApp extends ASGIApplication {
  readonly history = new Map<string, Reading[]>();
  /** Sensors above the threshold that were already alerted about. */
  readonly alerting = new Set<string>();
  /** Alert mails in flight, so a caller (or a test) can wait for them. */
  readonly pendingAlerts = new Set<Promise<void>>();
  readonly #options: SensorAppOptions;
  readonly #stop = new AbortController();

  constructor(options: SensorAppOptions) {
    super();
    this.#options = options;
    const router = new Router()
      .post("/readings", async (request) => {
        const { sensor, value } = parseReading(await request.json());
        await options.mqtt.publish(`sensors/${sensor}/temperature`, String(value), {
          qos: QoS.AT_LEAST_ONCE,
        });
        return Response.json({ published: true }, 202);
      })
      .get("/readings/latest", () => {
        const latest: Record<string, number> = {};
        for (const [sensor, readings] of this.history) {
          latest[sensor] = (readings.at(-1) as Reading).value;
        }
        return Response.json(latest);
      })
      .get("/readings/stream", (request) => Response.sse(this.#events(request.signal)));
    this.include(router);
  }

  /** Subscribes and starts watching the readings (lifespan startup). */
  override async startup(): Promise<void> {
    await this.#options.mqtt.subscribe(TOPICS, { qos: QoS.AT_LEAST_ONCE });
    void this.#watch();
  }

  override async shutdown(): Promise<void> {
    this.#stop.abort();
    await Promise.allSettled(this.pendingAlerts);
  }

  async #watch(): Promise<void> {
    const { history: size = 20, threshold } = this.#options;
    try {
      for await (const message of this.#options.mqtt.messages(TOPICS, {
        signal: this.#stop.signal,
      })) {
        const reading = toReading(message);
        if (!reading) continue;
        const readings = this.history.get(reading.sensor) ?? [];
        readings.push(reading);
        if (readings.length > size) readings.shift();
        this.history.set(reading.sensor, readings);
        if (reading.value <= threshold) this.alerting.delete(reading.sensor);
        else if (!this.alerting.has(reading.sensor)) {
          this.alerting.add(reading.sensor);
          const sending = this.#alert(reading, [...readings]).finally(() => {
            this.pendingAlerts.delete(sending);
          });
          this.pendingAlerts.add(sending);
        }
      }
    } catch (error) {
      if (!this.#stop.signal.aborted) console.error("sensor watch stopped:", error);
    }
  }

  async #alert(reading: Reading, readings: Reading[]): Promise<void> {
    const { threshold, alertFrom, alertTo, mailer } = this.#options;
    const message = new MailMessage({
      subject: `Alert: ${reading.sensor} at ${reading.value} (threshold ${threshold})`,
      sender: alertFrom,
      recipients: [alertTo],
      textContent:
        `${reading.sensor} read ${reading.value} at ${new Date(reading.at).toISOString()}, ` +
        `above the threshold of ${threshold}. The chart of its last readings is attached.`,
      attachments: [
        new Attachment({
          filename: `${reading.sensor}.svg`,
          contentType: "image/svg+xml",
          content: renderChart(reading.sensor, readings, threshold),
        }),
      ],
    });
    try {
      await mailer.sendMessage(message);
    } catch (error) {
      console.error(`alert for ${reading.sensor} not sent:`, error);
    }
  }

  /** Every reading from now on, until the client goes away. */
  async *#events(signal: AbortSignal): AsyncGenerator<ServerSentEvent> {
    yield { comment: "readings" };
    const messages = this.#options.mqtt.messages(TOPICS, { signal });
    try {
      for await (const message of messages) {
        const reading = toReading(message);
        if (reading) yield { event: "reading", data: JSON.stringify(reading) };
      }
    } catch (error) {
      if (!signal.aborted) throw error;
    }
  }
}
