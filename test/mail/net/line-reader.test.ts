/**
 * The protocol-neutral LineReader (src/mail/net) shared by the SMTP and IMAP clients: lines,
 * literals (exact byte counts) of every size in any chunking, and flow control, over a real
 * loopback socket pair and over a PassThrough whose chunk boundaries the test chooses.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createServer, type Server, type Socket, connect as tcpConnect } from "node:net";
import { PassThrough } from "node:stream";
import { after, before, describe, it } from "node:test";
import { setImmediate as tick } from "node:timers/promises";
import fc from "fast-check";
import { MailError } from "../../../src/errors.js";
import { LineReader, type NetErrorFactory } from "../../../src/mail/net/index.js";

const error: NetErrorFactory = (kind, message, cause) =>
  new MailError(message, { code: `NET_${kind.toUpperCase()}`, cause });

/** Literal bytes that include CR, LF and NUL, so a literal read as lines would show. */
function literal(size: number, seed = 0): Buffer {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + seed) & 0xff;
  return bytes;
}

/** An IMAP-like response: a line announcing a literal, the literal, the rest of the line. */
function response(body: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from(`* 1 FETCH (BODY[] {${body.length}}\r\n`),
    body,
    Buffer.from(")\r\n* 2 EXISTS\r\n"),
  ]);
}

/** Reads what `response()` wrote and checks every part. */
async function readResponse(reader: LineReader, body: Buffer, timeoutMs = 5000): Promise<void> {
  assert.equal(await reader.readLine(timeoutMs), `* 1 FETCH (BODY[] {${body.length}}`);
  const got = await reader.readBytes(body.length, timeoutMs);
  assert.equal(got.length, body.length);
  assert.ok(Buffer.from(got).equals(body), "literal bytes differ");
  assert.equal(await reader.readLine(timeoutMs), ")");
  assert.equal(await reader.readLine(timeoutMs), "* 2 EXISTS");
  assert.equal(reader.buffered, 0);
}

/** Cuts `bytes` at the given offsets (sorted, deduplicated, within range). */
function cut(bytes: Buffer, offsets: number[]): Buffer[] {
  const points = [...new Set(offsets)].filter((o) => o > 0 && o < bytes.length);
  points.sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let start = 0;
  for (const point of [...points, bytes.length]) {
    pieces.push(bytes.subarray(start, point));
    start = point;
  }
  return pieces;
}

/**
 * Feeds `pieces` into a PassThrough read by a LineReader. "interleaved": each piece after the
 * reader has had a turn (reads wait on data); "upfront": everything before the first read.
 */
async function feed(pieces: Buffer[], body: Buffer, mode: "interleaved" | "upfront") {
  const stream = new PassThrough();
  const reader = new LineReader(stream, { maxLineLength: 1000, error });
  if (mode === "upfront") {
    for (const piece of pieces) stream.write(piece);
    await tick();
    await readResponse(reader, body);
    return;
  }
  const reading = readResponse(reader, body);
  for (const piece of pieces) {
    stream.write(piece);
    await tick();
  }
  await reading;
}

describe("LineReader over a socket", () => {
  let server: Server;
  let port = 0;
  let accept: (s: Socket) => void = () => {};

  before(async () => {
    server = createServer((s) => accept(s));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    port = typeof address === "object" && address ? address.port : 0;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  async function pair(
    maxLineLength = 100,
  ): Promise<{ peer: Socket; reader: LineReader; client: Socket }> {
    const serverSide = new Promise<Socket>((resolve) => {
      accept = resolve;
    });
    const client = tcpConnect({ port, host: "127.0.0.1" });
    const peer = await serverSide;
    return { peer, client, reader: new LineReader(client, { maxLineLength, error }) };
  }

  it("reads lines split across packets, CRLF or bare LF, and exact byte counts", async () => {
    const { peer, reader, client } = await pair();
    peer.write("first li");
    peer.write("ne\r\nsecond\nliteral:");
    assert.equal(await reader.readLine(1000), "first line");
    assert.equal(await reader.readLine(1000), "second");
    assert.equal(await reader.readLine(50).catch((e: MailError) => e.code), "NET_TIMEOUT");
    peer.write("\r\n12345");
    assert.equal(await reader.readLine(1000), "literal:");
    assert.deepEqual(Buffer.from(await reader.readBytes(5, 1000)), Buffer.from("12345"));
    client.destroy();
  });

  it("fails with line-too-long instead of buffering an endless line", async () => {
    const { peer, reader } = await pair(100);
    peer.write("x".repeat(10_000));
    await assert.rejects(reader.readLine(1000), { code: "NET_LINE-TOO-LONG" });
  });

  it("hands out a line already received before the peer closed, then reports the close", async () => {
    const { peer, reader } = await pair();
    peer.end("421 bye\r\n");
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(await reader.readLine(1000), "421 bye");
    await assert.rejects(reader.readLine(1000), { code: "NET_CLOSED" });
  });

  it("aborts a wait with an AbortSignal, and detach() returns unread bytes", async () => {
    const { peer, reader, client } = await pair();
    await assert.rejects(reader.readLine(5000, AbortSignal.timeout(30)), { code: "NET_ABORTED" });
    peer.write("220 ready\r\ninjected");
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(await reader.readLine(1000), "220 ready");
    assert.equal(Buffer.from(reader.detach()).toString(), "injected");
    await assert.rejects(reader.readLine(1000), { code: "NET_CLOSED" });
    client.destroy();
  });

  for (const size of [1024 * 1024, 8 * 1024 * 1024]) {
    it(`reads a ${size / 1024 / 1024} MiB literal that follows a line`, async () => {
      const { peer, reader, client } = await pair();
      const body = literal(size, 7);
      peer.write(response(body));
      await readResponse(reader, body, 20_000);
      client.destroy();
    });
  }

  it("buffers only up to its high-water mark while nobody reads, then reads the rest on demand", async () => {
    const { peer, reader, client } = await pair();
    const body = literal(4 * 1024 * 1024, 3);
    peer.write(response(body));
    assert.equal(await reader.readLine(5000), `* 1 FETCH (BODY[] {${body.length}}`);
    await new Promise((r) => setTimeout(r, 200));
    // The socket was paused: far less than the 4 MiB sent is held in memory.
    assert.ok(reader.buffered < 1024 * 1024, `buffered ${reader.buffered} bytes`);
    assert.ok(Buffer.from(await reader.readBytes(body.length, 20_000)).equals(body));
    assert.equal(await reader.readLine(5000), ")");
    client.destroy();
  });
});

describe("LineReader literal framing", () => {
  it("reads literals of sizes 0 to 40 split into two pieces at every boundary", async () => {
    for (let size = 0; size <= 40; size++) {
      const bytes = response(literal(size, size));
      for (let at = 0; at <= bytes.length; at++) {
        const pieces = cut(bytes, [at]);
        await feed(pieces, literal(size, size), "interleaved");
        await feed(pieces, literal(size, size), "upfront");
      }
    }
  });

  it("reads literals delivered one byte per chunk", async () => {
    for (const size of [0, 1, 2, 3, 100, 1000]) {
      const bytes = response(literal(size));
      const pieces = cut(
        bytes,
        Array.from({ length: bytes.length }, (_, i) => i),
      );
      await feed(pieces, literal(size), "interleaved");
    }
  });

  it("reads large literals split at random points (fast-check)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 600 * 1024 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 200, size: "large" }),
        fc.constantFrom<"interleaved" | "upfront">("interleaved", "upfront"),
        async (size, fractions, mode) => {
          const body = literal(size, size & 0xff);
          const bytes = response(body);
          await feed(
            cut(
              bytes,
              fractions.map((f) => Math.floor(f * bytes.length)),
            ),
            body,
            mode,
          );
        },
      ),
      { numRuns: 60 },
    );
  });

  it("reads an 8 MiB literal arriving in 1000 random pieces", async () => {
    const body = literal(8 * 1024 * 1024, 11);
    const bytes = response(body);
    const offsets = fc.sample(fc.integer({ min: 1, max: bytes.length - 1 }), 1000);
    await feed(cut(bytes, offsets), body, "interleaved");
  });
});

describe("LineReader flow control", () => {
  it("pauses past its high-water mark with nobody reading, and a byte read resumes it", async () => {
    const stream = new PassThrough();
    const reader = new LineReader(stream, { maxLineLength: 1000, error });
    const body = literal(1024 * 1024);
    stream.write(Buffer.from(`* 1 FETCH (BODY[] {${body.length}}\r\n`));
    assert.equal(await reader.readLine(1000), `* 1 FETCH (BODY[] {${body.length}}`);
    stream.write(body.subarray(0, 200 * 1024));
    await tick();
    assert.equal(stream.isPaused(), true, "paused while nobody asks");
    const reading = reader.readBytes(body.length, 5000);
    assert.equal(stream.isPaused(), false, "a pending literal read keeps the stream flowing");
    for (let at = 200 * 1024; at < body.length; at += 16 * 1024) {
      stream.write(body.subarray(at, at + 16 * 1024));
      await tick();
      assert.equal(stream.isPaused(), false);
    }
    assert.ok(Buffer.from(await reading).equals(body));
  });

  it("rejects a pending literal read when the peer closes before it is complete", async () => {
    const stream = new PassThrough();
    const reader = new LineReader(stream, { maxLineLength: 1000, error });
    const reading = reader.readBytes(10, 1000);
    stream.end(Buffer.from("12345"));
    await assert.rejects(reading, { code: "NET_CLOSED" });
  });

  it("refuses a byte count that is not a non-negative integer", async () => {
    const reader = new LineReader(new PassThrough(), { maxLineLength: 1000, error });
    for (const n of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      await assert.rejects(reader.readBytes(n, 1000), RangeError);
    }
  });
});
