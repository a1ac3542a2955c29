/**
 * MQTTClient: the MQTT 3.1.1 / 5.0 session state machine.
 *
 *   idle ──connect()──▶ connecting ──CONNACK──▶ connected ──lost──▶ reconnecting ─┐
 *     ▲                     │ refused/failed                  ▲                  │
 *     └─────────────────────┘                                 └──CONNACK─────────┘
 *   disconnect() → idle; close() → closed (final).
 *
 * Outgoing QoS flows live in Outbound, the bytes in Connection, the socket in a Transport;
 * this file wires them together and handles CONNECT/CONNACK, inbound messages, subscriptions,
 * reconnects and the public API.
 */
import { randomBytes } from "node:crypto";
import { MQTTError } from "../../errors.js";
import type {
  ConnackPacket,
  ConnectPacket,
  Packet,
  Properties,
  PublishPacket,
  SubackPacket,
  Subscription,
  UnsubackPacket,
} from "../codec/index.js";
import { Backoff } from "./backoff.js";
import { Connection } from "./connection.js";
import { withDeadline } from "./deadline.js";
import { Emitter } from "./events.js";
import { Inbound, type MessageHandler } from "./inbound.js";
import type { MessageProperties, MQTTMessage } from "./message.js";
import { type MessageFilter, MessageStream } from "./message-stream.js";
import type {
  ConnectOptions,
  ConnectResult,
  DisconnectOptions,
  Endpoint,
  MQTTClientEvents,
  MQTTClientOptions,
  PublishOptions,
  PublishResult,
  ReconnectOptions,
  RequestOptions,
  SubscribeOptions,
  SubscribeResult,
  UnsubscribeOptions,
} from "./options.js";
import { parseEndpoint } from "./options.js";
import { type Flight, Outbound, type OutboundHost, PacketIds } from "./outbound.js";
import { isQoS, type QoS } from "./qos.js";
import { type MQTTStore, NoStore } from "./store.js";
import { assertTopicFilter, assertTopicName } from "./topic-match.js";
import { openTransport, type Transport, type TransportOptions } from "./transport.js";

type State = "idle" | "connecting" | "connected" | "reconnecting" | "closed";

export type { MessageHandler };

interface PendingRequest {
  packet: Packet & { type: "subscribe" | "unsubscribe" };
  resolve: (packet: SubackPacket | UnsubackPacket) => void;
  reject: (error: Error) => void;
}

interface Session {
  endpoint: Endpoint;
  options: ConnectOptions;
}

/** 3.1.1 CONNACK return codes and MQTT 5 reason codes after which retrying cannot help. */
const FATAL_CONNACK_V4 = new Set([1, 2, 4, 5]);
const FATAL_CONNACK_V5 = new Set([0x84, 0x85, 0x86, 0x87, 0x8a, 0x8c, 0x90]);

const CONNACK_TEXT_V4: Record<number, string> = {
  1: "unacceptable protocol version",
  2: "identifier rejected",
  3: "server unavailable",
  4: "bad user name or password",
  5: "not authorized",
};

const EMPTY = new Uint8Array(0);
const QOS0_RESULT: PublishResult = Object.freeze({ reasonCode: 0, messageId: undefined });

export class MQTTClient {
  private readonly options: MQTTClientOptions;
  readonly protocolVersion: 4 | 5;
  private id: string;
  private state: State = "idle";
  private readonly events = new Emitter<MQTTClientEvents>();
  private store: MQTTStore;
  private storeLoaded = false;
  private readonly ids = new PacketIds();
  private readonly outbound: Outbound;
  private readonly inbound: Inbound;
  private connection: Connection | undefined;
  private session: Session | undefined;
  private readonly backoff: Backoff;
  private readonly reconnectOptions: ReconnectOptions | false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private reconnectAttempts = 0;
  private connectedOnce = false;
  private takenOver = false;
  private sweepTimer: NodeJS.Timeout | undefined;
  private connackWaiter:
    | { resolve: (result: ConnectResult) => void; reject: (e: Error) => void }
    | undefined;
  private connectWaiters: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  // What the broker told us in CONNACK (MQTT 5 §3.2.2.3).
  private brokerMaximumPacketSize = Number.POSITIVE_INFINITY;
  private brokerTopicAliasMaximum = 0;
  private brokerMaximumQoS: QoS = 2;
  private brokerRetainAvailable = true;
  private responseInformation: string | undefined;
  // Our topic aliases towards the broker (§3.3.2.3.4).
  private outboundAliases = new Map<string, number>();
  private readonly requests = new Map<number, PendingRequest>();
  /** Granted subscriptions, resubscribed when a reconnect finds no session. */
  private readonly subscriptions = new Map<string, Subscription & { identifier?: number }>();
  private responseSubscription: Promise<unknown> | undefined;

  constructor(options: MQTTClientOptions = {}) {
    this.options = { ...options };
    const version = options.protocolVersion ?? 5;
    if (version !== 4 && version !== 5) {
      throw new MQTTError(`protocolVersion must be 4 or 5, not ${String(version)}`, {
        code: "MQTT_INVALID_ARGUMENT",
      });
    }
    this.protocolVersion = version;
    this.id = options.clientId ?? (version === 5 ? "" : `mtaio_${randomBytes(8).toString("hex")}`);
    this.store = options.store ?? new NoStore();
    this.reconnectOptions =
      options.reconnect === false
        ? false
        : typeof options.reconnect === "object"
          ? options.reconnect
          : {};
    this.backoff = new Backoff(this.reconnectOptions || {});
    const self = this;
    const host: OutboundHost = {
      get connected() {
        return self.state === "connected";
      },
      get writable() {
        return self.connection?.writable ?? true;
      },
      whenWritable: (callback) => {
        if (this.connection) this.connection.whenWritable(callback);
        else callback();
      },
      writePublish: (packet) => this.writePublish(packet),
      write: (packet) => this.connection?.send(packet),
      protocolError: (error) => this.protocolError(error),
    };
    this.outbound = new Outbound(host, this.ids, this.store, options.queueLimit ?? 10_000);
    this.inbound = new Inbound(
      {
        send: (packet) => this.connection?.send(packet),
        fail: (error) => this.protocolError(error),
        emitError: (error) => this.emitError(error),
        pause: () => this.connection?.pause(),
        resume: () => this.connection?.resume(),
        get store() {
          return self.store;
        },
      },
      clamp(options.topicAliasMaximum ?? 64, 0, 65535),
      clamp(options.receiveMaximum ?? 65535, 1, 65535),
      options.dedupeRedeliveries ?? true,
    );
  }

  // ─── public state ───────────────────────────────────────────────────────────────────────

  /** The client identifier in use (the broker's choice when it assigned one). */
  get clientId(): string {
    return this.id;
  }

  get connected(): boolean {
    return this.state === "connected";
  }

  /** Outgoing messages not yet completely acknowledged (in flight plus queued). */
  get pendingCount(): number {
    return this.outbound.pending;
  }

  on<K extends keyof MQTTClientEvents>(
    event: K,
    listener: (value: MQTTClientEvents[K]) => void,
  ): () => void {
    return this.events.on(event, listener);
  }

  once<K extends keyof MQTTClientEvents>(
    event: K,
    listener: (value: MQTTClientEvents[K]) => void,
  ): () => void {
    return this.events.once(event, listener);
  }

  // ─── connect / disconnect ───────────────────────────────────────────────────────────────

  /** `connect(host, port?, options?)` or `connect(url, options?)` (mqtt, mqtts, ws, wss). */
  async connect(
    hostOrUrl: string,
    portOrOptions?: number | ConnectOptions,
    maybeOptions?: ConnectOptions,
  ): Promise<ConnectResult> {
    const port = typeof portOrOptions === "number" ? portOrOptions : undefined;
    const options = (typeof portOrOptions === "object" ? portOrOptions : maybeOptions) ?? {};
    if (this.state === "closed") throw closedError();
    if (this.state !== "idle") {
      throw new MQTTError("connect() called while already connected or connecting", {
        code: "MQTT_ALREADY_CONNECTED",
      });
    }
    const endpoint = parseEndpoint(hostOrUrl, port, options);
    this.session = { endpoint, options };
    this.state = "connecting";
    this.takenOver = false;
    if (!this.storeLoaded) {
      this.storeLoaded = true;
      try {
        const saved = await this.store.load();
        this.outbound.restore(saved.outgoing);
        for (const id of saved.incoming) this.inbound.incoming.set(id, undefined);
      } catch (error) {
        this.state = "idle";
        throw error instanceof MQTTError
          ? error
          : new MQTTError("cannot load the session store", {
              code: "MQTT_STORE_ERROR",
              cause: error,
            });
      }
    }
    try {
      const result = await this.establish(this.options.clean ?? true, options.signal);
      return result;
    } catch (error) {
      if (this.state === "connecting") {
        this.state = "idle";
        // Whatever was queued for this connection cannot go out now.
        this.failWaiters(error as Error);
      }
      throw error;
    }
  }

  /** Sends DISCONNECT and closes the connection; no reconnect. The client can connect again. */
  async disconnect(options: DisconnectOptions = {}): Promise<void> {
    if (this.state === "closed" || this.state === "idle") return;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    const connection = this.connection;
    this.state = "idle";
    this.connection = undefined;
    // A connect() still waiting for CONNACK ends now rather than at its timeout.
    this.connackWaiter?.reject(
      new MQTTError("the client disconnected while connecting", {
        code: "MQTT_CLIENT_DISCONNECTED",
      }),
    );
    if (connection && !connection.isClosed) {
      const properties: Properties = {};
      if (options.sessionExpiryInterval !== undefined)
        properties.sessionExpiryInterval = options.sessionExpiryInterval;
      if (options.reasonString) properties.reasonString = options.reasonString;
      if (options.userProperties) properties.userProperties = options.userProperties;
      try {
        connection.send({
          type: "disconnect",
          reasonCode: options.reasonCode ?? 0,
          properties: this.protocolVersion === 5 ? properties : undefined,
        });
      } catch (error) {
        this.emitError(error);
      }
      connection.end();
    }
    this.outbound.disconnected();
    this.failWaiters(
      new MQTTError("the client disconnected", { code: "MQTT_CLIENT_DISCONNECTED" }),
    );
    this.emit("close", undefined);
  }

  /** Disconnects, ends every `messages()` iterator and closes the store. Final. */
  async close(): Promise<void> {
    if (this.state === "closed") return;
    await this.disconnect();
    this.state = "closed";
    clearInterval(this.sweepTimer);
    for (const stream of [...this.inbound.streams]) stream.end();
    await this.store.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // ─── publish ────────────────────────────────────────────────────────────────────────────

  /**
   * Publishes a message. Resolves when its QoS flow completes: at once for QoS 0 (once the
   * socket accepted it), on PUBACK for QoS 1, on PUBCOMP for QoS 2. A refusing reason code
   * (≥ 0x80) rejects with MQTTError `MQTT_PUBLISH_REFUSED` carrying it.
   */
  publish(
    topic: string,
    payload: string | Uint8Array,
    options: PublishOptions = {},
  ): Promise<PublishResult> {
    const qos = options.qos ?? 0;
    if (qos === 0 && this.state === "connected" && this.outbound.idle && !options.signal) {
      return this.publishNow(topic, payload, options);
    }
    return new Promise<PublishResult>((resolve, reject) => {
      try {
        this.checkPublish(topic, payload, qos, options);
      } catch (error) {
        reject(error);
        return;
      }
      const timeout = options.timeout ?? this.defaultTimeout;
      const flight: Flight = {
        topic,
        payload: typeof payload === "string" ? Buffer.from(payload, "utf8") : payload,
        qos,
        retain: options.retain ?? false,
        properties: this.protocolVersion === 5 ? toProperties(options.properties) : undefined,
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
          this.outbound.abandon(
            flight,
            new MQTTError("publish aborted", { code: "MQTT_ABORTED", cause: signal.reason }),
          );
        if (signal.aborted) return onAbort();
        signal.addEventListener("abort", onAbort, { once: true });
        flight.cleanup = () => signal.removeEventListener("abort", onAbort);
      }
      if (flight.deadline) this.ensureSweep();
      this.outbound.publish(flight);
    });
  }

  /** QoS 0 on a live connection with nothing queued: no flow to track, so no bookkeeping. */
  private publishNow(
    topic: string,
    payload: string | Uint8Array,
    options: PublishOptions,
  ): Promise<PublishResult> {
    try {
      this.checkPublish(topic, payload, 0, options);
      this.writePublish({
        type: "publish",
        topic,
        payload: typeof payload === "string" ? Buffer.from(payload, "utf8") : payload,
        qos: 0,
        retain: options.retain ?? false,
        dup: false,
        properties: this.protocolVersion === 5 ? toProperties(options.properties) : undefined,
      });
    } catch (error) {
      return Promise.reject(error);
    }
    const connection = this.connection;
    if (!connection || connection.writable) return Promise.resolve(QOS0_RESULT);
    // Backpressure: resolve once the socket has room again.
    return new Promise((resolve) => connection.whenWritable(() => resolve(QOS0_RESULT)));
  }

  private checkPublish(
    topic: string,
    payload: string | Uint8Array,
    qos: number,
    options: PublishOptions,
  ): void {
    if (this.state === "closed") throw closedError();
    if (this.state === "idle") {
      throw new MQTTError("not connected: call connect() first", { code: "MQTT_NOT_CONNECTED" });
    }
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
    if (qos > this.brokerMaximumQoS) {
      throw new MQTTError(`the broker supports QoS up to ${this.brokerMaximumQoS}`, {
        code: "MQTT_QOS_NOT_SUPPORTED",
        reasonCode: 0x9b,
      });
    }
    if (options.retain && !this.brokerRetainAvailable) {
      throw new MQTTError("the broker does not support retained messages", {
        code: "MQTT_RETAIN_NOT_SUPPORTED",
        reasonCode: 0x9a,
      });
    }
  }

  /** Encodes a PUBLISH for the current connection (topic alias, size limit) and queues it. */
  private writePublish(packet: PublishPacket): void {
    const connection = this.connection;
    if (!connection) return;
    let wire = packet;
    if (this.brokerTopicAliasMaximum > 0 && this.options.outgoingTopicAliases) {
      wire = this.applyOutboundAlias(packet);
    }
    const bytes = connection.encode(wire);
    if (bytes.length > this.brokerMaximumPacketSize) {
      throw new MQTTError(
        `the message on "${packet.topic}" is ${bytes.length} bytes; the broker accepts at most ${this.brokerMaximumPacketSize}`,
        { code: "MQTT_PACKET_TOO_LARGE", reasonCode: 0x95 },
      );
    }
    connection.sendEncoded(bytes);
  }

  /** §3.3.2.3.4: the first use of a topic sets an alias, later ones send only the alias. */
  private applyOutboundAlias(packet: PublishPacket): PublishPacket {
    const alias = this.outboundAliases.get(packet.topic);
    if (alias !== undefined) {
      return { ...packet, topic: "", properties: { ...packet.properties, topicAlias: alias } };
    }
    if (this.outboundAliases.size < this.brokerTopicAliasMaximum) {
      const next = this.outboundAliases.size + 1;
      this.outboundAliases.set(packet.topic, next);
      return { ...packet, properties: { ...packet.properties, topicAlias: next } };
    }
    return packet;
  }

  // ─── subscribe / unsubscribe ────────────────────────────────────────────────────────────

  /**
   * Subscribes to one filter, a list, or a map of filter → options. Resolves with one result
   * per filter (granted QoS or failure reason code). When *every* filter is refused it rejects
   * with MQTTError `MQTT_SUBSCRIBE_FAILED` whose `reasonCode` is the first failure; partial
   * failures resolve, and the caller reads `reasonCode` per topic.
   */
  async subscribe(
    topics: string | string[] | Record<string, SubscribeOptions>,
    options: SubscribeOptions = {},
  ): Promise<SubscribeResult[]> {
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
      if (this.protocolVersion === 5) {
        if (o.noLocal !== undefined) s.noLocal = o.noLocal;
        if (o.retainAsPublished !== undefined) s.retainAsPublished = o.retainAsPublished;
        if (o.retainHandling !== undefined) s.retainHandling = o.retainHandling;
      }
      return s;
    });
    const properties: Properties = {};
    if (this.protocolVersion === 5) {
      if (options.subscriptionIdentifier !== undefined)
        properties.subscriptionIdentifiers = [options.subscriptionIdentifier];
      if (options.userProperties) properties.userProperties = options.userProperties;
    }
    const suback = (await this.sendRequest(
      "subscribe",
      (packetId) => ({
        type: "subscribe",
        packetId,
        subscriptions,
        properties: Object.keys(properties).length > 0 ? properties : undefined,
      }),
      options,
    )) as SubackPacket;
    if (suback.reasonCodes.length !== subscriptions.length) {
      const error = new MQTTError(
        `SUBACK has ${suback.reasonCodes.length} reason codes for ${subscriptions.length} topic filters`,
        { code: "MQTT_PROTOCOL_ERROR", reasonCode: 0x82 },
      );
      this.protocolError(error);
      throw error;
    }
    const results = subscriptions.map((s, i): SubscribeResult => {
      const code = suback.reasonCodes[i];
      const granted = code < 0x80 && isQoS(code) ? code : undefined;
      if (granted !== undefined) {
        this.subscriptions.set(s.topicFilter, {
          ...s,
          identifier: options.subscriptionIdentifier,
        });
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

  /** Unsubscribes; resolves with the UNSUBACK reason codes (MQTT 5; 3.1.1 gives none). */
  async unsubscribe(
    topics: string | string[],
    options: UnsubscribeOptions = {},
  ): Promise<number[]> {
    const filters = typeof topics === "string" ? [topics] : topics;
    if (filters.length === 0) {
      throw new MQTTError("unsubscribe() needs at least one topic filter", {
        code: "MQTT_INVALID_ARGUMENT",
      });
    }
    for (const filter of filters) assertTopicFilter(filter);
    const unsuback = (await this.sendRequest(
      "unsubscribe",
      (packetId) => ({
        type: "unsubscribe",
        packetId,
        topicFilters: filters,
        properties:
          this.protocolVersion === 5 && options.userProperties
            ? { userProperties: options.userProperties }
            : undefined,
      }),
      options,
    )) as UnsubackPacket;
    if (this.protocolVersion === 5 && unsuback.reasonCodes.length !== filters.length) {
      const error = new MQTTError(
        `UNSUBACK has ${unsuback.reasonCodes.length} reason codes for ${filters.length} topic filters`,
        { code: "MQTT_PROTOCOL_ERROR", reasonCode: 0x82 },
      );
      this.protocolError(error);
      throw error;
    }
    for (const filter of filters) this.subscriptions.delete(filter);
    return unsuback.reasonCodes;
  }

  /** Sends SUBSCRIBE/UNSUBSCRIBE (waiting for a connection if need be) and awaits its ack.
   * A connection lost meanwhile resends it after the reconnect. */
  private sendRequest(
    kind: "subscribe" | "unsubscribe",
    build: (packetId: number) => PendingRequest["packet"],
    options: { signal?: AbortSignal; timeout?: number },
  ): Promise<SubackPacket | UnsubackPacket> {
    return withDeadline(
      options.signal,
      options.timeout ?? this.defaultTimeout,
      kind,
      (resolve, reject) => {
        let packetId = 0;
        let cancelled = false;
        const start = () => {
          if (cancelled) return;
          packetId = this.ids.allocate();
          if (packetId === 0) {
            reject(
              new MQTTError("all 65535 packet identifiers are in use", {
                code: "MQTT_PACKET_IDS_EXHAUSTED",
              }),
            );
            return;
          }
          const packet = build(packetId);
          this.requests.set(packetId, {
            packet,
            resolve: resolve as (p: SubackPacket | UnsubackPacket) => void,
            reject,
          });
          try {
            this.connection?.send(packet);
          } catch (error) {
            this.requests.delete(packetId);
            this.ids.release(packetId);
            reject(error as Error);
          }
        };
        this.whenConnected(start, reject);
        return () => {
          cancelled = true;
          if (packetId && this.requests.has(packetId)) {
            // The ack may still come; keep the id reserved until then.
            const pending = this.requests.get(packetId);
            if (pending) {
              pending.resolve = () => {};
              pending.reject = () => {};
            }
          }
        };
      },
    );
  }

  // ─── receiving ──────────────────────────────────────────────────────────────────────────

  /** Calls `handler` for every received message; returns a function that removes it. */
  onMessage(handler: MessageHandler): () => void {
    this.inbound.handlers.add(handler);
    return () => {
      this.inbound.handlers.delete(handler);
    };
  }

  /**
   * Received messages as an async iterator, optionally only those matching a topic filter (MQTT
   * wildcards) or a predicate. A consumer that falls behind pauses reading from the socket.
   * Ends when the client closes; `break` or `signal` ends it early.
   */
  messages(
    filter?: MessageFilter,
    options: { signal?: AbortSignal; highWaterMark?: number } = {},
  ): AsyncIterableIterator<MQTTMessage> {
    const stream = new MessageStream(
      filter,
      Math.max(1, options.highWaterMark ?? this.options.highWaterMark ?? 1000),
      this.inbound.streamHost,
      options.signal,
    );
    if (this.state === "closed") stream.end();
    else this.inbound.streams.add(stream);
    return stream;
  }

  // ─── request / response (MQTT 5 §4.10) ──────────────────────────────────────────────────

  /**
   * Publishes a request with a Response Topic and Correlation Data and resolves with the first
   * message that comes back on that topic with the same correlation data.
   */
  async request(
    topic: string,
    payload: string | Uint8Array,
    options: RequestOptions = {},
  ): Promise<MQTTMessage> {
    if (this.protocolVersion !== 5) {
      throw new MQTTError("request/response needs MQTT 5", { code: "MQTT_UNSUPPORTED" });
    }
    const responseTopic = options.responseTopic ?? (await this.ensureResponseTopic(options));
    const correlation = randomBytes(16);
    const key = correlation.toString("hex");
    const timeout = options.timeout ?? this.defaultTimeout;
    const response = withDeadline<MQTTMessage>(
      options.signal,
      timeout,
      "request",
      (resolve, reject) => {
        this.inbound.responses.set(key, { resolve, reject });
        return () => this.inbound.responses.delete(key);
      },
    );
    try {
      await this.publish(topic, payload, {
        ...options,
        properties: { ...options.properties, responseTopic, correlationData: correlation },
      });
    } catch (error) {
      this.inbound.responses.get(key)?.reject(error as Error);
    }
    return response;
  }

  /** Answers a request received with `request()` semantics (Response Topic + Correlation Data). */
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
    return this.publish(responseTopic, payload, { ...options, properties });
  }

  private ensureResponseTopic(options: RequestOptions): Promise<string> {
    if (!this.inbound.responseTopic) {
      const base = this.responseInformation ?? "mtaio/responses";
      this.inbound.responseTopic = `${base}/${this.id || "client"}/${randomBytes(6).toString("hex")}`;
    }
    const topic = this.inbound.responseTopic;
    this.responseSubscription ??= this.subscribe(topic, {
      qos: 1,
      noLocal: true,
      signal: options.signal,
    }).catch((error) => {
      this.responseSubscription = undefined;
      throw error;
    });
    return this.responseSubscription.then(() => topic);
  }

  // ─── enhanced authentication (MQTT 5 §4.12) ─────────────────────────────────────────────

  /** Starts re-authentication (AUTH 0x19) with the configured `auth` method. */
  async reauthenticate(data?: Uint8Array): Promise<void> {
    const auth = this.options.auth;
    if (!auth || this.protocolVersion !== 5 || !this.connection) {
      throw new MQTTError("re-authentication needs MQTT 5, an `auth` option and a connection", {
        code: "MQTT_UNSUPPORTED",
      });
    }
    this.connection.send({
      type: "auth",
      reasonCode: 0x19,
      properties: { authenticationMethod: auth.method, authenticationData: data ?? auth.data },
    });
  }

  // ─── the connection lifecycle ───────────────────────────────────────────────────────────

  private get defaultTimeout(): number {
    return this.options.timeout ?? 30_000;
  }

  /** Opens a transport, sends CONNECT and waits for CONNACK. */
  private async establish(cleanStart: boolean, signal?: AbortSignal): Promise<ConnectResult> {
    const session = this.session;
    if (!session) throw new MQTTError("no endpoint", { code: "MQTT_NOT_CONNECTED" });
    const { endpoint, options } = session;
    const timeout = options.timeout ?? this.defaultTimeout;
    const deadline = timeout > 0 ? Date.now() + timeout : 0;
    const connection = new Connection(
      this.protocolVersion,
      this.options.maximumPacketSize ?? 16 * 1024 * 1024,
      {
        packet: (packet) => this.onPacket(connection, packet),
        failed: (error) => {
          if (this.connection === connection) this.emitError(error);
          this.connackWaiter?.reject(error);
        },
        beforeWrite: () => this.store.flush?.(),
      },
    );
    this.connection = connection;
    const transportOptions: TransportOptions = {
      protocol: endpoint.protocol,
      host: endpoint.host,
      port: endpoint.port,
      path: endpoint.path,
      tls: options.tls,
      websocket: options.websocket,
      signal,
      timeout: timeout > 0 ? timeout : 2 ** 31 - 1,
    };
    let transport: Transport;
    try {
      transport = await openTransport(transportOptions, {
        data: (chunk) => connection.receive(chunk),
        drain: () => connection.drained(),
        close: (error) => {
          connection.destroy();
          this.onClosed(connection, error);
        },
      });
    } catch (error) {
      if (this.connection === connection) this.connection = undefined;
      connection.destroy();
      throw error;
    }
    if (this.connection !== connection) {
      transport.destroy();
      throw new MQTTError("connect cancelled", { code: "MQTT_CLIENT_DISCONNECTED" });
    }
    connection.attach(transport);

    const connack = withDeadline<ConnectResult>(
      signal,
      deadline ? Math.max(1, deadline - Date.now()) : 0,
      "CONNACK",
      (resolve, reject) => {
        this.connackWaiter = { resolve, reject };
        return () => {
          this.connackWaiter = undefined;
        };
      },
    );
    try {
      connection.send(this.connectPacket(cleanStart, endpoint, options));
    } catch (error) {
      connection.destroy();
      throw error;
    }
    try {
      return await connack;
    } catch (error) {
      if (this.connection === connection) this.connection = undefined;
      connection.destroy();
      throw error;
    }
  }

  /** CONNACK is handled synchronously: packets behind it in the same chunk need the new state. */
  private handleConnack(connection: Connection, packet: ConnackPacket): void {
    const waiter = this.connackWaiter;
    if (!waiter) return;
    if (packet.reasonCode >= (this.protocolVersion === 5 ? 0x80 : 1)) {
      waiter.reject(connackError(packet, this.protocolVersion));
      return;
    }
    waiter.resolve(this.onConnack(connection, packet));
  }

  private connectPacket(
    cleanStart: boolean,
    endpoint: Endpoint,
    options: ConnectOptions,
  ): ConnectPacket {
    const o = this.options;
    const v5 = this.protocolVersion === 5;
    const properties: Properties = {};
    if (v5) {
      if (o.sessionExpiryInterval) properties.sessionExpiryInterval = o.sessionExpiryInterval;
      properties.receiveMaximum = clamp(o.receiveMaximum ?? 65535, 1, 65535);
      properties.maximumPacketSize = o.maximumPacketSize ?? 16 * 1024 * 1024;
      properties.topicAliasMaximum = clamp(o.topicAliasMaximum ?? 64, 0, 65535);
      if (o.requestResponseInformation) properties.requestResponseInformation = true;
      if (o.userProperties) properties.userProperties = o.userProperties;
      if (o.auth) {
        properties.authenticationMethod = o.auth.method;
        if (o.auth.data) properties.authenticationData = o.auth.data;
      }
    }
    const packet: ConnectPacket = {
      type: "connect",
      protocolVersion: this.protocolVersion,
      clientId: this.id,
      clean: cleanStart,
      keepalive: clamp(o.keepalive ?? 60, 0, 65535),
      properties: v5 ? properties : undefined,
    };
    const username = options.username ?? endpoint.username;
    const password = options.password ?? endpoint.password;
    if (username !== undefined) packet.username = username;
    if (password !== undefined) packet.password = password;
    if (o.will) {
      assertTopicName(o.will.topic);
      const payload = o.will.payload ?? EMPTY;
      packet.will = {
        topic: o.will.topic,
        payload: typeof payload === "string" ? Buffer.from(payload, "utf8") : payload,
        qos: o.will.qos ?? 0,
        retain: o.will.retain ?? false,
        properties: v5 ? toProperties(o.will.properties) : undefined,
      };
    }
    return packet;
  }

  private onConnack(connection: Connection, packet: ConnackPacket): ConnectResult {
    const p = packet.properties ?? {};
    if (p.assignedClientIdentifier) this.id = p.assignedClientIdentifier;
    this.brokerMaximumPacketSize = p.maximumPacketSize ?? Number.POSITIVE_INFINITY;
    this.brokerTopicAliasMaximum = p.topicAliasMaximum ?? 0;
    this.brokerMaximumQoS = p.maximumQoS ?? 2;
    this.brokerRetainAvailable = p.retainAvailable ?? true;
    this.responseInformation = p.responseInformation ?? this.responseInformation;
    this.outboundAliases = new Map();
    const keepalive = p.serverKeepAlive ?? this.options.keepalive ?? 60;
    connection.startKeepalive(
      keepalive,
      Math.min(this.options.pingTimeout ?? 10_000, Math.max(1000, keepalive * 1000)),
    );
    if (this.inbound.paused) connection.pause();
    this.state = "connected";
    this.backoff.reset();
    this.reconnectAttempts = 0;
    const reconnected = this.connectedOnce;
    this.connectedOnce = true;
    // §3.2.2.1.1 [MQTT-3.2.2-5]: no session on the broker, so none here either.
    this.inbound.connected(packet.sessionPresent);
    if (!packet.sessionPresent && reconnected) this.resubscribe();
    // Unanswered SUBSCRIBE/UNSUBSCRIBE from before the cut go out again.
    for (const request of this.requests.values()) connection.send(request.packet);
    this.outbound.connected(packet.sessionPresent, p.receiveMaximum ?? 65535);
    const result: ConnectResult = {
      sessionPresent: packet.sessionPresent,
      reasonCode: packet.reasonCode,
      clientId: this.id,
      properties: p,
    };
    this.emit("connect", result);
    const waiters = this.connectWaiters;
    this.connectWaiters = [];
    for (const waiter of waiters) waiter.resolve();
    return result;
  }

  /** The broker lost our subscriptions: subscribe again to everything granted before. */
  private resubscribe(): void {
    const all = [...this.subscriptions.values()];
    const byIdentifier = new Map<number | undefined, Subscription[]>();
    for (const s of all) {
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
      for (let i = 0; i < list.length; i += 100) {
        const chunk = list.slice(i, i + 100);
        const packetId = this.ids.allocate();
        if (packetId === 0) return;
        const packet: PendingRequest["packet"] = {
          type: "subscribe",
          packetId,
          subscriptions: chunk,
          properties:
            identifier !== undefined && this.protocolVersion === 5
              ? { subscriptionIdentifiers: [identifier] }
              : undefined,
        };
        this.requests.set(packetId, {
          packet,
          resolve: (ack) => {
            const failed = ack.reasonCodes.findIndex((c) => c >= 0x80);
            if (failed >= 0) {
              this.emitError(
                new MQTTError(
                  `resubscribing to "${chunk[failed].topicFilter}" failed (reason 0x${ack.reasonCodes[failed].toString(16)})`,
                  { code: "MQTT_SUBSCRIBE_FAILED", reasonCode: ack.reasonCodes[failed] },
                ),
              );
            }
          },
          reject: () => {},
        });
      }
    }
  }

  private onClosed(connection: Connection, error: Error | undefined): void {
    if (this.connection !== connection) return;
    this.connection = undefined;
    const wasConnected = this.state === "connected";
    this.outbound.disconnected();
    this.connackWaiter?.reject(
      error instanceof MQTTError
        ? error
        : new MQTTError("the connection closed before CONNACK", {
            code: "MQTT_CONNECTION_CLOSED",
            cause: error,
          }),
    );
    if (!wasConnected) return;
    this.emit("offline", { error });
    if (this.reconnectOptions && this.session && !this.takenOver) {
      this.state = "reconnecting";
      this.scheduleReconnect();
    } else {
      this.state = "idle";
      this.failWaiters(
        new MQTTError("the connection was lost", { code: "MQTT_CONNECTION_LOST", cause: error }),
      );
      this.emit("close", undefined);
    }
  }

  private scheduleReconnect(): void {
    const options = this.reconnectOptions;
    if (!options || this.state !== "reconnecting") return;
    if (options.maxAttempts !== undefined && this.reconnectAttempts >= options.maxAttempts) {
      this.giveUp(
        new MQTTError(`gave up after ${this.reconnectAttempts} reconnect attempts`, {
          code: "MQTT_RECONNECT_FAILED",
        }),
      );
      return;
    }
    const delay = this.backoff.next();
    this.reconnectAttempts++;
    this.emit("reconnect", { attempt: this.reconnectAttempts, delay });
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.state !== "reconnecting") return;
      this.establish(!this.sessionOutlivesConnection).then(
        () => {},
        (error: unknown) => {
          if (this.state !== "reconnecting") return;
          this.emitError(error);
          if (
            error instanceof MQTTError &&
            error.code === "MQTT_CONNECT_REFUSED" &&
            error.reasonCode !== undefined &&
            (this.protocolVersion === 5 ? FATAL_CONNACK_V5 : FATAL_CONNACK_V4).has(error.reasonCode)
          ) {
            this.giveUp(error);
            return;
          }
          this.scheduleReconnect();
        },
      );
    }, delay);
  }

  /** Whether the broker keeps our session across a lost connection. */
  private get sessionOutlivesConnection(): boolean {
    return this.protocolVersion === 5
      ? (this.options.sessionExpiryInterval ?? 0) > 0
      : this.options.clean === false;
  }

  private giveUp(error: Error): void {
    this.state = "idle";
    this.failWaiters(error);
    this.emit("close", undefined);
  }

  /** Runs `start` once connected (now or after a reconnect); rejects if that cannot happen. */
  private whenConnected(start: () => void, reject: (error: Error) => void): void {
    if (this.state === "connected") start();
    else if (this.state === "connecting" || this.state === "reconnecting")
      this.connectWaiters.push({ resolve: start, reject });
    else reject(this.state === "closed" ? closedError() : notConnected());
  }

  private failWaiters(error: Error): void {
    const waiters = this.connectWaiters;
    this.connectWaiters = [];
    for (const waiter of waiters) waiter.reject(error);
    for (const [id, request] of this.requests) {
      this.ids.release(id);
      request.reject(error);
    }
    this.requests.clear();
    this.outbound.rejectAll(error);
    for (const pending of this.inbound.responses.values()) pending.reject(error);
    this.inbound.responses.clear();
    this.responseSubscription = undefined;
  }

  private protocolError(error: MQTTError): void {
    const connection = this.connection;
    if (connection) connection.fail(error);
    else this.emitError(error);
  }

  /** Emits an event; a listener that throws is reported through `error`, never to the caller. */
  private emit<K extends Exclude<keyof MQTTClientEvents, "error">>(
    event: K,
    value: MQTTClientEvents[K],
  ): void {
    for (const error of this.events.emit(event, value)) this.emitError(error);
  }

  private emitError(error: unknown): void {
    const err =
      error instanceof Error
        ? error
        : new MQTTError(String(error), { code: "MQTT_ERROR", cause: error });
    this.events.emit("error", err);
  }

  private ensureSweep(): void {
    if (this.sweepTimer) return;
    this.sweepTimer = setInterval(() => {
      this.outbound.sweep(Date.now());
      if (this.outbound.pending === 0) {
        clearInterval(this.sweepTimer);
        this.sweepTimer = undefined;
      }
    }, 1000);
    this.sweepTimer.unref();
  }

  // ─── incoming packets ───────────────────────────────────────────────────────────────────

  private onPacket(connection: Connection, packet: Packet): void {
    if (this.connection !== connection) return;
    if (this.state !== "connected") {
      // Before CONNACK only CONNACK, AUTH and DISCONNECT may come (§3.1.4, §4.12).
      if (packet.type === "connack") this.handleConnack(connection, packet);
      else if (packet.type === "auth")
        this.onAuth(connection, packet.reasonCode ?? 0, packet.properties);
      else if (packet.type === "disconnect")
        this.onDisconnect(connection, packet.reasonCode ?? 0, packet.properties);
      else
        connection.fail(
          new MQTTError(`the broker sent ${packet.type.toUpperCase()} before CONNACK`, {
            code: "MQTT_PROTOCOL_ERROR",
            reasonCode: 0x82,
          }),
        );
      return;
    }
    switch (packet.type) {
      case "publish":
        this.inbound.publish(packet);
        break;
      case "puback":
        this.outbound.puback(packet.packetId, packet.reasonCode ?? 0, packet.properties);
        break;
      case "pubrec":
        this.outbound.pubrec(packet.packetId, packet.reasonCode ?? 0, packet.properties);
        break;
      case "pubcomp":
        this.outbound.pubcomp(packet.packetId, packet.reasonCode ?? 0, packet.properties);
        break;
      case "pubrel":
        this.inbound.pubrel(packet.packetId, this.protocolVersion);
        break;
      case "suback":
      case "unsuback": {
        const request = this.requests.get(packet.packetId);
        if (
          !request ||
          request.packet.type !== (packet.type === "suback" ? "subscribe" : "unsubscribe")
        ) {
          connection.fail(
            new MQTTError(
              `the broker sent ${packet.type.toUpperCase()} for unknown packet id ${packet.packetId}`,
              { code: "MQTT_PROTOCOL_ERROR", reasonCode: 0x82 },
            ),
          );
          return;
        }
        this.requests.delete(packet.packetId);
        this.ids.release(packet.packetId);
        request.resolve(packet);
        break;
      }
      case "disconnect":
        this.onDisconnect(connection, packet.reasonCode ?? 0, packet.properties);
        break;
      case "auth":
        this.onAuth(connection, packet.reasonCode ?? 0, packet.properties);
        break;
      default:
        connection.fail(
          new MQTTError(`a broker must not send ${packet.type.toUpperCase()}`, {
            code: "MQTT_PROTOCOL_ERROR",
            reasonCode: 0x82,
          }),
        );
    }
  }

  private onDisconnect(connection: Connection, reasonCode: number, properties?: Properties): void {
    this.emit("disconnect", { reasonCode, properties: properties ?? {} });
    if (reasonCode >= 0x80) {
      this.emitError(
        new MQTTError(
          `the broker disconnected us (reason 0x${reasonCode.toString(16)}${properties?.reasonString ? `: ${properties.reasonString}` : ""})`,
          { code: "MQTT_DISCONNECTED_BY_BROKER", reasonCode },
        ),
      );
    }
    // 0x8E: another connection with our client id took the session over; reconnecting would
    // only take it back and start a tug of war (MQTT 5 §3.1.4-3).
    if (reasonCode === 0x8e) this.takenOver = true;
    connection.destroy();
  }

  private onAuth(connection: Connection, reasonCode: number, properties?: Properties): void {
    const auth = this.options.auth;
    if (!auth || properties?.authenticationMethod !== auth.method) {
      connection.fail(
        new MQTTError("the broker sent AUTH for a method we did not ask for", {
          code: "MQTT_PROTOCOL_ERROR",
          reasonCode: 0x82,
        }),
      );
      return;
    }
    if (reasonCode !== 0x18) return; // 0x00: re-authentication succeeded.
    Promise.resolve()
      .then(() => auth.onChallenge(properties.authenticationData, properties))
      .then(
        (data) => {
          if (this.connection !== connection) return;
          connection.send({
            type: "auth",
            reasonCode: 0x18,
            properties: { authenticationMethod: auth.method, authenticationData: data },
          });
        },
        (error: unknown) =>
          connection.fail(
            new MQTTError("the authentication hook failed", {
              code: "MQTT_AUTH_FAILED",
              reasonCode: 0x87,
              cause: error,
            }),
          ),
      );
  }
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, Math.trunc(value)));
}

function toProperties(properties: MessageProperties | undefined): Properties | undefined {
  if (!properties) return undefined;
  const { subscriptionIdentifiers: _ignored, ...rest } = properties;
  return rest as Properties;
}

function closedError(): MQTTError {
  return new MQTTError("the client is closed", { code: "MQTT_CLIENT_CLOSED" });
}

function notConnected(): MQTTError {
  return new MQTTError("not connected: call connect() first", { code: "MQTT_NOT_CONNECTED" });
}

function connackError(packet: ConnackPacket, version: 4 | 5): MQTTError {
  const code = packet.reasonCode;
  const why =
    version === 4
      ? (CONNACK_TEXT_V4[code] ?? `return code ${code}`)
      : `reason 0x${code.toString(16)}${packet.properties?.reasonString ? `: ${packet.properties.reasonString}` : ""}`;
  return new MQTTError(`the broker refused the connection (${why})`, {
    code: "MQTT_CONNECT_REFUSED",
    reasonCode: code,
  });
}
