/**
 * SUBSCRIBE / UNSUBSCRIBE (MQTT 5 §3.8–§3.11): the requests awaiting their ack (resent after a
 * reconnect), the subscriptions the broker granted (subscribed again when a reconnect finds no
 * session, §3.2.2.1.1), and the checks on what the broker answers (one reason code per filter).
 */
import { MQTTError } from "../../errors.js";
import { withDeadline } from "../../shared/deadline.js";
import type {
  Packet,
  Properties,
  SubackPacket,
  Subscription,
  UnsubackPacket,
} from "../codec/index.js";
import { deadlineError } from "./client-errors.js";
import type { SessionContext } from "./context.js";
import type { SubscribeOptions, SubscribeResult, UnsubscribeOptions } from "./options.js";
import { isQoS } from "./qos.js";
import { assertTopicFilter } from "./topic-match.js";

type RequestPacket = Packet & { type: "subscribe" | "unsubscribe" };
type AckPacket = SubackPacket | UnsubackPacket;

interface PendingRequest {
  packet: RequestPacket;
  resolve: (packet: AckPacket) => void;
  reject: (error: Error) => void;
}

/** The part of the session context the subscriptions read. */
export type SubscriptionsContext = Pick<
  SessionContext,
  | "protocolVersion"
  | "defaultTimeout"
  | "ids"
  | "send"
  | "whenConnected"
  | "protocolError"
  | "emitError"
>;

/** Subscriptions sent again after a lost session, at most this many per SUBSCRIBE. */
const RESUBSCRIBE_BATCH = 100;

export class Subscriptions {
  private readonly pending = new Map<number, PendingRequest>();
  /** Granted subscriptions, resubscribed when a reconnect finds no session. */
  private readonly granted = new Map<string, Subscription & { identifier?: number }>();

  constructor(private readonly host: SubscriptionsContext) {}

  /** See MQTTClient.subscribe. */
  async subscribe(
    topics: string | string[] | Record<string, SubscribeOptions>,
    options: SubscribeOptions = {},
  ): Promise<SubscribeResult[]> {
    const v5 = this.host.protocolVersion === 5;
    const entries: Array<[string, SubscribeOptions]> =
      typeof topics === "string"
        ? [[topics, options]]
        : Array.isArray(topics)
          ? topics.map((t) => [t, options])
          : Object.entries(topics).map(([t, o]) => [t, { ...options, ...o }]);
    if (entries.length === 0) {
      throw new MQTTError("subscribe() needs at least one topic filter", {
        code: "MQTT_INVALID_ARGUMENT",
      });
    }
    const subscriptions: Subscription[] = entries.map(([topic, o]) => {
      assertTopicFilter(topic);
      const qos = o.qos ?? 0;
      if (!isQoS(qos)) {
        throw new MQTTError(`qos must be 0, 1 or 2, not ${String(qos)}`, {
          code: "MQTT_INVALID_ARGUMENT",
        });
      }
      const s: Subscription = { topicFilter: topic, qos };
      if (v5) {
        if (o.noLocal !== undefined) s.noLocal = o.noLocal;
        if (o.retainAsPublished !== undefined) s.retainAsPublished = o.retainAsPublished;
        if (o.retainHandling !== undefined) s.retainHandling = o.retainHandling;
      }
      return s;
    });
    const properties: Properties = {};
    if (v5) {
      if (options.subscriptionIdentifier !== undefined)
        properties.subscriptionIdentifiers = [options.subscriptionIdentifier];
      if (options.userProperties) properties.userProperties = options.userProperties;
    }
    const suback = (await this.request(
      "subscribe",
      (packetId) => ({
        type: "subscribe",
        packetId,
        subscriptions,
        properties: Object.keys(properties).length > 0 ? properties : undefined,
      }),
      options,
    )) as SubackPacket;
    this.checkCount("SUBACK", suback.reasonCodes.length, subscriptions.length);
    const results = subscriptions.map((s, i): SubscribeResult => {
      const code = suback.reasonCodes[i];
      const granted = code < 0x80 && isQoS(code) ? code : undefined;
      if (granted !== undefined) {
        this.granted.set(s.topicFilter, { ...s, identifier: options.subscriptionIdentifier });
      }
      return { topic: s.topicFilter, reasonCode: code, qos: granted };
    });
    if (results.every((r) => r.qos === undefined)) {
      const first = results[0].reasonCode;
      throw new MQTTError(
        `the broker refused the subscription to ${results.map((r) => `"${r.topic}"`).join(", ")} (reason 0x${first.toString(16)}${suback.properties?.reasonString ? `: ${suback.properties.reasonString}` : ""})`,
        { code: "MQTT_SUBSCRIBE_FAILED", reasonCode: first },
      );
    }
    return results;
  }

  /** See MQTTClient.unsubscribe. */
  async unsubscribe(
    topics: string | string[],
    options: UnsubscribeOptions = {},
  ): Promise<number[]> {
    const v5 = this.host.protocolVersion === 5;
    const filters = typeof topics === "string" ? [topics] : topics;
    if (filters.length === 0) {
      throw new MQTTError("unsubscribe() needs at least one topic filter", {
        code: "MQTT_INVALID_ARGUMENT",
      });
    }
    for (const filter of filters) assertTopicFilter(filter);
    const unsuback = (await this.request(
      "unsubscribe",
      (packetId) => ({
        type: "unsubscribe",
        packetId,
        topicFilters: filters,
        properties:
          v5 && options.userProperties ? { userProperties: options.userProperties } : undefined,
      }),
      options,
    )) as UnsubackPacket;
    // 3.1.1 UNSUBACK carries no reason codes (§3.11), so only MQTT 5 can be counted.
    if (v5) this.checkCount("UNSUBACK", unsuback.reasonCodes.length, filters.length);
    for (const filter of filters) this.granted.delete(filter);
    return unsuback.reasonCodes;
  }

  /** §3.9.3, §3.11.3: one reason code per topic filter, or the broker is broken. */
  private checkCount(what: string, got: number, expected: number): void {
    if (got === expected) return;
    const error = new MQTTError(`${what} has ${got} reason codes for ${expected} topic filters`, {
      code: "MQTT_PROTOCOL_ERROR",
      reasonCode: 0x82,
    });
    this.host.protocolError(error);
    throw error;
  }

  /** Sends SUBSCRIBE/UNSUBSCRIBE (waiting for a connection if need be) and awaits its ack.
   * A connection lost meanwhile resends it after the reconnect. */
  private request(
    kind: "subscribe" | "unsubscribe",
    build: (packetId: number) => RequestPacket,
    options: { signal?: AbortSignal; timeout?: number },
  ): Promise<AckPacket> {
    const host = this.host;
    const timeout = options.timeout ?? host.defaultTimeout;
    return withDeadline(
      timeout,
      options.signal,
      deadlineError(kind, timeout),
      (resolve, reject) => {
        let packetId = 0;
        let cancelled = false;
        const start = () => {
          if (cancelled) return;
          packetId = host.ids.allocate();
          if (packetId === 0) {
            reject(
              new MQTTError("all 65535 packet identifiers are in use", {
                code: "MQTT_PACKET_IDS_EXHAUSTED",
              }),
            );
            return;
          }
          const packet = build(packetId);
          this.pending.set(packetId, {
            packet,
            resolve: resolve as (p: AckPacket) => void,
            reject,
          });
          try {
            host.send(packet);
          } catch (error) {
            this.pending.delete(packetId);
            host.ids.release(packetId);
            reject(error as Error);
          }
        };
        host.whenConnected(start, reject);
        return () => {
          cancelled = true;
          // The ack may still come; keep the id reserved until then.
          const pending = packetId ? this.pending.get(packetId) : undefined;
          if (pending) {
            pending.resolve = () => {};
            pending.reject = () => {};
          }
        };
      },
    );
  }

  /**
   * Settles the request a SUBACK/UNSUBACK answers. False when no request of that kind has
   * that packet id: the broker broke the protocol.
   */
  acknowledge(packet: AckPacket): boolean {
    const request = this.pending.get(packet.packetId);
    const kind = packet.type === "suback" ? "subscribe" : "unsubscribe";
    if (!request || request.packet.type !== kind) return false;
    this.pending.delete(packet.packetId);
    this.host.ids.release(packet.packetId);
    request.resolve(packet);
    return true;
  }

  /** After CONNACK: subscribe again if the broker lost the session, then resend what is
   * still unanswered from before the cut. */
  connected(resubscribe: boolean): void {
    if (resubscribe) this.resubscribe();
    for (const request of this.pending.values()) this.host.send(request.packet);
  }

  /** The broker lost our subscriptions: subscribe again to everything granted before. */
  private resubscribe(): void {
    const byIdentifier = new Map<number | undefined, Subscription[]>();
    for (const s of this.granted.values()) {
      const list = byIdentifier.get(s.identifier) ?? [];
      list.push({
        topicFilter: s.topicFilter,
        qos: s.qos,
        noLocal: s.noLocal,
        retainAsPublished: s.retainAsPublished,
        retainHandling: s.retainHandling,
      });
      byIdentifier.set(s.identifier, list);
    }
    for (const [identifier, list] of byIdentifier) {
      for (let i = 0; i < list.length; i += RESUBSCRIBE_BATCH) {
        const chunk = list.slice(i, i + RESUBSCRIBE_BATCH);
        const packetId = this.host.ids.allocate();
        if (packetId === 0) return;
        this.pending.set(packetId, {
          packet: {
            type: "subscribe",
            packetId,
            subscriptions: chunk,
            properties:
              identifier !== undefined && this.host.protocolVersion === 5
                ? { subscriptionIdentifiers: [identifier] }
                : undefined,
          },
          resolve: (ack) => {
            const failed = ack.reasonCodes.findIndex((c) => c >= 0x80);
            if (failed < 0) return;
            this.host.emitError(
              new MQTTError(
                `resubscribing to "${chunk[failed].topicFilter}" failed (reason 0x${ack.reasonCodes[failed].toString(16)})`,
                { code: "MQTT_SUBSCRIBE_FAILED", reasonCode: ack.reasonCodes[failed] },
              ),
            );
          },
          reject: () => {},
        });
      }
    }
  }

  /** Every unanswered request fails with `error` and frees its packet id. */
  rejectAll(error: Error): void {
    for (const [id, request] of this.pending) {
      this.host.ids.release(id);
      request.reject(error);
    }
    this.pending.clear();
  }
}
