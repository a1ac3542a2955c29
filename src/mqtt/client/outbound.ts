/**
 * Outgoing PUBLISH flows (MQTT 5.0 §4.3, §4.4, §4.9):
 *   QoS 1: PUBLISH → PUBACK. QoS 2: PUBLISH → PUBREC, then PUBREL → PUBCOMP.
 * - Packet identifiers come from `PacketIds`, so none is reused while its flow is open
 *   (§2.2.1 [MQTT-2.2.1-3]).
 * - At most `window` flows are open on the wire: the broker's Receive Maximum from the
 *   latest CONNACK (§3.2.2.3.3, §4.9 [MQTT-3.3.4-7]); the rest wait in a FIFO queue.
 * - After a reconnect with a session, unfinished flows are resent in their original order with
 *   their original packet ids: PUBLISH with DUP=1, or PUBREL (§4.4 [MQTT-4.4.0-1]). Nothing is
 *   resent at any other time ([MQTT-4.4.0-1]: no retransmission on a live connection).
 * - Without a session (Session Present 0) the broker forgot everything (§3.2.2.1.1): every
 *   unfinished message is published again as a new one — at least once, since exactly once
 *   needs the broker's half of the session.
 * Every state change goes to the store before the packet that depends on it is written.
 *
 * Outbound is also where every PUBLISH meets the connection: outgoing topic aliases
 * (§3.3.2.3.4) and the broker's Maximum Packet Size (§3.2.2.3.6) are applied here, and the
 * fields go to the connection's write batch without a packet object in between.
 */
import { MQTTError } from "../../errors.js";
import type { Properties } from "../codec/index.js";
import type { SessionContext } from "./context.js";
import { Deque } from "./deque.js";
import type { PublishResult } from "./options.js";
import type { QoS } from "./qos.js";
import { NoStore, type StoredPublish } from "./store.js";

export interface Flight {
  topic: string;
  payload: Uint8Array;
  qos: QoS;
  retain: boolean;
  properties: Properties | undefined;
  packetId: number;
  state: "queued" | "publish" | "pubrel";
  /** Sent on the current connection (counts against the window). */
  sent: boolean;
  /** Sent at least once: a resend carries DUP=1 (§3.3.1.1). */
  everSent: boolean;
  /** Absolute ms when the caller's promise times out (0 = never). */
  deadline: number;
  resolve: (result: PublishResult) => void;
  reject: (error: Error) => void;
  /** Set once the caller's promise settled (timeout/abort/close); the flow may go on. */
  settled: boolean;
  cleanup: (() => void) | undefined;
}

const noop = () => {};
const QOS0_RESULT: PublishResult = Object.freeze({ reasonCode: 0, messageId: undefined });

export class Outbound {
  /** Open QoS 1/2 flows by packet id, in the order they started (Map keeps insertion order). */
  readonly inflight = new Map<number, Flight>();
  /** Messages waiting for the connection or for room in the window. */
  readonly queue = new Deque<Flight>();
  /** Open flows to (re)send on this connection, in order, before anything new. */
  private readonly resend = new Deque<Flight>();
  private sentCount = 0;
  private window = 65535;
  private pumping = false;
  /** Our topic aliases towards the broker (§3.3.2.3.4); they die with the connection. */
  private aliases = new Map<string, number>();
  /** False with the default NoStore, which records nothing: the per-message record is skipped. */
  private readonly recording: boolean;

  constructor(
    private readonly ctx: SessionContext,
    private readonly queueLimit: number,
    /** Whether to set topic aliases when the broker allows them (`outgoingTopicAliases`). */
    private readonly topicAliases: boolean,
  ) {
    this.recording = !(ctx.store instanceof NoStore);
  }

  /** Nothing waits to be sent, so a new message may go straight out. */
  get idle(): boolean {
    return this.queue.length === 0 && this.resend.length === 0;
  }

  get pending(): number {
    return this.inflight.size + this.queue.length;
  }

  /** Brings back flows saved by a previous process (their callers are gone). */
  restore(stored: StoredPublish[]): void {
    for (const s of stored) {
      if (this.inflight.has(s.packetId)) continue;
      this.ctx.ids.reserve(s.packetId);
      this.inflight.set(s.packetId, {
        topic: s.topic,
        payload: s.payload,
        qos: s.qos,
        retain: s.retain,
        properties: s.properties,
        packetId: s.packetId,
        state: s.state,
        sent: false,
        everSent: true,
        deadline: 0,
        resolve: noop,
        reject: noop,
        settled: true,
        cleanup: undefined,
      });
    }
  }

  /**
   * QoS 0 on a live connection with nothing queued: written at once, no flow to track. Returns
   * true when the payload is sent from the caller's buffer, not a copy (see Connection.publish).
   * Throws MQTTError when the message cannot be sent (too large for the broker, say).
   */
  sendNow(
    topic: string,
    payload: Uint8Array,
    retain: boolean,
    properties: Properties | undefined,
  ): boolean {
    return this.write(topic, payload, 0, retain, false, undefined, properties);
  }

  /** Starts a publish. The caller has validated the arguments. */
  publish(flight: Flight): void {
    if (this.ctx.connected && this.queue.length === 0 && this.resend.length === 0) {
      if (flight.qos === 0) {
        this.sendQoS0(flight);
        return;
      }
      if (this.sentCount < this.window) {
        this.start(flight);
        return;
      }
    }
    if (this.queue.length >= this.queueLimit) {
      this.settle(
        flight,
        new MQTTError(`${this.queue.length} messages are already waiting to be sent`, {
          code: "MQTT_QUEUE_FULL",
        }),
      );
      return;
    }
    this.queue.push(flight);
  }

  private sendQoS0(flight: Flight): void {
    let kept: boolean;
    try {
      kept = this.write(
        flight.topic,
        flight.payload,
        0,
        flight.retain,
        false,
        undefined,
        flight.properties,
      );
    } catch (error) {
      this.settle(flight, error as Error);
      return;
    }
    const connection = this.ctx.connection;
    const sent = () => this.settle(flight, undefined, QOS0_RESULT);
    // The caller may reuse its payload once the promise settles: one sent without a copy
    // settles when the socket has written it. Otherwise at once while the socket keeps up,
    // or when it drains (backpressure).
    if (!connection) sent();
    else if (kept) connection.whenSent(sent);
    else if (connection.writable) sent();
    else connection.whenWritable(sent);
  }

  /**
   * Writes a PUBLISH on the current connection: with a topic alias when enabled (§3.3.2.3.4),
   * refused above the broker's Maximum Packet Size (MQTT_PACKET_TOO_LARGE, nothing written).
   * Returns true when the payload went into the batch without a copy.
   */
  private write(
    topic: string,
    payload: Uint8Array,
    qos: QoS,
    retain: boolean,
    dup: boolean,
    packetId: number | undefined,
    properties: Properties | undefined,
  ): boolean {
    const connection = this.ctx.connection;
    if (!connection) return false;
    const limits = this.ctx.limits;
    if (this.topicAliases && limits.topicAliasMaximum > 0) {
      return this.writeAliased(topic, payload, qos, retain, dup, packetId, properties);
    }
    try {
      return connection.publish(
        topic,
        payload,
        qos,
        retain,
        dup,
        packetId,
        properties,
        limits.maximumPacketSize,
      );
    } catch (error) {
      throw tooLargeForBroker(error, topic, limits.maximumPacketSize);
    }
  }

  /** §3.3.2.3.4: the first use of a topic sets an alias, later ones send only the alias. */
  private writeAliased(
    topic: string,
    payload: Uint8Array,
    qos: QoS,
    retain: boolean,
    dup: boolean,
    packetId: number | undefined,
    properties: Properties | undefined,
  ): boolean {
    const connection = this.ctx.connection;
    if (!connection) return false;
    const max = this.ctx.limits.maximumPacketSize;
    const known = this.aliases.get(topic);
    const alias =
      known ?? (this.aliases.size < this.ctx.limits.topicAliasMaximum ? this.aliases.size + 1 : 0);
    let kept: boolean;
    try {
      if (alias === 0) {
        return connection.publish(topic, payload, qos, retain, dup, packetId, properties, max);
      }
      const withAlias = { ...properties, topicAlias: alias };
      const wireTopic = known === undefined ? topic : "";
      kept = connection.publish(wireTopic, payload, qos, retain, dup, packetId, withAlias, max);
    } catch (error) {
      throw tooLargeForBroker(error, topic, max);
    }
    // Only once the packet that sets it is written does the broker know the alias.
    if (known === undefined) this.aliases.set(topic, alias);
    return kept;
  }

  /** Assigns a packet id, records the flow and sends the PUBLISH. */
  private start(flight: Flight): void {
    const ids = this.ctx.ids;
    const id = ids.allocate();
    if (id === 0) {
      this.queue.unshift(flight);
      return;
    }
    flight.packetId = id;
    flight.state = "publish";
    try {
      this.writeFlight(flight);
    } catch (error) {
      ids.release(id);
      this.settle(flight, error as Error);
      return;
    }
    this.inflight.set(id, flight);
    if (this.recording) {
      this.ctx.store.putOutgoing({
        packetId: id,
        topic: flight.topic,
        payload: flight.payload,
        qos: flight.qos as 1 | 2,
        retain: flight.retain,
        properties: flight.properties,
        state: "publish",
      });
    }
    flight.sent = true;
    flight.everSent = true;
    this.sentCount++;
  }

  /** The PUBLISH of an open flow; a resend carries DUP=1 (§3.3.1.1). */
  private writeFlight(flight: Flight): void {
    this.write(
      flight.topic,
      flight.payload,
      flight.qos,
      flight.retain,
      flight.everSent,
      flight.packetId,
      flight.properties,
    );
  }

  /** Sends what the window allows: resends first, then the queue. */
  pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      const ctx = this.ctx;
      while (ctx.connected && this.sentCount < this.window) {
        const flight = this.resend.shift();
        if (!flight) break;
        if (flight.state === "queued" || this.inflight.get(flight.packetId) !== flight) continue;
        flight.sent = true;
        this.sentCount++;
        if (flight.state === "pubrel") ctx.acknowledge("pubrel", flight.packetId);
        else {
          try {
            this.writeFlight(flight);
          } catch (error) {
            this.finish(flight, error as Error);
          }
        }
      }
      while (ctx.connected && this.resend.length === 0) {
        const flight = this.queue.peek();
        if (!flight) break;
        if (flight.qos > 0 && this.sentCount >= this.window) break;
        this.queue.shift();
        if (flight.settled && flight.qos === 0) continue;
        if (flight.qos === 0) this.sendQoS0(flight);
        else this.start(flight);
      }
    } finally {
      this.pumping = false;
    }
  }

  /**
   * A new connection is up. `window` is the broker's Receive Maximum (65535 when absent).
   * Without a session, flows restart as new messages (see the module comment).
   */
  connected(sessionPresent: boolean, window: number): void {
    this.window = window;
    this.sentCount = 0;
    this.aliases = new Map();
    this.resend.clear();
    if (!sessionPresent) this.ctx.store.clear();
    if (!sessionPresent && this.inflight.size > 0) {
      const flights = [...this.inflight.values()];
      this.inflight.clear();
      for (const flight of flights) {
        this.ctx.ids.release(flight.packetId);
        // Even past PUBREC: brokers such as Mosquitto hold a QoS 2 message until PUBREL, so a
        // lost session loses it. Publishing again prefers a possible duplicate to a loss.
        flight.state = "queued";
        flight.sent = false;
        // [MQTT-3.2.2-5]: the old session's state goes, DUP included — this is the first
        // attempt to send the new PUBLISH (§3.3.1.1).
        flight.everSent = false;
        this.resend.push(flight);
      }
      // Re-publish ahead of the queue, keeping the original order (§4.6).
      const again = this.resend.clear();
      for (let i = again.length - 1; i >= 0; i--) this.queue.unshift(again[i]);
    } else {
      for (const flight of this.inflight.values()) {
        flight.sent = false;
        this.resend.push(flight);
      }
    }
    this.pump();
  }

  disconnected(): void {
    this.sentCount = 0;
    this.resend.clear();
    for (const flight of this.inflight.values()) flight.sent = false;
  }

  /** PUBACK (§3.4, §4.3.2). */
  puback(packetId: number, reasonCode: number, properties: Properties | undefined): void {
    const flight = this.inflight.get(packetId);
    if (flight?.qos !== 1) {
      this.ctx.protocolError(unknownId("PUBACK", packetId));
      return;
    }
    this.complete(flight, reasonCode, properties);
  }

  /** PUBREC (§3.5, §4.3.3): record, then answer with PUBREL. */
  pubrec(
    packetId: number,
    reasonCode: number,
    properties: Properties | undefined,
    version: 4 | 5,
  ): void {
    const flight = this.inflight.get(packetId);
    if (flight?.qos !== 2) {
      // MQTT 5 §4.3.3 / §3.6.2.1: answer an unknown id with PUBREL "Packet Identifier not
      // found". MQTT 3.1.1 PUBREL has no reason code (§3.6): a plain PUBREL lets the broker
      // drop its state for the id all the same.
      this.ctx.send(
        version === 5
          ? { type: "pubrel", packetId, reasonCode: 0x92 }
          : { type: "pubrel", packetId },
      );
      return;
    }
    if (reasonCode >= 0x80) {
      // A failing PUBREC ends the flow; no PUBREL follows (§4.3.3 [MQTT-4.3.3-4] note).
      this.complete(flight, reasonCode, properties);
      return;
    }
    if (flight.state !== "pubrel") {
      flight.state = "pubrel";
      if (this.recording) this.ctx.store.releaseOutgoing(packetId);
    }
    this.ctx.acknowledge("pubrel", packetId);
  }

  /** PUBCOMP (§3.7): the QoS 2 flow is done. */
  pubcomp(packetId: number, reasonCode: number, properties: Properties | undefined): void {
    const flight = this.inflight.get(packetId);
    if (flight?.state !== "pubrel") {
      this.ctx.protocolError(unknownId("PUBCOMP", packetId));
      return;
    }
    // 0x92 means the broker had already forgotten the id: the message was delivered anyway.
    this.complete(flight, reasonCode === 0x92 ? 0 : reasonCode, properties);
  }

  private complete(flight: Flight, reasonCode: number, properties: Properties | undefined): void {
    this.inflight.delete(flight.packetId);
    if (this.recording) this.ctx.store.deleteOutgoing(flight.packetId);
    this.ctx.ids.release(flight.packetId);
    if (flight.sent) this.sentCount--;
    if (reasonCode >= 0x80) {
      this.settle(
        flight,
        new MQTTError(
          `the broker refused the message on "${flight.topic}" (reason 0x${reasonCode.toString(16)}${properties?.reasonString ? `: ${properties.reasonString}` : ""})`,
          { code: "MQTT_PUBLISH_REFUSED", reasonCode },
        ),
      );
    } else {
      this.settle(flight, undefined, { reasonCode, messageId: flight.packetId, properties });
    }
    if (this.queue.length > 0 || this.resend.length > 0) this.pump();
  }

  /** Drops an open flow that can never complete (e.g. it became too large for the broker). */
  private finish(flight: Flight, error: Error): void {
    this.inflight.delete(flight.packetId);
    if (this.recording) this.ctx.store.deleteOutgoing(flight.packetId);
    this.ctx.ids.release(flight.packetId);
    if (flight.sent) this.sentCount--;
    this.settle(flight, error);
  }

  settle(flight: Flight, error: Error | undefined, result?: PublishResult): void {
    if (flight.settled) return;
    flight.settled = true;
    flight.cleanup?.();
    if (error) flight.reject(error);
    else flight.resolve(result as PublishResult);
  }

  /** The caller gave up (timeout/abort): a queued message is dropped; an open flow goes on. */
  abandon(flight: Flight, error: Error): void {
    if (flight.state === "queued") this.queue.removeWhere((f) => f === flight);
    this.settle(flight, error);
  }

  /** Rejects callers whose deadline passed (checked about once a second, not per message). */
  sweep(now: number): void {
    const expired = this.queue.removeWhere((f) => f.deadline > 0 && f.deadline <= now);
    for (const flight of expired) this.settle(flight, timeoutError(flight));
    for (const flight of this.inflight.values()) {
      if (flight.deadline && flight.deadline <= now && !flight.settled) {
        this.settle(flight, timeoutError(flight));
      }
    }
  }

  /** Fails every waiting caller; queued messages are dropped, open flows stay for later. */
  rejectAll(error: Error): void {
    for (const flight of this.queue.clear()) this.settle(flight, error);
    for (const flight of this.inflight.values()) this.settle(flight, error);
  }
}

function unknownId(packet: string, packetId: number): MQTTError {
  return new MQTTError(`the broker sent ${packet} for unknown packet id ${packetId}`, {
    code: "MQTT_PROTOCOL_ERROR",
    reasonCode: 0x82,
  });
}

function timeoutError(flight: Flight): MQTTError {
  return new MQTTError(
    `publish to "${flight.topic}" did not complete in time${flight.state === "queued" ? " (never sent)" : " (the flow continues)"}`,
    { code: "MQTT_TIMEOUT" },
  );
}

/** The codec's MQTT_PACKET_TOO_LARGE, told in the caller's terms; any other error as it is. */
function tooLargeForBroker(error: unknown, topic: string, maximum: number): unknown {
  if (!(error instanceof MQTTError) || error.code !== "MQTT_PACKET_TOO_LARGE") return error;
  return new MQTTError(
    `the message on "${topic}" is larger than the broker accepts (Maximum Packet Size ${maximum} bytes)`,
    { code: "MQTT_PACKET_TOO_LARGE", reasonCode: 0x95, cause: error },
  );
}
