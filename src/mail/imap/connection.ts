/**
 * One IMAP connection's command pipeline: tags, writing commands (with synchronizing
 * literals), routing untagged responses to the command that asked for them or to the
 * mailbox-state listener, and failing every waiting command when the connection ends.
 *
 * Pipelining follows RFC 9051 §5.5: commands are sent without waiting for earlier tagged
 * answers, except that a command is held back while an in-flight command collects the same
 * kind of untagged response (two SEARCHes would be ambiguous), and an exclusive command
 * (SELECT, IDLE, AUTHENTICATE, COMPRESS, LOGOUT, …) waits for the pipeline to drain and
 * blocks it until its own answer. The client only addresses messages by UID, so EXPUNGEs
 * arriving mid-pipeline cannot shift what a later command refers to.
 */
import { Buffer } from "node:buffer";
import { constants, createDeflateRaw, createInflateRaw, type DeflateRaw } from "node:zlib";
import type { IMAPError } from "../../errors.js";
import type { MailConnection } from "../net/index.js";
import {
  type CommandPart,
  type IMAPParserLimits,
  type IMAPResponse,
  type LiteralChunkSink,
  type LiteralStreamInfo,
  type ResponseCode,
  ResponseParser,
} from "./codec/index.js";
import { imapError, statusError } from "./errors.js";

type Kind = IMAPResponse["kind"];

/** The tagged OK that completed a command. */
export interface CommandResult {
  code: ResponseCode | undefined;
  text: string;
}

export interface CommandSpec {
  /** The command itself, e.g. "UID FETCH"; named in errors, never with its arguments. */
  name: string;
  /** Arguments after the name (text parts are sent as they are, literals as literals). */
  args?: CommandPart[];
  /** Untagged response kinds this command asks for: they go to `onData` while it runs. */
  collects?: readonly Kind[];
  /** Gets each collected response; returning false hands it on as unsolicited. */
  onData?: (response: IMAPResponse) => boolean | undefined;
  /** Gets each "+" continuation once the command's text is out (AUTHENTICATE, IDLE). */
  onContinuation?: (text: string, send: (line: string) => void) => void;
  /**
   * Its collected responses can be told apart by their content (a UID FETCH checks each
   * UID), so it may run beside another shareable command that collects the same kind.
   */
  shareable?: boolean;
  /** Waits for an empty pipeline and keeps it empty until answered. */
  exclusive?: boolean;
  /** Time allowed between consecutive responses to this command (0 = none). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface ConnectionOptions {
  limits: IMAPParserLimits;
  /** Untagged responses no command collected (mailbox updates, alerts, BYE). */
  onUnsolicited: (response: IMAPResponse) => void;
  /** Sees the sequence number and UID of every FETCH response, whoever it goes to. */
  observeFetch?: (seq: number, uid: number | undefined) => void;
  /** Asked for FETCH body literals: a sink streams one instead of buffering it. */
  streamLiteral?: (info: LiteralStreamInfo) => LiteralChunkSink | undefined;
  /** Whether streamLiteral may want a literal now (see ResponseParserOptions.streaming). */
  streaming?: () => boolean;
  /** Called once when the connection has ended, with the reason. */
  onClose?: (reason: IMAPError) => void;
}

interface Running {
  tag: string;
  spec: CommandSpec;
  resolve: (result: CommandResult) => void;
  reject: (error: unknown) => void;
  timer: NodeJS.Timeout | undefined;
  /** The caller gave up (abort): the answer is still read, then dropped. */
  abandoned: boolean;
  onAbort: (() => void) | undefined;
  /** Runs once the command is answered or failed (ends a continuation exchange). */
  onSettled?: () => void;
}

export class IMAPConnection {
  readonly #mail: MailConnection;
  readonly #parser: ResponseParser;
  readonly #options: ConnectionOptions;
  readonly #queue: Running[] = [];
  readonly #inFlight = new Map<string, Running>();
  #nextTag = 1;
  #failure: IMAPError | undefined;
  #writing: Promise<void> = Promise.resolve();
  /** Set while a command waits for "+" to send its next literal (or is in a SASL/IDLE exchange). */
  #continuation: ((text: string) => void) | undefined;
  /** Where received bytes go: the parser, or the inflater once COMPRESS is on. */
  #input: (chunk: Uint8Array) => void;
  /** Set once COMPRESS=DEFLATE is on (RFC 4978): everything written goes through it. */
  #deflate: DeflateRaw | undefined;
  #byeText: string | undefined;
  /** When the last response arrived: command timeouts count silence, not total time. */
  #lastResponse = 0;
  /** Called when a queued command has to wait (IDLE listens, to end itself with DONE). */
  onBlocked: (() => void) | undefined;

  /** Takes over `mail`'s byte stream (after the greeting and any STARTTLS). */
  constructor(mail: MailConnection, options: ConnectionOptions) {
    this.#mail = mail;
    this.#options = options;
    this.#parser = new ResponseParser({
      limits: options.limits,
      onResponse: (response) => this.#onResponse(response),
      streamLiteral: options.streamLiteral,
      streaming: options.streaming,
    });
    this.#input = (chunk) => this.#parser.push(chunk);
    mail.takeData({
      onData: (chunk) => {
        if (this.#failure) return;
        try {
          this.#input(chunk);
        } catch (error) {
          this.fail(error as IMAPError);
        }
      },
      onEnd: (failure) => {
        const bye = this.#byeText;
        this.fail(
          bye === undefined
            ? (failure as IMAPError)
            : imapError("IMAP_CONNECTION_CLOSED", `the server closed the connection: ${bye}`),
        );
      },
    });
  }

  get closed(): boolean {
    return this.#failure !== undefined;
  }

  get secure(): boolean {
    return this.#mail.secure;
  }

  /** True once COMPRESS=DEFLATE is on. */
  get compressed(): boolean {
    return this.#deflate !== undefined;
  }

  /** Commands sent and not yet answered, plus those waiting to be sent. */
  get pending(): number {
    return this.#inFlight.size + this.#queue.length;
  }

  /** Pauses reading from the socket (backpressure from a streamed literal's consumer). */
  pause(): void {
    this.#mail.pause();
  }

  resume(): void {
    this.#mail.resume();
  }

  /** Queues a command; resolves with its tagged OK, rejects with an IMAPError otherwise. */
  run(spec: CommandSpec): Promise<CommandResult> {
    return new Promise<CommandResult>((resolve, reject) => {
      if (this.#failure) return reject(this.#failure);
      const running: Running = {
        tag: "",
        spec,
        resolve,
        reject,
        timer: undefined,
        abandoned: false,
        onAbort: undefined,
      };
      if (spec.signal) {
        if (spec.signal.aborted) {
          return reject(imapError("IMAP_ABORTED", `${spec.name}: aborted`, spec.signal.reason));
        }
        running.onAbort = () => this.#abandon(running);
        spec.signal.addEventListener("abort", running.onAbort, { once: true });
      }
      this.#queue.push(running);
      this.#pump();
    });
  }

  /**
   * Switches both directions to raw DEFLATE after the tagged OK to COMPRESS DEFLATE
   * (RFC 4978 §3); each command is followed by a sync flush so the server can read it.
   */
  #startCompression(): void {
    if (this.#parser.buffered > 0) {
      this.fail(
        imapError(
          "IMAP_PROTOCOL_ERROR",
          "the server sent data after its OK to COMPRESS, before compression started",
        ),
      );
      return;
    }
    const socket = this.#mail.socket;
    const inflate = createInflateRaw();
    const deflate = createDeflateRaw();
    const broken = (cause: Error) =>
      this.fail(
        imapError("IMAP_PROTOCOL_ERROR", `compressed stream broken: ${cause.message}`, cause),
      );
    inflate.on("data", (chunk: Buffer) => {
      if (this.#failure) return;
      try {
        this.#parser.push(chunk);
      } catch (error) {
        this.fail(error as IMAPError);
      }
    });
    inflate.on("error", broken);
    // The inflater reads its input later, and a received chunk may be a reused read buffer.
    this.#input = (chunk) => inflate.write(Buffer.from(chunk));
    deflate.on("data", (chunk: Buffer) => socket.write(chunk));
    deflate.on("error", broken);
    this.#deflate = deflate;
  }

  /** Ends the connection after LOGOUT's answer (or at once when it cannot be sent). */
  end(): void {
    this.#mail.end();
    this.fail(imapError("IMAP_CONNECTION_CLOSED", "the connection was closed"));
  }

  /** Fails every waiting command with `error` and destroys the socket. Idempotent. */
  fail(error: IMAPError): void {
    if (this.#failure) return;
    this.#failure = error;
    this.#mail.destroy();
    for (const running of [...this.#inFlight.values(), ...this.#queue]) {
      this.#settle(running);
      running.reject(error);
    }
    this.#inFlight.clear();
    this.#queue.length = 0;
    this.#options.onClose?.(error);
  }

  #onResponse(response: IMAPResponse): void {
    this.#lastResponse = performance.now();
    if (response.kind === "tagged") {
      this.#onTagged(response);
      return;
    }
    if (response.kind === "continuation") {
      const next = this.#continuation;
      if (next) next(response.text);
      else this.fail(imapError("IMAP_PROTOCOL_ERROR", "unexpected continuation request"));
      return;
    }
    if (response.kind === "fetch") {
      this.#options.observeFetch?.(response.seq, response.attributes.uid);
    } else if (response.kind === "status" && response.status === "BYE") {
      this.#byeText = response.text;
    }
    for (const running of this.#inFlight.values()) {
      const collects = running.spec.collects;
      if (collects?.includes(response.kind)) {
        if (running.abandoned) return;
        if (running.spec.onData?.(response) !== false) return;
      }
    }
    this.#options.onUnsolicited(response);
  }

  #onTagged(response: Extract<IMAPResponse, { kind: "tagged" }>): void {
    const running = this.#inFlight.get(response.tag);
    if (!running) {
      this.fail(imapError("IMAP_PROTOCOL_ERROR", `answer for unknown tag ${response.tag}`));
      return;
    }
    this.#inFlight.delete(response.tag);
    this.#settle(running);
    if (response.status === "OK" && running.spec.name === "COMPRESS") {
      // The switch happens here, before anything else is sent or read.
      this.#startCompression();
      if (this.#failure) return;
    }
    if (response.status === "OK") running.resolve({ code: response.code, text: response.text });
    else
      running.reject(statusError(running.spec.name, response.status, response.text, response.code));
    this.#pump();
  }

  #settle(running: Running): void {
    clearTimeout(running.timer);
    const settled = running.onSettled;
    running.onSettled = undefined;
    settled?.();
    if (running.onAbort) running.spec.signal?.removeEventListener("abort", running.onAbort);
  }

  #abandon(running: Running): void {
    const error = imapError(
      "IMAP_ABORTED",
      `${running.spec.name}: aborted`,
      running.spec.signal?.reason,
    );
    const queued = this.#queue.indexOf(running);
    if (queued >= 0) {
      this.#queue.splice(queued, 1);
      this.#settle(running);
      running.reject(error);
      this.#pump();
      return;
    }
    // Already sent: its answer still arrives and is read, then dropped.
    running.abandoned = true;
    running.reject(error);
  }

  /** Sends queued commands as far as the pipelining rules allow. */
  #pump(): void {
    while (this.#queue.length > 0 && !this.#failure) {
      const next = this.#queue[0];
      if (!this.#maySend(next.spec)) {
        this.onBlocked?.();
        return;
      }
      this.#queue.shift();
      this.#send(next);
    }
  }

  #maySend(spec: CommandSpec): boolean {
    if (this.#inFlight.size === 0) return true;
    if (spec.exclusive) return false;
    for (const running of this.#inFlight.values()) {
      if (running.spec.exclusive) return false;
      const collects = running.spec.collects;
      if (spec.shareable && running.spec.shareable) continue;
      if (collects && spec.collects?.some((kind) => collects.includes(kind))) return false;
    }
    return true;
  }

  #send(running: Running): void {
    const tag = `A${this.#nextTag++}`;
    running.tag = tag;
    this.#inFlight.set(tag, running);
    const timeout = running.spec.timeoutMs ?? 0;
    if (timeout > 0) {
      const sentAt = performance.now();
      const expire = () => {
        // A long FETCH keeps answering: only silence for the whole timeout is a failure.
        const quiet = performance.now() - Math.max(sentAt, this.#lastResponse);
        if (quiet < timeout) {
          running.timer = setTimeout(expire, timeout - quiet);
          return;
        }
        this.fail(
          imapError("IMAP_TIMEOUT", `${running.spec.name}: no answer within ${timeout} ms`),
        );
      };
      running.timer = setTimeout(expire, timeout);
    }
    this.#writing = this.#writing.then(() => this.#write(running)).catch(() => {});
  }

  async #write(running: Running): Promise<void> {
    if (this.#failure) return;
    const { spec, tag } = running;
    let text = `${tag} ${spec.name}`;
    for (const part of spec.args ?? []) {
      if (typeof part === "string") {
        text += part;
        continue;
      }
      const prefix = part.binary ? "~" : "";
      const marker = `${prefix}{${part.literal.length}${part.nonSync ? "+" : ""}}\r\n`;
      if (part.nonSync) {
        this.#out(text + marker);
        this.#out(part.literal);
        text = "";
        continue;
      }
      this.#out(text + marker);
      this.#flush();
      text = "";
      // RFC 9051 §7.5: wait for "+" before the literal; a tagged NO/BAD instead ends the command.
      const ready = await this.#waitForContinuation(running);
      if (!ready) return;
      this.#out(part.literal);
    }
    this.#out(`${text}\r\n`);
    this.#flush();
    const handler = spec.onContinuation;
    if (handler && !this.#failure && this.#inFlight.has(tag)) {
      // Exclusive commands own the connection, so every "+" until the answer is theirs.
      const send = (line: string) => {
        this.#out(`${line}\r\n`);
        this.#flush();
      };
      this.#continuation = (response) => handler(response, send);
      running.onSettled = () => {
        this.#continuation = undefined;
      };
    }
  }

  #out(data: string | Uint8Array): void {
    if (this.#deflate) this.#deflate.write(data);
    else this.#mail.socket.write(data);
  }

  /** With COMPRESS, pushes what was written so far out to the server. */
  #flush(): void {
    this.#deflate?.flush(constants.Z_SYNC_FLUSH);
  }

  #waitForContinuation(running: Running): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      this.#continuation = () => {
        this.#continuation = undefined;
        running.onSettled = undefined;
        resolve(true);
      };
      running.onSettled = () => {
        this.#continuation = undefined;
        resolve(false);
      };
    });
  }
}
