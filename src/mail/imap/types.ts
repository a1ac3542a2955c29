/** Public option and result types of `AsyncIMAPClient`. */
import type { MailSecurity, MailTLSOptions } from "../net/index.js";
import type { BodyStructure, Envelope, Namespace, SearchCriteria } from "./codec/index.js";

export type {
  Address as IMAPAddress,
  BodyDisposition,
  BodyStructure,
  Envelope as IMAPEnvelope,
  Namespace as IMAPNamespace,
  SearchCriteria,
} from "./codec/index.js";

/** Transport security: implicit TLS, STARTTLS (required), or none (plaintext, only when asked for). */
export type IMAPSecurity = MailSecurity;

/** What every network operation of the client accepts. */
export interface IMAPCallOptions {
  /** Aborts the operation: it rejects with `IMAP_ABORTED` (the connection stays usable). */
  signal?: AbortSignal;
}

/** Options of `connect(host, port, options)`; every one has a default. */
export interface IMAPConnectOptions extends IMAPCallOptions {
  /**
   * "tls": implicit TLS (the default on port 993). "starttls": upgrade with STARTTLS before
   * anything else, and fail with `IMAP_STARTTLS_UNAVAILABLE` if the server does not offer it
   * (the default on every other port). "none": plaintext, only when asked for.
   */
  security?: IMAPSecurity;
  /** Node TLS options (ca, cert, key, servername, rejectUnauthorized, …). Verified by default. */
  tls?: MailTLSOptions;
  /**
   * Allow LOGIN / AUTHENTICATE over a connection that is not encrypted. Off by default, so
   * credentials never go out in plaintext unless this is set; never when the server says
   * LOGINDISABLED.
   */
  allowPlaintextAuth?: boolean;
  /** Sent with ID (RFC 2971) after login when the server offers it; e.g. `{ name: "my-app" }`. */
  clientId?: Record<string, string>;
  /**
   * ENABLE QRESYNC (RFC 7162) when offered: expunges are then reported as `vanished` events
   * with UIDs instead of `expunge` events with sequence numbers.
   */
  qresync?: boolean;
  /** Ask the server to compress the connection (COMPRESS=DEFLATE, RFC 4978) when it offers it. */
  compress?: boolean;
  /** TCP connect + TLS handshake (default 30 s). */
  connectTimeoutMs?: number;
  /** Waiting for the greeting (default 30 s). */
  greetingTimeoutMs?: number;
  /** Silence allowed while a command waits for its answer (default 60 s). */
  commandTimeoutMs?: number;
  /**
   * How long IDLE runs before it is ended and sent again (default 25 min; RFC 2177 says a
   * server may log out a client idle for 30 minutes).
   */
  idleRefreshMs?: number;
  /** Without IDLE, how often `idle()` asks with NOOP (default 15 s). */
  idlePollMs?: number;
  /** Largest literal kept in memory (default 64 MiB); larger ones must be streamed. */
  maxLiteralSize?: number;
  /** Longest response line (default 1 MiB). */
  maxLineLength?: number;
}

/** Options of `selectMailbox`. */
export interface SelectOptions extends IMAPCallOptions {
  /** EXAMINE instead of SELECT: nothing in the mailbox is changed (no \Recent, no \Seen). */
  readOnly?: boolean;
}

/** What SELECT / EXAMINE reported about the mailbox. */
export interface MailboxInfo {
  /** The mailbox's name, as given to `selectMailbox`. */
  name: string;
  /** Messages in the mailbox (kept current as the server reports changes). */
  exists: number;
  /** Messages with \Recent (IMAP4rev1 servers; 0 on IMAP4rev2). */
  recent: number;
  /** Sequence number of the first unseen message, as the server reported it (0 if none). */
  unseen: number;
  /** UIDVALIDITY: UIDs stay valid while this number stays the same (RFC 9051 §2.3.1.1). */
  uidValidity: number;
  /** The UID the next message will get. */
  uidNext: number;
  /** The flags defined in the mailbox (FLAGS). */
  flags: string[];
  /** The flags the client can change permanently (`\*` allows new keywords). */
  permanentFlags: string[];
  /** With CONDSTORE (RFC 7162); undefined when the server keeps no mod-sequences. */
  highestModseq?: bigint;
  /** True after EXAMINE, or when the server allows no changes ([READ-ONLY]). */
  readOnly: boolean;
}

/** STATUS of a mailbox (RFC 9051 §6.3.11); what the server did not report is undefined. */
export interface MailboxStatus {
  /** The mailbox's name in Unicode. */
  name: string;
  /** Number of messages. */
  messages?: number;
  /** Messages with \Recent (IMAP4rev1 servers). */
  recent?: number;
  /** Messages without \Seen. */
  unseen?: number;
  /** The UID the next message will get. */
  uidNext?: number;
  /** The mailbox's UIDVALIDITY. */
  uidValidity?: number;
  /** With CONDSTORE: the highest mod-sequence in the mailbox. */
  highestModseq?: bigint;
  /** Total size in bytes (IMAP4rev2 servers). */
  size?: number;
}

/** One mailbox as `listMailboxes` reports it. */
export interface MailboxListEntry {
  /** The full name in Unicode (modified UTF-7 decoded). */
  name: string;
  /** The name as the server spells it on the wire. */
  path: string;
  /** The hierarchy delimiter the server reported, or null for a flat name space. */
  delimiter: string | null;
  /** LIST attributes as sent (`\HasChildren`, `\Noselect`, `\Sent`, …). */
  flags: string[];
  /** `\Sent`, `\Trash`, … (RFC 6154), when the server says so. */
  specialUse: string | undefined;
  /** True when the mailbox is in the subscription list (LSUB). */
  subscribed: boolean;
  /** With `listMailboxes({ status: true })`. */
  status?: MailboxStatus;
}

/** Options of `fetchMessages`. */
export interface FetchOptions extends IMAPCallOptions {
  /** IMAP search criteria: an object or a raw search string (default "ALL"). */
  criteria?: SearchCriteria | string;
  /** At most this many messages: the newest (highest UIDs), newest first. */
  limit?: number;
}

/** Options of `streamMessages`: what to fetch of each message, and which messages. */
export interface StreamOptions extends FetchOptions {
  /** The parsed ENVELOPE (default true). */
  envelope?: boolean;
  /** Flags (default true). */
  flags?: boolean;
  /** The parsed BODYSTRUCTURE (default false). */
  bodyStructure?: boolean;
  /** The whole raw message (default false). */
  source?: boolean;
  /** INTERNALDATE (default true). */
  internalDate?: boolean;
  /** RFC822.SIZE (default true). */
  size?: boolean;
  /** The message's mod-sequence (CONDSTORE, RFC 7162; default false). */
  modseq?: boolean;
  /** Only messages whose mod-sequence is above this (CHANGEDSINCE, RFC 7162 §3.1.4). */
  changedSince?: bigint;
  /** Raw header fields to fetch (BODY.PEEK[HEADER.FIELDS (...)]), e.g. ["List-Id"]. */
  headers?: string[];
  /** UIDs to fetch instead of a search. */
  uids?: number[];
}

/** One message as `streamMessages` yields it: only what was asked for is set. */
export interface FetchedMessage {
  /** The message's UID. */
  uid: number;
  /** Its sequence number when it was fetched (changes as messages are expunged). */
  seq: number;
  /** Its flags. */
  flags?: string[];
  /** The parsed ENVELOPE (RFC 2047 words decoded). */
  envelope?: Envelope;
  /** The parsed BODYSTRUCTURE. */
  bodyStructure?: BodyStructure;
  /** When the server received it. */
  internalDate?: Date;
  /** Its size in bytes. */
  size?: number;
  /** Its mod-sequence (CONDSTORE). */
  modseq?: bigint;
  /** The whole raw message; `MailMessage.parse(source)` reads it. */
  source?: Uint8Array;
  /** The requested header fields, raw. */
  headers?: Uint8Array;
}

/** Options of `appendMessage`. */
export interface AppendOptions extends IMAPCallOptions {
  /** Flags the new message gets, e.g. `["\\Seen"]`. */
  flags?: string[];
  /** The message's internal date (default: the server's now). */
  date?: Date;
}

/** Options of `idle`. */
export interface IdleOptions extends IMAPCallOptions {}

/** Changes to the selected mailbox, as IDLE (and any other command) observes them. */
export type MailboxEvent = ExistsEvent | ExpungeEvent | VanishedEvent | FlagsEvent;

/** The mailbox's message count changed (EXISTS): new mail, usually. */
export interface ExistsEvent {
  /** The event's kind. */
  type: "exists";
  /** Messages in the mailbox now. */
  count: number;
  /** Messages in the mailbox before. */
  previous: number;
}

/** A message was expunged (EXPUNGE); later sequence numbers shift down by one. */
export interface ExpungeEvent {
  /** The event's kind. */
  type: "expunge";
  /** The expunged message's sequence number. */
  seq: number;
  /**
   * Its UID, when known: when this connection has fetched the message since selecting the
   * mailbox (any FETCH that carried its UID, e.g. `streamMessages` or `fetchMessages`).
   */
  uid?: number;
}

/** With QRESYNC: messages were expunged, named by UID (VANISHED, RFC 7162 §3.2.10). */
export interface VanishedEvent {
  /** The event's kind. */
  type: "vanished";
  /** The expunged messages' UIDs. */
  uids: number[];
  /** True when they went before this session looked (VANISHED (EARLIER)). */
  earlier: boolean;
}

/** A message's flags changed, by this or another session (an unsolicited FETCH). */
export interface FlagsEvent {
  /** The event's kind. */
  type: "flags";
  /** The message's sequence number. */
  seq: number;
  /** Its UID, when the server sent it. */
  uid?: number;
  /** Its flags now. */
  flags: string[];
  /** Its mod-sequence now (CONDSTORE). */
  modseq?: bigint;
}

/** What `copyMessages` and `moveMessages` report. */
export interface CopyResult {
  /** Source UID → destination UID, when the server reports COPYUID (RFC 4315). */
  uidMap?: Map<number, number>;
  /** The destination mailbox's UIDVALIDITY, with `uidMap`. */
  uidValidity?: number;
}

/** Options of `downloadPart`. */
export interface DownloadOptions extends IMAPCallOptions {
  /** Largest part accepted, in bytes as the server announces it (default: no limit). */
  maxSize?: number;
  /**
   * Let the server remove the transfer encoding (BINARY, RFC 3516) when it offers it: less
   * client CPU and fewer bytes on the wire, but some servers (Dovecot) decode slower than the
   * client does, so the default is to decode here.
   */
  serverDecode?: boolean;
}

/** The result of a flag change. */
export interface StoreResult {
  /** With `unchangedSince`: the UIDs left alone because they changed since (MODIFIED). */
  modified: number[];
}

/** Namespaces (RFC 2342): where personal, other users' and shared mailboxes live. */
export interface IMAPNamespaces {
  /** The user's own mailboxes. */
  personal: Namespace[];
  /** Other users' mailboxes shared with this user. */
  otherUsers: Namespace[];
  /** Mailboxes shared by everyone. */
  shared: Namespace[];
}

/** Options of the flag changes. */
export interface StoreOptions extends IMAPCallOptions {
  /**
   * CONDSTORE (RFC 7162 §3.1.3): change only messages whose mod-sequence is not above this;
   * the UIDs of the others are returned as `modified`.
   */
  unchangedSince?: bigint;
}

/** Options of `listMailboxes`. */
export interface ListOptions extends IMAPCallOptions {
  /** Each mailbox's STATUS too: LIST-STATUS (RFC 5819) when offered, else one STATUS each. */
  status?: boolean;
}
