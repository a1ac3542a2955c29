/**
 * Request/response (MQTT 5 §4.10): a request carries a Response Topic and Correlation Data;
 * the answer is the first message on that topic with the same correlation data. Matching
 * answers to requests happens in Inbound; this file sends requests and answers.
 */
import { randomBytes } from "node:crypto";
import { MQTTError } from "../../errors.js";
import { withDeadline } from "../../shared/deadline.js";
import { deadlineError } from "./client-errors.js";
import type { Inbound } from "./inbound.js";
import type { MessageProperties, MQTTMessage } from "./message.js";
import type {
  PublishOptions,
  PublishResult,
  RequestOptions,
  SubscribeOptions,
  SubscribeResult,
} from "./options.js";

/** The part of the client requests go through. */
export interface RequesterHost {
  readonly protocolVersion: 4 | 5;
  readonly defaultTimeout: number;
  readonly clientId: string;
  /** The broker's Response Information from CONNACK (§3.2.2.3.15), if any. */
  readonly responseInformation: string | undefined;
  readonly inbound: Inbound;
  publish(
    topic: string,
    payload: string | Uint8Array,
    options: PublishOptions,
  ): Promise<PublishResult>;
  subscribe(topic: string, options: SubscribeOptions): Promise<SubscribeResult[]>;
}

export class Requester {
  private responseSubscription: Promise<unknown> | undefined;

  constructor(private readonly host: RequesterHost) {}

  /** See MQTTClient.request. */
  async request(
    topic: string,
    payload: string | Uint8Array,
    options: RequestOptions = {},
  ): Promise<MQTTMessage> {
    const host = this.host;
    if (host.protocolVersion !== 5) {
      throw new MQTTError("request/response needs MQTT 5", { code: "MQTT_UNSUPPORTED" });
    }
    const responseTopic = options.responseTopic ?? (await this.ensureResponseTopic(options));
    const correlation = randomBytes(16);
    const key = correlation.toString("hex");
    const timeout = options.timeout ?? host.defaultTimeout;
    const response = withDeadline<MQTTMessage>(
      timeout,
      options.signal,
      deadlineError("request", timeout),
      (resolve, reject) => {
        host.inbound.responses.set(key, { resolve, reject });
        return () => host.inbound.responses.delete(key);
      },
    );
    try {
      await host.publish(topic, payload, {
        ...options,
        properties: { ...options.properties, responseTopic, correlationData: correlation },
      });
    } catch (error) {
      host.inbound.responses.get(key)?.reject(error as Error);
    }
    return response;
  }

  /** See MQTTClient.respond. */
  respond(
    requestMessage: MQTTMessage,
    payload: string | Uint8Array,
    options: PublishOptions = {},
  ): Promise<PublishResult> {
    const responseTopic = requestMessage.properties.responseTopic;
    if (!responseTopic) {
      return Promise.reject(
        new MQTTError("the message has no Response Topic to answer to", {
          code: "MQTT_INVALID_ARGUMENT",
        }),
      );
    }
    const properties: MessageProperties = { ...options.properties };
    if (requestMessage.properties.correlationData)
      properties.correlationData = requestMessage.properties.correlationData;
    return this.host.publish(responseTopic, payload, { ...options, properties });
  }

  /** One response topic per client, subscribed on first use. */
  private ensureResponseTopic(options: RequestOptions): Promise<string> {
    const host = this.host;
    if (!host.inbound.responseTopic) {
      const base = host.responseInformation ?? "mtaio/responses";
      host.inbound.responseTopic = `${base}/${host.clientId || "client"}/${randomBytes(6).toString("hex")}`;
    }
    const topic = host.inbound.responseTopic;
    this.responseSubscription ??= host
      .subscribe(topic, { qos: 1, noLocal: true, signal: options.signal })
      .catch((error) => {
        this.responseSubscription = undefined;
        throw error;
      });
    return this.responseSubscription.then(() => topic);
  }

  /** Every waiting request fails; the response topic is subscribed again on next use. */
  rejectAll(error: Error): void {
    for (const pending of this.host.inbound.responses.values()) pending.reject(error);
    this.host.inbound.responses.clear();
    this.responseSubscription = undefined;
  }
}
