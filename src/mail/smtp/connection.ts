/**
 * One SMTP connection: the shared `MailConnection` (socket, line reader, deadlines, STARTTLS)
 * with the reply codec on top. The session logic (what to send when) lives in session.ts and
 * transaction.ts.
 */
import { MailConnection, type MailSocket, type MailTLSOptions } from "../net/index.js";
import { smtpNetError } from "./errors.js";
import { ReplyAssembler, type ReplyLimits, type SMTPReply } from "./reply.js";

export interface ConnectionLimits extends ReplyLimits {
  maxLineLength: number;
}

export class SMTPConnection {
  readonly #net: MailConnection;
  readonly #limits: ConnectionLimits;
  #assembler: ReplyAssembler;

  constructor(socket: MailSocket, secure: boolean, limits: ConnectionLimits) {
    this.#net = new MailConnection(socket, {
      secure,
      maxLineLength: limits.maxLineLength,
      error: smtpNetError,
    });
    this.#limits = limits;
    this.#assembler = new ReplyAssembler(limits);
  }

  get secure(): boolean {
    return this.#net.secure;
  }

  /** True once the peer closed or the connection broke. */
  get closed(): boolean {
    return this.#net.closed;
  }

  /** Bytes from the server not consumed yet. */
  get buffered(): number {
    return this.#net.buffered;
  }

  /** Reads one complete (possibly multi-line) reply. */
  async readReply(
    timeoutMs: number,
    signal?: AbortSignal,
    what = "waiting for a reply",
  ): Promise<SMTPReply> {
    try {
      for (;;) {
        const line = await this.#net.readLine(timeoutMs, signal, what);
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
        const line = this.#net.tryReadLine();
        if (line === undefined) return undefined;
        const reply = this.#assembler.push(line);
        if (reply) return reply;
      }
    } catch (failure) {
      this.destroy(); // as in readReply: the stream can no longer be trusted
      throw failure;
    }
  }

  write(data: Uint8Array | string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return this.#net.write(data, timeoutMs, signal);
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
   * Switches to TLS after the server's 220 to STARTTLS. Anything the server sent after that
   * 220 (even an unfinished reply) fails with SMTP_STARTTLS_INJECTION (RFC 3207 §5).
   */
  async upgrade(
    host: string,
    tls: MailTLSOptions | undefined,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<void> {
    const heldInput = this.#assembler.inProgress;
    await this.#net.startTLS({ host, tls, timeoutMs, signal, heldInput });
    this.#assembler = new ReplyAssembler(this.#limits);
  }

  /** Half-closes politely; the caller has already sent QUIT. */
  end(): void {
    this.#net.end();
  }

  destroy(): void {
    this.#net.destroy();
  }
}

/** The command verb for messages, never its arguments (they may hold credentials). */
export function verb(line: string): string {
  const word = /^[A-Za-z]+(?: FROM| TO)?/.exec(line);
  return word ? word[0].toUpperCase() : "the command";
}
