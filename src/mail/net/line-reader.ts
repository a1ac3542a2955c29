/**
 * Reads CRLF-terminated lines (and, for IMAP literals, exact byte counts) from a socket with a
 * hard cap on line length and on how much is buffered, so a peer that never sends a line end
 * cannot grow our memory. Protocol-neutral: SMTP replies and IMAP responses both use it.
 */
import { Buffer } from "node:buffer";
import type { Socket } from "node:net";
import { withDeadline } from "./deadline.js";
import type { NetErrorFactory } from "./errors.js";

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
  readonly #socket: Socket;
  readonly #options: LineReaderOptions;
  #buffer: Buffer = EMPTY;
  #pending: Pending | undefined;
  #failure: Error | undefined;
  #detached = false;
  /** Stop reading from the socket when this much is buffered and nobody is asking for it. */
  readonly #highWater: number;

  readonly #onData = (chunk: Buffer) => {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    if (this.#buffer.length > this.#highWater) this.#socket.pause();
    this.#pump();
  };
  readonly #onEnd = () => this.#fail("closed", "the server closed the connection");
  readonly #onError = (cause: Error) =>
    this.#fail("closed", `the connection broke: ${cause.message}`, cause);

  constructor(socket: Socket, options: LineReaderOptions) {
    this.#socket = socket;
    this.#options = options;
    this.#highWater = Math.max(64 * 1024, options.maxLineLength * 2);
    socket.on("data", this.#onData);
    socket.on("end", this.#onEnd);
    socket.on("close", this.#onEnd);
    socket.on("error", this.#onError);
  }

  /** Bytes received but not yet consumed. */
  get buffered(): number {
    return this.#buffer.length;
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
    const end = this.#buffer.indexOf(LF);
    if (end === -1) {
      if (this.#buffer.length > this.#options.maxLineLength + 1) {
        this.#fail("line-too-long", `a line longer than ${this.#options.maxLineLength} bytes`);
      }
      if (this.#failure) throw this.#failure;
      return undefined;
    }
    const stop = end > 0 && this.#buffer[end - 1] === CR ? end - 1 : end;
    if (stop > this.#options.maxLineLength) {
      this.#fail("line-too-long", `a line longer than ${this.#options.maxLineLength} bytes`);
      throw this.#failure;
    }
    const line = this.#buffer.toString("utf8", 0, stop);
    this.#consume(end + 1);
    return line;
  }

  /** Resolves with exactly `n` bytes (IMAP literals). */
  readBytes(
    n: number,
    timeoutMs: number,
    signal?: AbortSignal,
    what = "reading data",
  ): Promise<Uint8Array> {
    if (this.#buffer.length >= n) {
      const bytes = Buffer.from(this.#buffer.subarray(0, n));
      this.#consume(n);
      return Promise.resolve(bytes);
    }
    return this.#wait<Uint8Array>(timeoutMs, signal, what, (resolve, reject) => ({
      kind: "bytes",
      n,
      resolve,
      reject,
    }));
  }

  /**
   * Stops reading from the socket and returns whatever was buffered (normally nothing). Used
   * before a STARTTLS handshake: the caller must treat a non-empty result as an attack.
   */
  detach(): Uint8Array {
    this.#detached = true;
    this.#socket.pause();
    this.#socket.off("data", this.#onData);
    this.#socket.off("end", this.#onEnd);
    this.#socket.off("close", this.#onEnd);
    this.#socket.off("error", this.#onError);
    const rest = this.#buffer;
    this.#buffer = EMPTY;
    this.#pending?.reject(this.#options.error("closed", "reader detached"));
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
    return withDeadline<T>(timeoutMs, signal, this.#options.error, what, (resolve, reject) => {
      this.#pending = make(resolve, reject);
      this.#socket.resume();
      this.#pump();
      return () => {
        this.#pending = undefined;
      };
    });
  }

  #pump(): void {
    const pending = this.#pending;
    if (!pending) return;
    try {
      if (pending.kind === "line") {
        const line = this.tryReadLine();
        if (line !== undefined) pending.resolve(line);
        else if (this.#failure) pending.reject(this.#failure);
      } else if (this.#buffer.length >= pending.n) {
        const bytes = Buffer.from(this.#buffer.subarray(0, pending.n));
        this.#consume(pending.n);
        pending.resolve(bytes);
      } else if (this.#failure) {
        pending.reject(this.#failure);
      }
    } catch (failure) {
      pending.reject(failure);
    }
  }

  #consume(n: number): void {
    this.#buffer = n >= this.#buffer.length ? EMPTY : this.#buffer.subarray(n);
    if (!this.#detached && this.#buffer.length <= this.#highWater) this.#socket.resume();
  }

  #fail(kind: "closed" | "line-too-long", message: string, cause?: unknown): void {
    if (this.#failure) return;
    this.#failure = this.#options.error(kind, message, cause);
    if (kind === "line-too-long") {
      // The stream is out of sync now; nothing after this point can be trusted.
      this.#buffer = EMPTY;
      this.#socket.destroy();
    }
    this.#pump();
  }
}
