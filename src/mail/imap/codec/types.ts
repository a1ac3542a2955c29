/**
 * The shapes the IMAP response parser produces (RFC 9051 §7, RFC 3501 §7 and the extensions
 * the client uses). Agreed with the session/client author: names and shapes are fixed.
 */

export type TaggedStatus = "OK" | "NO" | "BAD";
export type UntaggedStatus = "OK" | "NO" | "BAD" | "BYE" | "PREAUTH";

/** One namespace (RFC 2342): a prefix and its hierarchy delimiter. */
/** One namespace (RFC 2342): a prefix and its hierarchy delimiter. */
export interface Namespace {
  /** The prefix of the namespace's mailbox names, e.g. `""` or `"Other Users/"`. */
  prefix: string;
  /** Its hierarchy delimiter, or null for a flat name space. */
  delimiter: string | null;
}

/** A response code with a number value (RFC 9051 §7.1). */
export interface NumberCode {
  name: "UIDVALIDITY" | "UIDNEXT" | "UNSEEN";
  value: number;
}
/** RFC 7162 §3.1.2.1. */
export interface HighestModseqCode {
  name: "HIGHESTMODSEQ";
  value: bigint;
}
export interface PermanentFlagsCode {
  name: "PERMANENTFLAGS";
  flags: string[];
}
export interface CapabilityCode {
  name: "CAPABILITY";
  /** upper-cased */
  capabilities: string[];
}
/** RFC 4315 §3 (UIDPLUS); uid sets kept as sent. */
export interface CopyUIDCode {
  name: "COPYUID";
  uidValidity: number;
  source: string;
  destination: string;
}
export interface AppendUIDCode {
  name: "APPENDUID";
  uidValidity: number;
  uids: string;
}
/** RFC 7162 §3.1.3 (CONDSTORE); the set as sent. */
export interface ModifiedCode {
  name: "MODIFIED";
  set: string;
}
/**
 * Any other code: atom-only codes (ALERT, READ-ONLY, TRYCREATE, NOMODSEQ, ...) have no text;
 * unknown codes with arguments keep the raw text inside the brackets after the name.
 */
export interface OtherCode {
  name: string;
  value?: undefined;
  text?: string;
}
export type ResponseCode =
  | NumberCode
  | HighestModseqCode
  | PermanentFlagsCode
  | CapabilityCode
  | CopyUIDCode
  | AppendUIDCode
  | ModifiedCode
  | OtherCode;

/**
 * A generic value of a FETCH item the parser has no type for (X-GM-LABELS, EMAILID, ...):
 * atoms and numbers as strings, quoted strings as strings (UTF-8 decoded), literals as their
 * raw bytes, NIL as null, parenthesised lists as arrays.
 */
export type IMAPValue = string | Uint8Array | null | IMAPValue[];

/** One address of an ENVELOPE (RFC 9051 §7.5.2). */
export interface Address {
  /** display name, RFC 2047 decoded; absent when NIL or empty */
  name?: string;
  /** mailbox@host, or just mailbox when host is NIL */
  address?: string;
  /**
   * RFC 3501 §7.4.2 groups, flattened: the group start is an entry with only `group` (its
   * name); each member of the group carries `group` too; the group end marker is dropped.
   */
  group?: string;
}

/** A message's ENVELOPE as the server parsed it (RFC 9051 §7.5.2); NIL fields are absent. */
export interface Envelope {
  /** The Date header as written. */
  date?: string;
  /** The Subject, RFC 2047 words decoded. */
  subject?: string;
  /** From addresses. */
  from: Address[];
  /** Sender addresses (the server fills in From when there is none). */
  sender: Address[];
  /** Reply-To addresses (the server fills in From when there is none). */
  replyTo: Address[];
  /** To addresses. */
  to: Address[];
  /** Cc addresses. */
  cc: Address[];
  /** Bcc addresses. */
  bcc: Address[];
  /** The In-Reply-To header as written. */
  inReplyTo?: string;
  /** The Message-ID header as written, with its angle brackets. */
  messageId?: string;
}

/** A Content-Disposition as BODYSTRUCTURE reports it. */
export interface BodyDisposition {
  /** `inline` or `attachment` (lower-cased). */
  type: string;
  /** Its parameters (`filename`, …), keys lower-cased, RFC 2231 decoded. */
  parameters: Record<string, string>;
}

/** A message's MIME structure as the server parsed it (BODYSTRUCTURE, RFC 9051 §7.5.2). */
export interface BodyStructure {
  /** Media type, lower-cased (`text`, `multipart`, …). */
  type: string;
  /** Media subtype, lower-cased (`plain`, `mixed`, …). */
  subtype: string;
  /** Content-Type parameters: keys lower-cased; RFC 2231 continuations/charsets and RFC 2047 words decoded. */
  parameters: Record<string, string>;
  /** Content-ID. */
  id?: string;
  /** Content-Description. */
  description?: string;
  /** Content-Transfer-Encoding, as sent (`base64`, `quoted-printable`, …). */
  encoding?: string;
  /** Size in bytes of the part as stored (still transfer-encoded). */
  size?: number;
  /** Lines of a text or message/rfc822 part. */
  lines?: number;
  /** Content-MD5, when the server sends the extension data. */
  md5?: string;
  /** Content-Disposition, when the server sends the extension data. */
  disposition?: BodyDisposition;
  /** Content-Language values. */
  language?: string[];
  /** Content-Location. */
  location?: string;
  /** message/rfc822 (and message/global): the encapsulated message's envelope. */
  envelope?: Envelope;
  /** message/rfc822 (and message/global): the encapsulated message's structure. */
  body?: BodyStructure;
  /** multipart: the parts, in order */
  childNodes?: BodyStructure[];
  /**
   * IMAP part number (RFC 9051 §6.4.5): "1", "1.2", ... A multipart at the top of the message
   * has "" (it has no number of its own); a non-multipart top-level body is "1" (every message
   * has a part 1). A multipart that is the body of a message/rfc822 part P shares P (its
   * children are P.1, P.2, ...); a non-multipart body of such a part is P.1.
   */
  part: string;
}

export interface StreamedLiteral {
  streamed: true;
  size: number;
}

export interface FetchAttributes {
  uid?: number;
  flags?: string[];
  internalDate?: Date;
  size?: number;
  modseq?: bigint;
  envelope?: Envelope;
  bodyStructure?: BodyStructure;
  /**
   * BODY[section], BINARY[section], RFC822, RFC822.HEADER, RFC822.TEXT; the key is the item
   * name as sent, upper-cased, without <origin>. NIL -> null.
   */
  sections?: Record<string, Uint8Array | null | StreamedLiteral>;
  /** BINARY.SIZE[section], keyed by the section ("1.2") */
  binarySizes?: Record<string, number>;
  /**
   * any other item, key upper-cased, raw value tree; when a server follows the value with
   * more values (lists, strings, numbers) before the next item name, they come as one array
   */
  extra?: Record<string, IMAPValue>;
}

export type IMAPResponse =
  | { kind: "tagged"; tag: string; status: TaggedStatus; code?: ResponseCode; text: string }
  | { kind: "status"; status: UntaggedStatus; code?: ResponseCode; text: string }
  | { kind: "continuation"; text: string; code?: ResponseCode }
  | { kind: "capability"; capabilities: string[] }
  | { kind: "enabled"; capabilities: string[] }
  | { kind: "exists"; count: number }
  | { kind: "recent"; count: number }
  | { kind: "expunge"; seq: number }
  | { kind: "vanished"; earlier: boolean; uids: string }
  | { kind: "flags"; flags: string[] }
  | { kind: "fetch"; seq: number; attributes: FetchAttributes }
  | { kind: "search"; numbers: number[]; modseq?: bigint }
  | {
      kind: "esearch";
      tag?: string;
      uid: boolean;
      min?: number;
      max?: number;
      count?: number;
      all?: string;
      modseq?: bigint;
    }
  | {
      kind: "list" | "lsub";
      flags: string[];
      delimiter: string | null;
      /** raw wire name, not modified-UTF-7 decoded */
      name: string;
      childInfo?: string[];
      oldName?: string;
    }
  | { kind: "status-response"; mailbox: string; attributes: Record<string, bigint> }
  | {
      kind: "namespace";
      personal: Namespace[] | null;
      otherUsers: Namespace[] | null;
      shared: Namespace[] | null;
    }
  | { kind: "id"; params: Record<string, string | null> | null }
  | { kind: "unknown"; name: string; text: string };
