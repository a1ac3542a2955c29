/**
 * A scripted fake MQTT broker for tests: a node:net server on a free loopback port that speaks
 * through the mtaio codec. Each test drives the conversation itself — wait for the client's
 * packets, answer with well-formed packets, or write raw bytes a real broker would never send
 * (garbage, oversized lengths, topic alias 0, …). It keeps no session state of its own.
 * Either a script runs for every connection (`onConnection`), or, without one, the test takes
 * each connection with `connection()` and talks to it inline.
 *
 *   const broker = await FakeBroker.start();
 *   broker.onConnection(async (peer) => {
 *     await peer.expect("connect");
 *     peer.send({ type: "connack", sessionPresent: false, reasonCode: 0 });
 *     peer.sendRaw(Uint8Array.of(0xff, 0xff));
 *   });
 *   …
 *   await broker.close();
 */
import { once } from "node:events";
import { createServer, type Server, type Socket } from "node:net";
import type { MQTTError } from "../../src/errors.js";
import {
  encodePacket,
  type Packet,
  PacketDecoder,
  type PacketType,
  type ProtocolVersion,
} from "../../src/mqtt/codec/index.js";

type PacketOf<T extends PacketType> = Extract<Packet, { type: T }>;

/** One client connection as the fake broker sees it. */
export class FakePeer {
  readonly socket: Socket;
  /** Every packet received so far, in order. */
  readonly received: Packet[] = [];
  /** Set when the client's bytes failed to decode. */
  decodeError: MQTTError | undefined;
  /** Resolves when the socket has closed (either side). */
  readonly closed: Promise<void>;
  private readonly decoder = new PacketDecoder({ version: 5 });
  private readonly queue: Packet[] = [];
  private waiter: (() => void) | undefined;
  private isClosed = false;

  constructor(socket: Socket) {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => {
      try {
        for (const packet of this.decoder.push(chunk)) {
          this.received.push(packet);
          this.queue.push(packet);
        }
      } catch (error) {
        this.decodeError = error as MQTTError;
        socket.destroy();
      }
      this.wake();
    });
    socket.on("error", () => {}); // a client reset is an outcome tests look at, not a failure
    this.closed = new Promise((resolve) => {
      socket.on("close", () => {
        this.isClosed = true;
        this.wake();
        resolve();
      });
    });
  }

  /** The protocol version the client connected with (learned from its CONNECT). */
  get version(): ProtocolVersion {
    return this.decoder.version;
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.();
  }

  /** The next packet from the client; rejects if the connection closes first or on timeout. */
  async next(timeoutMs = 5000): Promise<Packet> {
    const deadline = Date.now() + timeoutMs;
    while (this.queue.length === 0) {
      if (this.isClosed) throw new Error("the client closed the connection");
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no packet from the client within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return this.queue.shift()!;
  }

  /** The next packet, which must be of `type` (keep-alive PINGREQs are skipped). */
  async expect<T extends PacketType>(type: T, timeoutMs = 5000): Promise<PacketOf<T>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const packet = await this.next(Math.max(1, deadline - Date.now()));
      if (packet.type === type) return packet as PacketOf<T>;
      if (packet.type !== "pingreq") {
        throw new Error(`fake broker: expected ${type}, got ${packet.type}`);
      }
    }
  }

  /** Encodes and writes a packet with the client's protocol version. */
  send(packet: Packet): void {
    if (!this.socket.destroyed) this.socket.write(encodePacket(packet, this.version));
  }

  /** Writes bytes as they are. */
  sendRaw(bytes: Uint8Array): void {
    if (!this.socket.destroyed) this.socket.write(bytes);
  }

  /** Whether the socket has closed. */
  get ended(): boolean {
    return this.isClosed;
  }

  /** CONNECT → CONNACK success, the usual first step of a script. */
  async accept(
    properties?: PacketOf<"connack">["properties"],
    sessionPresent = false,
  ): Promise<PacketOf<"connect">> {
    const connect = await this.expect("connect");
    this.send({ type: "connack", sessionPresent, reasonCode: 0, properties });
    return connect;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

export type Script = (peer: FakePeer) => void | Promise<void>;

export class FakeBroker {
  readonly host = "127.0.0.1";
  readonly peers: FakePeer[] = [];
  /** Errors thrown by scripts (a broken test script, not a client failure). */
  readonly scriptErrors: unknown[] = [];
  private script: Script | undefined;
  private readonly server: Server;
  private peerWaiters: ((peer: FakePeer) => void)[] = [];
  /** Connections no `connection()` call has taken yet. */
  private readonly unclaimed: FakePeer[] = [];
  private readonly claimers: ((peer: FakePeer) => void)[] = [];

  private constructor(server: Server) {
    this.server = server;
    server.on("connection", (socket) => {
      const peer = new FakePeer(socket);
      this.peers.push(peer);
      const waiters = this.peerWaiters;
      this.peerWaiters = [];
      for (const w of waiters) w(peer);
      const script = this.script;
      if (!script) {
        // No script: the test drives this connection itself, through connection().
        const claimer = this.claimers.shift();
        if (claimer) claimer(peer);
        else this.unclaimed.push(peer);
        return;
      }
      Promise.resolve()
        .then(() => script(peer))
        .catch((error: unknown) => {
          // The client hanging up mid-script is expected in hostile tests.
          if (!peer.socket.destroyed) this.scriptErrors.push(error);
        });
    });
  }

  static async start(script?: Script): Promise<FakeBroker> {
    const server = createServer();
    const broker = new FakeBroker(server);
    if (script) broker.script = script;
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    return broker;
  }

  get port(): number {
    const address = this.server.address();
    return typeof address === "object" && address ? address.port : 0;
  }

  get url(): string {
    return `mqtt://${this.host}:${this.port}`;
  }

  /** Replaces the script run for each new connection. */
  onConnection(script: Script): void {
    this.script = script;
  }

  /** The next connection to arrive (whether a script or the test drives it). */
  nextPeer(): Promise<FakePeer> {
    return new Promise((resolve) => this.peerWaiters.push(resolve));
  }

  /** Without a script: the oldest connection the test has not taken yet, or the next one. */
  connection(): Promise<FakePeer> {
    const peer = this.unclaimed.shift();
    if (peer) return Promise.resolve(peer);
    return new Promise((resolve) => this.claimers.push(resolve));
  }

  /** Closes every connection and the listening socket. */
  async close(): Promise<void> {
    for (const peer of this.peers) peer.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
