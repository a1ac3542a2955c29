/**
 * MQTTClient: the MQTT 3.1.1 / 5.0 session state machine and the public API.
 *
 *   idle ──connect()──▶ connecting ──CONNACK──▶ connected ──lost──▶ reconnecting ─┐
 *     ▲                     │ refused/failed                  ▲                  │
 *     └─────────────────────┘                                 └──CONNACK─────────┘
 *   disconnect() → idle; close() → closed (final).
 *
 * This file owns the state, the connection lifecycle (CONNECT/CONNACK, loss, DISCONNECT) and
 * the routing of incoming packets. The rest has a file each: Outbound (QoS flows out),
 * Inbound (messages in), Publisher (the publish API), Subscriptions, Reconnector, Requester
 * (request/response), handshake (CONNECT/CONNACK contents), auth; the bytes live in
 * Connection, the socket in a Transport.
 */
import { randomBytes } from "node:crypto";
import { MQTTError } from "../../errors.js";
import { withDeadline } from "../../shared/deadline.js";
import type { ConnackPacket, Packet, Properties } from "../codec/index.js";
import { answerAuth, startReauthentication } from "./auth.js";
import { brokerLimits } from "./broker-limits.js";
import { closedError, deadlineError } from "./client-errors.js";
import { Connection } from "./connection.js";
import { SessionContext, type SessionState } from "./context.js";
import type { ClientEvents } from "./events.js";
import {
  buildConnect,
  clamp,
  connackError,
  DEFAULT_MAXIMUM_PACKET_SIZE,
  isRefusal,
  sessionPresentError,
} from "./handshake.js";
import { Inbound, type MessageHandler } from "./inbound.js";
import type { MQTTMessage } from "./message.js";
import { type MessageFilter, MessageStream } from "./message-stream.js";
import type {
  ConnectOptions,
  ConnectResult,
  DisconnectOptions,
  FailoverConnectOptions,
  MQTTClientEvents,
  MQTTClientOptions,
  PublishOptions,
  PublishResult,
  RequestOptions,
  ServerAddress,
  SubscribeOptions,
  SubscribeResult,
  UnsubscribeOptions,
} from "./options.js";
import { parseEndpoint, parseServers } from "./options.js";
import { Outbound } from "./outbound.js";
import { Publisher } from "./publisher.js";
import { Reconnector } from "./reconnect.js";
import { DEFAULT_MAX_REDIRECTS, type ServerRedirect, serverRedirect } from "./redirect.js";
import { Requester } from "./request-response.js";
import { noServerAnswered, ServerList, serverLabel } from "./servers.js";
import { type MQTTStore, NoStore } from "./store.js";
import { Subscriptions } from "./subscriptions.js";
import { openTransport, type Transport, type TransportOptions } from "./transport.js";

export type { MessageHandler };

interface Session {
  /** One member, or several with failover (`connect({ servers })`). */
  servers: ServerList;
  options: ConnectOptions;
}

/**
 * An MQTT 3.1.1 / 5.0 client: QoS 0/1/2 both ways, reconnection that resends unfinished
 * flows, a pluggable store (`FileStore` survives a crash), TCP, TLS and WebSocket.
 *
 * @example
 * ```ts
 * const client = new MQTTClient({ protocolVersion: 5 });
 * await using _ = client;
 * await client.connect("mqtt://localhost:1883");
 * await client.subscribe("sensors/+/temperature", { qos: QoS.AT_LEAST_ONCE });
 * await client.publish("sensors/kitchen/temperature", "21.5", { qos: QoS.AT_LEAST_ONCE });
 * for await (const message of client.messages("sensors/+/temperature")) {
 *   console.log(message.topic, message.text());
 *   break;
 * }
 * ```
 */
export class MQTTClient {
  /** What every part of the client reads: state, connection, limits, store, ids, events. */
  private readonly ctx: SessionContext;
  private readonly options: MQTTClientOptions;
  /** 4 for MQTT 3.1.1, 5 for MQTT 5.0 (from the options; default 5). */
  readonly protocolVersion: 4 | 5;
  private storeLoaded = false;
  private readonly outbound: Outbound;
  private readonly inbound: Inbound;
  private readonly publisher: Publisher;
  private readonly subscriptions: Subscriptions;
  private readonly requester: Requester;
  private readonly reconnector: Reconnector;
  private session: Session | undefined;
  private connectedOnce = false;
  /** The Clean Start flag of the CONNECT awaiting its CONNACK. */
  private cleanStart = true;
  private takenOver = false;
  private connackWaiter:
    | { resolve: (result: ConnectResult) => void; reject: (e: Error) => void }
    | undefined;
  /** Where the refusal of the attempt in progress redirects us (MQTT 5 §4.11), if anywhere. */
  private redirect: ServerRedirect | undefined;

  constructor(options: MQTTClientOptions = {}) {
    this.options = { ...options };
    const version = options.protocolVersion ?? 5;
    if (version !== 4 && version !== 5) {
      throw new MQTTError(`protocolVersion must be 4 or 5, not ${String(version)}`, {
        code: "MQTT_INVALID_ARGUMENT",
      });
    }
    this.protocolVersion = version;
    const ctx = new SessionContext(
      version,
      this.options,
      options.clientId ?? (version === 5 ? "" : `mtaio_${randomBytes(8).toString("hex")}`),
      options.store ?? new NoStore(),
    );
    this.ctx = ctx;
    this.reconnector = new Reconnector(
      options.reconnect === false
        ? false
        : typeof options.reconnect === "object"
          ? options.reconnect
          : {},
      ctx,
      {
        attempt: () => this.establish(!this.sessionOutlivesConnection),
        nextServer: () => this.session?.servers.next() ?? true,
        refused: (error) => (this.session ? this.session.servers.refuse(error) : error),
        giveUp: (error) => this.giveUp(error),
      },
    );
    this.outbound = new Outbound(
      ctx,
      options.queueLimit ?? 10_000,
      options.outgoingTopicAliases ?? false,
    );
    this.inbound = new Inbound(
      ctx,
      clamp(options.topicAliasMaximum ?? 64, 0, 65535),
      clamp(options.receiveMaximum ?? 65535, 1, 65535),
      options.dedupeRedeliveries ?? true,
    );
    this.publisher = new Publisher(ctx, this.outbound);
    this.subscriptions = new Subscriptions(ctx);
    this.requester = new Requester(ctx, this.inbound, this.publisher, this.subscriptions);
  }

  // The session context holds these; the lifecycle code below reads and sets them here.
  private get state(): SessionState {
    return this.ctx.state;
  }
  private set state(state: SessionState) {
    this.ctx.state = state;
  }
  private get connection(): Connection | undefined {
    return this.ctx.connection;
  }
  private set connection(connection: Connection | undefined) {
    this.ctx.connection = connection;
  }
  private get id(): string {
    return this.ctx.clientId;
  }
  private set id(id: string) {
    this.ctx.clientId = id;
  }
  private get responseInformation(): string | undefined {
    return this.ctx.responseInformation;
  }
  private set responseInformation(information: string | undefined) {
    this.ctx.responseInformation = information;
  }
  private get events(): ClientEvents {
    return this.ctx.events;
  }
  private get store(): MQTTStore {
    return this.ctx.store;
  }

  // ─── public state ───────────────────────────────────────────────────────────────────────

  /** The client identifier in use (the broker's choice when it assigned one). */
  get clientId(): string {
    return this.id;
  }

  /** True while a connection is up and CONNACK accepted it. */
  get connected(): boolean {
    return this.state === "connected";
  }

  /**
   * The broker in use, or the one the next attempt goes to (with `connect({ servers })`,
   * whichever member answered; after an MQTT 5 server redirection, the server it led to), with
   * its protocol and port filled in; undefined before `connect()`.
   */
  get server(): ServerAddress | undefined {
    const endpoint = this.session?.servers.current;
    return endpoint && { protocol: endpoint.protocol, host: endpoint.host, port: endpoint.port };
  }

  /** Outgoing messages not yet completely acknowledged (in flight plus queued). */
  get pendingCount(): number {
    return this.outbound.pending;
  }

  /**
   * Adds an event listener; returns the function that removes it.
   *
   * @example
   * ```ts
   * const off = client.on("offline", ({ error }) => console.warn("offline", error?.message));
   * off();
   * ```
   */
  on<K extends keyof MQTTClientEvents>(
    event: K,
    listener: (value: MQTTClientEvents[K]) => void,
  ): () => void {
    return this.events.on(event, listener);
  }

  /**
   * Adds a listener for the next occurrence of an event only; returns the function that removes it.
   */
  once<K extends keyof MQTTClientEvents>(
    event: K,
    listener: (value: MQTTClientEvents[K]) => void,
  ): () => void {
    return this.events.once(event, listener);
  }

  // ─── connect / disconnect ───────────────────────────────────────────────────────────────

  /**
   * `connect(host, port?, options?)` or `connect(url, options?)` (mqtt, mqtts, ws, wss), or
   * `connect({ servers: [...], serverOrder? })` for several brokers: each member is tried once
   * and the first that accepts is used; a lost connection moves on to the next member.
   */
  connect(
    hostOrUrl: string,
    portOrOptions?: number | ConnectOptions,
    maybeOptions?: ConnectOptions,
  ): Promise<ConnectResult>;
  connect(options: FailoverConnectOptions): Promise<ConnectResult>;
  async connect(
    target: string | FailoverConnectOptions,
    portOrOptions?: number | ConnectOptions,
    maybeOptions?: ConnectOptions,
  ): Promise<ConnectResult> {
    let servers: ServerList;
    let options: ConnectOptions;
    if (typeof target === "object" && target !== null) {
      options = target;
      servers = new ServerList(parseServers(target), target.serverOrder ?? "in-order");
    } else {
      const port = typeof portOrOptions === "number" ? portOrOptions : undefined;
      options = (typeof portOrOptions === "object" ? portOrOptions : maybeOptions) ?? {};
      servers = new ServerList([parseEndpoint(target, port, options)]);
    }
    if (this.state === "closed") throw closedError();
    if (this.state !== "idle") {
      throw new MQTTError("connect() called while already connected or connecting", {
        code: "MQTT_ALREADY_CONNECTED",
      });
    }
    this.session = { servers, options };
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
      return await this.establishAny(servers, options.signal);
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
    this.reconnector.cancel();
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
        this.events.error(error);
      }
      connection.end();
    }
    this.outbound.disconnected();
    this.failWaiters(
      new MQTTError("the client disconnected", { code: "MQTT_CLIENT_DISCONNECTED" }),
    );
    this.events.notify("close", undefined);
  }

  /** Disconnects, ends every `messages()` iterator and closes the store. Final. */
  async close(): Promise<void> {
    if (this.state === "closed") return;
    await this.disconnect();
    this.state = "closed";
    this.publisher.stop();
    for (const stream of [...this.inbound.streams]) stream.end();
    await this.store.close();
  }

  /** `await using client = new MQTTClient()` runs `close()` at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // ─── publish / subscribe ────────────────────────────────────────────────────────────────

  /**
   * Publishes a message. Resolves when its QoS flow completes: at once for QoS 0 (once the
   * socket accepted it), on PUBACK for QoS 1, on PUBCOMP for QoS 2. A refusing reason code
   * (≥ 0x80) rejects with MQTTError `MQTT_PUBLISH_REFUSED` carrying it.
   *
   * A large Uint8Array payload is sent from the caller's buffer, without a copy: leave it
   * unchanged until the promise settles (a QoS 0 publish of one settles once the socket has
   * written it). After that the buffer is the caller's again.
   */
  publish(
    topic: string,
    payload: string | Uint8Array,
    options: PublishOptions = {},
  ): Promise<PublishResult> {
    return this.publisher.publish(topic, payload, options);
  }

  /**
   * Subscribes to one filter, a list, or a map of filter → options. Resolves with one result
   * per filter (granted QoS or failure reason code). When *every* filter is refused it rejects
   * with MQTTError `MQTT_SUBSCRIBE_FAILED` whose `reasonCode` is the first failure; partial
   * failures resolve, and the caller reads `reasonCode` per topic.
   */
  subscribe(
    topics: string | string[] | Record<string, SubscribeOptions>,
    options: SubscribeOptions = {},
  ): Promise<SubscribeResult[]> {
    return this.subscriptions.subscribe(topics, options);
  }

  /** Unsubscribes; resolves with the UNSUBACK reason codes (MQTT 5; 3.1.1 gives none). */
  unsubscribe(topics: string | string[], options: UnsubscribeOptions = {}): Promise<number[]> {
    return this.subscriptions.unsubscribe(topics, options);
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
  request(
    topic: string,
    payload: string | Uint8Array,
    options: RequestOptions = {},
  ): Promise<MQTTMessage> {
    return this.requester.request(topic, payload, options);
  }

  /** Answers a request received with `request()` semantics (Response Topic + Correlation Data). */
  respond(
    requestMessage: MQTTMessage,
    payload: string | Uint8Array,
    options: PublishOptions = {},
  ): Promise<PublishResult> {
    return this.requester.respond(requestMessage, payload, options);
  }

  // ─── enhanced authentication (MQTT 5 §4.12) ─────────────────────────────────────────────

  /** Starts re-authentication (AUTH 0x19) with the configured `auth` method. */
  async reauthenticate(data?: Uint8Array): Promise<void> {
    startReauthentication(this.connection, this.options.auth, this.protocolVersion, data);
  }

  // ─── the connection lifecycle ───────────────────────────────────────────────────────────

  /**
   * The first connection: each member once, in the round's order, until one accepts. Every
   * failure moves on (a member may be down, busy or misconfigured while the others work);
   * an abort or a `disconnect()` meanwhile stops at once.
   */
  private async establishAny(servers: ServerList, signal?: AbortSignal): Promise<ConnectResult> {
    const failures: Array<{ server: string; error: Error }> = [];
    for (;;) {
      const member = serverLabel(servers.current);
      try {
        return await this.establish(this.options.clean ?? true, signal);
      } catch (error) {
        if (servers.size === 1 || signal?.aborted || this.state !== "connecting") throw error;
        failures.push({ server: member, error: error as Error });
        if (servers.next()) throw noServerAnswered(failures);
      }
    }
  }

  /**
   * One attempt at the current member, following its server redirections (MQTT 5 §4.11): a
   * refusal with a Server Reference sends the attempt on to the servers named there, each in
   * turn, up to `maxRedirects` redirections in a row (then MQTT_REDIRECT_LOOP).
   */
  private async establish(cleanStart: boolean, signal?: AbortSignal): Promise<ConnectResult> {
    for (;;) {
      this.redirect = undefined;
      try {
        return await this.establishOnce(cleanStart, signal);
      } catch (error) {
        const redirect = this.redirect;
        this.redirect = undefined;
        const servers = this.session?.servers;
        const trying = this.state === "connecting" || this.state === "reconnecting";
        if (!servers || !trying || signal?.aborted) throw error;
        if (redirect) {
          const loop = servers.redirect(redirect, this.maxRedirects, { cause: error });
          if (loop) throw loop;
        } else if (!servers.nextTarget()) {
          throw error;
        }
      }
    }
  }

  /** Opens a transport to the current server, sends CONNECT and waits for CONNACK. */
  private async establishOnce(cleanStart: boolean, signal?: AbortSignal): Promise<ConnectResult> {
    const session = this.session;
    if (!session) throw new MQTTError("no endpoint", { code: "MQTT_NOT_CONNECTED" });
    const { options } = session;
    const endpoint = session.servers.current;
    const timeout = options.timeout ?? this.ctx.defaultTimeout;
    const deadline = timeout > 0 ? Date.now() + timeout : 0;
    this.cleanStart = cleanStart;
    const connection = new Connection(
      this.protocolVersion,
      this.options.maximumPacketSize ?? DEFAULT_MAXIMUM_PACKET_SIZE,
      {
        packet: (packet) => this.onPacket(connection, packet),
        failed: (error) => {
          if (this.connection === connection) this.events.error(error);
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

    const connackTimeout = deadline ? Math.max(1, deadline - Date.now()) : 0;
    const connack = withDeadline<ConnectResult>(
      connackTimeout,
      signal,
      deadlineError("CONNACK", connackTimeout),
      (resolve, reject) => {
        this.connackWaiter = { resolve, reject };
        return () => {
          this.connackWaiter = undefined;
        };
      },
    );
    try {
      connection.send(
        buildConnect(this.protocolVersion, this.id, this.options, cleanStart, endpoint, options),
      );
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
    if (isRefusal(packet, this.protocolVersion)) {
      this.redirect = this.redirectOf(packet.reasonCode, packet.properties);
      waiter.reject(connackError(packet, this.protocolVersion));
      return;
    }
    const mismatch = sessionPresentError(
      packet.sessionPresent,
      this.cleanStart,
      this.hasSessionState,
    );
    if (mismatch?.code === "MQTT_PROTOCOL_ERROR") {
      connection.fail(mismatch); // DISCONNECT 0x82, close, and connect() rejects.
      return;
    }
    if (mismatch) {
      // Rejecting makes establish() close the connection, as [MQTT-3.2.2-4] requires; no
      // DISCONNECT: the broker did nothing wrong, and the session stays for a later resume.
      waiter.reject(mismatch);
      return;
    }
    // A resumed session's queued messages follow CONNACK at once; let the caller of connect()
    // attach its iterators first (a reconnect has no caller waiting).
    if (packet.sessionPresent && this.state === "connecting") connection.holdPackets();
    waiter.resolve(this.onConnack(connection, packet));
  }

  /**
   * Whether we hold session state (MQTT 5 §4.1) a broker's session can continue:
   * - a store the caller gave us (what it holds is authoritative, even when empty);
   * - an earlier connection of this client whose session outlives it (our in-memory flows);
   * - `clean: false`, unless `requireKnownSession`: a client asked to resume a session holds
   *   one from the moment it is created, empty unless a store gives it more. What the broker
   *   queued arrives as new flows; a PUBREL for a QoS 2 message an earlier client received
   *   gets PUBCOMP "not found" (Inbound.pubrel), which loses and duplicates nothing.
   */
  private get hasSessionState(): boolean {
    return (
      this.options.store !== undefined ||
      (this.connectedOnce && this.sessionOutlivesConnection) ||
      (this.options.clean === false && this.options.requireKnownSession !== true)
    );
  }

  private onConnack(connection: Connection, packet: ConnackPacket): ConnectResult {
    const p = packet.properties ?? {};
    if (p.assignedClientIdentifier) this.id = p.assignedClientIdentifier;
    this.ctx.limits = brokerLimits(p);
    this.responseInformation = p.responseInformation ?? this.responseInformation;
    const keepalive = p.serverKeepAlive ?? this.options.keepalive ?? 60;
    connection.startKeepalive(
      keepalive,
      Math.min(this.options.pingTimeout ?? 10_000, Math.max(1000, keepalive * 1000)),
    );
    if (this.inbound.paused) connection.pause();
    this.state = "connected";
    this.reconnector.reset();
    this.session?.servers.connected();
    const reconnected = this.connectedOnce;
    this.connectedOnce = true;
    // §3.2.2.1.1 [MQTT-3.2.2-5]: no session on the broker, so none here either.
    this.inbound.connected(packet.sessionPresent);
    // Subscriptions lost with the session are made again; unanswered SUBSCRIBE/UNSUBSCRIBE
    // from before the cut go out again.
    this.subscriptions.connected(!packet.sessionPresent && reconnected);
    this.outbound.connected(packet.sessionPresent, p.receiveMaximum ?? 65535);
    const result: ConnectResult = {
      sessionPresent: packet.sessionPresent,
      reasonCode: packet.reasonCode,
      clientId: this.id,
      properties: p,
    };
    this.events.notify("connect", result);
    this.ctx.releaseConnectWaiters();
    return result;
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
    this.events.notify("offline", { error });
    if (this.reconnector.enabled && this.session && !this.takenOver) {
      this.state = "reconnecting";
      this.reconnector.schedule();
    } else {
      this.state = "idle";
      this.failWaiters(
        new MQTTError("the connection was lost", { code: "MQTT_CONNECTION_LOST", cause: error }),
      );
      this.events.notify("close", undefined);
    }
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
    this.events.notify("close", undefined);
  }

  private failWaiters(error: Error): void {
    this.ctx.rejectConnectWaiters(error);
    this.subscriptions.rejectAll(error);
    this.outbound.rejectAll(error);
    this.requester.rejectAll(error);
  }

  // ─── incoming packets ───────────────────────────────────────────────────────────────────

  private onPacket(connection: Connection, packet: Packet): void {
    if (this.connection !== connection) return;
    if (this.state !== "connected") {
      // Before CONNACK only CONNACK, AUTH and DISCONNECT may come (§3.1.4, §4.12).
      if (packet.type === "connack") this.handleConnack(connection, packet);
      else if (packet.type === "auth") this.onAuth(connection, packet);
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
        this.outbound.pubrec(
          packet.packetId,
          packet.reasonCode ?? 0,
          packet.properties,
          this.protocolVersion,
        );
        break;
      case "pubcomp":
        this.outbound.pubcomp(packet.packetId, packet.reasonCode ?? 0, packet.properties);
        break;
      case "pubrel":
        this.inbound.pubrel(packet.packetId, this.protocolVersion);
        break;
      case "suback":
      case "unsuback":
        if (!this.subscriptions.acknowledge(packet)) {
          connection.fail(
            new MQTTError(
              `the broker sent ${packet.type.toUpperCase()} for unknown packet id ${packet.packetId}`,
              { code: "MQTT_PROTOCOL_ERROR", reasonCode: 0x82 },
            ),
          );
        }
        break;
      case "disconnect":
        this.onDisconnect(connection, packet.reasonCode ?? 0, packet.properties);
        break;
      case "auth":
        this.onAuth(connection, packet);
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

  /** How many redirections in a row are followed (`maxRedirects`, a whole number ≥ 0). */
  private get maxRedirects(): number {
    const limit = this.options.maxRedirects;
    return Number.isInteger(limit) && (limit as number) >= 0
      ? (limit as number)
      : DEFAULT_MAX_REDIRECTS;
  }

  /** The redirection a refusing CONNACK or a DISCONNECT asks for, when it may be followed. */
  private redirectOf(reasonCode: number, properties?: Properties): ServerRedirect | undefined {
    const endpoint = this.session?.servers.current;
    if (!endpoint || this.maxRedirects === 0) return undefined;
    return serverRedirect(reasonCode, properties, this.protocolVersion, endpoint);
  }

  private onAuth(connection: Connection, packet: Packet & { type: "auth" }): void {
    answerAuth(
      connection,
      this.options.auth,
      packet.reasonCode ?? 0,
      packet.properties,
      () => this.connection === connection,
    );
  }

  private onDisconnect(connection: Connection, reasonCode: number, properties?: Properties): void {
    this.events.notify("disconnect", { reasonCode, properties: properties ?? {} });
    if (reasonCode >= 0x80) {
      const error = new MQTTError(
        `the broker disconnected us (reason 0x${reasonCode.toString(16)}${properties?.reasonString ? `: ${properties.reasonString}` : ""})`,
        { code: "MQTT_DISCONNECTED_BY_BROKER", reasonCode },
      );
      this.events.error(error);
      const redirect = this.redirectOf(reasonCode, properties);
      if (this.state !== "connected") {
        // Instead of CONNACK: the attempt fails with this reason (and may follow a redirection).
        this.redirect = redirect;
        this.connackWaiter?.reject(error);
      } else if (redirect && this.session) {
        // §4.11: the reconnect goes to the server named, unless redirections run in a loop.
        const loop = this.session.servers.redirect(redirect, this.maxRedirects, {
          pending: true,
          cause: error,
        });
        if (loop) this.events.error(loop);
      }
    }
    // 0x8E: another connection with our client id took the session over; reconnecting would
    // only take it back and start a tug of war (MQTT 5 §3.1.4-3).
    if (reasonCode === 0x8e) this.takenOver = true;
    connection.destroy();
  }
}
