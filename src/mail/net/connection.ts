/**
 * `MailConnection`: one mail connection's I/O, shared by the SMTP and IMAP clients. It owns the
 * socket and a `LineReader`, puts a deadline and an AbortSignal on every wait, destroys the
 * connection when a read or write fails (the stream is then at an unknown point), and performs
 * the STARTTLS switch with its injection check. No command is formatted and no response is
 * parsed here.
 *
 * Two ways to read: line mode (`readLine`, `readBytes`, the default, what SMTP uses) and raw
 * mode (`takeData`, for a protocol with a streaming parser of its own, e.g. IMAP after the
 * greeting and STARTTLS). Switching to raw mode is one-way.
 */
import type { Socket } from "node:net";
import { type MailSocket, type MailTLSOptions, receiveInPlace, upgradeToTLS } from "./connect.js";
import type { NetErrorFactory } from "./errors.js";
import { LineReader } from "./line-reader.js";
import { writeWithBackpressure } from "./write.js";

export interface MailConnectionOptions {
  /** The socket is already encrypted (implicit TLS). */
  secure: boolean;
  /** Longest line `readLine` accepts, without its line end. */
  maxLineLength: number;
  /** Turns net failures into the protocol's typed errors. */
  error: NetErrorFactory;
}

export interface StartTLSOptions {
  /** Name the server certificate must match (and the SNI name, unless it is an IP literal). */
  host: string;
  tls?: MailTLSOptions;
  timeoutMs: number;
  signal?: AbortSignal;
  /**
   * The caller's own parser still holds input of the plaintext phase (e.g. part of a multi-line
   * reply after the one that accepted STARTTLS): refused like unread bytes.
   */
  heldInput?: boolean;
}

/** Receivers of the raw byte stream; see `MailConnection.takeData`. */
export interface DataHandlers {
  /**
   * Each chunk as it arrives; the first call carries what the line reader had buffered. A
   * chunk may be a view of a read buffer that is reused once the call returns (plaintext
   * sockets read in place): copy whatever must outlive the call.
   */
  onData(chunk: Uint8Array): void;
  /** Called once, when the peer closes or the connection breaks, with the protocol's error. */
  onEnd(failure: Error): void;
}

export class MailConnection {
  #socket: MailSocket;
  #reader: LineReader;
  #secure: boolean;
  readonly #options: MailConnectionOptions;
  /** `takeData` was called: the byte stream belongs to the caller's parser. */
  #raw = false;
  /** Set when the raw stream (after `takeData`) ended. */
  #rawFailure: Error | undefined;

  constructor(socket: MailSocket, options: MailConnectionOptions) {
    this.#socket = socket;
    this.#secure = options.secure;
    this.#options = options;
    this.#reader = this.#newReader(socket);
  }

  /** The current socket (the TLS one after `startTLS`), e.g. for `localAddress`. */
  get socket(): MailSocket {
    return this.#socket;
  }

  /** True once the connection is encrypted (implicit TLS or after `startTLS`). */
  get secure(): boolean {
    return this.#secure;
  }

  /** True once the peer closed or the connection broke (or was destroyed). */
  get closed(): boolean {
    return (
      this.#socket.destroyed || this.#reader.failure !== undefined || this.#rawFailure !== undefined
    );
  }

  /** Bytes from the server the line reader holds unconsumed. */
  get buffered(): number {
    return this.#reader.buffered;
  }

  /** The next line without its line end; on failure the connection is destroyed. */
  readLine(timeoutMs: number, signal?: AbortSignal, what?: string): Promise<string> {
    return this.#destroyOnFailure(this.#reader.readLine(timeoutMs, signal, what));
  }

  /** A line that is already buffered, without waiting; undefined if there is none. */
  tryReadLine(): string | undefined {
    try {
      return this.#reader.tryReadLine();
    } catch (failure) {
      this.destroy();
      throw failure;
    }
  }

  /** Exactly `n` bytes (an IMAP literal; the caller bounds `n`); on failure it destroys. */
  readBytes(
    n: number,
    timeoutMs: number,
    signal?: AbortSignal,
    what?: string,
  ): Promise<Uint8Array> {
    return this.#destroyOnFailure(this.#reader.readBytes(n, timeoutMs, signal, what));
  }

  /** Writes, waiting for the socket to drain when its buffer is full; on failure it destroys. */
  write(data: Uint8Array | string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return this.#destroyOnFailure(
      writeWithBackpressure(this.#socket, data, timeoutMs, signal, this.#options.error),
    );
  }

  /**
   * Switches to TLS; call it once the server has accepted STARTTLS. Whatever the server sent
   * after that reply arrived in plaintext, possibly injected by an attacker on the path
   * (RFC 3207 §5; the same attack works on IMAP), so unread bytes (or `heldInput`) fail with
   * the "starttls-injection" error and the connection is destroyed, never interpreted later.
   * A failed handshake destroys the connection too.
   */
  async startTLS(options: StartTLSOptions): Promise<void> {
    if (this.#raw) throw new Error("MailConnection: startTLS() after takeData()");
    const leftover = this.#reader.detach();
    if (leftover.length > 0 || options.heldInput) {
      this.destroy();
      throw this.#options.error(
        "starttls-injection",
        "the server sent data after its reply to STARTTLS and before the TLS handshake (possible response injection)",
      );
    }
    const secure = await upgradeToTLS(this.#socket as Socket, {
      host: options.host,
      tls: options.tls,
      timeoutMs: options.timeoutMs,
      signal: options.signal,
      error: this.#options.error,
    });
    secure.setNoDelay(true);
    this.#socket = secure;
    this.#secure = true;
    this.#reader = this.#newReader(secure);
  }

  /**
   * Raw mode: hands the byte stream to `handlers` for good. The bytes the line reader had
   * buffered come first, in a synchronous `onData` call before this returns; later chunks
   * follow as they arrive. `readLine`/`readBytes` reject from then on and `startTLS` throws
   * (upgrade first, then take the data); `write` works as before. Use `pause()` and `resume()`
   * for backpressure.
   */
  takeData(handlers: DataHandlers): void {
    this.#raw = true;
    const failure = this.#reader.failure;
    const rest = this.#reader.detach();
    if (rest.length > 0) handlers.onData(rest);
    if (failure) {
      this.#rawFailure = failure;
      handlers.onEnd(failure);
      return;
    }
    const socket = this.#socket;
    const { error } = this.#options;
    const onData = (chunk: Uint8Array) => {
      if (!this.#rawFailure) handlers.onData(chunk);
    };
    const end = (failure: Error) => {
      if (this.#rawFailure) return;
      this.#rawFailure = failure;
      socket.off("data", onData);
      socket.off("end", onEnd);
      socket.off("close", onEnd);
      socket.off("error", onError);
      handlers.onEnd(failure);
    };
    const onEnd = () => end(error("closed", "the server closed the connection"));
    const onError = (cause: Error) =>
      end(error("closed", `the connection broke: ${cause.message}`, cause));
    // Reads go straight to the handler where the socket allows it; 'data' still carries
    // what reached the socket's readable side before (and everything, on a TLS socket).
    receiveInPlace(socket, onData);
    socket.on("data", onData);
    socket.on("end", onEnd);
    socket.on("close", onEnd);
    socket.on("error", onError);
    socket.resume();
  }

  /** Raw mode: stop receiving until `resume()` (TCP flow control slows the server down). */
  pause(): void {
    this.#socket.pause();
  }

  /** Raw mode: receive again after `pause()`. */
  resume(): void {
    this.#socket.resume();
  }

  /** Half-closes politely (after the protocol's goodbye), destroying it if the peer lingers. */
  end(): void {
    this.#socket.end();
    setTimeout(() => this.#socket.destroy(), 1000).unref();
  }

  destroy(): void {
    this.#socket.destroy();
  }

  #newReader(socket: MailSocket): LineReader {
    // Failures are reported through reads and writes; this keeps an 'error' event nobody
    // listens to any more (after a detach) from crashing the process.
    socket.on("error", () => {});
    return new LineReader(socket, {
      maxLineLength: this.#options.maxLineLength,
      error: this.#options.error,
    });
  }

  async #destroyOnFailure<T>(operation: Promise<T>): Promise<T> {
    try {
      return await operation;
    } catch (failure) {
      this.destroy();
      throw failure;
    }
  }
}
