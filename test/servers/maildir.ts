/**
 * Writes messages straight into Dovecot's Maildirs (far faster than delivering them): the
 * Maildir spec's tmp/ → new/ (or cur/ with flags in the name) rename, so a running Dovecot
 * never sees a half-written file; it assigns UIDs on its next look at the folder.
 */
import { chownSync, mkdirSync, renameSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Where a user's mail lives: `<mailRoot>/<user>/Maildir`, owned by `owner`. */
export interface MaildirStore {
  mailRoot: string;
  owner: { uid: number; gid: number };
}

export interface SeedOptions {
  /** Target mailbox ("INBOX" by default); created when missing. */
  mailbox?: string;
  /**
   * IMAP system flags (\Seen \Answered \Flagged \Deleted \Draft), for every message or per
   * index. A message with flags goes to cur/; one without goes to new/ (Dovecot shows it
   * \Recent to the first session that sees it).
   */
  flags?: readonly string[] | ((index: number) => readonly string[]);
  /** INTERNALDATE: Dovecot's Maildir takes it from the file's mtime. */
  internalDate?: Date | ((index: number) => Date);
}

/** Maildir info letters (maildir.html "info semantics"), which must be in ASCII order. */
const FLAG_LETTERS: Record<string, string> = {
  "\\draft": "D",
  "\\flagged": "F",
  "\\answered": "R",
  "\\seen": "S",
  "\\deleted": "T",
};

/** Stamps shared by every batch, so files sort in the order they were seeded. */
const firstSecond = Math.floor(Date.now() / 1000);
let sequence = 0;

/**
 * Writes `messages` into `user`'s `mailbox`, in order: file names carry increasing
 * (seconds, microseconds) stamps, the order Dovecot sorts new files in, so the UIDs follow
 * the array. Returns the paths written.
 */
export function seedMaildir(
  store: MaildirStore,
  user: string,
  messages: readonly Uint8Array[],
  options: SeedOptions = {},
): string[] {
  const folder = createMailbox(store, user, options.mailbox ?? "INBOX");
  const { uid, gid } = store.owner;
  const unique = `P${process.pid}`;
  const paths: string[] = [];
  messages.forEach((message, i) => {
    const flags = typeof options.flags === "function" ? options.flags(i) : options.flags;
    const letters = (flags ?? []).map(flagLetter).sort().join("");
    // Dovecot sorts new files by the seconds, then the microseconds, of their names.
    const n = sequence++;
    const stamp = `${firstSecond + Math.floor(n / 1e6)}.M${n % 1e6}${unique}`;
    const base = `${stamp}.mtaio,S=${message.length}`;
    const tmp = join(folder, "tmp", base);
    const final = flags?.length
      ? join(folder, "cur", `${base}:2,${letters}`)
      : join(folder, "new", base);
    writeFileSync(tmp, message);
    chownSync(tmp, uid, gid);
    const date =
      typeof options.internalDate === "function" ? options.internalDate(i) : options.internalDate;
    if (date) utimesSync(tmp, date, date);
    renameSync(tmp, final);
    paths.push(final);
  });
  return paths;
}

/**
 * Makes `mailbox` (hierarchy separator "/") a Maildir++ folder of `user`: ".A.B" beside
 * INBOX's cur/new/tmp, names in modified UTF-7 as Dovecot 2.3 stores them. Returns its path.
 */
export function createMailbox(store: MaildirStore, user: string, mailbox: string): string {
  const home = join(
    store.mailRoot,
    user.replace(/[A-Z]/g, (c) => c.toLowerCase()),
  );
  const maildir = join(home, "Maildir");
  const folder = mailbox.toUpperCase() === "INBOX" ? maildir : join(maildir, maildirName(mailbox));
  for (const path of [
    home,
    maildir,
    folder,
    ...["cur", "new", "tmp"].map((s) => join(folder, s)),
  ]) {
    mkdirSync(path, { recursive: true });
    chownSync(path, store.owner.uid, store.owner.gid);
  }
  if (folder !== maildir) {
    // Maildir++ marks every folder but the top one with this empty file.
    writeFileSync(join(folder, "maildirfolder"), "");
    chownSync(join(folder, "maildirfolder"), store.owner.uid, store.owner.gid);
  }
  return folder;
}

/** "Archive/2024" → ".Archive.2024"; "." cannot be in a name (it is Maildir++'s separator). */
export function maildirName(mailbox: string): string {
  const parts = mailbox.split("/");
  if (parts.some((p) => p === "" || p.includes(".") || /[\0\r\n]/.test(p))) {
    throw new Error(`mailbox name not usable with Maildir++: ${JSON.stringify(mailbox)}`);
  }
  return `.${parts.map(encodeModifiedUTF7).join(".")}`;
}

/** RFC 3501 §5.1.3: "&" → "&-"; other non-ASCII runs as UTF-16 in base64 with "," for "/". */
export function encodeModifiedUTF7(name: string): string {
  return name.replace(/&|[^\x20-\x7e]+/g, (run) => {
    if (run === "&") return "&-";
    const utf16 = Buffer.alloc(run.length * 2);
    for (let i = 0; i < run.length; i++) utf16.writeUInt16BE(run.charCodeAt(i), i * 2);
    return `&${utf16.toString("base64").replace(/=+$/, "").replace(/\//g, ",")}-`;
  });
}

function flagLetter(flag: string): string {
  const letter = FLAG_LETTERS[flag.toLowerCase()];
  if (!letter) throw new Error(`seedMaildir: only system flags are supported, not ${flag}`);
  return letter;
}
