/**
 * The publish API: argument checks against the broker's limits (MQTT 5 §3.2.2.3), the QoS 0
 * fast path, Flight records for QoS 1/2 (handed to Outbound), outbound topic aliases
 * (§3.3.2.3.4), the Maximum Packet Size check, and the timer that times out waiting callers.
 */
import { Buffer } from "node:buffer";
import { MQTTError } from "../../errors.js";
import type { PublishPacket } from "../codec/index.js";
import { type BrokerLimits, NO_LIMITS } from "./broker-limits.js";
import type { Connection } from "./connection.js";
import { toProperties } from "./message-properties.js";
import type { PublishOptions, PublishResult } from "./options.js";
import type { Flight, Outbound } from "./outbound.js";
import { isQoS } from "./qos.js";
import { assertTopicName } from "./topic-match.js";

/** The part of the client the publisher needs. */
export interface PublisherHost {
  readonly protocolVersion: 4 | 5;
  /** True only between CONNACK and the loss of the connection. */
  readonly connected: boolean;
  readonly connection: Connection | undefined;
  readonly outbound: Outbound;
  readonly defaultTimeout: number;
  /** Throws when the client is closed or was never connected (publishing needs a session). */
  assertSession(): void;
}

const QOS0_RESULT: PublishResult = Object.freeze({ reasonCode: 0, messageId: undefined });

export class Publisher {
  /** The broker's limits from the latest CONNACK. */
  private limits: BrokerLimits = NO_LIMITS;
  /** Our topic aliases towards the broker (§3.3.2.3.4); they die with the connection. */
  private aliases = new Map<string, number>();
  private sweepTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly host: PublisherHost,
    private readonly outgoingTopicAliases: boolean,
  ) {}

  /** A new connection: the broker's limits may have changed and aliases start afresh. */
  connected(limits: BrokerLimits): void {
    this.limits = limits;
    this.aliases = new Map();
  }

  /** See MQTTClient.publish. */
  publish(
    topic: string,
    payload: string | Uint8Array,
    options: PublishOptions = {},
  ): Promise<PublishResult> {
    const host = this.host;
    const qos = options.qos ?? 0;
    if (qos === 0 && host.connected && host.outbound.idle && !options.signal) {
      return this.publishNow(topic, payload, options);
    }
    return new Promise<PublishResult>((resolve, reject) => {
      try {
        this.check(topic, payload, qos, options);
      } catch (error) {
        reject(error);
        return;
      }
      const timeout = options.timeout ?? host.defaultTimeout;
      const flight: Flight = {
        topic,
        payload: typeof payload === "string" ? Buffer.from(payload, "utf8") : payload,
        qos,
        retain: options.retain ?? false,
        properties: host.protocolVersion === 5 ? toProperties(options.properties) : undefined,
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
          host.outbound.abandon(
            flight,
            new MQTTError("publish aborted", { code: "MQTT_ABORTED", cause: signal.reason }),
          );
        if (signal.aborted) return onAbort();
        signal.addEventListener("abort", onAbort, { once: true });
        flight.cleanup = () => signal.removeEventListener("abort", onAbort);
      }
      if (flight.deadline) this.ensureSweep();
      host.outbound.publish(flight);
    });
  }

  /** QoS 0 on a live connection with nothing queued: no flow to track, so no bookkeeping. */
  private publishNow(
    topic: string,
    payload: string | Uint8Array,
    options: PublishOptions,
  ): Promise<PublishResult> {
    try {
      this.check(topic, payload, 0, options);
      this.write({
        type: "publish",
        topic,
        payload: typeof payload === "string" ? Buffer.from(payload, "utf8") : payload,
        qos: 0,
        retain: options.retain ?? false,
        dup: false,
        properties: this.host.protocolVersion === 5 ? toProperties(options.properties) : undefined,
      });
    } catch (error) {
      return Promise.reject(error);
    }
    const connection = this.host.connection;
    if (!connection || connection.writable) return Promise.resolve(QOS0_RESULT);
    // Backpressure: resolve once the socket has room again.
    return new Promise((resolve) => connection.whenWritable(() => resolve(QOS0_RESULT)));
  }

  private check(
    topic: string,
    payload: string | Uint8Array,
    qos: number,
    options: PublishOptions,
  ): void {
    this.host.assertSession();
    assertTopicName(topic);
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
    if (qos > this.limits.maximumQoS) {
      throw new MQTTError(`the broker supports QoS up to ${this.limits.maximumQoS}`, {
        code: "MQTT_QOS_NOT_SUPPORTED",
        reasonCode: 0x9b,
      });
    }
    if (options.retain && !this.limits.retainAvailable) {
      throw new MQTTError("the broker does not support retained messages", {
        code: "MQTT_RETAIN_NOT_SUPPORTED",
        reasonCode: 0x9a,
      });
    }
  }

  /** Encodes a PUBLISH for the current connection (topic alias, size limit) and queues it. */
  write(packet: PublishPacket): void {
    const connection = this.host.connection;
    if (!connection) return;
    let wire = packet;
    if (this.limits.topicAliasMaximum > 0 && this.outgoingTopicAliases) {
      wire = this.applyAlias(packet);
    }
    const bytes = connection.encode(wire);
    if (bytes.length > this.limits.maximumPacketSize) {
      throw new MQTTError(
        `the message on "${packet.topic}" is ${bytes.length} bytes; the broker accepts at most ${this.limits.maximumPacketSize}`,
        { code: "MQTT_PACKET_TOO_LARGE", reasonCode: 0x95 },
      );
    }
    connection.sendEncoded(bytes);
  }

  /** §3.3.2.3.4: the first use of a topic sets an alias, later ones send only the alias. */
  private applyAlias(packet: PublishPacket): PublishPacket {
    const alias = this.aliases.get(packet.topic);
    if (alias !== undefined) {
      return { ...packet, topic: "", properties: { ...packet.properties, topicAlias: alias } };
    }
    if (this.aliases.size < this.limits.topicAliasMaximum) {
      const next = this.aliases.size + 1;
      this.aliases.set(packet.topic, next);
      return { ...packet, properties: { ...packet.properties, topicAlias: next } };
    }
    return packet;
  }

  /** Times out callers whose flows outlive their deadline (checked once a second). */
  private ensureSweep(): void {
    if (this.sweepTimer) return;
    const outbound = this.host.outbound;
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
