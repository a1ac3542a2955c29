/**
 * Mailbox commands (RFC 9051 §6.3): SELECT / EXAMINE, STATUS, LIST with LSUB (and
 * LIST-STATUS, RFC 5819), NAMESPACE (RFC 2342). `AsyncIMAPClient` calls these with its session.
 */
import { decodeMailboxName, encodeMailboxName } from "./codec/index.js";
import type { IMAPSession } from "./session.js";
import type {
  IMAPCallOptions,
  IMAPNamespaces,
  ListOptions,
  MailboxInfo,
  MailboxListEntry,
  MailboxStatus,
  SelectOptions,
} from "./types.js";

/** RFC 6154 §2: the special-use attributes. */
const SPECIAL_USE = new Set([
  "\\ALL",
  "\\ARCHIVE",
  "\\DRAFTS",
  "\\FLAGGED",
  "\\JUNK",
  "\\SENT",
  "\\TRASH",
  "\\IMPORTANT",
]);

/** SELECT or EXAMINE: the mailbox info is filled in from the untagged responses (RFC 9051 §6.3.2). */
export async function selectMailbox(
  session: IMAPSession,
  name = "INBOX",
  options: SelectOptions = {},
): Promise<MailboxInfo> {
  const readOnly = options.readOnly === true;
  const info = session.mailbox.begin(name, readOnly);
  const result = await session
    .run({
      name: readOnly ? "EXAMINE" : "SELECT",
      args: [" ", ...encodeMailboxName(name, session.encode)],
      exclusive: true,
      collects: ["status"],
      signal: options.signal,
      onData: (response) => {
        if (response.kind !== "status" || !response.code) return false;
        const code = response.code;
        switch (code.name) {
          case "UIDVALIDITY":
          case "UIDNEXT":
          case "UNSEEN":
            if ("value" in code && typeof code.value === "number") {
              if (code.name === "UIDVALIDITY") info.uidValidity = code.value;
              else if (code.name === "UIDNEXT") info.uidNext = code.value;
              else info.unseen = code.value;
            }
            return true;
          case "PERMANENTFLAGS":
            if ("flags" in code) info.permanentFlags = code.flags;
            return true;
          case "HIGHESTMODSEQ":
            if ("value" in code && typeof code.value === "bigint") info.highestModseq = code.value;
            return true;
          default:
            return false;
        }
      },
    })
    .catch((error: unknown) => {
      session.mailbox.clear();
      throw error;
    });
  session.mailbox.selected();
  if (result.code?.name === "READ-ONLY") info.readOnly = true;
  return { ...info };
}

/** STATUS, with SIZE on IMAP4rev2 servers and HIGHESTMODSEQ with CONDSTORE. */
export async function mailboxStatus(
  session: IMAPSession,
  name: string,
  options: IMAPCallOptions = {},
): Promise<MailboxStatus> {
  const items = ["MESSAGES", "UIDNEXT", "UIDVALIDITY", "UNSEEN"];
  if (session.has("IMAP4REV2")) items.push("SIZE");
  else items.push("RECENT");
  if (session.has("CONDSTORE")) items.push("HIGHESTMODSEQ");
  let status: MailboxStatus = { name };
  await session.run({
    name: "STATUS",
    args: [" ", ...encodeMailboxName(name, session.encode), ` (${items.join(" ")})`],
    collects: ["status-response"],
    signal: options.signal,
    onData: (response) => {
      if (response.kind !== "status-response") return false;
      status = toStatus(name, response.attributes);
      return true;
    },
  });
  return status;
}

/** LIST and LSUB pipelined (their untagged kinds differ), STATUS per mailbox when asked. */
export async function listMailboxes(
  session: IMAPSession,
  options: ListOptions = {},
): Promise<MailboxListEntry[]> {
  const listStatus = options.status === true && session.has("LIST-STATUS");
  const statusItems = "MESSAGES UIDNEXT UIDVALIDITY UNSEEN";
  const entries = new Map<string, MailboxListEntry>();
  const subscribed = new Set<string>();
  const utf8 = session.enabled.has("UTF8=ACCEPT");
  const statuses = new Map<string, Record<string, bigint>>();
  const list = session.run({
    name: "LIST",
    args: [` "" "*"${listStatus ? ` RETURN (STATUS (${statusItems}))` : ""}`],
    collects: listStatus ? ["list", "status-response"] : ["list"],
    signal: options.signal,
    onData: (response) => {
      if (response.kind === "status-response") {
        statuses.set(response.mailbox, response.attributes);
        return true;
      }
      if (response.kind !== "list") return false;
      const upper = response.flags.map((flag) => flag.toUpperCase());
      entries.set(response.name, {
        name: decodeMailboxName(response.name, utf8),
        path: response.name,
        delimiter: response.delimiter,
        flags: response.flags,
        specialUse: response.flags[upper.findIndex((flag) => SPECIAL_USE.has(flag))],
        subscribed: false,
      });
      return true;
    },
  });
  const lsub = session.run({
    name: "LSUB",
    args: [' "" "*"'],
    collects: ["lsub"],
    signal: options.signal,
    onData: (response) => {
      if (response.kind !== "lsub") return false;
      subscribed.add(response.name);
      return true;
    },
  });
  await Promise.all([list, lsub]);
  for (const [path, entry] of entries) {
    entry.subscribed = subscribed.has(path);
    const attributes = statuses.get(path);
    if (attributes) entry.status = toStatus(entry.name, attributes);
  }
  if (options.status === true && !listStatus) {
    // No LIST-STATUS: one STATUS per selectable mailbox, pipelined one after another.
    await Promise.all(
      [...entries.values()]
        .filter((entry) => !entry.flags.some((flag) => /^\\noselect$|^\\nonexistent$/i.test(flag)))
        .map(async (entry) => {
          entry.status = await mailboxStatus(session, entry.name, options);
        }),
    );
  }
  return [...entries.values()];
}

/** NAMESPACE, or no namespaces when the server has none. */
export async function namespaces(
  session: IMAPSession,
  options: IMAPCallOptions = {},
): Promise<IMAPNamespaces> {
  const result: IMAPNamespaces = { personal: [], otherUsers: [], shared: [] };
  if (!session.has("NAMESPACE") && !session.has("IMAP4REV2")) return result;
  await session.run({
    name: "NAMESPACE",
    collects: ["namespace"],
    signal: options.signal,
    onData: (response) => {
      if (response.kind !== "namespace") return false;
      result.personal = response.personal ?? [];
      result.otherUsers = response.otherUsers ?? [];
      result.shared = response.shared ?? [];
      return true;
    },
  });
  return result;
}

function toStatus(name: string, attributes: Record<string, bigint>): MailboxStatus {
  const number = (key: string) =>
    attributes[key] === undefined ? undefined : Number(attributes[key]);
  return {
    name,
    messages: number("MESSAGES"),
    recent: number("RECENT"),
    unseen: number("UNSEEN"),
    uidNext: number("UIDNEXT"),
    uidValidity: number("UIDVALIDITY"),
    highestModseq: attributes.HIGHESTMODSEQ,
    size: number("SIZE"),
  };
}
