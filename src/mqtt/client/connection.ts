/**
 * One network connection of an MQTT session: a transport, the codec, batched writes and the
 * keep-alive timer. It knows nothing about QoS flows or subscriptions — it turns packets into
 * bytes and bytes into packets, and reports when the connection dies.
 *
 * Writes are batched: packets sent in the same tick are encoded back to back into a WriteBatch
 * and go to the transport in one call (one syscall for TCP, one frame for WebSocket) right
 * before the tick ends.
 */
import { MQTTError } from "../../errors.js";
import {
  type Packet,
  PacketDecoder,
  type Properties,
  type ProtocolVersion,
  type QoSLevel,
} from "../codec/index.js";
import { WriteBatch } from "../codec/write-batch.js";
import type { Transport } from "./transport.js";

export interface ConnectionEvents {
  packet(packet: Packet): void;
  /** The connection is unusable (decode error, keep-alive timeout, transport failure). */
  failed(error: MQTTError): void;
  /** Called before a batch reaches the transport (the store makes its changes durable). */
  beforeWrite(): void;
}

/** Bytes queued in one tick before `writable` says "wait" (bounds a synchronous publish loop). */
const BATCH_LIMIT = 256 * 1024;

export class Connection {
  readonly version: ProtocolVersion;
  private transport: Transport | undefined;
  private readonly decoder: PacketDecoder;
  private readonly batch: WriteBatch;
  private flushScheduled = false;
  private needDrain = false;
  private drainWaiters: Array<() => void> = [];
  /** Callbacks for when the packets queued before them are written (`whenSent`). */
  private sentWaiters: Array<() => void> = [];
  private closed = false;
  private paused = false;
  /** Packets `holdPackets()` keeps back until the next turn of the event loop. */
  private held: Packet[] | undefined;
  // Keep-alive (MQTT 5.0 §3.1.2.10): a PINGREQ when nothing was sent for `keepaliveMs`, and the
  // connection is declared dead when its PINGRESP does not come within `pingTimeoutMs`.
  private keepaliveMs = 0;
  private pingTimeoutMs = 0;
  private lastWrite = 0;
  private awaitingPingresp = false;
  private keepaliveTimer: NodeJS.Timeout | undefined;

  constructor(
    version: ProtocolVersion,
    maximumPacketSize: number,
    private readonly events: ConnectionEvents,
  ) {
    this.batch = new WriteBatch(version);
    this.version = version;
    // Until a transport says otherwise, assume its chunks are overwritten after each read.
    this.decoder = new PacketDecoder({ version, maximumPacketSize, reusedChunks: true });
  }

  /** Attach the transport once it is open. */
  attach(transport: Transport): void {
    this.transport = transport;
    this.decoder.reusedChunks = transport.reusesReadBuffer;
    if (this.closed) transport.destroy();
  }

  /** Feed bytes from the transport. */
  receive(chunk: Uint8Array): void {
    if (this.closed) return;
    let packets: Packet[];
    try {
      packets = this.decoder.push(chunk);
    } catch (error) {
      this.fail(
        error instanceof MQTTError
          ? error
          : new MQTTError("undecodable data from the broker", {
              code: "MQTT_MALFORMED_PACKET",
              reasonCode: 0x81,
              cause: error,
            }),
      );
      return;
    }
    this.dispatch(packets);
  }

  /**
   * Holds back the packets that follow the one being handled (the rest of this read, and any
   * read before the next turn of the event loop) and hands them on in a `setImmediate`. The
   * client calls it on the CONNACK of a resumed session: the broker sends the messages it
   * queued right behind CONNACK, often in the same read, and the code after the caller's
   * `await client.connect()` — a promise continuation, which runs before `setImmediate` —
   * should be able to attach a `messages()` iterator before they are delivered.
   */
  holdPackets(): void {
    if (this.held || this.closed) return;
    const held: Packet[] = [];
    this.held = held;
    setImmediate(() => {
      this.held = undefined;
      this.dispatch(held);
    });
  }

  private dispatch(packets: Packet[]): void {
    for (let i = 0; i < packets.length && !this.closed; i++) {
      const packet = packets[i];
      if (packet.type === "pingresp") {
        this.pong();
        continue;
      }
      if (this.held) {
        this.held.push(packet);
        continue;
      }
      try {
        this.events.packet(packet);
      } catch (error) {
        // This runs in the socket's 'data' handler (or holdPackets' setImmediate): an
        // exception here would be uncaught and end the process. Whatever the broker sent, it costs only this connection.
        this.fail(
          error instanceof MQTTError
            ? error
            : new MQTTError(`handling a ${packet.type} packet from the broker failed`, {
                code: "MQTT_PROTOCOL_ERROR",
                cause: error,
              }),
        );
      }
    }
  }

  /** Queue a packet for this tick's batch. Throws MQTTError when it cannot be encoded. */
  send(packet: Packet): void {
    if (this.closed) return;
    this.batch.add(packet);
    this.scheduleFlush();
  }

  /**
   * Queue a PUBLISH given by its fields (no packet object per message). Returns true when the
   * payload is queued as it is, not copied (a large one): it must not change until `whenSent`
   * says it was written. Throws MQTTError, and queues nothing, when it cannot be encoded or is
   * larger than `maximumPacketSize`.
   */
  publish(
    topic: string,
    payload: Uint8Array,
    qos: QoSLevel,
    retain: boolean,
    dup: boolean,
    packetId: number | undefined,
    properties: Properties | undefined,
    maximumPacketSize: number,
  ): boolean {
    if (this.closed) return false;
    const kept = this.batch.publish(
      topic,
      payload,
      qos,
      retain,
      dup,
      packetId,
      properties,
      maximumPacketSize,
    );
    this.scheduleFlush();
    return kept;
  }

  /** Queue a PUBACK, PUBREC, PUBREL or PUBCOMP of success without properties. */
  acknowledge(type: "puback" | "pubrec" | "pubrel" | "pubcomp", packetId: number): void {
    if (this.closed) return;
    this.batch.acknowledge(type, packetId);
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      process.nextTick(this.flush);
    }
  }

  /** False when the caller should wait (`whenWritable`) before queueing more QoS 0 data. */
  get writable(): boolean {
    return !this.needDrain && this.batch.byteLength < BATCH_LIMIT && !this.closed;
  }

  /**
   * Calls `callback` once everything queued so far has been written by the transport (handed
   * to the kernel for TCP), or the connection closed.
   */
  whenSent(callback: () => void): void {
    if (this.closed) callback();
    else this.sentWaiters.push(callback);
  }

  /** Calls `callback` once the batch is flushed and the transport has room (or it closed). */
  whenWritable(callback: () => void): void {
    if (this.closed) {
      callback();
      return;
    }
    this.drainWaiters.push(callback);
    if (!this.needDrain && !this.flushScheduled) this.releaseDrainWaiters();
  }

  readonly flush = (): void => {
    this.flushScheduled = false;
    if (this.batch.byteLength === 0 || this.closed || !this.transport) {
      if (this.sentWaiters.length > 0 && this.batch.byteLength === 0) this.releaseSentWaiters();
      return;
    }
    try {
      this.events.beforeWrite();
    } catch (cause) {
      // The store could not record what these packets depend on: sending them would break
      // the delivery guarantees, so the connection ends instead (the state stays consistent).
      this.batch.clear();
      this.releaseSentWaiters();
      this.fail(
        new MQTTError("the session store failed to save in-flight state", {
          code: "MQTT_STORE_ERROR",
          cause,
        }),
      );
      return;
    }
    const chunks = this.batch.take();
    this.lastWrite = Date.now();
    let sent: (() => void) | undefined;
    if (this.sentWaiters.length > 0) {
      const waiters = this.sentWaiters;
      this.sentWaiters = [];
      sent = () => {
        for (const waiter of waiters) waiter();
      };
    }
    if (!this.transport.write(chunks, sent)) this.needDrain = true;
    else if (this.drainWaiters.length > 0) this.releaseDrainWaiters();
  };

  /** The transport drained. */
  drained(): void {
    this.needDrain = false;
    this.releaseDrainWaiters();
  }

  private releaseSentWaiters(): void {
    const waiters = this.sentWaiters;
    this.sentWaiters = [];
    for (const waiter of waiters) waiter();
  }

  private releaseDrainWaiters(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const waiter of waiters) waiter();
  }

  pause(): void {
    if (this.paused || this.closed) return;
    this.paused = true;
    this.transport?.pause();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.transport?.resume();
  }

  startKeepalive(keepaliveSeconds: number, pingTimeoutMs: number): void {
    this.keepaliveMs = keepaliveSeconds * 1000;
    this.pingTimeoutMs = pingTimeoutMs;
    this.lastWrite = Date.now();
    this.scheduleKeepalive(this.keepaliveMs);
  }

  private scheduleKeepalive(delay: number): void {
    clearTimeout(this.keepaliveTimer);
    if (this.keepaliveMs <= 0 || this.closed) return;
    this.keepaliveTimer = setTimeout(this.onKeepalive, Math.max(10, delay));
    this.keepaliveTimer.unref();
  }

  private readonly onKeepalive = (): void => {
    if (this.closed) return;
    if (this.awaitingPingresp) {
      this.fail(
        new MQTTError(`no PINGRESP within ${this.pingTimeoutMs} ms: the connection is dead`, {
          code: "MQTT_KEEPALIVE_TIMEOUT",
        }),
      );
      return;
    }
    const idle = Date.now() - this.lastWrite;
    if (idle < this.keepaliveMs) {
      this.scheduleKeepalive(this.keepaliveMs - idle);
      return;
    }
    this.awaitingPingresp = true;
    this.send({ type: "pingreq" });
    this.flush();
    this.keepaliveTimer = setTimeout(() => {
      if (this.awaitingPingresp) this.onKeepalive();
      else this.scheduleKeepalive(this.keepaliveMs - (Date.now() - this.lastWrite));
    }, this.pingTimeoutMs);
    this.keepaliveTimer.unref();
  };

  /** PINGRESP arrived: re-arm the keep-alive timer. */
  private pong(): void {
    this.awaitingPingresp = false;
    this.scheduleKeepalive(this.keepaliveMs - (Date.now() - this.lastWrite));
  }

  /** Report a fatal error, tell the broker why (MQTT 5 DISCONNECT with reason), and close. */
  fail(error: MQTTError): void {
    if (this.closed) return;
    if (this.version === 5 && error.reasonCode !== undefined && error.reasonCode >= 0x80) {
      try {
        this.send({ type: "disconnect", reasonCode: error.reasonCode });
        this.flush();
      } catch {
        // Nothing more to tell a broker we cannot encode for.
      }
    }
    this.events.failed(error);
    this.destroy();
  }

  /** Flush what is queued and close gracefully. */
  end(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    clearTimeout(this.keepaliveTimer);
    this.transport?.end();
    this.releaseDrainWaiters();
    this.releaseSentWaiters();
  }

  destroy(): void {
    if (this.closed && !this.transport) return;
    this.closed = true;
    clearTimeout(this.keepaliveTimer);
    this.batch.clear();
    this.transport?.destroy();
    this.releaseDrainWaiters();
    this.releaseSentWaiters();
  }

  get isClosed(): boolean {
    return this.closed;
  }
}
