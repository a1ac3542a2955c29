/**
 * Request/response (MQTT 5 §4.10): a request carries a Response Topic and Correlation Data;
 * the answer is the first message on that topic with the same correlation data. Matching
 * answers to requests happens in Inbound; this file sends requests and answers.
 */
import { randomBytes } from "node:crypto";
import { MQTTError } from "../../errors.js";
import { withDeadline } from "../../shared/deadline.js";
import { deadlineError } from "./client-errors.js";
import type { SessionContext } from "./context.js";
import type { Inbound } from "./inbound.js";
import type { MessageProperties, MQTTMessage } from "./message.js";
import type { PublishOptions, PublishResult, RequestOptions } from "./options.js";
import type { Publisher } from "./publisher.js";
import type { Subscriptions } from "./subscriptions.js";

/** The part of the session context requests read. */
export type RequesterContext = Pick<
  SessionContext,
  "protocolVersion" | "defaultTimeout" | "clientId" | "responseInformation"
>;

export class Requester {
  private responseSubscription: Promise<unknown> | undefined;

  constructor(
    private readonly host: RequesterContext,
    private readonly inbound: Inbound,
    private readonly publisher: Pick<Publisher, "publish">,
    private readonly subscriptions: Pick<Subscriptions, "subscribe">,
  ) {}

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
        this.inbound.responses.set(key, { resolve, reject });
        return () => this.inbound.responses.delete(key);
      },
    );
    try {
      await this.publisher.publish(topic, payload, {
        ...options,
        properties: { ...options.properties, responseTopic, correlationData: correlation },
      });
    } catch (error) {
      this.inbound.responses.get(key)?.reject(error as Error);
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
    return this.publisher.publish(responseTopic, payload, { ...options, properties });
  }

  /** One response topic per client, subscribed on first use. */
  private ensureResponseTopic(options: RequestOptions): Promise<string> {
    const host = this.host;
    if (!this.inbound.responseTopic) {
      const base = host.responseInformation ?? "mtaio/responses";
      this.inbound.responseTopic = `${base}/${host.clientId || "client"}/${randomBytes(6).toString("hex")}`;
    }
    const topic = this.inbound.responseTopic;
    this.responseSubscription ??= this.subscriptions
      .subscribe(topic, { qos: 1, noLocal: true, signal: options.signal })
      .catch((error) => {
        this.responseSubscription = undefined;
        throw error;
      });
    return this.responseSubscription.then(() => topic);
  }

  /** Every waiting request fails; the response topic is subscribed again on next use. */
  rejectAll(error: Error): void {
    for (const pending of this.inbound.responses.values()) pending.reject(error);
    this.inbound.responses.clear();
    this.responseSubscription = undefined;
  }
}
