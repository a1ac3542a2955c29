/** `Attachment`: one file (or inline image) of a `MailMessage`. */
import { basename } from "node:path";
import { checkContent, contentChunks, fileChunks, isOneShot } from "./content-source.js";
import { MIME_ERROR_CODES, mimeError } from "./errors.js";
import type { MailMessage } from "./message.js";
import { parseMessage } from "./parse/index.js";
import { nestedLimits } from "./parse/to-message.js";
import type { AttachmentContent, AttachmentInit, ParseOptions } from "./types.js";

/**
 * A file or inline image of a `MailMessage`: in-memory content, a stream, or a path read at render
 * time.
 *
 * @example
 * ```ts
 * new Attachment({ filename: "report.csv", content: "a,b\n1,2\n", contentType: "text/csv" });
 * new Attachment({ filename: "logo.png", content: png, contentType: "image/png", contentId: "logo"
 * });
 * Attachment.fromPath("./invoice.pdf", { contentType: "application/pdf" }); // read at render
 * ```
 */
export class Attachment {
  /** File name shown to the recipient; `""` when the part has none. */
  filename: string;
  /** In-memory or streamed content; undefined when the attachment reads `path`. */
  content: AttachmentContent | undefined;
  /** File read at render time (every render re-reads it). */
  path: string | undefined;
  /** The part's MIME type (default `application/octet-stream`). */
  contentType: string;
  /** Content-ID without angle brackets, for `cid:` references. */
  contentId: string | undefined;
  /**
   * `Content-Disposition: inline` (shown in the body, e.g. an image the HTML refers to by `cid:`).
   */
  inline: boolean;
  /** Extra MIME header fields of this part. */
  headers: Record<string, string>;
  #consumed = false;

  constructor(init: AttachmentInit) {
    if (init === null || typeof init !== "object") {
      throw mimeError(MIME_ERROR_CODES.invalidContent, "new Attachment() needs an init object");
    }
    const hasContent = init.content !== undefined && init.content !== null;
    const hasPath = typeof init.path === "string";
    if (hasContent === hasPath) {
      throw mimeError(
        MIME_ERROR_CODES.invalidContent,
        "An Attachment needs exactly one of `content` and `path`",
      );
    }
    if (hasContent) checkContent(init.content);
    this.content = hasContent ? init.content : undefined;
    this.path = hasPath ? init.path : undefined;
    this.filename = init.filename ?? (hasPath ? basename(init.path as string) : "");
    this.contentType = init.contentType ?? "application/octet-stream";
    this.contentId = init.contentId?.replace(/^<(.*)>$/s, "$1");
    this.inline = init.inline ?? this.contentId !== undefined;
    this.headers = { ...(init.headers ?? {}) };
  }

  /** An attachment read from a file at render time; `filename` defaults to the file's name. */
  static fromPath(path: string, init: Omit<AttachmentInit, "path" | "content"> = {}): Attachment {
    return new Attachment({ ...init, path });
  }

  /** False when the content is a stream that a previous render already consumed. */
  get readable(): boolean {
    return !this.#consumed;
  }

  /**
   * The content as byte chunks. Streams and iterables can be read only once; a second call
   * throws `MAIL_STREAM_CONSUMED`. Strings, bytes and files can be read any number of times.
   */
  chunks(): AsyncIterable<Uint8Array> {
    if (this.path !== undefined) return fileChunks(this.path);
    const content = this.content as AttachmentContent;
    if (isOneShot(content)) {
      if (this.#consumed) {
        throw mimeError(
          MIME_ERROR_CODES.streamConsumed,
          `The stream content of attachment ${JSON.stringify(this.filename)} was already read by an earlier render`,
        );
      }
      this.#consumed = true;
    }
    return contentChunks(content);
  }

  /** The whole content in memory (for small attachments and parsed messages). */
  async bytes(): Promise<Uint8Array> {
    if (this.content instanceof Uint8Array) return this.content;
    const parts: Uint8Array[] = [];
    let length = 0;
    for await (const chunk of this.chunks()) {
      parts.push(chunk);
      length += chunk.length;
    }
    const out = new Uint8Array(length);
    let offset = 0;
    for (const part of parts) {
      out.set(part, offset);
      offset += part.length;
    }
    return out;
  }

  /**
   * The embedded message of a `message/rfc822` (or RFC 6532 `message/global`) attachment, parsed
   * as a `MailMessage`. An attachment that came from `MailMessage.parse` is parsed within the
   * limits left from the outer message (its nesting counts against `maxDepth`) unless
   * `options` say otherwise. Needs in-memory content (bytes or a string); throws `MailError`
   * (`MAIL_PARSE_ERROR`) for another content type, `MAIL_INVALID_CONTENT` for a stream or file.
   */
  message(options?: ParseOptions): MailMessage {
    const type = this.contentType.split(";")[0].trim().toLowerCase();
    if (type !== "message/rfc822" && type !== "message/global") {
      throw mimeError(
        MIME_ERROR_CODES.parse,
        `Attachment ${JSON.stringify(this.filename)} is ${type}, not an embedded message`,
      );
    }
    const content = this.content;
    if (!(content instanceof Uint8Array) && typeof content !== "string") {
      throw mimeError(
        MIME_ERROR_CODES.invalidContent,
        "Attachment.message() needs in-memory content; read a stream or file with bytes() first",
      );
    }
    const inherited = nestedLimits.get(this);
    if (options === undefined && inherited?.maxDepth !== undefined && inherited.maxDepth < 0) {
      throw mimeError(MIME_ERROR_CODES.limit, "Message over the parser's limit: nesting too deep");
    }
    return parseMessage(content, options ?? inherited).message;
  }

  /**
   * Called by render() before anything is written: throws `MAIL_INVALID_CONTENT` if `content` /
   * `path` were changed to something unusable after construction, and `MAIL_STREAM_CONSUMED`
   * if the stream is gone.
   */
  assertReadable(): void {
    if (this.path !== undefined) {
      if (typeof this.path !== "string" || this.path === "") {
        throw mimeError(
          MIME_ERROR_CODES.invalidContent,
          "An attachment path must be a non-empty string",
        );
      }
      return;
    }
    checkContent(this.content);
    if (this.#consumed) {
      throw mimeError(
        MIME_ERROR_CODES.streamConsumed,
        `The stream content of attachment ${JSON.stringify(this.filename)} was already read by an earlier render`,
      );
    }
  }
}
