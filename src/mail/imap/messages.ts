/**
 * Commands on messages, always by UID (RFC 9051 §6.4.9): SEARCH (ESEARCH when offered), STORE
 * (with UNCHANGEDSINCE, RFC 7162), COPY, MOVE (RFC 6851) and its fallback, UID EXPUNGE
 * (RFC 4315) or a guarded EXPUNGE without it, APPEND. `AsyncIMAPClient` calls these with its session.
 */
import { MailMessage } from "../mime/message.js";
import {
  type CommandPart,
  compileSearch,
  encodeMailboxName,
  formatIMAPDateTime,
  parseSequenceSet,
  type SearchCriteria,
  sequenceSet,
  validateFlag,
} from "./codec/index.js";
import type { CommandResult } from "./connection.js";
import { imapError } from "./errors.js";
import type { IMAPSession } from "./session.js";
import type {
  AppendOptions,
  CopyResult,
  IMAPCallOptions,
  StoreOptions,
  StoreResult,
} from "./types.js";

/** UID SEARCH; ESEARCH `RETURN (ALL)` when offered, so a large result is one compact set. */
export async function search(
  session: IMAPSession,
  criteria: SearchCriteria | string = "ALL",
  options: IMAPCallOptions = {},
): Promise<number[]> {
  const compiled = compileSearch(criteria, session.encode);
  const esearch = session.has("ESEARCH");
  const charset = compiled.charset ? " CHARSET UTF-8" : "";
  let uids: number[] = [];
  await session.run({
    name: "UID SEARCH",
    args: [`${esearch ? " RETURN (ALL)" : ""}${charset} `, ...compiled.parts],
    collects: ["search", "esearch"],
    signal: options.signal,
    onData: (response) => {
      if (response.kind === "search") uids = response.numbers;
      else if (response.kind === "esearch")
        uids = response.all ? parseSequenceSet(response.all) : [];
      else return false;
      return true;
    },
  });
  return uids.sort((a, b) => a - b);
}

/** UID COPY; the COPYUID code (RFC 4315) gives the new UIDs. */
export async function copyMessages(
  session: IMAPSession,
  uids: number[],
  mailbox: string,
  options: IMAPCallOptions = {},
): Promise<CopyResult> {
  const set = uidSet(uids);
  if (set === undefined) return {};
  const result = await session.run({
    name: "UID COPY",
    args: [` ${set} `, ...encodeMailboxName(mailbox, session.encode)],
    signal: options.signal,
  });
  return copyResult(result.code);
}

/** UID MOVE, whose COPYUID comes untagged before the expunges (RFC 6851 §4.3). */
export async function moveMessages(
  session: IMAPSession,
  uids: number[],
  mailbox: string,
  options: IMAPCallOptions = {},
): Promise<CopyResult> {
  const set = uidSet(uids);
  if (set === undefined) return {};
  if (session.has("MOVE")) {
    let moved: CopyResult = {};
    const result = await session.run({
      name: "UID MOVE",
      args: [` ${set} `, ...encodeMailboxName(mailbox, session.encode)],
      collects: ["status"],
      signal: options.signal,
      onData: (response) => {
        if (response.kind !== "status" || response.code?.name !== "COPYUID") return false;
        moved = copyResult(response.code);
        return true;
      },
    });
    return moved.uidMap ? moved : copyResult(result.code);
  }
  const copied = await copyMessages(session, uids, mailbox, options);
  await deleteMessages(session, uids, options);
  return copied;
}

/**
 * \Deleted, then an expunge of exactly these UIDs: UID EXPUNGE (UIDPLUS, RFC 4315), or on a
 * server without it, `expungeOnly`.
 */
export async function deleteMessages(
  session: IMAPSession,
  uids: number[],
  options: IMAPCallOptions = {},
): Promise<void> {
  const set = uidSet(uids);
  if (set === undefined) return;
  await store(session, uids, "+FLAGS.SILENT", ["\\Deleted"], options);
  if (session.has("UIDPLUS")) {
    await session.run({ name: "UID EXPUNGE", args: [` ${set}`], signal: options.signal });
  } else {
    await expungeOnly(session, uids, options);
  }
}

/**
 * A plain EXPUNGE removes every message marked \Deleted (RFC 9051 §6.4.3), not only ours.
 * So the others marked \Deleted (UID SEARCH DELETED) lose the flag for the EXPUNGE and get
 * it back afterwards, also when the EXPUNGE fails or the caller aborts. Other sessions can
 * still interfere in between, which UID EXPUNGE would prevent: a message another client marks
 * \Deleted after the search is expunged too, and the others show without \Deleted until
 * the flag is back (for good, if the connection breaks before that).
 */
async function expungeOnly(
  session: IMAPSession,
  uids: readonly number[],
  options: IMAPCallOptions,
): Promise<void> {
  const asked = new Set(uids);
  const others = (await search(session, "DELETED", options)).filter((uid) => !asked.has(uid));
  if (others.length === 0) {
    await session.run({ name: "EXPUNGE", signal: options.signal });
    return;
  }
  await store(session, others, "-FLAGS.SILENT", ["\\Deleted"], options);
  try {
    await session.run({ name: "EXPUNGE", signal: options.signal });
  } finally {
    // Without the caller's signal: an abort must not leave the others unmarked.
    await store(session, others, "+FLAGS.SILENT", ["\\Deleted"], {});
  }
}

/** APPEND with a literal: non-synchronizing under LITERAL+, or LITERAL- up to 4 KiB (RFC 7888). */
export async function appendMessage(
  session: IMAPSession,
  mailbox: string,
  message: MailMessage | Uint8Array | string,
  options: AppendOptions = {},
): Promise<number | undefined> {
  const bytes =
    message instanceof MailMessage
      ? await message.toBytes()
      : typeof message === "string"
        ? new TextEncoder().encode(message)
        : message;
  const flags = (options.flags ?? []).map(validateFlag);
  const encode = session.encode;
  // RFC 7888: LITERAL+ for any size, LITERAL- only up to 4096 bytes.
  const nonSync = encode.literalPlus || (encode.literalMinus && bytes.length <= 4096);
  const args: CommandPart[] = [" ", ...encodeMailboxName(mailbox, encode)];
  if (flags.length > 0) args.push(` (${flags.join(" ")})`);
  if (options.date) args.push(` "${formatIMAPDateTime(options.date)}"`);
  args.push(" ", { literal: bytes, nonSync });
  const result = await session.run({ name: "APPEND", args, signal: options.signal });
  const code = result.code;
  if (code?.name === "APPENDUID" && "uids" in code) {
    const [uid] = parseSequenceSet(code.uids);
    return uid;
  }
  return undefined;
}

/** UID STORE of a flag action (`+FLAGS.SILENT`, …), conditional with UNCHANGEDSINCE. */
export async function store(
  session: IMAPSession,
  uids: number[],
  action: string,
  flags: string[],
  options: StoreOptions,
): Promise<StoreResult> {
  const set = uidSet(uids);
  if (set === undefined) return { modified: [] };
  const list = flags.map(validateFlag).join(" ");
  const since = options.unchangedSince;
  if (since !== undefined && (typeof since !== "bigint" || since < 0n)) {
    throw imapError("IMAP_INVALID_ARGUMENT", "unchangedSince must be a non-negative bigint");
  }
  const condition = since === undefined ? "" : ` (UNCHANGEDSINCE ${since})`;
  const result = await session.run({
    name: "UID STORE",
    args: [` ${set}${condition} ${action} (${list})`],
    signal: options.signal,
  });
  const code = result.code;
  return {
    modified: code?.name === "MODIFIED" && "set" in code ? parseSequenceSet(code.set) : [],
  };
}

function uidSet(uids: readonly number[]): string | undefined {
  if (!Array.isArray(uids)) throw imapError("IMAP_INVALID_ARGUMENT", "uids must be an array");
  for (const uid of uids) {
    if (!Number.isSafeInteger(uid) || uid < 1 || uid > 0xffffffff) {
      throw imapError("IMAP_INVALID_ARGUMENT", `invalid UID ${String(uid)}`);
    }
  }
  return uids.length === 0 ? undefined : sequenceSet(uids);
}

function copyResult(code: CommandResult["code"]): CopyResult {
  if (code?.name !== "COPYUID" || !("source" in code)) return {};
  const source = parseSequenceSet(code.source);
  const destination = parseSequenceSet(code.destination);
  const uidMap = new Map<number, number>();
  source.forEach((uid, i) => {
    if (destination[i] !== undefined) uidMap.set(uid, destination[i]);
  });
  return { uidMap, uidValidity: code.uidValidity };
}
