/**
 * One SMTP connection's I/O: writing commands and reading replies with the reply codec, with a
 * deadline and an AbortSignal on every wait. The session logic (what to send when) lives in
 * session.ts and transaction.ts.
 */
import type { Socket } from "node:net";
import { SMTPError } from "../../errors.js";
import {
  LineReader,
  type MailSocket,
  type MailTLSOptions,
  type NetErrorFactory,
  type NetFailure,
  upgradeToTLS,
  writeWithBackpressure,
} from "../net/index.js";
import { ReplyAssembler, type ReplyLimits, type SMTPReply } from "./reply.js";

const CODES: Record<NetFailure, string> = {
  connect: "SMTP_CONNECTION_FAILED",
  tls: "SMTP_TLS_FAILED",
  timeout: "SMTP_TIMEOUT",
  aborted: "SMTP_ABORTED",
  closed: "SMTP_CONNECTION_CLOSED",
  "line-too-long": "SMTP_REPLY_TOO_LARGE",
};

export const smtpNetError: NetErrorFactory = (kind, message, cause) =>
  new SMTPError(message, { code: CODES[kind], cause });

export interface ConnectionLimits extends ReplyLimits {
  maxLineLength: number;
}

export class SMTPConnection {
  #socket: MailSocket;
  #reader: LineReader;
  readonly #limits: ConnectionLimits;
  #assembler: ReplyAssembler;
  #secure: boolean;

  constructor(socket: MailSocket, secure: boolean, limits: ConnectionLimits) {
    this.#socket = socket;
    this.#secure = secure;
    this.#limits = limits;
    this.#assembler = new ReplyAssembler(limits);
    this.#reader = new LineReader(socket, {
      maxLineLength: limits.maxLineLength,
      error: smtpNetError,
    });
    // Errors are reported through the reader and writes; this keeps an unhandled 'error'
    // event from crashing the process after we stop listening.
    socket.on("error", () => {});
  }

  get secure(): boolean {
    return this.#secure;
  }

  /** True once the peer closed or the connection broke. */
  get closed(): boolean {
    return this.#socket.destroyed || this.#reader.failure !== undefined;
  }

  /** Bytes from the server not consumed yet. */
  get buffered(): number {
    return this.#reader.buffered;
  }

  /** Reads one complete (possibly multi-line) reply. */
  async readReply(
    timeoutMs: number,
    signal?: AbortSignal,
    what = "waiting for a reply",
  ): Promise<SMTPReply> {
    try {
      for (;;) {
        const line = await this.#reader.readLine(timeoutMs, signal, what);
        const reply = this.#assembler.push(line);
        if (reply) return reply;
      }
    } catch (failure) {
      // After a timeout, an abort or a malformed reply we no longer know where the stream
      // stands, so the connection is not reusable.
      this.destroy();
      throw failure;
    }
  }

  /** A reply that is already fully buffered, without waiting; undefined if there is none. */
  tryReadReply(): SMTPReply | undefined {
    try {
      for (;;) {
        const line = this.#reader.tryReadLine();
        if (line === undefined) return undefined;
        const reply = this.#assembler.push(line);
        if (reply) return reply;
      }
    } catch (failure) {
      this.destroy(); // as in readReply: the stream can no longer be trusted
      throw failure;
    }
  }

  async write(data: Uint8Array | string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    try {
      await writeWithBackpressure(this.#socket, data, timeoutMs, signal, smtpNetError);
    } catch (failure) {
      this.destroy();
      throw failure;
    }
  }

  /**
   * Sends a command line (already CRLF-terminated) and reads its reply. `label` names the
   * command in error messages; pass it for lines that carry secrets (SASL responses), since by
   * default the line's first word is used.
   */
  async command(
    line: string,
    timeoutMs: number,
    signal?: AbortSignal,
    label?: string,
  ): Promise<SMTPReply> {
    await this.write(line, timeoutMs, signal);
    return this.readReply(timeoutMs, signal, `waiting for the reply to ${label ?? verb(line)}`);
  }

  /**
   * Switches to TLS after the server's 220 to STARTTLS. RFC 3207 §5: anything the server sent
   * after that 220 arrived in plaintext, possibly injected by an attacker, so a non-empty
   * buffer is an error, never something to interpret after the handshake.
   */
  async upgrade(
    host: string,
    tls: MailTLSOptions | undefined,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<void> {
    const leftover = this.#reader.detach();
    if (leftover.length > 0 || this.#assembler.inProgress) {
      this.destroy();
      throw new SMTPError(
        "the server sent data after its 220 reply to STARTTLS and before the TLS handshake (possible response injection, RFC 3207 §5)",
        { code: "SMTP_STARTTLS_INJECTION" },
      );
    }
    const secure = await upgradeToTLS(this.#socket as Socket, {
      host,
      tls,
      timeoutMs,
      signal,
      error: smtpNetError,
    });
    secure.setNoDelay(true);
    secure.on("error", () => {});
    this.#socket = secure;
    this.#secure = true;
    this.#assembler = new ReplyAssembler(this.#limits);
    this.#reader = new LineReader(secure, {
      maxLineLength: this.#limits.maxLineLength,
      error: smtpNetError,
    });
  }

  /** Half-closes politely; the caller has already sent QUIT. */
  end(): void {
    this.#socket.end();
    // Don't wait forever for a server that never closes its side.
    setTimeout(() => this.#socket.destroy(), 1000).unref();
  }

  destroy(): void {
    this.#socket.destroy();
  }
}

/** The command verb for messages, never its arguments (they may hold credentials). */
export function verb(line: string): string {
  const word = /^[A-Za-z]+(?: FROM| TO)?/.exec(line);
  return word ? word[0].toUpperCase() : "the command";
}
