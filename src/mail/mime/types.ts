/** Public option and value types of the MIME layer (see docs/mail-mime.md). */
import type { Readable } from "node:stream";

/** One mailbox: `name` is the decoded display name, `address` the bare addr-spec. */
export interface MailAddress {
  /** The display name, decoded (`"Jane Doe"`). */
  name?: string;
  /** The bare addr-spec (`"jane@example.com"`). */
  address: string;
  /** Set by the parser when the mailbox came from an RFC 5322 group (`Team: a@x, b@y;`). */
  group?: string;
}

/**
 * An address as the caller gives it: `"a@example.com"`, `"Jane Doe <jane@example.com>"`,
 * `'"Doe, John" <j@x.org>'` (a string may hold a comma-separated list), or a {@link MailAddress}.
 */
export type AddressInput = string | MailAddress;

/**
 * Attachment content. Strings are encoded as UTF-8 and are *content*, never a file path (use the
 * `path` init field or `Attachment.fromPath()` for files). Streams and async iterables are read
 * once, at render time: render such a message once (a second render throws `MAIL_STREAM_CONSUMED`).
 */
export type AttachmentContent =
  | string
  | Uint8Array
  | Readable
  | ReadableStream<Uint8Array>
  | AsyncIterable<Uint8Array>;

/** The fields of `new Attachment(init)`. */
export interface AttachmentInit {
  /** The file name shown to the recipient (RFC 2231-encoded when it is not plain ASCII). */
  filename?: string;
  /** The bytes; exactly one of `content` and `path` is required. */
  content?: AttachmentContent;
  /** A file to read at render time (re-read on every render). */
  path?: string;
  /** Default `application/octet-stream`. */
  contentType?: string;
  /** Content-ID for `cid:` references from the HTML part, with or without angle brackets. */
  contentId?: string;
  /** `Content-Disposition: inline`; defaults to true when `contentId` is set. */
  inline?: boolean;
  /** Extra MIME headers for this part. */
  headers?: Record<string, string>;
}

/**
 * The fields of `new MailMessage(init)`; a single address or a list is accepted for each
 * address field.
 */
export interface MailMessageInit {
  /** The `Subject`. Default `""`. */
  subject?: string;
  /** The `From` mailbox; also the envelope sender. */
  sender?: AddressInput;
  /** `To` recipients. */
  recipients?: AddressInput | AddressInput[];
  /** `Cc` recipients. */
  cc?: AddressInput | AddressInput[];
  /** Envelope-only recipients, never written into the headers. */
  bcc?: AddressInput | AddressInput[];
  /** `Reply-To` addresses. */
  replyTo?: AddressInput | AddressInput[];
  /** The `text/plain` body. */
  textContent?: string;
  /** The `text/html` body. */
  htmlContent?: string;
  /** Attached files and inline images. */
  attachments?: import("./attachment.js").Attachment[];
  /** Extra header fields, written after the standard ones. */
  headers?: Record<string, string | string[]>;
  /** `<id@domain>`; generated from a random id and the sender's domain when absent. */
  messageId?: string;
  /** Defaults to the time of rendering. */
  date?: Date;
}

/** Options of `message.render()`, `toBytes()` and `toText()`: what the transport accepts. */
export interface RenderOptions {
  /** The transport accepts 8BITMIME: text parts with short lines may go as 8bit. */
  eightBit?: boolean;
  /** The transport accepts SMTPUTF8: headers may carry raw UTF-8 (RFC 6532). */
  smtputf8?: boolean;
}

/** The SMTP envelope of a message (`message.envelope()`): sender and every recipient. */
export interface Envelope {
  /** Bare addr-spec of the sender (reverse-path). */
  from: string;
  /** Bare addr-specs of recipients + cc + bcc, deduplicated (case-insensitively), in order. */
  to: string[];
  /** True when an address has a non-ASCII local part, so the transport needs SMTPUTF8. */
  smtputf8: boolean;
}

/** Limits of `MailMessage.parse()`; a message past one is refused with `MAIL_LIMIT_EXCEEDED`. */
export interface ParseOptions {
  /** Largest accepted message in bytes (default 64 MiB). */
  maxSize?: number;
  /** Deepest multipart / message/rfc822 nesting (default 16). */
  maxDepth?: number;
  /** Most MIME parts in total (default 1000). */
  maxParts?: number;
  /** Most header fields per part (default 1000). */
  maxHeaders?: number;
}
