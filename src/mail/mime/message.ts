/** `MailMessage`: an email that renders itself as MIME (RFC 5322/2045–2049) and parses from bytes. */
import type { Attachment } from "./attachment.js";
import type {
  AddressInput,
  Envelope,
  MailMessageInit,
  ParseOptions,
  RenderOptions,
} from "./types.js";

function list(value: AddressInput | AddressInput[] | undefined): AddressInput[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? [...value] : [value];
}

export class MailMessage {
  subject: string;
  sender: AddressInput | undefined;
  recipients: AddressInput[];
  cc: AddressInput[];
  /** Envelope-only recipients: never written into the headers. */
  bcc: AddressInput[];
  replyTo: AddressInput[];
  textContent: string | undefined;
  htmlContent: string | undefined;
  attachments: Attachment[];
  /** Extra header fields (a parsed message holds every field that has no property of its own). */
  headers: Record<string, string | string[]>;
  /** `<id@domain>`; set on first render when absent, so a resend keeps the same id. */
  messageId: string | undefined;
  /** Set to the time of the first render when absent. */
  date: Date | undefined;
  /** IMAP UID of a fetched message. */
  uid?: number;
  /** IMAP flags of a fetched message. */
  flags?: string[];

  constructor(init: MailMessageInit = {}) {
    this.subject = init.subject ?? "";
    this.sender = init.sender;
    this.recipients = list(init.recipients);
    this.cc = list(init.cc);
    this.bcc = list(init.bcc);
    this.replyTo = list(init.replyTo);
    this.textContent = init.textContent;
    this.htmlContent = init.htmlContent;
    this.attachments = [...(init.attachments ?? [])];
    this.headers = { ...(init.headers ?? {}) };
    this.messageId = init.messageId;
    this.date = init.date;
  }

  /**
   * The whole RFC 5322 message as bytes: CRLF line endings, not dot-stuffed (SMTP does that),
   * Bcc never written. Every header, address and filename is checked before the first chunk is
   * produced: invalid input throws a `MailError` from this call. Streamed attachments are read
   * once, while iterating.
   */
  render(options: RenderOptions = {}): AsyncIterable<Uint8Array> {
    void options;
    throw new Error("not implemented yet");
  }

  /** Envelope for SMTP: bare addr-specs; `to` = recipients + cc + bcc, deduplicated. */
  envelope(): Envelope {
    throw new Error("not implemented yet");
  }

  /** The rendered message in memory (for small messages). */
  async toBytes(options: RenderOptions = {}): Promise<Uint8Array> {
    const chunks: Uint8Array[] = [];
    let length = 0;
    for await (const chunk of this.render(options)) {
      chunks.push(chunk);
      length += chunk.length;
    }
    const out = new Uint8Array(length);
    let offset = 0;
    for (const chunk of chunks) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    return out;
  }

  /** The rendered message as a string (UTF-8 decoded; for small messages and debugging). */
  async toText(options: RenderOptions = {}): Promise<string> {
    return new TextDecoder().decode(await this.toBytes(options));
  }

  /** Parses raw RFC 5322 bytes. Throws only `MailError` (codes `MAIL_PARSE_ERROR`, `MAIL_LIMIT_EXCEEDED`). */
  static parse(raw: Uint8Array | string, options: ParseOptions = {}): MailMessage {
    void raw;
    void options;
    throw new Error("not implemented yet");
  }
}
