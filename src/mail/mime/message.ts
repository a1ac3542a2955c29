/** `MailMessage`: an email that renders itself as MIME (RFC 5322/2045–2049) and parses from bytes. */
import { needsUtf8, wireAddress } from "./address.js";
import type { Attachment } from "./attachment.js";
import { MIME_ERROR_CODES, mimeError } from "./errors.js";
import { parseMessage } from "./parse/index.js";
import { addresses, prepare, write } from "./render.js";
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

/**
 * An email: addresses, subject, text and HTML bodies, attachments and extra headers. It
 * renders itself as MIME (RFC 5322, 2045–2049; RFC 2047/2231 for non-ASCII) as a stream of
 * bytes, and `MailMessage.parse()` reads one back.
 *
 * @example
 * ```ts
 * const message = new MailMessage({
 *   subject: "Report",
 *   sender: "Reports <reports@example.com>",
 *   recipients: ["ops@example.com"],
 *   textContent: "Attached.",
 *   attachments: [new Attachment({ filename: "report.csv", content: "a,b\n1,2\n" })],
 * });
 * const bytes = await message.toBytes();
 * const again = MailMessage.parse(bytes);
 * ```
 */
export class MailMessage {
  /** The `Subject` (RFC 2047-encoded when not plain ASCII). Default `""`. */
  subject: string;
  /** The `From` mailbox; also the envelope sender. */
  sender: AddressInput | undefined;
  /** `To` recipients. */
  recipients: AddressInput[];
  /** `Cc` recipients. */
  cc: AddressInput[];
  /** Envelope-only recipients: never written into the headers. */
  bcc: AddressInput[];
  /** `Reply-To` addresses. */
  replyTo: AddressInput[];
  /** The `text/plain` body. */
  textContent: string | undefined;
  /**
   * The `text/html` body (sent as `multipart/alternative` with the text body when both are set).
   */
  htmlContent: string | undefined;
  /** Attached files and inline images. */
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
  /** IMAP INTERNALDATE of a fetched message: when the server received it. */
  internalDate?: Date;
  /** IMAP RFC822.SIZE of a fetched message, in bytes. */
  size?: number;

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
    return write(prepare(this, options ?? {}));
  }

  /**
   * Envelope for SMTP: bare addr-specs; `to` = recipients + cc + bcc, deduplicated
   * (case-insensitively on the domain, exactly on the local part, RFC 5321 §2.4).
   * IDN domains are written as A-labels (punycode) so they need no SMTPUTF8; `smtputf8` is
   * true only when a local part is non-ASCII (RFC 6531), and then the addresses stay in UTF-8.
   * Throws `MAIL_MISSING_SENDER` without a sender, and `MailError` for invalid addresses.
   */
  envelope(): Envelope {
    const from = addresses(this.sender, "sender");
    if (from.length === 0) {
      throw mimeError(MIME_ERROR_CODES.missingSender, "The message has no sender");
    }
    const all = [
      ...addresses(this.recipients, "recipients"),
      ...addresses(this.cc, "cc"),
      ...addresses(this.bcc, "bcc"),
    ];
    const smtputf8 = [from[0], ...all].some((box) => needsUtf8(box.address));
    const seen = new Set<string>();
    const to: string[] = [];
    for (const box of all) {
      const address = wireAddress(box.address, smtputf8);
      const at = address.lastIndexOf("@");
      const key = address.slice(0, at) + address.slice(at).toLowerCase();
      if (seen.has(key)) continue;
      seen.add(key);
      to.push(address);
    }
    return { from: wireAddress(from[0].address, smtputf8), to, smtputf8 };
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
    return parseMessage(raw, options).message;
  }
}
