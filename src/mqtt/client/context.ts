/**
 * The session context: the state every part of a client reads (protocol version, lifecycle
 * state, the connection in use, the broker's limits, the store, packet identifiers) and the
 * few things every part may do (send a packet, report a protocol error or a failed handler,
 * wait for a connection). MQTTClient owns one and hands the same object to Outbound,
 * Publisher, Inbound, Subscriptions and Requester; each part reads what it needs from it, so
 * no part keeps a copy that could go stale.
 */
import type { MQTTError } from "../../errors.js";
import type { Packet } from "../codec/index.js";
import { type BrokerLimits, NO_LIMITS } from "./broker-limits.js";
import { closedError, notConnected } from "./client-errors.js";
import type { Connection } from "./connection.js";
import { ClientEvents } from "./events.js";
import type { MQTTClientOptions } from "./options.js";
import { PacketIds } from "./packet-ids.js";
import type { MQTTStore } from "./store.js";

/** Where the client is in its lifecycle (see the diagram in client.ts). */
export type SessionState = "idle" | "connecting" | "connected" | "reconnecting" | "closed";

interface ConnectWaiter {
  resolve: () => void;
  reject: (error: Error) => void;
}

export class SessionContext {
  /** 4 for MQTT 3.1.1, 5 for MQTT 5.0. */
  readonly protocolVersion: 4 | 5;
  readonly options: Readonly<MQTTClientOptions>;
  readonly events = new ClientEvents();
  /** Packet identifiers in use, shared by PUBLISH and SUBSCRIBE/UNSUBSCRIBE (§2.2.1). */
  readonly ids = new PacketIds();
  readonly store: MQTTStore;
  state: SessionState = "idle";
  /** The connection in use (from the transport opening until it is lost). */
  connection: Connection | undefined;
  /** The broker's limits from the latest CONNACK. */
  limits: BrokerLimits = NO_LIMITS;
  /** The client identifier in use (the broker's choice when it assigned one). */
  clientId: string;
  /** The broker's Response Information (MQTT 5 §3.2.2.3.15), kept across reconnects. */
  responseInformation: string | undefined;
  private connectWaiters: ConnectWaiter[] = [];

  constructor(
    protocolVersion: 4 | 5,
    options: Readonly<MQTTClientOptions>,
    clientId: string,
    store: MQTTStore,
  ) {
    this.protocolVersion = protocolVersion;
    this.options = options;
    this.clientId = clientId;
    this.store = store;
  }

  /** True only between CONNACK and the loss of the connection. */
  get connected(): boolean {
    return this.state === "connected";
  }

  /** Milliseconds a caller waits for an answer unless it says otherwise. */
  get defaultTimeout(): number {
    return this.options.timeout ?? 30_000;
  }

  /** Writes on the current connection, if any. Throws MQTTError when it cannot be encoded. */
  send(packet: Packet): void {
    this.connection?.send(packet);
  }

  /** Writes a PUBACK, PUBREC, PUBREL or PUBCOMP of success, without building a packet. */
  acknowledge(type: "puback" | "pubrec" | "pubrel" | "pubcomp", packetId: number): void {
    this.connection?.acknowledge(type, packetId);
  }

  /** The broker broke the protocol: disconnect with this error's reason code. */
  protocolError(error: MQTTError): void {
    const connection = this.connection;
    if (connection) connection.fail(error);
    else this.events.error(error);
  }

  /** Something failed that does not touch the connection (a handler, a store): report it. */
  emitError(error: unknown): void {
    this.events.error(error);
  }

  /** Stops reading from the broker (a slow `messages()` consumer). */
  pause(): void {
    this.connection?.pause();
  }

  resume(): void {
    this.connection?.resume();
  }

  /** Throws when the client is closed or was never connected (publishing needs a session). */
  assertSession(): void {
    if (this.state === "closed") throw closedError();
    if (this.state === "idle") throw notConnected();
  }

  /** Runs `start` once connected (now or after a reconnect); rejects if that cannot happen. */
  whenConnected(start: () => void, reject: (error: Error) => void): void {
    if (this.state === "connected") start();
    else if (this.state === "connecting" || this.state === "reconnecting")
      this.connectWaiters.push({ resolve: start, reject });
    else reject(this.state === "closed" ? closedError() : notConnected());
  }

  /** The connection is up: whatever waited for it starts now. */
  releaseConnectWaiters(): void {
    const waiters = this.connectWaiters;
    this.connectWaiters = [];
    for (const waiter of waiters) waiter.resolve();
  }

  /** No connection will come (disconnect, close, giving up): whatever waited for it fails. */
  rejectConnectWaiters(error: Error): void {
    const waiters = this.connectWaiters;
    this.connectWaiters = [];
    for (const waiter of waiters) waiter.reject(error);
  }
}
