/**
 * Incoming PUBLISH flows (MQTT 5.0 §4.3) and delivery to the application:
 *   QoS 0: deliver. QoS 1: deliver, PUBACK (in arrival order, §4.6).
 *   QoS 2 (§4.3.3, "method B"): deliver on the first PUBLISH of a packet id and remember the id;
 *   a repeated PUBLISH with that id only gets another PUBREC; PUBREL forgets it (PUBCOMP).
 * Topic aliases set by the broker are resolved here (§3.3.2.3.4), and at most
 * `receiveMaximum` QoS 2 messages may await their PUBREL (§4.9, else 0x93).
 *
 * Re-sent after release: §4.3.3 forbids a sender to re-send a PUBLISH once it sent the PUBREL,
 * and says a PUBLISH that reuses a released id is a new message. Mosquitto 2.0 breaks the first
 * rule after a reconnect or restart (it re-sends the PUBLISH, DUP set, instead of the PUBREL),
 * which a literal method B turns into a duplicate delivery. So, unless `dedupeRedeliveries` is
 * off, we remember the last released messages; a DUP PUBLISH with a released id and the same
 * topic and payload is acknowledged again but not delivered. A compliant broker never triggers
 * this except when the first send of a new, byte-identical message on a reused id was lost —
 * which a broker numbering ids sequentially (Mosquitto) cannot do within 65535 messages.
 */
import { Buffer } from "node:buffer";
import { MQTTError } from "../../errors.js";
import type { PublishPacket } from "../codec/index.js";
import type { SessionContext } from "./context.js";
import { type MessageProperties, MQTTMessage } from "./message.js";
import type { MessageStream, MessageStreamHost } from "./message-stream.js";

/**
 * A listener for `client.onMessage()`. It may be async: a throw or a rejection is reported as
 * an `error` event and never ends the connection.
 */
export type MessageHandler = (message: MQTTMessage) => unknown;

/** The part of the session context incoming flows use. */
export type InboundContext = Pick<
  SessionContext,
  "send" | "protocolError" | "emitError" | "pause" | "resume" | "store"
>;

interface Received {
  topic: string;
  payload: Uint8Array;
}

/** How many released QoS 2 messages (and payload bytes) `dedupeRedeliveries` remembers. */
const RELEASED_MEMORY = 1024;
const RELEASED_BYTES = 8 * 1024 * 1024;

export class Inbound {
  /** Received QoS 2 messages whose PUBREL is pending, by packet id (content unknown when
   * restored from a store). */
  readonly incoming = new Map<number, Received | undefined>();
  /** Recently released QoS 2 messages, oldest first. */
  private readonly released = new Map<number, Received>();
  private releasedBytes = 0;
  readonly handlers = new Set<MessageHandler>();
  readonly streams = new Set<MessageStream>();
  private readonly pressured = new Set<MessageStream>();
  private aliases = new Map<number, string>();
  /** request(): the response topic and the callers waiting by correlation data (hex). */
  responseTopic: string | undefined;
  readonly responses = new Map<
    string,
    { resolve: (m: MQTTMessage) => void; reject: (e: Error) => void }
  >();

  constructor(
    private readonly host: InboundContext,
    private readonly topicAliasMaximum: number,
    private readonly receiveMaximum: number,
    private readonly dedupeRedeliveries = true,
  ) {}

  /** A new connection: aliases are per connection; without a session, so are QoS 2 ids. */
  connected(sessionPresent: boolean): void {
    this.aliases = new Map();
    if (!sessionPresent) {
      this.incoming.clear();
      this.released.clear();
      this.releasedBytes = 0;
    }
  }

  /** Whether a slow `messages()` consumer wants reading paused. */
  get paused(): boolean {
    return this.pressured.size > 0;
  }

  readonly streamHost: MessageStreamHost = {
    pressure: (stream, on) => {
      if (on) this.pressured.add(stream);
      else this.pressured.delete(stream);
      if (this.pressured.size > 0) this.host.pause();
      else this.host.resume();
    },
    detach: (stream) => {
      this.streams.delete(stream);
    },
  };

  publish(packet: PublishPacket): void {
    let topic = packet.topic;
    const alias = packet.properties?.topicAlias;
    if (alias !== undefined) {
      // §3.3.2.3.4: 0 or above our Topic Alias Maximum is a protocol error (0x94).
      if (alias === 0 || alias > this.topicAliasMaximum) {
        this.host.protocolError(
          new MQTTError(
            `the broker used topic alias ${alias} (maximum ${this.topicAliasMaximum})`,
            { code: "MQTT_TOPIC_ALIAS_INVALID", reasonCode: 0x94 },
          ),
        );
        return;
      }
      if (topic.length > 0) this.aliases.set(alias, topic);
      else {
        const known = this.aliases.get(alias);
        if (known === undefined) {
          this.host.protocolError(
            new MQTTError(`the broker used topic alias ${alias} before setting it`, {
              code: "MQTT_PROTOCOL_ERROR",
              reasonCode: 0x82,
            }),
          );
          return;
        }
        topic = known;
      }
    } else if (topic.length === 0) {
      this.host.protocolError(
        new MQTTError("the broker sent a PUBLISH without a topic", {
          code: "MQTT_PROTOCOL_ERROR",
          reasonCode: 0x82,
        }),
      );
      return;
    }
    const qos = packet.qos;
    if (qos === 0) {
      this.deliver(packet, topic);
    } else if (qos === 1) {
      this.deliver(packet, topic);
      this.host.send({ type: "puback", packetId: packet.packetId as number });
    } else {
      const id = packet.packetId as number;
      if (!this.incoming.has(id)) {
        const released = this.released.get(id);
        if (released) {
          this.forget(id, released);
          if (
            packet.dup &&
            this.dedupeRedeliveries &&
            released.topic === topic &&
            Buffer.compare(released.payload, packet.payload) === 0
          ) {
            // The broker re-sent a message it had already released: acknowledge, don't deliver.
            this.incoming.set(id, released);
            this.host.store.putIncoming(id);
            this.host.send({ type: "pubrec", packetId: id });
            return;
          }
        }
        if (this.incoming.size >= this.receiveMaximum) {
          this.host.protocolError(
            new MQTTError("the broker exceeded our Receive Maximum", {
              code: "MQTT_RECEIVE_MAXIMUM_EXCEEDED",
              reasonCode: 0x93,
            }),
          );
          return;
        }
        this.deliver(packet, topic);
        this.incoming.set(id, { topic, payload: packet.payload });
        this.host.store.putIncoming(id);
      }
      this.host.send({ type: "pubrec", packetId: id });
    }
  }

  /** PUBREL: forget the id, then PUBCOMP (0x92 "not found" in MQTT 5 when we never knew it). */
  pubrel(packetId: number, version: 4 | 5): void {
    const known = this.incoming.has(packetId);
    if (known) {
      const received = this.incoming.get(packetId);
      this.incoming.delete(packetId);
      this.host.store.deleteIncoming(packetId);
      if (received && this.dedupeRedeliveries) {
        const previous = this.released.get(packetId);
        if (previous) this.forget(packetId, previous);
        this.released.set(packetId, received);
        this.releasedBytes += received.payload.length;
        // Oldest first, within both bounds.
        for (const [id, old] of this.released) {
          if (this.released.size <= RELEASED_MEMORY && this.releasedBytes <= RELEASED_BYTES) break;
          this.forget(id, old);
        }
      }
    }
    this.host.send({
      type: "pubcomp",
      packetId,
      reasonCode: known || version === 4 ? 0 : 0x92,
    });
  }

  private forget(id: number, received: Received): void {
    this.released.delete(id);
    this.releasedBytes -= received.payload.length;
  }

  private deliver(packet: PublishPacket, topic: string): void {
    const message = new MQTTMessage({
      topic,
      payload: packet.payload,
      qos: packet.qos,
      retain: packet.retain,
      dup: packet.dup,
      messageId: packet.packetId,
      properties: packet.properties as MessageProperties | undefined,
    });
    const correlation = packet.properties?.correlationData;
    // 16 random bytes of correlation data identify a response, whichever topic it came on.
    if (correlation && this.responses.size > 0) {
      const key = Buffer.from(correlation).toString("hex");
      const pending = this.responses.get(key);
      if (pending) {
        this.responses.delete(key);
        pending.resolve(message);
        return;
      }
    }
    for (const handler of this.handlers) {
      try {
        const result = handler(message);
        if (result && typeof (result as Promise<void>).then === "function") {
          (result as Promise<void>).then(undefined, (error: unknown) => this.host.emitError(error));
        }
      } catch (error) {
        this.host.emitError(error);
      }
    }
    for (const stream of this.streams) {
      if (stream.matches(message)) stream.push(message);
    }
  }
}
