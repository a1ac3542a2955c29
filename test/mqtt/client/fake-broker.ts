/**
 * A scripted fake MQTT broker for faults a real one will not produce: each test drives the
 * conversation packet by packet through `Peer` (decoded with the project's codec).
 */
import { createServer, type Server, type Socket } from "node:net";
import { encodePacket, type Packet, PacketDecoder } from "../../../src/mqtt/codec/index.js";

export class Peer {
  private readonly queue: Packet[] = [];
  private waiter: ((packet: Packet | undefined) => void) | undefined;
  private readonly decoder = new PacketDecoder({ version: 5 });
  ended = false;
  readonly closed: Promise<void>;

  constructor(readonly socket: Socket) {
    this.closed = new Promise((resolve) => socket.once("close", () => resolve()));
    socket.on("error", () => {});
    socket.on("data", (chunk) => {
      for (const packet of this.decoder.push(chunk)) {
        const waiter = this.waiter;
        if (waiter) {
          this.waiter = undefined;
          waiter(packet);
        } else this.queue.push(packet);
      }
    });
    socket.once("close", () => {
      this.ended = true;
      this.waiter?.(undefined);
    });
  }

  get version() {
    return this.decoder.version;
  }

  /** The next packet from the client (undefined once the connection closed). */
  next(timeoutMs = 5000): Promise<Packet | undefined> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.ended) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error("fake broker: no packet in time")),
        timeoutMs,
      );
      this.waiter = (packet) => {
        clearTimeout(timer);
        resolve(packet);
      };
    });
  }

  /** Skips PINGREQs and returns the next packet of `type`. */
  async expect<T extends Packet["type"]>(type: T): Promise<Extract<Packet, { type: T }>> {
    for (;;) {
      const packet = await this.next();
      if (!packet) throw new Error(`fake broker: connection closed while waiting for ${type}`);
      if (packet.type === "pingreq") continue;
      if (packet.type !== type)
        throw new Error(`fake broker: expected ${type}, got ${packet.type}`);
      return packet as Extract<Packet, { type: T }>;
    }
  }

  send(packet: Packet): void {
    this.socket.write(encodePacket(packet, this.version));
  }

  raw(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** Reads CONNECT and answers with a successful CONNACK (with `properties`). */
  async accept(
    properties: Extract<Packet, { type: "connack" }>["properties"] = {},
    sessionPresent = false,
  ) {
    const connect = await this.expect("connect");
    this.send({ type: "connack", sessionPresent, reasonCode: 0, properties });
    return connect;
  }
}

export interface FakeBroker {
  port: number;
  /** Resolves with the next connection. */
  connection(): Promise<Peer>;
  close(): Promise<void>;
}

export async function startFakeBroker(): Promise<FakeBroker> {
  const peers: Peer[] = [];
  const waiting: Array<(peer: Peer) => void> = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    const peer = new Peer(socket);
    const waiter = waiting.shift();
    if (waiter) waiter(peer);
    else peers.push(peer);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  return {
    port: typeof address === "object" && address ? address.port : 0,
    connection() {
      const peer = peers.shift();
      if (peer) return Promise.resolve(peer);
      return new Promise((resolve) => waiting.push(resolve));
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
