/**
 * The floor under any Node MQTT subscriber: a raw TCP socket that only counts PUBLISH frames
 * (it walks the fixed headers, decodes nothing else and builds no message objects). What it
 * costs per message is what the kernel and Node's socket reads cost; a client cannot use less
 * CPU than this, so it shows how much of a client's CPU per message is its own.
 *
 * Three variants: "floor" takes Node's 'data' events (a fresh buffer per read); "floor-onread"
 * reads into one reused buffer (net.connect's `onread` option); "floor-copy" reads like
 * "floor-onread" and also copies each message out of it, as a client must.
 */
import { connect as netConnect, type Socket } from "node:net";
import { encodePacket, PacketDecoder } from "../../src/mqtt/codec/index.js";

export interface FloorClient {
  subscribe(topic: string): Promise<void>;
  onMessage(handler: () => void): void;
  close(): Promise<void>;
}

export async function connectFloor(
  port: number,
  clientId: string,
  reuseBuffer: boolean,
  copyPayloads: boolean,
): Promise<FloorClient> {
  let copied = 0;
  let handler: () => void = () => {};
  let control: ((chunk: Uint8Array) => void) | undefined;
  // Frame walking state: bytes still to skip of the current frame, or the header being read.
  let skip = 0;
  let header: number[] = [];
  const count = (chunk: Uint8Array, length: number) => {
    if (control) {
      control(chunk.subarray(0, length));
      return;
    }
    let pos = 0;
    while (pos < length) {
      if (skip > 0) {
        const n = Math.min(skip, length - pos);
        skip -= n;
        pos += n;
        continue;
      }
      header.push(chunk[pos++]);
      if (header.length < 2 || header[header.length - 1] & 0x80) continue;
      let value = 0;
      for (let i = header.length - 1; i >= 1; i--) value = value * 128 + (header[i] & 0x7f);
      if (header[0] >> 4 === 3) {
        // One copy of each message (here with its variable header), the least a client
        // reading into a reused buffer must do to hand out payloads the caller may keep.
        if (copyPayloads && pos + value <= length) copied += chunk.slice(pos, pos + value).length;
        handler();
      }
      header = [];
      skip = value;
    }
  };
  const reused = new Uint8Array(65_536);
  const socket: Socket = reuseBuffer
    ? netConnect({
        port,
        host: "127.0.0.1",
        onread: {
          buffer: reused,
          callback: (n: number, buf: Uint8Array) => {
            count(buf, n);
            return true;
          },
        },
      })
    : netConnect(port, "127.0.0.1");
  if (!reuseBuffer) socket.on("data", (chunk: Buffer) => count(chunk, chunk.length));
  socket.setNoDelay(true);
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  const decoder = new PacketDecoder({ version: 5 });
  const expect = (type: string) =>
    new Promise<void>((resolve) => {
      control = (chunk) => {
        if (decoder.push(chunk).some((p) => p.type === type)) {
          control = undefined;
          resolve();
        }
      };
    });
  const connack = expect("connack");
  socket.write(
    encodePacket({ type: "connect", protocolVersion: 5, clientId, clean: true, keepalive: 0 }, 5),
  );
  await connack;
  return {
    async subscribe(topic) {
      const suback = expect("suback");
      socket.write(
        encodePacket(
          { type: "subscribe", packetId: 1, subscriptions: [{ topicFilter: topic, qos: 0 }] },
          5,
        ),
      );
      await suback;
    },
    onMessage(h) {
      handler = h;
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (copyPayloads && copied === 0) console.error("floor-copy copied nothing");
        socket.end(Uint8Array.of(0xe0, 0), () => resolve());
      }),
  };
}
