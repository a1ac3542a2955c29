import { Buffer } from "node:buffer";
import { MQTTError } from "../../errors.js";
import type { QoS } from "./qos.js";

/** MQTT 5 properties of an application message (§3.3.2.3). */
export interface MessageProperties {
  /** 0 unspecified bytes, 1 UTF-8 text (§3.3.2.3.2). */
  payloadFormatIndicator?: number;
  /** Seconds until the broker drops the message if not delivered (§3.3.2.3.3). */
  messageExpiryInterval?: number;
  /** The MIME type of the payload, e.g. `"application/json"`. */
  contentType?: string;
  /** The topic a responder should answer on (request/response, §4.10). */
  responseTopic?: string;
  /** Opaque data tying a response to its request (§4.10). */
  correlationData?: Uint8Array;
  /** Subscription identifiers of the subscriptions that matched (received messages only). */
  subscriptionIdentifiers?: number[];
  /** Topic alias (outbound only; on received messages the alias is already resolved). */
  topicAlias?: number;
  /** MQTT 5 user properties: name/value pairs, repeats allowed, order kept. */
  userProperties?: Array<[string, string]>;
}

/** The fields of `new MQTTMessage(init)`. */
export interface MQTTMessageInit {
  /** The topic name (no wildcards). */
  topic: string;
  /** The payload (a string is UTF-8). */
  payload: string | Uint8Array;
  /** Default 0. */
  qos?: QoS;
  /** Default false. */
  retain?: boolean;
  /** Possible re-delivery flag. Default false. */
  dup?: boolean;
  /** The packet identifier (QoS 1 and 2). */
  messageId?: number;
  /** MQTT 5 message properties. Default none. */
  properties?: MessageProperties;
}

const utf8 = new TextDecoder("utf-8");
const EMPTY = new Uint8Array(0);

/**
 * An application message, sent or received.
 *
 * @example
 * ```ts
 * for await (const message of client.messages("orders/#")) {
 *   const order = message.json<{ id: string }>();
 *   console.log(message.topic, message.qos, message.retain, order.id);
 * }
 * ```
 */
export class MQTTMessage {
  /** The topic the message was published to. */
  readonly topic: string;
  /** `Uint8Array` for received messages; whatever was given for messages built by the caller. */
  readonly payload: string | Uint8Array;
  /** The QoS it was delivered (or sent) with. */
  readonly qos: QoS;
  /** The RETAIN flag: a retained message sent on subscribing, or published to be retained. */
  readonly retain: boolean;
  /** True when the broker marks this as a possible re-delivery (§3.3.1.1). */
  readonly dup: boolean;
  /** The packet identifier it travelled with (QoS 1 and 2), else undefined. */
  readonly messageId: number | undefined;
  /** MQTT 5 message properties (empty for MQTT 3.1.1). */
  readonly properties: MessageProperties;

  constructor(init: MQTTMessageInit) {
    this.topic = init.topic;
    this.payload = init.payload ?? EMPTY;
    this.qos = init.qos ?? 0;
    this.retain = init.retain ?? false;
    this.dup = init.dup ?? false;
    this.messageId = init.messageId;
    this.properties = init.properties ?? {};
  }

  /** The payload as UTF-8 text (invalid sequences become U+FFFD). */
  text(): string {
    return typeof this.payload === "string" ? this.payload : utf8.decode(this.payload);
  }

  /** The payload parsed as JSON; a payload that is not JSON is an `MQTT_INVALID_JSON` error. */
  json<T = unknown>(): T {
    try {
      return JSON.parse(this.text()) as T;
    } catch (cause) {
      throw new MQTTError(`payload on "${this.topic}" is not valid JSON`, {
        code: "MQTT_INVALID_JSON",
        cause,
      });
    }
  }

  /** The payload as bytes, whatever it was built from. */
  bytes(): Uint8Array {
    return typeof this.payload === "string" ? Buffer.from(this.payload, "utf8") : this.payload;
  }
}
