/**
 * The flooder of the `inbound` scenario (run.ts and cpu.ts): a raw socket that publishes QoS 0
 * messages as fast as the broker reads them, so the measured subscriber is the only client.
 */
import { Buffer } from "node:buffer";
import { connect as netConnect } from "node:net";
import { encodePacket, PacketDecoder } from "../../src/mqtt/codec/index.js";

export /** Publishes `count` QoS 0 messages as fast as the broker reads them, over a raw socket. */
async function flood(port: number, size: number, count: number): Promise<void> {
  const socket = netConnect(port, "127.0.0.1");
  socket.setNoDelay(true);
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  const decoder = new PacketDecoder({ version: 4 });
  const connack = new Promise<void>((resolve) => {
    socket.on("data", (chunk) => {
      if (decoder.push(chunk).some((p) => p.type === "connack")) resolve();
    });
  });
  socket.write(
    encodePacket(
      {
        type: "connect",
        protocolVersion: 4,
        clientId: `flood-${process.pid}`,
        clean: true,
        keepalive: 0,
      },
      4,
    ),
  );
  await connack;
  const one = encodePacket(
    {
      type: "publish",
      topic: "bench/inbound/flood",
      payload: new Uint8Array(size).fill(0x61),
      qos: 0,
      retain: false,
      dup: false,
    },
    4,
  );
  const perWrite = Math.max(1, Math.floor(65_536 / one.length));
  const batch = Buffer.concat(Array.from({ length: perWrite }, () => one));
  let sent = 0;
  while (sent < count) {
    const n = Math.min(perWrite, count - sent);
    const ok = socket.write(n === perWrite ? batch : batch.subarray(0, n * one.length));
    sent += n;
    if (!ok) await new Promise((resolve) => socket.once("drain", resolve));
  }
  socket.end(Uint8Array.of(0xe0, 0));
}
