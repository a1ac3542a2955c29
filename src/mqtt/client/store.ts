/**
 * Where a client keeps the state of unfinished QoS 1/2 flows (MQTT 5.0 §4.1 "Session State":
 * QoS 1/2 messages sent but not completely acknowledged, and QoS 2 messages received but not
 * completely acknowledged). With a durable store and a session the broker keeps
 * (sessionExpiryInterval > 0 / clean: false) those flows finish after a reconnect *and* after
 * the process restarts.
 *
 * Calls are synchronous so the hot path pays no promise per message. The client calls
 * `flush()` right before it hands a batch of packets to the socket, so a store that buffers
 * (FileStore) makes each state change durable before the packet that depends on it is sent —
 * e.g. "PUBREC received" is recorded before the PUBREL goes out (§4.3.3), which is what keeps
 * QoS 2 exactly-once across a kill -9.
 */
import type { Properties } from "../codec/index.js";
import type { QoS } from "./qos.js";

/** An outgoing QoS 1/2 message waiting for its acknowledgement. */
export interface StoredPublish {
  /** The packet identifier of the flow. */
  packetId: number;
  /** The topic name. */
  topic: string;
  /** The payload bytes. */
  payload: Uint8Array;
  /** 1 or 2. */
  qos: Exclude<QoS, 0>;
  /** The RETAIN flag. */
  retain: boolean;
  /** MQTT 5 PUBLISH properties. */
  properties?: Properties;
  /** "publish": waiting for PUBACK/PUBREC; "pubrel": PUBREC received, waiting for PUBCOMP. */
  state: "publish" | "pubrel";
}

/** What a store hands back on `load()`: the unfinished flows of the session. */
export interface StoredSession {
  /** Outgoing flows in the order they started (resent in this order, §4.6). */
  outgoing: StoredPublish[];
  /** Packet ids of received QoS 2 messages whose PUBREL has not arrived yet (§4.3.3). */
  incoming: number[];
}

/**
 * Where a client keeps its unfinished QoS 1/2 flows; implement it to keep them elsewhere
 * (`MemoryStore` and `FileStore` are the two provided).
 */
export interface MQTTStore {
  /** Everything stored so far (called once, when the client connects for the first time). */
  load(): Promise<StoredSession> | StoredSession;
  /** A QoS 1/2 PUBLISH is about to be sent. */
  putOutgoing(message: StoredPublish): void;
  /** PUBREC arrived for a QoS 2 message: only PUBREL/PUBCOMP remain (§4.3.3). */
  releaseOutgoing(packetId: number): void;
  /** The flow finished (PUBACK, PUBCOMP, or a failure reason code). */
  deleteOutgoing(packetId: number): void;
  /** A QoS 2 message was received and delivered; its PUBREL is pending. */
  putIncoming(packetId: number): void;
  /** PUBREL arrived for a received QoS 2 message. */
  deleteIncoming(packetId: number): void;
  /** The broker has no session for us any more: nothing stored can be completed. */
  clear(): void;
  /** Makes every change so far durable (as durable as the store promises). */
  flush?(): void;
  /** Flushes and releases what the store holds; called once by `client.close()`. */
  close(): Promise<void>;
}

/**
 * The default: state lives as long as the process (and survives reconnects).
 *
 * @example
 * ```ts
 * const client = new MQTTClient({ store: new MemoryStore() }); // the default
 * ```
 */
export class MemoryStore implements MQTTStore {
  private readonly outgoing = new Map<number, StoredPublish>();
  private readonly incoming = new Set<number>();

  load(): StoredSession {
    return { outgoing: [...this.outgoing.values()], incoming: [...this.incoming] };
  }

  putOutgoing(message: StoredPublish): void {
    this.outgoing.delete(message.packetId);
    this.outgoing.set(message.packetId, message);
  }

  releaseOutgoing(packetId: number): void {
    const message = this.outgoing.get(packetId);
    if (message) message.state = "pubrel";
  }

  deleteOutgoing(packetId: number): void {
    this.outgoing.delete(packetId);
  }

  putIncoming(packetId: number): void {
    this.incoming.add(packetId);
  }

  deleteIncoming(packetId: number): void {
    this.incoming.delete(packetId);
  }

  clear(): void {
    this.outgoing.clear();
    this.incoming.clear();
  }

  /** Nothing to release: the state goes with the process. */
  async close(): Promise<void> {}
}

/**
 * Used when no store is configured: the client's own in-flight table already lives in memory,
 * so recording each change a second time would only cost time.
 */
export class NoStore implements MQTTStore {
  load(): StoredSession {
    return { outgoing: [], incoming: [] };
  }
  putOutgoing(): void {}
  releaseOutgoing(): void {}
  deleteOutgoing(): void {}
  putIncoming(): void {}
  deleteIncoming(): void {}
  clear(): void {}
  async close(): Promise<void> {}
}
