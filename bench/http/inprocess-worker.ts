/**
 * One measurement of bench/http/inprocess.ts: loads one benchmark server (the same module that
 * run.ts starts, unchanged) and drives it through in-memory sockets instead of TCP, then
 * prints one JSON line: CPU and GC time per request.
 *
 *   node <build>/bench/http/inprocess-worker.js <server-id> <profile> <warm> <measure> <connections>
 *
 * With no kernel, no loopback and no load generator in the measured process's way, what is
 * left is each server's own cost in JavaScript and in Node's HTTP machinery, which wrk on
 * this shared host cannot resolve (its req/s move by ±10 % between idle runs).
 *
 * How the server is reached: `net.Server.prototype.listen` is wrapped before the server
 * module loads, so whatever server it creates (node:http, Fastify's, Hono's) is recorded, and
 * each fake connection is handed to it with the `connection` event, as Node's own accept does.
 * Each connection keeps one request in flight and sends the next one on the next event-loop
 * turn after the answer is complete (keep-alive, no pipelining), like wrk's connections.
 */
import { Server } from "node:net";
import { PerformanceObserver } from "node:perf_hooks";
import { Duplex } from "node:stream";
import { fileURLToPath } from "node:url";
import { ECHO_BODY, HELLO_TEXT, type Profile, ROUTES_TARGET } from "./common.js";

const [id, profileArg, warmArg, measureArg, connectionsArg] = process.argv.slice(2);
const profile = profileArg as Profile;
const warm = Number(warmArg);
const measure = Number(measureArg);
const connections = Number(connectionsArg);

function requestText(): string {
  if (profile === "echo") {
    return (
      "POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" +
      `Content-Length: ${Buffer.byteLength(ECHO_BODY)}\r\n\r\n${ECHO_BODY}`
    );
  }
  const path = profile === "routes" ? ROUTES_TARGET : "/";
  return `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;
}
const REQUEST = Buffer.from(requestText());

/** Every server made while the module loads. */
const servers: Server[] = [];
const listen = Server.prototype.listen;
Server.prototype.listen = function (this: Server, ...args: unknown[]) {
  servers.push(this);
  return (listen as (...a: unknown[]) => Server).apply(this, args);
} as typeof Server.prototype.listen;

// The server module reads its profile and port from argv, as when run.ts starts it.
process.argv.splice(2, process.argv.length - 2, profile, "0");
const script = fileURLToPath(new URL(`./servers/${id}.js`, import.meta.url));
await import(script);
const server = servers[0];
if (server === undefined) throw new Error(`${id} made no server`);
if (!server.listening) await new Promise((resolve) => server.once("listening", resolve));

let sent = 0;
let answered = 0;
let target = 0;
let finished: () => void = () => {};
let firstAnswer = "";

/**
 * A socket in memory: what the server writes is scanned for status lines (one per answer);
 * strings are not converted to bytes, as a TCP socket writes them without a copy. `writev`
 * exists so that corked writes arrive as one call, as they do on a TCP socket.
 */
class MemorySocket extends Duplex {
  remoteAddress = "127.0.0.1";
  remotePort = 40000;
  localAddress = "127.0.0.1";
  localPort = 8000;
  remoteFamily = "IPv4";
  /** What came of the answer being read, while it is incomplete. */
  private partial = "";

  constructor(index: number) {
    super({ decodeStrings: false });
    this.remotePort += index;
  }

  setNoDelay(): this {
    return this;
  }
  setKeepAlive(): this {
    return this;
  }
  setTimeout(): this {
    return this;
  }

  override _read(): void {}

  override _write(chunk: Buffer | string, _encoding: string, done: () => void): void {
    this.scan(chunk);
    done();
  }

  override _writev(chunks: Array<{ chunk: Buffer | string }>, done: () => void): void {
    for (const { chunk } of chunks) this.scan(chunk);
    done();
  }

  send(): void {
    this.push(REQUEST);
  }

  /**
   * Reads the answer as it comes (head and body in one chunk or several): complete once the
   * body has reached its Content-Length. Then the next request goes out on the next turn.
   */
  private scan(chunk: Buffer | string): void {
    const text = this.partial + (typeof chunk === "string" ? chunk : chunk.toString("latin1"));
    const headEnd = text.indexOf("\r\n\r\n");
    if (headEnd < 0) {
      this.partial = text;
      return;
    }
    const head = text.slice(0, headEnd);
    if (!head.startsWith("HTTP/1.1 200 ")) {
      throw new Error(`${id} answered ${JSON.stringify(head.slice(0, 60))}`);
    }
    const length = /\r\ncontent-length: *(\d+)/i.exec(head);
    if (length === null) throw new Error(`${id} answered without Content-Length`);
    if (text.length - headEnd - 4 < Number(length[1])) {
      this.partial = text;
      return;
    }
    this.partial = "";
    if (firstAnswer === "") firstAnswer = text;
    answered++;
    if (answered === target) finished();
    else if (sent < target) {
      sent++;
      setImmediate(() => this.send());
    }
  }
}

/** Sends `count` requests over the connections; resolves when all are answered. */
function run(sockets: MemorySocket[], count: number): Promise<void> {
  sent = 0;
  answered = 0;
  target = count;
  return new Promise((resolve) => {
    finished = resolve;
    // Each connection sends again after each answer, until `count` requests are out.
    for (const socket of sockets) {
      if (sent === count) break;
      sent++;
      socket.send();
    }
  });
}

const sockets = Array.from({ length: connections }, (_, i) => new MemorySocket(i));
for (const socket of sockets) server.emit("connection", socket);

await run(sockets, warm);
// Let the last answers of the warm-up settle before counting.
await new Promise((resolve) => setTimeout(resolve, 20));
// Every server answers the same bytes (its own header set aside): check before measuring.
const expected = profile === "echo" ? ECHO_BODY : HELLO_TEXT;
if (!firstAnswer.endsWith(`\r\n\r\n${expected}`)) {
  throw new Error(`${id}: unexpected answer ${JSON.stringify(firstAnswer.slice(0, 300))}`);
}

let gcMs = 0;
const gcObserver = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcMs += entry.duration;
});
gcObserver.observe({ entryTypes: ["gc"] });
const cpuBefore = process.cpuUsage();
const wallBefore = process.hrtime.bigint();
await run(sockets, measure);
const wallNs = Number(process.hrtime.bigint() - wallBefore);
const cpu = process.cpuUsage(cpuBefore);
// GC entries are delivered asynchronously: give the observer a turn.
await new Promise((resolve) => setImmediate(resolve));
gcObserver.disconnect();

process.stdout.write(
  `${JSON.stringify({
    cpuNs: ((cpu.user + cpu.system) * 1000) / measure,
    wallNs: wallNs / measure,
    gcNs: (gcMs * 1e6) / measure,
  })}\n`,
);
process.exit(0);
