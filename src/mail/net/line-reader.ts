/**
 * Reads CRLF-terminated lines and exact byte counts (IMAP literals, RFC 9051 §4.3) from a
 * socket, with a hard cap on line length, so a peer that never sends a line end cannot grow our
 * memory. Protocol-neutral: SMTP replies and IMAP responses both use it.
 *
 * Received chunks are kept in a queue and copied once, when a line or a byte count is taken
 * out, so reading a large literal costs time in proportion to its size, not to its size times
 * the number of chunks it arrived in.
 *
 * Flow control: while nobody is asking, at most about `highWater` bytes are buffered (the
 * socket is paused beyond that). A pending `readBytes(n)` is different: the caller has asked
 * for `n` bytes, so the socket keeps flowing until they are all here, however large `n` is.
 * Bounding `n` (an IMAP literal's announced size) is the caller's job.
 */
import { Buffer } from "node:buffer";
import type { Readable } from "node:stream";
import { withDeadline } from "../../shared/deadline.js";
import { deadlineError, type NetErrorFactory } from "./errors.js";

export interface LineReaderOptions {
  /** Longest line accepted, without its line end. */
  maxLineLength: number;
  error: NetErrorFactory;
}

const LF = 0x0a;
const CR = 0x0d;
const EMPTY = Buffer.alloc(0);

type Pending =
  | { kind: "line"; resolve: (line: string) => void; reject: (e: unknown) => void }
  | { kind: "bytes"; n: number; resolve: (b: Uint8Array) => void; reject: (e: unknown) => void };

export class LineReader {
  readonly #stream: Readable;
  readonly #options: LineReaderOptions;
  /** Received bytes not consumed yet, oldest first; the first may be a view into a chunk. */
  #chunks: Buffer[] = [];
  #length = 0;
  /** How many leading chunks were searched for a line end without finding one. */
  #scannedChunks = 0;
  #pending: Pending | undefined;
  #failure: Error | undefined;
  #detached = false;
  /** Pause the socket when this much is buffered and nobody is asking for it. */
  readonly #highWater: number;

  readonly #onData = (chunk: Buffer) => {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#length += chunk.length;
    this.#pump();
    if (this.#length > this.#highWater && !this.#readingBytes()) this.#stream.pause();
  };
  readonly #onEnd = () => this.#fail("closed", "the server closed the connection");
  readonly #onError = (cause: Error) =>
    this.#fail("closed", `the connection broke: ${cause.message}`, cause);

  /** `stream` is normally the connection's socket; any Readable of Buffers works. */
  constructor(stream: Readable, options: LineReaderOptions) {
    this.#stream = stream;
    this.#options = options;
    this.#highWater = Math.max(64 * 1024, options.maxLineLength * 2);
    stream.on("data", this.#onData);
    stream.on("end", this.#onEnd);
    stream.on("close", this.#onEnd);
    stream.on("error", this.#onError);
  }

  /** Bytes received but not yet consumed. */
  get buffered(): number {
    return this.#length;
  }

  /** The failure that ended this reader (peer closed, line too long, …), if any. */
  get failure(): Error | undefined {
    return this.#failure;
  }

  /** Resolves with the next line, without its CRLF (a bare LF is tolerated as a line end). */
  readLine(
    timeoutMs: number,
    signal?: AbortSignal,
    what = "waiting for the server",
  ): Promise<string> {
    let ready: string | undefined;
    try {
      ready = this.tryReadLine();
    } catch (failure) {
      return Promise.reject(failure); // always a promise, never a synchronous throw
    }
    if (ready !== undefined) return Promise.resolve(ready);
    return this.#wait<string>(timeoutMs, signal, what, (resolve, reject) => ({
      kind: "line",
      resolve,
      reject,
    }));
  }

  /** The next complete line if one is already buffered; never waits. Throws on a broken stream. */
  tryReadLine(): string | undefined {
    if (this.#detached) throw this.#detachedError();
    const end = this.#indexOfLF();
    const max = this.#options.maxLineLength;
    if (end === -1) {
      if (this.#length > max + 1) this.#fail("line-too-long", `a line longer than ${max} bytes`);
      if (this.#failure) throw this.#failure;
      return undefined;
    }
    const line = this.#take(end + 1);
    const stop = end > 0 && line[end - 1] === CR ? end - 1 : end;
    if (stop > max) {
      this.#fail("line-too-long", `a line longer than ${max} bytes`);
      throw this.#failure;
    }
    return line.toString("utf8", 0, stop);
  }

  /**
   * Resolves with exactly `n` bytes (an IMAP literal), however many chunks they arrive in.
   * The socket keeps flowing until they are here, so the caller must bound `n`.
   */
  readBytes(
    n: number,
    timeoutMs: number,
    signal?: AbortSignal,
    what = "reading data",
  ): Promise<Uint8Array> {
    if (!Number.isSafeInteger(n) || n < 0) {
      return Promise.reject(new RangeError(`readBytes: ${n} is not a byte count`));
    }
    if (this.#detached) return Promise.reject(this.#detachedError());
    if (this.#length >= n) return Promise.resolve(this.#take(n));
    return this.#wait<Uint8Array>(timeoutMs, signal, what, (resolve, reject) => ({
      kind: "bytes",
      n,
      resolve,
      reject,
    }));
  }

  /**
   * Stops reading from the socket for good and returns whatever was buffered, leaving the
   * socket paused with none of this reader's listeners. Two uses: before a STARTTLS handshake
   * (the caller must treat a non-empty result as an attack), and to hand the byte stream over
   * to a parser of its own (see `MailConnection.takeData`). A pending read is rejected.
   */
  detach(): Uint8Array {
    this.#detached = true;
    this.#stream.pause();
    this.#stream.off("data", this.#onData);
    this.#stream.off("end", this.#onEnd);
    this.#stream.off("close", this.#onEnd);
    this.#stream.off("error", this.#onError);
    const rest = this.#length === 0 ? EMPTY : this.#take(this.#length);
    this.#pending?.reject(this.#detachedError());
    this.#pending = undefined;
    return rest;
  }

  #wait<T>(
    timeoutMs: number,
    signal: AbortSignal | undefined,
    what: string,
    make: (resolve: (v: T) => void, reject: (e: unknown) => void) => Pending,
  ): Promise<T> {
    if (this.#failure) return Promise.reject(this.#failure);
    if (this.#pending) return Promise.reject(new Error("LineReader: one read at a time"));
    const failure = deadlineError(this.#options.error, what, timeoutMs);
    return withDeadline<T>(timeoutMs, signal, failure, (resolve, reject) => {
      this.#pending = make(resolve, reject);
      this.#stream.resume();
      this.#pump();
      return () => {
        this.#pending = undefined;
      };
    });
  }

  /** Settles the pending read if what it waits for is here (or can never come). */
  #pump(): void {
    const pending = this.#pending;
    if (!pending) return;
    try {
      if (pending.kind === "line") {
        const line = this.tryReadLine();
        if (line !== undefined) pending.resolve(line);
      } else if (this.#length >= pending.n) {
        pending.resolve(this.#take(pending.n));
      } else if (this.#failure) {
        pending.reject(this.#failure);
      }
    } catch (failure) {
      pending.reject(failure);
    }
  }

  /** True while a byte read waits for more than is buffered: the socket must keep flowing. */
  #readingBytes(): boolean {
    const pending = this.#pending;
    return pending?.kind === "bytes" && pending.n > this.#length;
  }

  /** Offset of the first LF in the buffer, or -1; chunks searched before are not searched again. */
  #indexOfLF(): number {
    let offset = 0;
    for (let i = 0; i < this.#chunks.length; i++) {
      const chunk = this.#chunks[i];
      if (i >= this.#scannedChunks) {
        const at = chunk.indexOf(LF);
        if (at !== -1) return offset + at;
        this.#scannedChunks = i + 1;
      }
      offset += chunk.length;
    }
    return -1;
  }

  /** Removes the first `n` buffered bytes (n <= buffered) and returns them in one buffer. */
  #take(n: number): Buffer {
    const head = this.#chunks[0];
    let bytes: Buffer;
    if (n === 0) bytes = EMPTY;
    else if (head.length >= n) bytes = Buffer.from(head.subarray(0, n));
    else {
      bytes = Buffer.allocUnsafe(n);
      let filled = 0;
      for (const chunk of this.#chunks) {
        filled += chunk.copy(bytes, filled, 0, Math.min(chunk.length, n - filled));
        if (filled === n) break;
      }
    }
    this.#consume(n);
    return bytes;
  }

  #consume(n: number): void {
    this.#length -= n;
    let dropped = 0;
    while (n > 0) {
      const head = this.#chunks[dropped];
      if (head.length > n) {
        this.#chunks[dropped] = head.subarray(n);
        break;
      }
      n -= head.length;
      dropped++;
    }
    if (dropped > 0) this.#chunks.splice(0, dropped);
    // Chunks searched without a line end stay so; a partly consumed one stays LF-free too.
    this.#scannedChunks = Math.max(0, this.#scannedChunks - dropped);
    if (!this.#detached && this.#length <= this.#highWater) this.#stream.resume();
  }

  #detachedError(): Error {
    return this.#options.error("closed", "the connection's reader was detached");
  }

  #fail(kind: "closed" | "line-too-long", message: string, cause?: unknown): void {
    if (this.#failure) return;
    this.#failure = this.#options.error(kind, message, cause);
    if (kind === "line-too-long") {
      // The stream is out of sync now; nothing after this point can be trusted.
      this.#chunks = [];
      this.#length = 0;
      this.#scannedChunks = 0;
      this.#stream.destroy();
    }
    this.#pump();
  }
}
