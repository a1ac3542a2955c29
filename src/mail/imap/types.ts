/** Public option and result types of `AsyncIMAPClient`. */
import type { MailTLSOptions } from "../net/index.js";
import type { BodyStructure, Envelope, SearchCriteria } from "./codec/index.js";

export type {
  Address as IMAPAddress,
  BodyStructure,
  Envelope as IMAPEnvelope,
  SearchCriteria,
} from "./codec/index.js";

export type IMAPSecurity = "tls" | "starttls" | "none";

export interface IMAPConnectOptions {
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
  /** Each command's tagged answer (default 60 s); long fetches get this per response received. */
  commandTimeoutMs?: number;
  /** How long IDLE runs before it is re-issued (default 25 min; RFC 2177 says servers may log
   * out a client idle for 30 minutes). */
  idleRefreshMs?: number;
  /** Largest literal kept in memory (default 64 MiB); larger ones must be streamed. */
  maxLiteralSize?: number;
  /** Longest response line (default 1 MiB). */
  maxLineLength?: number;
  signal?: AbortSignal;
}

export interface SelectOptions {
  /** EXAMINE instead of SELECT: nothing in the mailbox is changed (no \Recent, no \Seen). */
  readOnly?: boolean;
  signal?: AbortSignal;
}

/** What SELECT / EXAMINE reported about the mailbox. */
export interface MailboxInfo {
  name: string;
  exists: number;
  recent: number;
  /** Sequence number of the first unseen message, as the server reported it (0 if none). */
  unseen: number;
  uidValidity: number;
  uidNext: number;
  flags: string[];
  permanentFlags: string[];
  /** With CONDSTORE (RFC 7162); undefined when the server keeps no mod-sequences. */
  highestModseq?: bigint;
  readOnly: boolean;
}

export interface MailboxStatus {
  name: string;
  messages?: number;
  recent?: number;
  unseen?: number;
  uidNext?: number;
  uidValidity?: number;
  highestModseq?: bigint;
  size?: number;
}

export interface MailboxListEntry {
  /** The full name in Unicode (modified UTF-7 decoded). */
  name: string;
  /** The name as the server spells it on the wire. */
  path: string;
  /** The hierarchy delimiter the server reported, or null for a flat name space. */
  delimiter: string | null;
  flags: string[];
  /** `\Sent`, `\Trash`, … (RFC 6154), when the server says so. */
  specialUse: string | undefined;
  subscribed: boolean;
  /** With LIST-STATUS (RFC 5819), when asked for and offered. */
  status?: MailboxStatus;
}

export interface FetchOptions {
  /** IMAP search criteria: an object or a raw search string (default "ALL"). */
  criteria?: SearchCriteria | string;
  /** At most this many messages: the newest (highest UIDs), newest first. */
  limit?: number;
  signal?: AbortSignal;
}

export interface StreamOptions extends FetchOptions {
  /** The parsed ENVELOPE (default true). */
  envelope?: boolean;
  /** Flags (default true). */
  flags?: boolean;
  /** The parsed BODYSTRUCTURE (default false). */
  bodyStructure?: boolean;
  /** The whole raw message (default false). */
  source?: boolean;
  /** INTERNALDATE and RFC822.SIZE (default true). */
  internalDate?: boolean;
  size?: boolean;
  /** Mod-sequence (CONDSTORE); with `changedSince`, only messages changed since that mod-sequence. */
  modseq?: boolean;
  changedSince?: bigint;
  /** Raw header fields to fetch (BODY.PEEK[HEADER.FIELDS (...)]), e.g. ["List-Id"]. */
  headers?: string[];
  /** UIDs to fetch instead of a search. */
  uids?: number[];
}

/** One message as `streamMessages` yields it: only what was asked for is set. */
export interface FetchedMessage {
  uid: number;
  seq: number;
  flags?: string[];
  envelope?: Envelope;
  bodyStructure?: BodyStructure;
  internalDate?: Date;
  size?: number;
  modseq?: bigint;
  source?: Uint8Array;
  /** The requested header fields, raw. */
  headers?: Uint8Array;
}

export interface AppendOptions {
  flags?: string[];
  /** The message's internal date (default: the server's now). */
  date?: Date;
  signal?: AbortSignal;
}

export interface IdleOptions {
  signal?: AbortSignal;
}

/** Changes to the selected mailbox, as IDLE (and any other command) observes them. */
export type MailboxEvent =
  | { type: "exists"; count: number; previous: number }
  | { type: "expunge"; seq: number; uid?: number }
  | { type: "vanished"; uids: number[]; earlier: boolean }
  | { type: "flags"; seq: number; uid?: number; flags: string[]; modseq?: bigint };

export interface CopyResult {
  /** Source UID → destination UID, when the server reports COPYUID (RFC 4315). */
  uidMap?: Map<number, number>;
  uidValidity?: number;
}

export interface DownloadOptions {
  signal?: AbortSignal;
  /** Largest part accepted, in bytes as the server announces it (default: no limit). */
  maxSize?: number;
}
