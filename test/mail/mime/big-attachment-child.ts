/**
 * Child process of big-attachment.test.ts (its own process, so its memory is measured alone):
 * renders a message whose attachment is a generated stream of SIZE bytes, nothing on disk,
 * into a sink that checks the base64 body on the fly (76-character lines + CRLF, alphabet,
 * decoded bytes hashed against the generated ones), and prints one JSON line with the counts
 * and the resident-set growth during the render.
 */
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { Attachment, MailMessage } from "../../../src/mail/mime/index.js";

const SIZE = Number(process.argv[2] ?? 100 * 1024 * 1024);
/** How the content arrives: a Node Readable, a web ReadableStream, or an async generator. */
const KIND = process.argv[3] ?? "readable";
const CHUNK = 64 * 1024;
const CR = 0x0d;
const LF = 0x0a;

/** 1 MiB of pseudo-random bytes, repeated at shifting offsets: cheap, yet no two chunks alike. */
const pattern = Buffer.allocUnsafe(1 << 20);
let x = 12345;
for (let i = 0; i < pattern.length; i++) {
  x = (Math.imul(x, 1103515245) + 12345) >>> 0;
  pattern[i] = x >>> 24;
}

function generated(
  size: number,
  hash: ReturnType<typeof createHash>,
): Readable | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array> {
  let sent = 0;
  /** The next chunk, or undefined at the end. */
  const next = (): Buffer | undefined => {
    if (sent >= size) return undefined;
    const n = Math.min(CHUNK, size - sent);
    const start = (sent * 7) % (pattern.length - CHUNK);
    // A fresh buffer per chunk, as a file or socket stream would hand out.
    const chunk = Buffer.from(pattern.subarray(start, start + n));
    hash.update(chunk);
    sent += n;
    return chunk;
  };
  if (KIND === "web") {
    return new ReadableStream<Uint8Array>({
      pull(controller) {
        const chunk = next();
        if (chunk === undefined) controller.close();
        else controller.enqueue(chunk);
      },
    });
  }
  if (KIND === "iterable") {
    return (async function* () {
      for (let chunk = next(); chunk !== undefined; chunk = next()) yield chunk;
    })();
  }
  return new Readable({
    read() {
      this.push(next() ?? null);
    },
  });
}

const BASE64 = new Uint8Array(256);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") {
  BASE64[c.charCodeAt(0)] = 1;
}

/** Checks the attachment body as it streams by; everything else is only counted. */
class Sink {
  total = 0;
  bodyBytes = 0;
  lines = 0;
  shortLines = 0;
  errors: string[] = [];
  readonly decoded = createHash("sha256");
  #mode: "head" | "body" | "after" = "head";
  #head = "";
  #boundary = "";
  #line = 0;
  #sawCR = false;
  #afterShort = false;
  #emptyLine = false;
  #tail = "";
  /** Base64 characters not yet decoded (fewer than 4, plus the current chunk's). */
  #carry: Buffer = Buffer.alloc(0);

  write(chunk: Uint8Array): void {
    this.total += chunk.length;
    let start = 0;
    if (this.#mode === "head") {
      this.#head += Buffer.from(chunk).toString("latin1");
      const name = this.#head.indexOf('"big.bin"');
      const end = name < 0 ? -1 : this.#head.indexOf("\r\n\r\n", name);
      if (end < 0) {
        if (this.#head.length > 1 << 20) this.fail("no attachment header in the first MiB");
        return;
      }
      this.#boundary = /boundary="([^"]+)"/.exec(this.#head)?.[1] ?? "";
      const bodyStart = end + 4 - (this.#head.length - chunk.length);
      this.#head = "";
      this.#mode = "body";
      start = bodyStart;
    }
    if (this.#mode === "body") start = this.body(chunk, start);
    if (this.#mode === "after" && start < chunk.length) {
      this.#tail = (this.#tail + Buffer.from(chunk.subarray(start)).toString("latin1")).slice(
        -4096,
      );
    }
  }

  /** Scans base64 lines from `from`; returns where the body ended (or chunk.length). */
  body(chunk: Uint8Array, from: number): number {
    const clean = Buffer.allocUnsafe(chunk.length - from);
    let c = 0;
    for (let i = from; i < chunk.length; i++) {
      const b = chunk[i];
      if (this.#sawCR) {
        if (b !== LF) this.fail(`bare CR in line ${this.lines}`);
        this.#sawCR = false;
        if (this.#line === 0) {
          // The empty line before the closing delimiter ends the body.
          this.#emptyLine = true;
          this.#mode = "after";
          this.flushDecode(clean.subarray(0, c), true);
          return i + 1;
        }
        this.lines++;
        this.bodyBytes += this.#line + 2;
        if (this.#line !== 76) {
          this.shortLines++;
          if (this.#afterShort)
            this.fail(`second short line (${this.#line}) at line ${this.lines}`);
          this.#afterShort = true;
        }
        this.#line = 0;
        continue;
      }
      if (b === CR) {
        this.#sawCR = true;
        continue;
      }
      if (BASE64[b] !== 1) {
        this.fail(`byte ${b} in base64 line ${this.lines}`);
        continue;
      }
      if (this.#afterShort) this.fail(`line after the short last line at ${this.lines}`);
      if (++this.#line > 76) this.fail(`line ${this.lines} longer than 76`);
      clean[c++] = b;
    }
    this.flushDecode(clean.subarray(0, c), false);
    return chunk.length;
  }

  flushDecode(chars: Buffer, last: boolean): void {
    const all = this.#carry.length === 0 ? chars : Buffer.concat([this.#carry, chars]);
    const whole = last ? all.length : all.length - (all.length % 4);
    if (whole > 0)
      this.decoded.update(Buffer.from(all.subarray(0, whole).toString("latin1"), "base64"));
    this.#carry = Buffer.from(all.subarray(whole));
  }

  fail(why: string): void {
    if (this.errors.length < 10) this.errors.push(why);
  }

  finish(): void {
    if (!this.#emptyLine) this.fail("the body did not end with an empty line");
    if (!this.#tail.startsWith(`--${this.#boundary}--\r\n`)) {
      this.fail(`after the body: ${JSON.stringify(this.#tail.slice(0, 100))}`);
    }
  }
}

async function render(size: number, sink: Sink, sample?: () => void): Promise<string> {
  const source = createHash("sha256");
  const message = new MailMessage({
    sender: "big@example.test",
    recipients: "rcpt@example.test",
    subject: "100 MB",
    textContent: "a big attachment follows\n",
    attachments: [new Attachment({ filename: "big.bin", content: generated(size, source) })],
  });
  for await (const chunk of message.render()) {
    sink.write(chunk);
    sample?.();
  }
  sink.finish();
  return source.digest("hex");
}

// Warm up (JIT, module state), so the baseline is the steady state before the big render.
await render(4 * 1024 * 1024, new Sink());

const baseline = process.memoryUsage.rss();
const maxBefore = process.resourceUsage().maxRSS * 1024;
let sampled = baseline;
let calls = 0;
const started = process.hrtime.bigint();
const sink = new Sink();
const sourceHash = await render(SIZE, sink, () => {
  if ((++calls & 15) === 0) sampled = Math.max(sampled, process.memoryUsage.rss());
});
const ms = Number(process.hrtime.bigint() - started) / 1e6;
sampled = Math.max(sampled, process.memoryUsage.rss());
const maxAfter = process.resourceUsage().maxRSS * 1024;
// maxRSS is a high-water mark since the process began: it says something about the render
// only if it rose during it.
const peak = maxAfter > maxBefore ? Math.max(maxAfter, sampled) : sampled;

process.stdout.write(
  `${JSON.stringify({
    size: SIZE,
    kind: KIND,
    total: sink.total,
    bodyBytes: sink.bodyBytes,
    lines: sink.lines,
    shortLines: sink.shortLines,
    hashesMatch: sink.decoded.digest("hex") === sourceHash,
    errors: sink.errors,
    baselineMB: baseline / 2 ** 20,
    peakGrowthMB: (peak - baseline) / 2 ** 20,
    ms,
  })}\n`,
);
