/**
 * Fuzzed frames against the WebSocket server (RFC 6455 §5): after a valid handshake, a raw
 * socket sends random sequences of valid and broken frames (reserved bits and opcodes, unmasked
 * client frames, oversized and fragmented control frames, bad UTF-8, absurd 64-bit lengths,
 * random bytes), split at random points. The server must never crash or hang: each connection
 * ends, the app's call returns with a `websocket.disconnect`, nothing is logged, and a new
 * client still gets its echo.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { randomBytes } from "node:crypto";
import { connect } from "node:net";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import WebSocket from "ws";
import type { ServerHandle } from "../../../src/asgi/server/options.js";
import type { ASGIApp } from "../../../src/asgi/types.js";
import { type RecordingLogger, sleep, start } from "./helpers.js";

/** One frame as a client would put it on the wire (RFC 6455 §5.2), rules broken at will. */
interface FrameSpec {
  fin: boolean;
  rsv: number;
  opcode: number;
  masked: boolean;
  payload: Uint8Array;
  /** How the length is written: the shortest form, or a longer one than needed. */
  lengthForm: "short" | "16" | "64";
  /** A length field that lies (claims more than follows), or null for the true one. */
  claimed: bigint | null;
}

function encode(frame: FrameSpec): Buffer {
  const length = frame.claimed ?? BigInt(frame.payload.length);
  const head: number[] = [(frame.fin ? 0x80 : 0) | (frame.rsv << 4) | frame.opcode];
  const mask = frame.masked ? 0x80 : 0;
  const form =
    frame.lengthForm === "short" && length > 125n
      ? length > 0xffffn
        ? "64"
        : "16"
      : frame.lengthForm === "16" && length > 0xffffn
        ? "64"
        : frame.lengthForm;
  if (form === "short") head.push(mask | Number(length));
  else if (form === "16") head.push(mask | 126, Number(length >> 8n) & 0xff, Number(length) & 0xff);
  else {
    head.push(mask | 127);
    for (let shift = 56n; shift >= 0n; shift -= 8n) head.push(Number((length >> shift) & 0xffn));
  }
  const key = randomBytes(4);
  const payload = Buffer.from(frame.payload);
  if (frame.masked) {
    for (let i = 0; i < payload.length; i++)
      payload[i] = (payload[i] as number) ^ (key[i & 3] as number);
    return Buffer.concat([Buffer.from(head), key, payload]);
  }
  return Buffer.concat([Buffer.from(head), payload]);
}

const text = (value: string) => new TextEncoder().encode(value);

/** Mostly well-formed frames, each with a small chance of every kind of fault. */
const frameSpec: fc.Arbitrary<FrameSpec> = fc.record({
  fin: fc.boolean(),
  rsv: fc.oneof(
    { weight: 8, arbitrary: fc.constant(0) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 7 }) },
  ),
  opcode: fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(0, 1, 2, 8, 9, 10) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 15 }) },
  ),
  masked: fc.oneof(
    { weight: 9, arbitrary: fc.constant(true) },
    { weight: 1, arbitrary: fc.constant(false) },
  ),
  payload: fc.oneof(
    fc.uint8Array({ maxLength: 40 }),
    fc.string({ maxLength: 30 }).map(text),
    // A close payload: a code (valid or not) and a reason.
    fc
      .tuple(fc.integer({ min: 0, max: 5000 }), fc.string({ maxLength: 10 }))
      .map(([code, reason]) =>
        Buffer.concat([Buffer.from([code >> 8, code & 0xff]), text(reason)]),
      ),
    // Invalid UTF-8 in what may be a text frame.
    fc.constantFrom(
      Buffer.from([0xc3, 0x28]),
      Buffer.from([0xed, 0xa0, 0x80]),
      Buffer.from([0xff]),
    ),
    // Longer than a control frame may be (125 bytes, §5.5).
    fc.uint8Array({ minLength: 126, maxLength: 300 }),
  ),
  lengthForm: fc.constantFrom("short", "short", "short", "16", "64"),
  claimed: fc.oneof(
    { weight: 12, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }) },
  ),
});

/** A stream: frames, or random bytes, split into chunks at random points. */
const stream = fc
  .tuple(
    fc.array(
      fc.oneof(
        { weight: 5, arbitrary: frameSpec.map(encode) },
        {
          weight: 1,
          arbitrary: fc.uint8Array({ minLength: 1, maxLength: 32 }).map((b) => Buffer.from(b)),
        },
      ),
      { minLength: 1, maxLength: 12 },
    ),
    fc.array(fc.nat(), { maxLength: 8 }),
  )
  .map(([parts, cuts]) => {
    const bytes = Buffer.concat(parts);
    const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
    const chunks: Buffer[] = [];
    let from = 0;
    for (const point of [...points, bytes.length]) {
      if (point > from) chunks.push(bytes.subarray(from, point));
      from = point;
    }
    return chunks;
  });

const HANDSHAKE =
  "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

/** Sends `chunks` after the handshake, half-closes, and resolves once the server closed. */
async function fuzzConnection(port: number, chunks: Buffer[]): Promise<void> {
  const socket = connect(port, "127.0.0.1");
  socket.on("error", () => {});
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  let head = "";
  const upgraded = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      head += chunk.toString("latin1");
      if (!head.includes("\r\n\r\n")) return;
      socket.off("data", onData);
      socket.resume(); // read (and drop) whatever the server answers
      if (head.startsWith("HTTP/1.1 101")) resolve();
      else reject(new Error(`handshake refused: ${head}`));
    };
    socket.on("data", onData);
  });
  socket.write(HANDSHAKE);
  await upgraded;
  for (const chunk of chunks) {
    if (socket.destroyed) break;
    socket.write(chunk);
    await new Promise((resolve) => setImmediate(resolve));
  }
  socket.end();
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    closed,
    new Promise((_, reject) => {
      timer = setTimeout(
        () => reject(new Error("the server did not close the connection")),
        10_000,
      );
    }),
  ]).finally(() => clearTimeout(timer));
}

function echoOnce(port: number, message: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    ws.once("error", reject);
    ws.once("open", () => ws.send(message));
    ws.once("message", (data: Buffer) => {
      resolve(data.toString());
      ws.close();
    });
  });
}

describe("serve(): fuzzed WebSocket frames", () => {
  let server: ServerHandle & { logger: RecordingLogger };
  let calls = 0;
  let returned = 0;
  const app: ASGIApp = async (scope, receive, send) => {
    if (scope.type !== "websocket") return;
    calls++;
    try {
      await receive();
      await send({ type: "websocket.accept" });
      for (;;) {
        const event = await receive();
        if (event.type === "websocket.disconnect") {
          assert.equal(typeof event.code, "number");
          return;
        }
        if (event.type !== "websocket.receive") continue;
        // The peer may be gone by the time the echo is sent: a rejected send is expected.
        await send(
          event.text !== undefined
            ? { type: "websocket.send", text: event.text }
            : { type: "websocket.send", bytes: event.bytes },
        ).catch(() => {});
      }
    } finally {
      returned++;
    }
  };

  before(async () => {
    server = await start(app, { lifespan: "off", websocketMaxMessageSize: 4096 });
  });
  after(() => server.close());

  it("survives random frame streams split anywhere, and keeps answering", async () => {
    await fc.assert(
      fc.asyncProperty(stream, async (chunks) => {
        await fuzzConnection(server.port, chunks);
        // The app's call ends too (it saw a disconnect): nothing is left hanging.
        for (let i = 0; i < 500 && returned < calls; i++) await sleep(5);
        assert.equal(returned, calls, "an app call did not return");
        assert.equal(await echoOnce(server.port, "still here"), "still here");
      }),
      { numRuns: 60 },
    );
    for (let i = 0; i < 500 && returned < calls; i++) await sleep(5);
    assert.equal(returned, calls);
    assert.deepEqual(server.logger.errors, []);
  });
});
