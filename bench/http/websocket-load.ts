/**
 * The WebSocket benchmark's load generator, run as its own process (pinned to the other CPU)
 * so that the server's CPU time is its own:
 *
 *   node websocket-load.js URL CONNECTIONS WINDOW WARMUP_S SECONDS [raw|ws]
 *
 * Opens CONNECTIONS connections; each keeps WINDOW text messages in flight, sending the next
 * as each echo comes back (checked byte for byte). After WARMUP_S seconds it prints "go", then
 * after SECONDS more one JSON line: echoes counted, seconds measured, p99 round-trip latency
 * in ms and errors (wrong echoes, connections lost).
 *
 * `raw` (the default) does the handshake itself and then writes prebuilt masked frames and
 * reads the echoes as plain bytes: a `ws` client costs about as much CPU per message as a
 * `ws` server, so with it the client, not the server, would be the bottleneck. `ws` uses the
 * `ws` package's client instead.
 */
import { Buffer } from "node:buffer";
import { randomBytes } from "node:crypto";
import { connect, type Socket } from "node:net";
import WebSocket from "ws";
import { WS_MESSAGE } from "./websocket-common.js";

const [
  url = "",
  connectionsArg = "50",
  windowArg = "1",
  warmupArg = "1",
  secondsArg = "3",
  mode = "raw",
] = process.argv.slice(2);
const connections = Number(connectionsArg);
const window = Math.max(1, Number(windowArg));
const warmupMs = Number(warmupArg) * 1000;
const measureMs = Number(secondsArg) * 1000;

let measuring = false;
let echoes = 0;
let errors = 0;
let stopped = false;
/** Round-trip times in µs of the echoes inside the measured window. */
const latencies: number[] = [];

/** Send times of the messages in flight on one connection (echoes come back in order). */
class InFlight {
  readonly #sentAt: number[] = [];
  #head = 0;

  sent(): void {
    this.#sentAt.push(performance.now());
  }

  echoed(): void {
    const started = this.#sentAt[this.#head++] as number;
    if (this.#head > 1024) {
      this.#sentAt.splice(0, this.#head);
      this.#head = 0;
    }
    if (measuring) {
      echoes++;
      latencies.push((performance.now() - started) * 1000);
    }
  }
}

// ---- the `ws` client ----

async function openWs(): Promise<() => void> {
  const ws = await new Promise<WebSocket>((resolve, reject) => {
    const socket = new WebSocket(url, { perMessageDeflate: false });
    socket.once("open", () => resolve(socket));
    socket.once("error", reject);
  });
  const flight = new InFlight();
  const sendOne = () => {
    flight.sent();
    ws.send(WS_MESSAGE);
  };
  ws.on("message", (data, isBinary) => {
    if (isBinary || data.toString() !== WS_MESSAGE) errors++;
    flight.echoed();
    if (!stopped) sendOne();
  });
  ws.on("error", () => {
    errors++;
  });
  ws.on("close", () => {
    if (!stopped) errors++;
  });
  for (let i = 0; i < window; i++) sendOne();
  return () => ws.terminate();
}

// ---- the raw client ----

const PAYLOAD = Buffer.from(WS_MESSAGE);
if (PAYLOAD.length >= 126) throw new Error("the raw client handles 7-bit payload lengths only");
/** A client frame must be masked (RFC 6455 §5.3); the same masked frame is sent every time. */
const FRAME = (() => {
  const mask = randomBytes(4);
  const frame = Buffer.alloc(6 + PAYLOAD.length);
  frame[0] = 0x81; // FIN, text
  frame[1] = 0x80 | PAYLOAD.length;
  mask.copy(frame, 2);
  for (let i = 0; i < PAYLOAD.length; i++)
    frame[6 + i] = (PAYLOAD[i] as number) ^ (mask[i & 3] as number);
  return frame;
})();
/** The echo as the server sends it: unmasked, FIN, text. */
const ECHO = Buffer.concat([Buffer.from([0x81, PAYLOAD.length]), PAYLOAD]);
/** Frames for up to this many echoes at once, written with one call. */
const BATCH = Buffer.concat(Array.from({ length: Math.max(window, 64) }, () => FRAME));

function frames(count: number): Buffer {
  return count * FRAME.length <= BATCH.length
    ? BATCH.subarray(0, count * FRAME.length)
    : Buffer.concat(Array.from({ length: count }, () => FRAME));
}

async function openRaw(): Promise<() => void> {
  const target = new URL(url);
  const socket = await new Promise<Socket>((resolve, reject) => {
    const s = connect(Number(target.port), target.hostname, () => resolve(s));
    s.once("error", reject);
  });
  socket.setNoDelay(true);
  const key = randomBytes(16).toString("base64");
  socket.write(
    `GET ${target.pathname} HTTP/1.1\r\nHost: ${target.host}\r\nUpgrade: websocket\r\n` +
      `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  let pending = await new Promise<Buffer>((resolve, reject) => {
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return;
      socket.off("data", onData);
      if (!head.subarray(0, 12).toString().startsWith("HTTP/1.1 101")) {
        reject(new Error(`handshake refused: ${head.subarray(0, end).toString()}`));
      }
      resolve(head.subarray(end + 4));
    };
    socket.on("data", onData);
  });
  const flight = new InFlight();
  const onData = (chunk: Buffer) => {
    const data = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    let offset = 0;
    let count = 0;
    while (data.length - offset >= ECHO.length) {
      if (data.compare(ECHO, 0, ECHO.length, offset, offset + ECHO.length) !== 0) {
        errors++;
        socket.destroy();
        return;
      }
      offset += ECHO.length;
      flight.echoed();
      count++;
    }
    pending = offset === data.length ? Buffer.alloc(0) : data.subarray(offset);
    if (count > 0 && !stopped) {
      for (let i = 0; i < count; i++) flight.sent();
      socket.write(frames(count));
    }
  };
  socket.on("data", onData);
  socket.on("error", () => {
    errors++;
  });
  socket.on("close", () => {
    if (!stopped) errors++;
  });
  for (let i = 0; i < window; i++) flight.sent();
  socket.write(frames(window));
  if (pending.length > 0) {
    const early = pending;
    pending = Buffer.alloc(0);
    onData(early);
  }
  return () => socket.destroy();
}

const closers = await Promise.all(
  Array.from({ length: connections }, () => (mode === "ws" ? openWs() : openRaw())),
);
await new Promise((resolve) => setTimeout(resolve, warmupMs));
measuring = true;
const started = performance.now();
process.stdout.write("go\n");
await new Promise((resolve) => setTimeout(resolve, measureMs));
measuring = false;
stopped = true;
const seconds = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
const p99us = latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))] ?? 0;
process.stdout.write(`${JSON.stringify({ echoes, seconds, p99ms: p99us / 1000, errors })}\n`);
for (const close of closers) close();
process.exit(0);
