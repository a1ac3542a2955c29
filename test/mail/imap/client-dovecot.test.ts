/**
 * AsyncIMAPClient against a real Dovecot started from a temp config: TLS and STARTTLS with a
 * certificate verified against the test CA, login, SELECT, SEARCH (Japanese text too),
 * FETCH as parsed messages and as a stream, flags, COPY/MOVE/EXPUNGE, APPEND, mailbox
 * management with non-ASCII names, downloadPart, and IDLE seeing a delivery.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { IMAPError } from "../../../src/errors.js";
import {
  AsyncIMAPClient,
  Attachment,
  type MailboxEvent,
  MailMessage,
} from "../../../src/mail/index.js";
import { serverSkip } from "../../servers/common.js";
import { type DovecotIMAP, startDovecotIMAP } from "../../servers/dovecot-imap.js";

const USER = "alice";
const PASSWORD = "wonder land";
const encoder = new TextEncoder();

function plainMessage(i: number, subject = `message ${i}`): Uint8Array {
  return encoder.encode(
    `From: Sender ${i} <s${i}@example.test>\r\nTo: alice@example.test\r\nSubject: ${subject}\r\nMessage-ID: <m${i}@example.test>\r\nDate: Mon, 7 Dec 2026 10:00:00 +0000\r\n\r\nbody of ${i}\r\n`,
  );
}

describe("AsyncIMAPClient against Dovecot", {
  skip: serverSkip(["dovecot", "/usr/lib/dovecot/imap"], "dovecot-imapd dovecot-lmtpd"),
}, () => {
  let server: DovecotIMAP;
  const open: AsyncIMAPClient[] = [];

  async function client(select: string | false = "INBOX"): Promise<AsyncIMAPClient> {
    const imap = new AsyncIMAPClient();
    open.push(imap);
    await imap.connect(server.host, server.imapsPort, {
      security: "tls",
      tls: { ca: server.ca, servername: "localhost" },
    });
    await imap.login(USER, PASSWORD);
    if (select) await imap.selectMailbox(select);
    return imap;
  }

  before(async () => {
    server = await startDovecotIMAP({ [USER]: PASSWORD, bob: "builder" });
    server.seedMaildir(
      USER,
      Array.from({ length: 40 }, (_, i) => plainMessage(i + 1)),
      { flags: (i) => (i % 4 === 0 ? ["\\Seen"] : []) },
    );
  });
  after(async () => {
    await Promise.all(open.map((imap) => imap.close().catch(() => {})));
    await server?.stop();
  });

  it("logs in over implicit TLS and selects INBOX with its counts", async () => {
    const imap = await client(false);
    assert.equal(imap.secure, true);
    assert.ok(imap.capabilities.has("IMAP4REV1"));
    const info = await imap.selectMailbox("INBOX");
    assert.equal(info.exists, 40);
    assert.ok(info.uidValidity > 0);
    assert.equal(info.uidNext, 41);
    assert.ok(info.permanentFlags.includes("\\Seen"));
    assert.ok(info.flags.includes("\\Deleted"));
    const status = await imap.mailboxStatus("INBOX");
    assert.equal(status.messages, 40);
    assert.equal(status.unseen, 30);
  });

  it("upgrades with STARTTLS on the plaintext port and refuses plaintext logins", async () => {
    const imap = new AsyncIMAPClient();
    open.push(imap);
    await imap.connect(server.host, server.imapPort, {
      tls: { ca: server.ca, servername: "localhost" },
    });
    assert.equal(imap.secure, true);
    await imap.login(USER, PASSWORD);
    assert.equal(imap.username, USER);

    const plain = new AsyncIMAPClient();
    open.push(plain);
    await plain.connect(server.host, server.imapPort, { security: "none" });
    assert.equal(plain.secure, false);
    await assert.rejects(plain.login(USER, PASSWORD), { code: "IMAP_PLAINTEXT_AUTH_REFUSED" });
  });

  it("refuses a certificate it cannot verify", async () => {
    const imap = new AsyncIMAPClient();
    await assert.rejects(imap.connect(server.host, server.imapsPort, { security: "tls" }), {
      code: "IMAP_TLS_FAILED",
    });
  });

  it("searches and fetches the newest messages first, parsed", async () => {
    const imap = await client();
    const unseen = await imap.search({ unseen: true });
    assert.equal(unseen.length, 30);
    assert.deepEqual(await imap.search("SEEN"), [1, 5, 9, 13, 17, 21, 25, 29, 33, 37]);
    const messages = await imap.fetchMessages({ criteria: "ALL", limit: 3 });
    assert.deepEqual(
      messages.map((m) => m.uid),
      [40, 39, 38],
    );
    assert.equal(messages[0].subject, "message 40");
    assert.match(messages[0].textContent ?? "", /^body of 40/);
    assert.deepEqual(messages[0].flags, []);
    assert.ok(messages[0].internalDate instanceof Date);
    assert.ok((messages[0].size ?? 0) > 100);
    const seen = await imap.fetchMessages({ criteria: { seen: true }, limit: 1 });
    assert.deepEqual(
      seen.map((m) => [m.uid, m.flags]),
      [[37, ["\\Seen"]]],
    );
  });

  it("streams envelopes and answers a command awaited inside the loop", async () => {
    const imap = await client();
    const seen: number[] = [];
    for await (const message of imap.streamMessages({ criteria: "ALL" })) {
      seen.push(message.uid);
      assert.equal(message.envelope?.subject, `message ${message.uid}`);
      assert.equal(message.envelope?.from[0].address, `s${message.uid}@example.test`);
      assert.equal(message.envelope?.from[0].name, `Sender ${message.uid}`);
      if (message.uid === 20) {
        assert.equal((await imap.search({ uid: [1, 2, 3] })).length, 3);
        assert.ok((await imap.listMailboxes()).length > 0);
      }
    }
    assert.equal(seen.length, 40);
    assert.deepEqual(
      seen,
      [...seen].sort((a, b) => a - b),
    );
  });

  it("adds, removes and sets flags", async () => {
    const imap = await client();
    await imap.addFlags([2, 3], ["\\Flagged", "$Important"]);
    let flags = new Map<number, string[] | undefined>();
    for await (const m of imap.streamMessages({ uids: [2, 3], envelope: false }))
      flags.set(m.uid, m.flags);
    assert.deepEqual(flags.get(2)?.sort(), ["$Important", "\\Flagged"]);
    await imap.removeFlags([2], ["\\Flagged"]);
    await imap.setFlags([3], ["\\Seen"]);
    flags = new Map();
    for await (const m of imap.streamMessages({ uids: [2, 3], envelope: false }))
      flags.set(m.uid, m.flags);
    assert.deepEqual(flags.get(2), ["$Important"]);
    assert.deepEqual(flags.get(3), ["\\Seen"]);
    await assert.rejects(imap.addFlags([2], ["bad flag"]), { code: "IMAP_INVALID_ARGUMENT" });
    await assert.rejects(imap.addFlags([2], ["\\Seen\r\nA1 LOGOUT"]), {
      code: "IMAP_INVALID_ARGUMENT",
    });
  });

  it("manages mailboxes with non-ASCII names (modified UTF-7 on the wire)", async () => {
    const imap = await client(false);
    await imap.createMailbox("報告書/2026 & more");
    const names = (await imap.listMailboxes()).map((m) => m.name);
    assert.ok(names.includes("報告書/2026 & more"), names.join(", "));
    const entry = (await imap.listMailboxes()).find((m) => m.name === "報告書/2026 & more");
    assert.equal(entry?.delimiter, "/");
    assert.match(entry?.path ?? "", /^&[A-Za-z0-9+,]+-\/2026 &- more$/);
    await imap.renameMailbox("報告書/2026 & more", "Ünïcode");
    const after = (await imap.listMailboxes()).map((m) => m.name);
    assert.ok(after.includes("Ünïcode"));
    assert.ok(!after.includes("報告書/2026 & more"));
    const trash = (await imap.listMailboxes()).find((m) => m.specialUse === "\\Trash");
    assert.ok(trash, "Dovecot's Trash has \\Trash");
    await imap.deleteMailbox("Ünïcode");
    await assert.rejects(imap.selectMailbox("Does-Not-Exist"), { code: "IMAP_NO" });
  });

  it("copies, moves and deletes exactly the messages asked for", async () => {
    const imap = await client(false);
    await imap.createMailbox("Work");
    await imap.selectMailbox("INBOX");
    const copied = await imap.copyMessages([4, 5], "Work");
    assert.equal(copied.uidMap?.get(4), 1);
    assert.equal(copied.uidMap?.get(5), 2);
    // Another message marked \Deleted must survive deleteMessages of a different one.
    await imap.addFlags([7], ["\\Deleted"]);
    await imap.deleteMessages([6]);
    const left = await imap.search("ALL");
    assert.ok(!left.includes(6));
    assert.ok(left.includes(7));
    await imap.removeFlags([7], ["\\Deleted"]);
    const moved = await imap.moveMessages([8], "Work");
    assert.equal(moved.uidMap?.get(8), 3);
    assert.ok(!(await imap.search("ALL")).includes(8));
    const work = await imap.selectMailbox("Work");
    assert.equal(work.exists, 3);
  });

  it("appends a MailMessage with flags and finds it by a Japanese subject", async () => {
    const imap = await client(false);
    await imap.createMailbox("Japanese");
    const message = new MailMessage({
      subject: "請求書のお知らせ（十二月分）",
      sender: "経理 <billing@example.test>",
      recipients: ["alice@example.test"],
      textContent: "今月の請求書を添付します。",
    });
    message.attachments.push(
      new Attachment({
        filename: "請求書.pdf",
        content: new Uint8Array(50_000).map((_, i) => (i * 7) % 256),
        contentType: "application/pdf",
      }),
    );
    const uid = await imap.appendMessage("Japanese", message, {
      flags: ["\\Seen"],
      date: new Date("2026-12-01T09:00:00Z"),
    });
    assert.equal(uid, 1);
    await imap.selectMailbox("Japanese");
    assert.deepEqual(await imap.search({ subject: "請求書" }), [1]);
    assert.deepEqual(await imap.search({ subject: "存在しない" }), []);
    const [fetched] = await imap.fetchMessages({ limit: 1 });
    assert.equal(fetched.subject, "請求書のお知らせ（十二月分）");
    assert.match(fetched.textContent ?? "", /今月の請求書を添付します。/);
    // \Recent is IMAP4rev1's session flag (RFC 3501 §2.3.2); this session is the first to see it.
    assert.deepEqual(
      fetched.flags.filter((flag) => flag !== "\\Recent"),
      ["\\Seen"],
    );
    assert.equal(fetched.internalDate?.toISOString(), "2026-12-01T09:00:00.000Z");
    assert.equal(fetched.attachments[0].filename, "請求書.pdf");

    const download = await imap.downloadPart(1, "2");
    assert.equal(download.contentType, "application/pdf");
    assert.equal(download.filename, "請求書.pdf");
    const chunks: Uint8Array[] = [];
    for await (const chunk of download) chunks.push(chunk as Uint8Array);
    const bytes = Buffer.concat(chunks);
    assert.equal(bytes.length, 50_000);
    assert.ok(bytes.every((b, i) => b === (i * 7) % 256));
    // The same bytes when the server removes the transfer encoding (BINARY, RFC 3516).
    const binary = await imap.downloadPart(1, "2", { serverDecode: true });
    const viaServer: Uint8Array[] = [];
    for await (const chunk of binary) viaServer.push(chunk as Uint8Array);
    assert.ok(Buffer.concat(viaServer).equals(bytes));
    await assert.rejects(imap.downloadPart(1, "9"), { code: "IMAP_NOT_FOUND" });
  });

  it("idle() sees a message delivered by LMTP, and ends on break", async () => {
    const imap = await client(false);
    await imap.createMailbox("Idle");
    await imap.selectMailbox("INBOX");
    const before = imap.mailbox?.exists ?? 0;
    const events = imap.idle();
    const first = events.next();
    setTimeout(() => void server.deliver(USER, plainMessage(999, "delivered while idle")), 200);
    const { value } = await first;
    assert.equal(value?.type, "exists");
    assert.equal(value?.type === "exists" ? value.count : -1, before + 1);
    await events.return(undefined);
    const [latest] = await imap.fetchMessages({ limit: 1 });
    assert.equal(latest.subject, "delivered while idle");
  });

  it("a command issued while idling ends IDLE, runs, and idling resumes", async () => {
    const imap = await client();
    const controller = new AbortController();
    const got: string[] = [];
    const loop = (async () => {
      for await (const event of imap.idle({ signal: controller.signal })) got.push(event.type);
    })();
    await new Promise((resolve) => setTimeout(resolve, 150));
    const uids = await imap.search("ALL");
    assert.ok(uids.length > 0);
    controller.abort();
    await loop;
  });

  it("compresses the connection (COMPRESS=DEFLATE) and still reads everything", async () => {
    // Debian's dovecot-imapd ships the imap_zlib plugin, so the server offers it.
    assert.equal(server.compress, true);
    const imap = new AsyncIMAPClient();
    open.push(imap);
    await imap.connect(server.host, server.imapsPort, {
      security: "tls",
      tls: { ca: server.ca, servername: "localhost" },
      compress: true,
      clientId: { name: "mtaio-test", version: "1" },
    });
    await imap.login(USER, PASSWORD);
    await imap.selectMailbox("INBOX");
    let count = 0;
    for await (const message of imap.streamMessages()) {
      assert.match(message.envelope?.subject ?? "", /^message \d+$|delivered while idle/);
      count++;
    }
    assert.ok(count > 30);
    assert.ok((await imap.search({ subject: "message 1" })).length > 0);
  });

  it("reports namespaces, mailbox status in LIST, and CONDSTORE conditional stores", async () => {
    const imap = await client();
    const namespaces = await imap.namespaces();
    assert.equal(namespaces.personal[0]?.delimiter, "/");
    const listed = await imap.listMailboxes({ status: true });
    const inbox = listed.find((m) => m.name === "INBOX");
    assert.equal(inbox?.status?.messages, imap.mailbox?.exists);
    assert.ok((inbox?.status?.uidNext ?? 0) > 0);
    const info = imap.mailbox;
    assert.ok(info?.highestModseq !== undefined && info.highestModseq > 0n);
    const [uid] = await imap.search("ALL");
    const stale = await imap.addFlags([uid], ["$Checked"], { unchangedSince: 0n });
    assert.deepEqual(stale.modified, [uid]);
    const fresh = await imap.addFlags([uid], ["$Checked"], {
      unchangedSince: info?.highestModseq ?? 0n,
    });
    assert.deepEqual(fresh.modified, []);
    for await (const m of imap.streamMessages({ uids: [uid], envelope: false, modseq: true })) {
      assert.ok(m.flags?.includes("$Checked"));
      assert.ok((m.modseq ?? 0n) > 0n);
    }
  });

  it("with QRESYNC, another session's expunge arrives as a vanished event with its UID", async () => {
    const watcher = new AsyncIMAPClient();
    open.push(watcher);
    await watcher.connect(server.host, server.imapsPort, {
      security: "tls",
      tls: { ca: server.ca, servername: "localhost" },
      qresync: true,
    });
    await watcher.login(USER, PASSWORD);
    await watcher.selectMailbox("INBOX");
    const events: string[] = [];
    watcher.onMailboxEvent((event) => events.push(JSON.stringify(event)));
    const other = await client();
    const uids = await other.search("ALL");
    const victim = uids[uids.length - 1];
    await other.deleteMessages([victim]);
    await watcher.noop();
    assert.ok(
      events.includes(JSON.stringify({ type: "vanished", uids: [victim], earlier: false })),
      events.join(" "),
    );
  });

  it("without QRESYNC, another session's expunge arrives with the UID of a fetched message", async () => {
    const watcher = await client();
    const seen: { seq: number; uid: number }[] = [];
    for await (const message of watcher.streamMessages({ envelope: false })) {
      seen.push({ seq: message.seq, uid: message.uid });
    }
    assert.ok(seen.length > 4);
    const victim = seen[Math.floor(seen.length / 2)];
    const events: MailboxEvent[] = [];
    watcher.onMailboxEvent((event) => events.push(event));
    const other = await client();
    await other.deleteMessages([victim.uid]);
    // Dovecot reports another session's expunge at the next command.
    await watcher.noop();
    assert.deepEqual(
      events.filter((event) => event.type === "expunge"),
      [{ type: "expunge", seq: victim.seq, uid: victim.uid }],
    );
  });

  it("closes with LOGOUT and refuses later commands", async () => {
    const imap = await client();
    await imap.close();
    assert.equal(imap.connected, false);
    await assert.rejects(imap.search("ALL"), { code: "IMAP_CLOSED" });
    await imap.close();
  });

  // Last: Dovecot's anvil slows down later logins from an address that failed one.
  it("fails a wrong password with IMAP_AUTHENTICATION_FAILED", async () => {
    const imap = new AsyncIMAPClient();
    open.push(imap);
    await imap.connect(server.host, server.imapsPort, {
      security: "tls",
      tls: { ca: server.ca, servername: "localhost" },
    });
    await assert.rejects(imap.login(USER, "wrong"), (error: unknown) => {
      assert.ok(error instanceof IMAPError);
      assert.equal(error.code, "IMAP_AUTHENTICATION_FAILED");
      assert.equal(error.status, "NO");
      return true;
    });
  });
});
