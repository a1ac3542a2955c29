/**
 * SEARCH criteria (RFC 9051 §6.4.4, RFC 3501 §6.4.4; MODSEQ from RFC 7162 §3.1.5) compiled to
 * command parts. Strings are astrings: non-ASCII text outside UTF-8 mode goes as a UTF-8
 * literal and the result asks for "CHARSET UTF-8" (which IMAP4rev1 servers must support).
 */
import { formatIMAPDate } from "./dates.js";
import {
  assertSafeText,
  type CommandPart,
  type EncodeOptions,
  encodeString,
  invalidArgument,
  joinCommandParts,
  validateFlag,
} from "./encode.js";
import { sequenceSet, validateSequenceSetText } from "./sequence-set.js";

/**
 * IMAP SEARCH criteria (RFC 9051 §6.4.4): every key given must match (AND). A boolean flag key
 * set to `false` means its opposite (`seen: false` is NOT SEEN). Text is matched as a
 * case-insensitive substring; non-ASCII text is sent as UTF-8 with `CHARSET UTF-8`.
 */
export interface SearchCriteria {
  /** Every message (ALL). */
  all?: boolean;
  /** With \Seen (`false`: without). */
  seen?: boolean;
  /** Without \Seen. */
  unseen?: boolean;
  /** With \Answered. */
  answered?: boolean;
  /** Without \Answered. */
  unanswered?: boolean;
  /** With \Flagged. */
  flagged?: boolean;
  /** Without \Flagged. */
  unflagged?: boolean;
  /** With \Deleted. */
  deleted?: boolean;
  /** Without \Deleted. */
  undeleted?: boolean;
  /** With \Draft. */
  draft?: boolean;
  /** Without \Draft. */
  undraft?: boolean;
  /** With \Recent (IMAP4rev1 servers). */
  recent?: boolean;
  /** \Recent and not \Seen (IMAP4rev1 servers). */
  new?: boolean;
  /** Without \Recent (IMAP4rev1 servers). */
  old?: boolean;
  /** With this keyword (all of them, for a list). */
  keyword?: string | string[];
  /** Without this keyword (none of them, for a list). */
  unkeyword?: string | string[];
  /** From contains this text (case-insensitive; non-ASCII goes as UTF-8). */
  from?: string;
  /** To contains this text. */
  to?: string;
  /** Cc contains this text. */
  cc?: string;
  /** Bcc contains this text. */
  bcc?: string;
  /** Subject contains this text. */
  subject?: string;
  /** The body contains this text. */
  body?: string;
  /** The header or body contains this text. */
  text?: string;
  /** Each named header field contains its text (`{ "List-Id": "dev" }`). */
  header?: Record<string, string>;
  /** Received on or after this day (INTERNALDATE, the date part only). */
  since?: Date;
  /** Received before this day. */
  before?: Date;
  /** Received on this day. */
  on?: Date;
  /** Date header on or after this day. */
  sentSince?: Date;
  /** Date header before this day. */
  sentBefore?: Date;
  /** Date header on this day. */
  sentOn?: Date;
  /** Larger than this many bytes. */
  larger?: number;
  /** Smaller than this many bytes. */
  smaller?: number;
  /** Only these UIDs (a list, or a set such as `"1:100"`). */
  uid?: number[] | string;
  /** Only these sequence numbers (a list or a set). */
  seq?: number[] | string;
  /** Changed since this mod-sequence (CONDSTORE, RFC 7162). */
  modseq?: bigint;
  /** Either of two criteria. */
  or?: [SearchCriteria, SearchCriteria];
  /** Not these criteria. */
  not?: SearchCriteria;
  /** Search keys written as IMAP text, inserted as written (CR, LF and NUL refused). */
  raw?: string;
}

/** Keys that are flags: `true` gives the key, `false` gives NOT key. */
const FLAG_KEYS: Record<string, string> = {
  all: "ALL",
  seen: "SEEN",
  unseen: "UNSEEN",
  answered: "ANSWERED",
  unanswered: "UNANSWERED",
  flagged: "FLAGGED",
  unflagged: "UNFLAGGED",
  deleted: "DELETED",
  undeleted: "UNDELETED",
  draft: "DRAFT",
  undraft: "UNDRAFT",
  recent: "RECENT",
  new: "NEW",
  old: "OLD",
};
const STRING_KEYS: Record<string, string> = {
  from: "FROM",
  to: "TO",
  cc: "CC",
  bcc: "BCC",
  subject: "SUBJECT",
  body: "BODY",
  text: "TEXT",
};
const DATE_KEYS: Record<string, string> = {
  since: "SINCE",
  before: "BEFORE",
  on: "ON",
  sentSince: "SENTSINCE",
  sentBefore: "SENTBEFORE",
  sentOn: "SENTON",
};

class Compiler {
  charset = false;
  constructor(private readonly options: EncodeOptions) {}

  string(value: unknown, key: string): CommandPart[] {
    if (typeof value !== "string") throw invalidArgument(`IMAP search ${key} must be a string`);
    if (!this.options.utf8 && /[^\x00-\x7f]/.test(value)) this.charset = true;
    return encodeString(value, this.options, "astring");
  }

  set(value: unknown, key: string): string {
    if (typeof value === "string") return validateSequenceSetText(value);
    if (Array.isArray(value)) return sequenceSet(value);
    throw invalidArgument(`IMAP search ${key} must be numbers or a sequence set`);
  }

  keys(criteria: SearchCriteria): CommandPart[][] {
    if (criteria === null || typeof criteria !== "object") {
      throw invalidArgument("IMAP search criteria must be an object");
    }
    const out: CommandPart[][] = [];
    for (const [key, value] of Object.entries(criteria)) {
      if (value === undefined) continue;
      const flag = FLAG_KEYS[key];
      if (flag !== undefined) {
        if (typeof value !== "boolean") throw invalidArgument(`IMAP search ${key} must be boolean`);
        out.push([value ? flag : `NOT ${flag}`]);
      } else if (STRING_KEYS[key] !== undefined) {
        out.push(joinCommandParts([STRING_KEYS[key]], this.string(value, key)));
      } else if (DATE_KEYS[key] !== undefined) {
        if (!(value instanceof Date)) throw invalidArgument(`IMAP search ${key} must be a Date`);
        out.push([`${DATE_KEYS[key]} ${formatIMAPDate(value)}`]);
      } else out.push(this.other(key, value));
    }
    return out;
  }

  other(key: string, value: unknown): CommandPart[] {
    switch (key) {
      case "keyword":
      case "unkeyword": {
        const list = Array.isArray(value) ? value : [value];
        const parts = list.map((k): CommandPart[] => {
          if (typeof k !== "string" || k.startsWith("\\")) {
            throw invalidArgument(`IMAP search ${key} must be keyword atoms`);
          }
          return [`${key.toUpperCase()} ${validateFlag(k)}`];
        });
        return joinCommandParts(...parts);
      }
      case "header": {
        if (value === null || typeof value !== "object") {
          throw invalidArgument("IMAP search header must be { name: value }");
        }
        const parts = Object.entries(value as Record<string, unknown>).map(([name, text]) =>
          joinCommandParts(["HEADER"], this.string(name, "header name"), this.string(text, key)),
        );
        return joinCommandParts(...parts);
      }
      case "larger":
      case "smaller":
        if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
          throw invalidArgument(`IMAP search ${key} must be a non-negative integer`);
        }
        return [`${key.toUpperCase()} ${value}`];
      case "uid":
        return [`UID ${this.set(value, key)}`];
      case "seq":
        return [this.set(value, key)];
      case "modseq":
        if (typeof value !== "bigint" || value < 0n) {
          throw invalidArgument("IMAP search modseq must be a non-negative bigint");
        }
        return [`MODSEQ ${value}`];
      case "or": {
        if (!Array.isArray(value) || value.length !== 2) {
          throw invalidArgument("IMAP search or must be [criteria, criteria]");
        }
        return joinCommandParts(["OR"], this.group(value[0]), this.group(value[1]));
      }
      case "not":
        return joinCommandParts(["NOT"], this.group(value as SearchCriteria));
      case "raw":
        if (typeof value !== "string" || value.trim() === "") {
          throw invalidArgument("IMAP search raw must be a non-empty string");
        }
        assertSafeText(value, "search");
        if (!this.options.utf8 && /[^\x00-\x7f]/.test(value)) {
          throw invalidArgument("IMAP raw search text must be ASCII unless UTF-8 is enabled");
        }
        return [value];
      default:
        throw invalidArgument(`IMAP search key unknown: ${JSON.stringify(key)}`);
    }
  }

  /** Sub-criteria as one search-key: parenthesised (RFC 9051 §9 "(" search-key ... ")"). */
  group(criteria: SearchCriteria): CommandPart[] {
    const keys = this.keys(criteria);
    const inner = keys.length === 0 ? ["ALL"] : joinCommandParts(...keys);
    return joinCommandParts(["("], inner, [")"]).map((p, i, all) =>
      typeof p === "string" ? fixParens(p, i === 0, i === all.length - 1) : p,
    );
  }
}

/** "( " -> "(" and " )" -> ")" at the edges of a group. */
function fixParens(text: string, first: boolean, last: boolean): string {
  let t = text;
  if (first) t = t.replace(/^\( /, "(");
  if (last) t = t.replace(/ \)$/, ")");
  return t;
}

/**
 * Compiles criteria (AND of all keys; none -> ALL) or a raw search string. `charset` tells
 * whether the command needs "CHARSET UTF-8" (non-ASCII text and UTF-8 mode off). Unknown keys
 * and malformed values -> IMAPError IMAP_INVALID_ARGUMENT.
 */
export function compileSearch(
  criteria: SearchCriteria | string,
  options: EncodeOptions,
): { parts: CommandPart[]; charset: boolean } {
  const compiler = new Compiler(options);
  if (typeof criteria === "string") {
    return { parts: compiler.other("raw", criteria), charset: false };
  }
  const keys = compiler.keys(criteria);
  const parts = keys.length === 0 ? ["ALL"] : joinCommandParts(...keys);
  return { parts, charset: compiler.charset };
}
