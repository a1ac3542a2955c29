/**
 * AsyncIMAPClient against the scripted fake server, for what a real server will not do on
 * demand: greeting BYE, PREAUTH, LOGINDISABLED, STARTTLS response injection, literals split
 * at every byte, an oversized literal announcement, BYE in the middle of a FETCH, garbage,
 * unsolicited responses between a command and its answer, Gmail-style extra attributes.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { IMAPError } from "../../../src/errors.js";
import { AsyncIMAPClient } from "../../../src/mail/index.js";
import { makeCertificates, type TestCertificates, tempDir } from "../../servers/common.js";
import { type FakeIMAPOptions, type FakeIMAPServer, startFakeIMAPServer } from "./fake-server.js";

const CAPS = "IMAP4rev1 LITERAL+ IDLE UIDPLUS MOVE ESEARCH AUTH=PLAIN SASL-IR";
const servers: FakeIMAPServer[] = [];

async function fake(options: FakeIMAPOptions): Promise<FakeIMAPServer> {
  const server = await startFakeIMAPServer(options);
  servers.push(server);
  return server;
}

const LOGIN_RULES = [
  { match: "AUTHENTICATE", reply: `{tag} OK [CAPABILITY ${CAPS}] logged in` },
  { match: "LOGIN", reply: `{tag} OK [CAPABILITY ${CAPS}] logged in` },
  {
    match: "SELECT",
    reply: [
      "* 3 EXISTS",
      "* 0 RECENT",
      "* FLAGS (\\Seen \\Deleted)",
      "* OK [UIDVALIDITY 7] ok",
      "* OK [UIDNEXT 4] ok",
      "{tag} OK [READ-WRITE] selected",
    ],
  },
];

async function loggedIn(server: FakeIMAPServer): Promise<AsyncIMAPClient> {
  const imap = new AsyncIMAPClient();
  await imap.connect("127.0.0.1", server.port, { security: "none", allowPlaintextAuth: true });
  await imap.login("u", "p");
  await imap.selectMailbox("INBOX");
  return imap;
}

describe("AsyncIMAPClient against a scripted server", () => {
  let certs: TestCertificates;
  before(async () => {
    const dir = await tempDir("imap-fake-certs");
    certs = await makeCertificates(dir.path);
  });
  after(async () => {
    await Promise.all(servers.map((server) => server.stop()));
  });

  it("a greeting BYE rejects connect with IMAP_BYE and its text", async () => {
    const server = await fake({ greeting: "* BYE too many connections" });
    const imap = new AsyncIMAPClient();
    await assert.rejects(
      imap.connect("127.0.0.1", server.port, { security: "none" }),
      (error: unknown) =>
        error instanceof IMAPError && error.code === "IMAP_BYE" && /too many/.test(error.message),
    );
  });

  it("PREAUTH is logged in at once, and STARTTLS is impossible after it", async () => {
    const server = await fake({
      greeting: `* PREAUTH [CAPABILITY ${CAPS} STARTTLS] hello`,
      rules: LOGIN_RULES,
    });
    const imap = new AsyncIMAPClient();
    await assert.rejects(imap.connect("127.0.0.1", server.port), {
      code: "IMAP_STARTTLS_UNAVAILABLE",
    });
    const pre = new AsyncIMAPClient();
    await pre.connect("127.0.0.1", server.port, { security: "none" });
    const info = await pre.selectMailbox("INBOX");
    assert.equal(info.exists, 3);
    assert.equal(info.uidValidity, 7);
    await pre.close();
  });

  it("never logs in when the server says LOGINDISABLED", async () => {
    const server = await fake({
      greeting: `* OK [CAPABILITY IMAP4rev1 LOGINDISABLED] hi`,
      rules: LOGIN_RULES,
    });
    const imap = new AsyncIMAPClient();
    await imap.connect("127.0.0.1", server.port, { security: "none", allowPlaintextAuth: true });
    await assert.rejects(imap.login("u", "p"), { code: "IMAP_LOGIN_DISABLED" });
    await imap.close();
    assert.ok(!server.received.some((line) => /LOGIN|AUTHENTICATE/.test(line)));
  });

  it("a server without STARTTLS fails connect (STARTTLS required by default)", async () => {
    const server = await fake({ greeting: `* OK [CAPABILITY ${CAPS}] hi` });
    const imap = new AsyncIMAPClient();
    await assert.rejects(imap.connect("127.0.0.1", server.port), {
      code: "IMAP_STARTTLS_UNAVAILABLE",
    });
  });

  it("fails closed when the server injects a response after its OK to STARTTLS", async () => {
    const server = await fake({
      tls: certs,
      greeting: `* OK [CAPABILITY IMAP4rev1 STARTTLS] hi`,
      rules: [
        {
          match: "STARTTLS",
          reply: (command, peer) =>
            void peer
              .acceptStartTLS(command, "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] injected\r\n")
              .catch(() => {}),
        },
      ],
    });
    const imap = new AsyncIMAPClient();
    await assert.rejects(
      imap.connect("127.0.0.1", server.port, { tls: { ca: certs.ca, servername: "localhost" } }),
      { code: "IMAP_STARTTLS_INJECTION" },
    );
  });

  it("reads literals split at every byte", async () => {
    const literal = "Subject: split\r\n\r\nhello {5}\r\n";
    const response = `* 1 FETCH (UID 1 FLAGS (\\Seen) INTERNALDATE "07-Dec-2026 10:00:00 +0000" RFC822.SIZE ${literal.length} BODY[] {${literal.length}}\r\n${literal})\r\n`;
    const server = await fake({
      greeting: `* OK [CAPABILITY ${CAPS}] hi`,
      rules: [
        ...LOGIN_RULES,
        { match: "UID SEARCH", reply: ['* ESEARCH (TAG "{tag}") UID ALL 1', "{tag} OK done"] },
        {
          match: "UID FETCH",
          reply: async (command, peer) => {
            await peer.dribble(response, { sizes: 1 });
            peer.send("{tag} OK done", command.tag);
          },
        },
      ],
    });
    const imap = await loggedIn(server);
    const [message] = await imap.fetchMessages({ limit: 1 });
    assert.equal(message.uid, 1);
    assert.equal(message.subject, "split");
    assert.match(message.textContent ?? "", /hello \{5\}/);
    assert.deepEqual(message.flags, ["\\Seen"]);
    await imap.close();
  });

  it("an announced literal over the limit fails at once, before its bytes arrive", async () => {
    const server = await fake({
      greeting: `* OK [CAPABILITY ${CAPS}] hi`,
      rules: [
        ...LOGIN_RULES,
        { match: "UID SEARCH", reply: ["* SEARCH 1", "{tag} OK done"] },
        // 100 MB announced, never sent: the client must not wait for it.
        { match: "UID FETCH", reply: "* 1 FETCH (UID 1 BODY[] {104857600}" },
      ],
    });
    const imap = new AsyncIMAPClient();
    await imap.connect("127.0.0.1", server.port, {
      security: "none",
      allowPlaintextAuth: true,
      maxLiteralSize: 1024 * 1024,
    });
    await imap.login("u", "p");
    await imap.selectMailbox();
    const started = Date.now();
    await assert.rejects(imap.fetchMessages({ limit: 1 }), { code: "IMAP_LIMIT_EXCEEDED" });
    assert.ok(Date.now() - started < 5_000);
    assert.equal(imap.connected, false);
  });

  it("BYE in the middle of a FETCH rejects the command with IMAP_CONNECTION_CLOSED", async () => {
    const server = await fake({
      greeting: `* OK [CAPABILITY ${CAPS}] hi`,
      rules: [
        ...LOGIN_RULES,
        { match: "UID SEARCH", reply: ["* SEARCH 1 2 3", "{tag} OK done"] },
        {
          match: "UID FETCH",
          reply: (_command, peer) => {
            peer.send(["* 1 FETCH (UID 1 BODY[] {3}", "abc)", "* BYE shutting down"]);
            setTimeout(() => peer.close(), 20);
          },
        },
      ],
    });
    const imap = await loggedIn(server);
    await assert.rejects(imap.fetchMessages(), (error: unknown) => {
      assert.ok(error instanceof IMAPError);
      assert.equal(error.code, "IMAP_CONNECTION_CLOSED");
      assert.match(error.message, /shutting down/);
      return true;
    });
    await assert.rejects(imap.search("ALL"), { code: "IMAP_NOT_CONNECTED" });
  });

  it("garbage from the server is a typed error, never a crash", async () => {
    const server = await fake({
      greeting: `* OK [CAPABILITY ${CAPS}] hi`,
      rules: [
        ...LOGIN_RULES,
        { match: "NOOP", reply: new Uint8Array([0x00, 0xff, 0x28, 0x29, 0x0d, 0x0a]) },
      ],
    });
    const imap = await loggedIn(server);
    await assert.rejects(imap.noop(), (error: unknown) => error instanceof IMAPError);
  });

  it("unsolicited EXISTS/EXPUNGE/FETCH between a command and its answer become events", async () => {
    const server = await fake({
      greeting: `* OK [CAPABILITY ${CAPS}] hi`,
      rules: [
        ...LOGIN_RULES,
        {
          match: "UID SEARCH",
          reply: [
            "* 4 EXISTS",
            "* 2 EXPUNGE",
            "* 1 FETCH (FLAGS (\\Seen \\Flagged))",
            "* SEARCH 1 3",
            "{tag} OK done",
          ],
        },
      ],
    });
    const imap = await loggedIn(server);
    const events: string[] = [];
    imap.onMailboxEvent((event) => events.push(JSON.stringify(event)));
    assert.deepEqual(await imap.search("ALL"), [1, 3]);
    assert.deepEqual(events, [
      JSON.stringify({ type: "exists", count: 4, previous: 3 }),
      JSON.stringify({ type: "expunge", seq: 2 }),
      JSON.stringify({ type: "flags", seq: 1, flags: ["\\Seen", "\\Flagged"] }),
    ]);
    assert.equal(imap.mailbox?.exists, 3);
    await imap.close();
  });

  it("keeps Gmail's X-GM-* attributes and reads NIL where strings are expected", async () => {
    const server = await fake({
      greeting: `* OK [CAPABILITY ${CAPS} X-GM-EXT-1] hi`,
      rules: [
        ...LOGIN_RULES,
        { match: "UID SEARCH", reply: ["* SEARCH 9", "{tag} OK done"] },
        {
          match: "UID FETCH",
          reply: [
            '* 1 FETCH (X-GM-MSGID 1278455344230334865 X-GM-LABELS ("\\\\Inbox" Work) UID 9 FLAGS () ENVELOPE (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) INTERNALDATE "07-Dec-2026 10:00:00 +0900" RFC822.SIZE 10)',
            "{tag} OK done",
          ],
        },
      ],
    });
    const imap = await loggedIn(server);
    const got = [];
    for await (const message of imap.streamMessages()) got.push(message);
    assert.equal(got.length, 1);
    assert.equal(got[0].uid, 9);
    assert.deepEqual(got[0].envelope?.from, []);
    assert.equal(got[0].envelope?.subject, undefined);
    assert.equal(got[0].internalDate?.toISOString(), "2026-12-07T01:00:00.000Z");
    await imap.close();
  });

  it("CR, LF or NUL in an argument never reaches the wire", async () => {
    const server = await fake({ greeting: `* OK [CAPABILITY ${CAPS}] hi`, rules: LOGIN_RULES });
    const imap = await loggedIn(server);
    const before = server.wire(0).length;
    await assert.rejects(imap.createMailbox("a\r\nA1 DELETE INBOX"), {
      code: "IMAP_INVALID_ARGUMENT",
    });
    await assert.rejects(imap.search({ subject: "x\u0000y" }), { code: "IMAP_INVALID_ARGUMENT" });
    await assert.rejects(imap.login("u\r\n", "p"), (error: unknown) => error instanceof IMAPError);
    assert.equal(server.wire(0).length, before);
    await imap.close();
  });

  it("an aborted command rejects with IMAP_ABORTED and the connection stays usable", async () => {
    const server = await fake({
      greeting: `* OK [CAPABILITY ${CAPS}] hi`,
      rules: [
        ...LOGIN_RULES,
        {
          match: "UID SEARCH",
          reply: async (command, peer) => {
            await new Promise((resolve) => setTimeout(resolve, 200));
            peer.send(["* SEARCH 1", "{tag} OK done"], command.tag);
          },
        },
        { match: "NOOP", reply: "{tag} OK noop" },
      ],
    });
    const imap = await loggedIn(server);
    const controller = new AbortController();
    const search = imap.search("ALL", { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await assert.rejects(search, { code: "IMAP_ABORTED" });
    await imap.noop();
    await imap.close();
  });

  it("a command without an answer times out with IMAP_TIMEOUT", async () => {
    const server = await fake({
      greeting: `* OK [CAPABILITY ${CAPS}] hi`,
      rules: [...LOGIN_RULES, { match: "NOOP", reply: () => {} }],
    });
    const imap = new AsyncIMAPClient();
    await imap.connect("127.0.0.1", server.port, {
      security: "none",
      allowPlaintextAuth: true,
      commandTimeoutMs: 200,
    });
    await imap.login("u", "p");
    await imap.selectMailbox();
    await assert.rejects(imap.noop(), { code: "IMAP_TIMEOUT" });
  });

  it("a greeting that never comes times out", async () => {
    const server = await fake({ greeting: null });
    const imap = new AsyncIMAPClient();
    await assert.rejects(
      imap.connect("127.0.0.1", server.port, { security: "none", greetingTimeoutMs: 200 }),
      { code: "IMAP_TIMEOUT" },
    );
  });

  it("pipelines independent commands without waiting for answers", async () => {
    const server = await fake({
      greeting: `* OK [CAPABILITY ${CAPS}] hi`,
      rules: [
        ...LOGIN_RULES,
        {
          match: "UID STORE",
          reply: (command, peer) => {
            // Answered only once both STOREs have arrived, which proves they were pipelined
            // (a client waiting for each answer would time out here).
            const stores = () => server.commands.filter((c) => c.name === "UID STORE").length;
            const check = () =>
              stores() >= 2 ? peer.send("{tag} OK stored", command.tag) : setTimeout(check, 10);
            check();
          },
        },
      ],
    });
    const imap = new AsyncIMAPClient();
    await imap.connect("127.0.0.1", server.port, {
      security: "none",
      allowPlaintextAuth: true,
      commandTimeoutMs: 2_000,
    });
    await imap.login("u", "p");
    await imap.selectMailbox();
    await Promise.all([imap.addFlags([1], ["\\Seen"]), imap.addFlags([2], ["\\Seen"])]);
    assert.equal(server.commands.filter((c) => c.name === "UID STORE").length, 2);
    await imap.close();
  });

  it("downloadPart streams a large base64 part, decoded, while the reader is slow", async () => {
    const data = new Uint8Array(4 * 1024 * 1024).map((_, i) => (i * 2654435761) >>> 24);
    const encoded = Buffer.from(
      (
        Buffer.from(data)
          .toString("base64")
          .match(/.{1,76}/g) ?? []
      ).join("\r\n"),
    );
    const structure =
      '(("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 5 1)("application" "octet-stream" ("name" "big.bin") NIL NIL "base64" ' +
      `${encoded.length}) "mixed")`;
    const server = await fake({
      greeting: `* OK [CAPABILITY ${CAPS}] hi`,
      rules: [
        ...LOGIN_RULES,
        {
          match: /BODYSTRUCTURE/,
          reply: [`* 1 FETCH (UID 5 BODYSTRUCTURE ${structure})`, "{tag} OK done"],
        },
        {
          match: /BODY\.PEEK\[2\]/,
          reply: async (command, peer) => {
            peer.write(`* 1 FETCH (UID 5 BODY[2] {${encoded.length}}\r\n`);
            for (let at = 0; at < encoded.length; at += 65_537) {
              peer.write(encoded.subarray(at, at + 65_537));
              await new Promise((resolve) => setImmediate(resolve));
            }
            peer.send([")", "{tag} OK done"], command.tag);
          },
        },
      ],
    });
    const imap = await loggedIn(server);
    const part = await imap.downloadPart(5, "2");
    assert.equal(part.contentType, "application/octet-stream");
    assert.equal(part.filename, "big.bin");
    assert.equal(part.encoding, "base64");
    const chunks: Buffer[] = [];
    let slow = 0;
    for await (const chunk of part) {
      chunks.push(chunk as Buffer);
      if (slow++ < 5) await new Promise((resolve) => setTimeout(resolve, 30));
    }
    const got = Buffer.concat(chunks);
    assert.equal(got.length, data.length);
    assert.ok(got.equals(Buffer.from(data)));
    assert.equal(part.size, encoded.length);
    // The connection is still in step after the streamed literal.
    await imap.close();
  });

  it("downloadPart hands out chunks of an unencoded part that stay intact once kept", async () => {
    // The socket reads into one reused buffer: a part that needs no decoding must be copied.
    const data = Buffer.alloc(1024 * 1024).map((_, i) => 0x20 + ((i * 7919) % 90));
    const structure = `("application" "octet-stream" NIL NIL NIL "8bit" ${data.length})`;
    const server = await fake({
      greeting: `* OK [CAPABILITY ${CAPS}] hi`,
      rules: [
        ...LOGIN_RULES,
        {
          match: /BODYSTRUCTURE/,
          reply: [`* 1 FETCH (UID 6 BODYSTRUCTURE ${structure})`, "{tag} OK done"],
        },
        {
          match: /BODY\.PEEK\[1\]/,
          reply: async (command, peer) => {
            peer.write(`* 1 FETCH (UID 6 BODY[1] {${data.length}}\r\n`);
            for (let at = 0; at < data.length; at += 10_007) {
              peer.write(data.subarray(at, at + 10_007));
              if (at % 100_070 === 0) await new Promise((resolve) => setImmediate(resolve));
            }
            peer.send([")", "{tag} OK done"], command.tag);
          },
        },
      ],
    });
    const imap = await loggedIn(server);
    const part = await imap.downloadPart(6, "1");
    const kept: Buffer[] = [];
    for await (const chunk of part) {
      kept.push(chunk as Buffer);
      if (kept.length % 8 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    assert.ok(kept.length > 1);
    assert.ok(Buffer.concat(kept).equals(data));
    await imap.close();
  });

  it("idle() reports an expunge with the UID of a message fetched before, shifting the rest", async () => {
    const server = await fake({
      greeting: `* OK [CAPABILITY ${CAPS}] hi`,
      rules: [
        ...LOGIN_RULES,
        {
          match: "UID FETCH",
          reply: [
            "* 2 FETCH (UID 6 FLAGS ())",
            "* 3 FETCH (UID 7 FLAGS (\\Seen))",
            "{tag} OK done",
          ],
        },
        {
          match: "IDLE",
          reply: async (command, peer) => {
            peer.send(["+ idling", "* 2 EXPUNGE", "* 1 EXPUNGE", "* 1 EXPUNGE"]);
            assert.equal(await peer.line(), "DONE");
            peer.send("{tag} OK idle done", command.tag);
          },
        },
      ],
    });
    const imap = await loggedIn(server);
    const fetched: number[] = [];
    for await (const message of imap.streamMessages({
      uids: [6, 7],
      envelope: false,
      internalDate: false,
      size: false,
    })) {
      fetched.push(message.uid);
    }
    assert.deepEqual(fetched, [6, 7]);
    const events = [];
    for await (const event of imap.idle()) {
      events.push(event);
      if (events.length === 3) break;
    }
    // Seq 2 was UID 6; seq 1 was never fetched; then UID 7 had moved down to seq 1.
    assert.deepEqual(events, [
      { type: "expunge", seq: 2, uid: 6 },
      { type: "expunge", seq: 1 },
      { type: "expunge", seq: 1, uid: 7 },
    ]);
    assert.equal(imap.mailbox?.exists, 0);
    await imap.close();
  });

  it("without LITERAL+, waits for the continuation before a literal, and a refusal fails the command", async () => {
    const caps = "IMAP4rev1 UIDPLUS AUTH=PLAIN";
    const server = await fake({
      greeting: `* OK [CAPABILITY ${caps}] hi`,
      literal: (size) => (size > 20 ? "{tag} NO [TOOBIG] literal too large" : undefined),
      rules: [
        { match: "AUTHENTICATE", reply: `{tag} OK [CAPABILITY ${caps}] logged in` },
        { match: "SELECT", reply: ["* 0 EXISTS", "{tag} OK [READ-WRITE] selected"] },
        { match: "UID SEARCH", reply: ["* SEARCH 4", "{tag} OK done"] },
        { match: "CREATE", reply: "{tag} OK created" },
      ],
    });
    const imap = await loggedIn(server);
    assert.deepEqual(await imap.search({ subject: "請求書" }), [4]);
    const search = server.commands.find((c) => c.name === "UID SEARCH");
    assert.match(search?.text ?? "", /CHARSET UTF-8 SUBJECT \{9\}\r\n/);
    assert.equal(search?.literals[0].toString("utf8"), "請求書");
    await assert.rejects(
      imap.search({ subject: "とても長い件名の検索文字列" }),
      (error: unknown) => {
        assert.ok(error instanceof IMAPError);
        assert.equal(error.code, "IMAP_NO");
        assert.equal(error.responseCode, "TOOBIG");
        return true;
      },
    );
    // The connection is still in step: the next command gets its own answer.
    await imap.createMailbox("after");
    await imap.close();
  });

  it("OAuth2: OAUTHBEARER with SASL-IR; a rejected token is refreshed once", async () => {
    const tokens: boolean[] = [];
    let attempts = 0;
    const server = await fake({
      greeting: "* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=OAUTHBEARER] hi",
      rules: [
        {
          match: "AUTHENTICATE",
          reply: async (command, peer) => {
            attempts++;
            const initial = Buffer.from(command.text.split(" ")[2] ?? "", "base64").toString();
            if (initial.includes("auth=Bearer old")) {
              peer.send(`+ ${Buffer.from('{"status":"invalid_token"}').toString("base64")}`);
              const dummy = await peer.line();
              assert.equal(Buffer.from(dummy, "base64").toString(), "\u0001");
              peer.send("{tag} NO [AUTHENTICATIONFAILED] invalid token", command.tag);
            } else {
              assert.match(
                initial,
                /^n,a=me@example\.test,\u0001host=127\.0\.0\.1\u0001port=\d+\u0001auth=Bearer new\u0001\u0001$/,
              );
              peer.send("{tag} OK authenticated", command.tag);
            }
          },
        },
        { match: "CAPABILITY", reply: ["* CAPABILITY IMAP4rev1 AUTH=OAUTHBEARER", "{tag} OK"] },
      ],
    });
    const imap = new AsyncIMAPClient();
    await imap.connect("127.0.0.1", server.port, { security: "none", allowPlaintextAuth: true });
    await imap.loginOAuth2("me@example.test", ({ refresh }) => {
      tokens.push(refresh);
      return refresh ? "new" : "old";
    });
    assert.deepEqual(tokens, [false, true]);
    assert.equal(attempts, 2);
    assert.equal(imap.username, "me@example.test");
    await imap.close();
  });

  it("XOAUTH2 without SASL-IR sends the initial response after the continuation", async () => {
    const server = await fake({
      greeting: "* OK [CAPABILITY IMAP4rev1 AUTH=XOAUTH2] hi",
      rules: [
        {
          match: "AUTHENTICATE",
          reply: async (command, peer) => {
            assert.equal(command.text, "AUTHENTICATE XOAUTH2");
            peer.send("+ ");
            const response = Buffer.from(await peer.line(), "base64").toString();
            assert.equal(response, "user=me@example.test\u0001auth=Bearer tok\u0001\u0001");
            peer.send("{tag} OK [CAPABILITY IMAP4rev1] ok", command.tag);
          },
        },
      ],
    });
    const imap = new AsyncIMAPClient();
    await imap.connect("127.0.0.1", server.port, { security: "none", allowPlaintextAuth: true });
    await imap.loginOAuth2("me@example.test", "tok");
    await imap.close();
  });

  it("with UTF8=ACCEPT enabled, names and search text go as UTF-8, not modified UTF-7", async () => {
    const caps = "IMAP4rev2 ENABLE UTF8=ACCEPT LITERAL+ AUTH=PLAIN ESEARCH";
    const server = await fake({
      greeting: `* OK [CAPABILITY ${caps}] hi`,
      rules: [
        { match: "AUTHENTICATE", reply: `{tag} OK [CAPABILITY ${caps}] logged in` },
        { match: "ENABLE", reply: ["* ENABLED UTF8=ACCEPT", "{tag} OK enabled"] },
        { match: "SELECT", reply: ["* 1 EXISTS", "{tag} OK [READ-WRITE] selected"] },
        { match: "CREATE", reply: "{tag} OK created" },
        {
          match: "LIST",
          reply: (command, peer) => {
            peer.write(Buffer.from('* LIST () "/" "報告書/2026"\r\n', "utf8"));
            peer.send("{tag} OK listed", command.tag);
          },
        },
        { match: "LSUB", reply: "{tag} OK" },
        { match: "UID SEARCH", reply: ['* ESEARCH (TAG "{tag}") UID ALL 3:4', "{tag} OK done"] },
      ],
    });
    const imap = await loggedIn(server);
    await imap.createMailbox("報告書/2026");
    const create = server.commands.find((c) => c.name === "CREATE");
    // The fake records what it read as latin1: the bytes on the wire are UTF-8.
    assert.equal(
      Buffer.from(create?.text ?? "", "latin1").toString("utf8"),
      'CREATE "報告書/2026"',
    );
    assert.deepEqual(
      (await imap.listMailboxes()).map((m) => m.name),
      ["報告書/2026"],
    );
    assert.deepEqual(await imap.search({ subject: "請求書" }), [3, 4]);
    const search = server.commands.find((c) => c.name === "UID SEARCH");
    assert.ok(!/CHARSET/.test(search?.text ?? ""), search?.text);
    await imap.close();
  });

  it("IDLE: events arrive, IDLE is re-issued after idleRefreshMs, and DONE ends it", async () => {
    let idles = 0;
    const server = await fake({
      greeting: `* OK [CAPABILITY ${CAPS}] hi`,
      rules: [
        ...LOGIN_RULES,
        {
          match: "IDLE",
          reply: async (command, peer) => {
            idles++;
            peer.send("+ idling");
            if (idles === 2) peer.send("* 4 EXISTS");
            assert.equal(await peer.line(), "DONE");
            peer.send("{tag} OK IDLE terminated", command.tag);
          },
        },
      ],
    });
    const imap = new AsyncIMAPClient();
    await imap.connect("127.0.0.1", server.port, {
      security: "none",
      allowPlaintextAuth: true,
      idleRefreshMs: 150,
    });
    await imap.login("u", "p");
    await imap.selectMailbox();
    const events = [];
    for await (const event of imap.idle()) {
      events.push(event);
      break;
    }
    assert.deepEqual(events, [{ type: "exists", count: 4, previous: 3 }]);
    assert.equal(idles, 2, "the first IDLE was refreshed before the event came");
    assert.equal(server.received.filter((line) => line === "DONE").length, 2);
    await imap.close();
  });

  it("without IDLE, idle() polls with NOOP", async () => {
    const caps = "IMAP4rev1 AUTH=PLAIN";
    const server = await fake({
      greeting: `* OK [CAPABILITY ${caps}] hi`,
      rules: [
        { match: "AUTHENTICATE", reply: `{tag} OK [CAPABILITY ${caps}] logged in` },
        ...LOGIN_RULES.slice(2),
        { match: "NOOP", reply: ["* 5 EXISTS", "{tag} OK NOOP done"] },
      ],
    });
    const imap = new AsyncIMAPClient();
    await imap.connect("127.0.0.1", server.port, {
      security: "none",
      allowPlaintextAuth: true,
      idlePollMs: 50,
    });
    await imap.login("u", "p");
    await imap.selectMailbox();
    const events = imap.idle();
    const first = await events.next();
    assert.deepEqual(first.value, { type: "exists", count: 5, previous: 3 });
    await events.return(undefined);
    assert.ok(server.commands.some((c) => c.name === "NOOP"));
    assert.ok(!server.commands.some((c) => c.name === "IDLE"));
    await imap.close();
  });
});
