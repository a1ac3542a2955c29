/**
 * The start of a session, before the pipeline takes the byte stream: the greeting, the
 * capabilities and STARTTLS (RFC 9051 §7.1, §6.1.1, §6.2.1). This runs in the shared mail
 * connection's line mode, one command at a time, so the STARTTLS switch and its injection
 * check are the ones SMTP uses (net/connection.ts).
 */
import { Buffer } from "node:buffer";
import type { MailConnection } from "../net/index.js";
import { type IMAPParserLimits, type IMAPResponse, ResponseParser } from "./codec/index.js";
import { imapError, statusError } from "./errors.js";

/** A literal announcement at the end of a line: `{n}`, `{n+}` or `~{n}`. */
const LITERAL_AT_END = /\{(\d{1,20})\+?\}$/;

export class Preamble {
  readonly #mail: MailConnection;
  readonly #limits: IMAPParserLimits;
  readonly #timeoutMs: number;
  readonly #signal: AbortSignal | undefined;
  #tag = 0;

  constructor(
    mail: MailConnection,
    limits: IMAPParserLimits,
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ) {
    this.#mail = mail;
    this.#limits = limits;
    this.#timeoutMs = timeoutMs;
    this.#signal = signal;
  }

  /** Reads one whole response (its line, and any literals it announces). */
  async response(timeoutMs = this.#timeoutMs): Promise<IMAPResponse> {
    let got: IMAPResponse | undefined;
    const parser = new ResponseParser({
      limits: this.#limits,
      onResponse: (response) => {
        got = response;
      },
    });
    while (got === undefined) {
      const line = await this.#mail.readLine(timeoutMs, this.#signal, "waiting for the server");
      parser.push(Buffer.from(`${line}\r\n`, "utf8"));
      const literal = got === undefined ? LITERAL_AT_END.exec(line) : null;
      if (literal) {
        const size = Number(literal[1]);
        if (size > this.#limits.maxLiteralSize) {
          throw imapError("IMAP_LIMIT_EXCEEDED", `a ${size}-byte literal before login`);
        }
        parser.push(await this.#mail.readBytes(size, timeoutMs, this.#signal));
      }
    }
    return got;
  }

  /**
   * Sends a command without arguments and returns its untagged responses once the tagged OK
   * came; NO / BAD become errors.
   */
  async command(name: string): Promise<IMAPResponse[]> {
    const tag = `P${++this.#tag}`;
    await this.#mail.write(`${tag} ${name}\r\n`, this.#timeoutMs, this.#signal);
    const untagged: IMAPResponse[] = [];
    for (;;) {
      const response = await this.response();
      if (response.kind !== "tagged") {
        if (response.kind === "status" && response.status === "BYE") {
          throw statusError(name, "BYE", response.text, response.code);
        }
        untagged.push(response);
        continue;
      }
      if (response.tag !== tag) {
        throw imapError("IMAP_PROTOCOL_ERROR", `answer for unknown tag ${response.tag}`);
      }
      if (response.status !== "OK") {
        throw statusError(name, response.status, response.text, response.code);
      }
      return untagged;
    }
  }
}
