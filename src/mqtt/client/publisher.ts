/**
 * The publish API: argument checks against the broker's limits (MQTT 5 §3.2.2.3), the QoS 0
 * fast path, Flight records for QoS 1/2 (handed to Outbound), and the timer that times out
 * waiting callers. Everything goes one way: Publisher → Outbound → the connection.
 */
import { Buffer } from "node:buffer";
import { MQTTError } from "../../errors.js";
import type { SessionContext } from "./context.js";
import { toProperties } from "./message-properties.js";
import type { PublishOptions, PublishResult } from "./options.js";
import type { Flight, Outbound } from "./outbound.js";
import { isQoS } from "./qos.js";
import { assertTopicName } from "./topic-match.js";

const QOS0_RESULT: PublishResult = Object.freeze({ reasonCode: 0, messageId: undefined });
/**
 * What a QoS 0 publish that went straight out returns. A settled promise is immutable, so one
 * serves every such call and a burst of QoS 0 messages allocates no promise each.
 */
const QOS0_SENT: Promise<PublishResult> = Promise.resolve(QOS0_RESULT);
const NO_OPTIONS: PublishOptions = Object.freeze({});

export class Publisher {
  private sweepTimer: NodeJS.Timeout | undefined;
  /** The topic name that passed `assertTopicName` last (strings are immutable). */
  private checkedTopic: string | undefined;

  constructor(
    private readonly ctx: SessionContext,
    private readonly outbound: Outbound,
  ) {}

  /** See MQTTClient.publish. */
  publish(
    topic: string,
    payload: string | Uint8Array,
    options: PublishOptions = NO_OPTIONS,
  ): Promise<PublishResult> {
    const qos = options.qos ?? 0;
    if (qos === 0 && this.ctx.connected && this.outbound.idle && !options.signal) {
      return this.publishNow(topic, payload, options);
    }
    return new Promise<PublishResult>((resolve, reject) => {
      try {
        this.check(topic, payload, qos, options);
      } catch (error) {
        reject(error);
        return;
      }
      const ctx = this.ctx;
      const outbound = this.outbound;
      const timeout = options.timeout ?? ctx.defaultTimeout;
      const flight: Flight = {
        topic,
        payload: typeof payload === "string" ? Buffer.from(payload, "utf8") : payload,
        qos,
        retain: options.retain ?? false,
        properties: ctx.protocolVersion === 5 ? toProperties(options.properties) : undefined,
        packetId: 0,
        state: "queued",
        sent: false,
        everSent: false,
        deadline: timeout > 0 ? Date.now() + timeout : 0,
        resolve,
        reject,
        settled: false,
        cleanup: undefined,
      };
      const signal = options.signal;
      if (signal) {
        const onAbort = () =>
          outbound.abandon(
            flight,
            new MQTTError("publish aborted", { code: "MQTT_ABORTED", cause: signal.reason }),
          );
        if (signal.aborted) return onAbort();
        signal.addEventListener("abort", onAbort, { once: true });
        flight.cleanup = () => signal.removeEventListener("abort", onAbort);
      }
      if (flight.deadline) this.ensureSweep();
      outbound.publish(flight);
    });
  }

  /** QoS 0 on a live connection with nothing queued: no flow to track, so no bookkeeping. */
  private publishNow(
    topic: string,
    payload: string | Uint8Array,
    options: PublishOptions,
  ): Promise<PublishResult> {
    let kept: boolean;
    try {
      this.check(topic, payload, 0, options);
      kept = this.outbound.sendNow(
        topic,
        typeof payload === "string" ? Buffer.from(payload, "utf8") : payload,
        options.retain ?? false,
        this.ctx.protocolVersion === 5 ? toProperties(options.properties) : undefined,
      );
    } catch (error) {
      return Promise.reject(error);
    }
    const connection = this.ctx.connection;
    if (!connection) return QOS0_SENT;
    // A large payload is written from the caller's buffer, not a copy: settle once the socket
    // has written it, so that the caller may reuse the buffer after `await publish()`.
    if (kept) return new Promise((resolve) => connection.whenSent(() => resolve(QOS0_RESULT)));
    if (connection.writable) return QOS0_SENT;
    // Backpressure: resolve once the socket has room again.
    return new Promise((resolve) => connection.whenWritable(() => resolve(QOS0_RESULT)));
  }

  private check(
    topic: string,
    payload: string | Uint8Array,
    qos: number,
    options: PublishOptions,
  ): void {
    this.ctx.assertSession();
    if (topic !== this.checkedTopic || this.checkedTopic === undefined) {
      assertTopicName(topic);
      this.checkedTopic = topic;
    }
    if (typeof payload !== "string" && !(payload instanceof Uint8Array)) {
      throw new MQTTError("payload must be a string or a Uint8Array", {
        code: "MQTT_INVALID_ARGUMENT",
      });
    }
    if (!isQoS(qos)) {
      throw new MQTTError(`qos must be 0, 1 or 2, not ${String(qos)}`, {
        code: "MQTT_INVALID_ARGUMENT",
      });
    }
    const limits = this.ctx.limits;
    if (qos > limits.maximumQoS) {
      throw new MQTTError(`the broker supports QoS up to ${limits.maximumQoS}`, {
        code: "MQTT_QOS_NOT_SUPPORTED",
        reasonCode: 0x9b,
      });
    }
    if (options.retain && !limits.retainAvailable) {
      throw new MQTTError("the broker does not support retained messages", {
        code: "MQTT_RETAIN_NOT_SUPPORTED",
        reasonCode: 0x9a,
      });
    }
  }

  /** Times out callers whose flows outlive their deadline (checked once a second). */
  private ensureSweep(): void {
    if (this.sweepTimer) return;
    const outbound = this.outbound;
    this.sweepTimer = setInterval(() => {
      outbound.sweep(Date.now());
      if (outbound.pending === 0) this.stop();
    }, 1000);
    this.sweepTimer.unref();
  }

  stop(): void {
    clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
  }
}
