/**
 * deleteMessages and the MOVE fallback on a server without UIDPLUS (RFC 4315), on the scripted
 * fake server with a small stateful mailbox: a plain EXPUNGE removes every \Deleted message
 * (RFC 9051 §6.4.3), so other messages already marked \Deleted must lose the flag for the
 * EXPUNGE and get it back afterwards. The exact command sequence is checked, and that only
 * the asked UIDs are expunged.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { parseSequenceSet } from "../../../src/mail/imap/codec/index.js";
import type { MailboxEvent } from "../../../src/mail/imap/types.js";
import { AsyncIMAPClient } from "../../../src/mail/index.js";
import { serverSkip } from "../../servers/common.js";
import { type DovecotIMAP, startDovecotIMAP } from "../../servers/dovecot-imap.js";
import { type FakeIMAPServer, type Rule, startFakeIMAPServer } from "./fake-server.js";

const CAPS = "IMAP4rev1 LITERAL+ IDLE AUTH=PLAIN SASL-IR";
const servers: FakeIMAPServer[] = [];

/** A mailbox of UIDs with flags, in sequence order, answering the commands this test needs. */
function mailbox(initial: Record<number, string[]>) {
  const messages = Object.entries(initial).map(([uid, flags]) => ({
    uid: Number(uid),
    flags: new Set(flags),
  }));
  const expunged: number[] = [];
  const rules: Rule[] = [
    { match: "LOGIN", reply: `{tag} OK [CAPABILITY ${CAPS}] logged in` },
    { match: "AUTHENTICATE", reply: `{tag} OK [CAPABILITY ${CAPS}] logged in` },
    {
      // SELECT reports the mailbox as it is now.
      match: "SELECT",
      reply: (command, peer) =>
        peer.send(
          [
            `* ${messages.length} EXISTS`,
            "* FLAGS (\\Seen \\Deleted)",
            "* OK [UIDVALIDITY 9] ok",
            "{tag} OK [READ-WRITE] selected",
          ],
          command.tag,
        ),
    },
    {
      match: "UID STORE",
      reply: (command, peer) => {
        const parsed = /^UID STORE (\S+) ([+-])FLAGS\.SILENT \(\\Deleted\)$/i.exec(command.text);
        assert.ok(parsed, `an expected STORE: ${command.text}`);
        const [, set, sign] = parsed;
        for (const uid of parseSequenceSet(set)) {
          const message = messages.find((m) => m.uid === uid);
          if (sign === "+") message?.flags.add("\\Deleted");
          else message?.flags.delete("\\Deleted");
        }
        peer.send("{tag} OK stored", command.tag);
      },
    },
    {
      match: "UID SEARCH",
      reply: (command, peer) => {
        const marked = messages.filter((m) => m.flags.has("\\Deleted")).map((m) => m.uid);
        peer.send([`* SEARCH ${marked.join(" ")}`.trimEnd(), "{tag} OK searched"], command.tag);
      },
    },
    { match: "UID COPY", reply: "{tag} OK copied" },
    {
      match: "EXPUNGE",
      reply: (command, peer) => {
        const lines: string[] = [];
        for (let seq = messages.length; seq >= 1; seq--) {
          if (!messages[seq - 1].flags.has("\\Deleted")) continue;
          expunged.push(messages[seq - 1].uid);
          messages.splice(seq - 1, 1);
          lines.push(`* ${seq} EXPUNGE`);
        }
        peer.send([...lines, "{tag} OK expunged"], command.tag);
      },
    },
  ];
  const deleted = () => messages.filter((m) => m.flags.has("\\Deleted")).map((m) => m.uid);
  return { rules, expunged, deleted, uids: () => messages.map((m) => m.uid) };
}

async function session(box: ReturnType<typeof mailbox>) {
  const server = await startFakeIMAPServer({
    greeting: `* OK [CAPABILITY ${CAPS}] hi`,
    rules: box.rules,
  });
  servers.push(server);
  const imap = new AsyncIMAPClient();
  await imap.connect("127.0.0.1", server.port, { security: "none", allowPlaintextAuth: true });
  await imap.login("u", "p");
  await imap.selectMailbox("INBOX");
  const sent = () =>
    server.commands
      .filter((c) => !["LOGIN", "SELECT", "AUTHENTICATE", "CAPABILITY"].includes(c.name))
      .map((c) => c.text);
  return { server, imap, sent };
}

describe("deleting without UIDPLUS", () => {
  after(async () => {
    await Promise.all(servers.map((server) => server.stop()));
  });

  it("unmarks the other \\Deleted messages around a plain EXPUNGE, then marks them again", async () => {
    const box = mailbox({ 1: [], 2: ["\\Deleted"], 3: [], 4: ["\\Seen", "\\Deleted"], 5: [] });
    const { imap, sent } = await session(box);
    const events: MailboxEvent[] = [];
    imap.onMailboxEvent((event) => events.push(event));
    await imap.deleteMessages([3, 5]);
    assert.deepEqual(sent(), [
      "UID STORE 3,5 +FLAGS.SILENT (\\Deleted)",
      "UID SEARCH DELETED",
      "UID STORE 2,4 -FLAGS.SILENT (\\Deleted)",
      "EXPUNGE",
      "UID STORE 2,4 +FLAGS.SILENT (\\Deleted)",
    ]);
    assert.deepEqual(box.expunged.sort(), [3, 5]);
    assert.deepEqual(box.uids(), [1, 2, 4]);
    assert.deepEqual(box.deleted(), [2, 4], "the others are marked \\Deleted again");
    assert.deepEqual(
      events.filter((e) => e.type === "expunge").map((e) => e.seq),
      [5, 3],
    );
    await imap.close();
  });

  it("runs a plain EXPUNGE at once when no other message is marked \\Deleted", async () => {
    const box = mailbox({ 1: [], 2: [], 3: ["\\Seen"] });
    const { imap, sent } = await session(box);
    await imap.deleteMessages([2]);
    assert.deepEqual(sent(), [
      "UID STORE 2 +FLAGS.SILENT (\\Deleted)",
      "UID SEARCH DELETED",
      "EXPUNGE",
    ]);
    assert.deepEqual(box.expunged, [2]);
    assert.deepEqual(box.uids(), [1, 3]);
    await imap.close();
  });

  it("moves without MOVE and UIDPLUS: COPY, then the same guarded expunge", async () => {
    const box = mailbox({ 7: ["\\Deleted"], 8: [], 9: [] });
    const { imap, sent } = await session(box);
    const result = await imap.moveMessages([8, 9], "Archive");
    assert.equal(result.uidMap, undefined, "no COPYUID without UIDPLUS");
    assert.deepEqual(sent(), [
      "UID COPY 8:9 Archive",
      "UID STORE 8:9 +FLAGS.SILENT (\\Deleted)",
      "UID SEARCH DELETED",
      "UID STORE 7 -FLAGS.SILENT (\\Deleted)",
      "EXPUNGE",
      "UID STORE 7 +FLAGS.SILENT (\\Deleted)",
    ]);
    assert.deepEqual(box.expunged.sort(), [8, 9]);
    assert.deepEqual(box.deleted(), [7]);
    await imap.close();
  });

  it("puts \\Deleted back on the others even when the EXPUNGE fails", async () => {
    const box = mailbox({ 1: ["\\Deleted"], 2: [] });
    box.rules.unshift({ match: "EXPUNGE", reply: "{tag} NO [EXPUNGEISSUED] busy", times: 1 });
    const { imap, sent } = await session(box);
    await assert.rejects(imap.deleteMessages([2]), { code: "IMAP_NO" });
    assert.deepEqual(sent().slice(-3), [
      "UID STORE 1 -FLAGS.SILENT (\\Deleted)",
      "EXPUNGE",
      "UID STORE 1 +FLAGS.SILENT (\\Deleted)",
    ]);
    assert.deepEqual(box.expunged, []);
    assert.deepEqual(box.deleted(), [1, 2]);
    await imap.close();
  });
});

describe("deleting on Dovecot announcing neither UIDPLUS nor MOVE", {
  skip: serverSkip(["dovecot", "/usr/lib/dovecot/imap"], "dovecot-imapd dovecot-lmtpd"),
}, () => {
  let server: DovecotIMAP;
  before(async () => {
    server = await startDovecotIMAP(
      { alice: "secret" },
      { capabilities: "IMAP4rev1 LITERAL+ SASL-IR ID ENABLE IDLE NAMESPACE" },
    );
    const message = (i: number) =>
      new TextEncoder().encode(
        `From: a@example.test\r\nTo: alice@example.test\r\nSubject: message ${i}\r\n\r\nbody ${i}\r\n`,
      );
    server.seedMaildir("alice", [1, 2, 3, 4, 5, 6].map(message));
  });
  after(async () => {
    await server?.stop();
  });

  it("expunges only the asked messages; another \\Deleted one stays marked", async () => {
    const imap = new AsyncIMAPClient();
    await imap.connect(server.host, server.imapPort, {
      security: "none",
      allowPlaintextAuth: true,
    });
    await imap.login("alice", "secret");
    await imap.selectMailbox("INBOX");
    assert.equal(imap.capabilities.has("UIDPLUS"), false);
    assert.equal(imap.capabilities.has("MOVE"), false);
    const uids = await imap.search("ALL");
    assert.equal(uids.length, 6);
    const [keep, ...rest] = uids;
    await imap.addFlags([keep], ["\\Deleted"]);
    await imap.deleteMessages([rest[1], rest[3]]);
    await imap.moveMessages([rest[0]], "Trash");
    assert.deepEqual(await imap.search("ALL"), [keep, rest[2], rest[4]]);
    assert.deepEqual(await imap.search("DELETED"), [keep]);
    assert.equal((await imap.mailboxStatus("Trash")).messages, 1);
    await imap.close();
  });
});
