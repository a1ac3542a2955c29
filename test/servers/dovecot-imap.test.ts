/**
 * Proves the Dovecot IMAP test server (dovecot-imap.ts) with a bare socket: certificate
 * verification against the made-up CA, the capabilities the IMAP client is tested against,
 * directly seeded Maildir contents, STARTTLS, and LOGINDISABLED when plaintext auth is off.
 */
import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, it } from "node:test";
import { connect as tlsConnect } from "node:tls";
import { serverSkip } from "./common.js";
import { type DovecotIMAP, startDovecotIMAP } from "./dovecot-imap.js";
import { rawIMAP } from "./imap-raw.js";

const USER = "alice";
const PASSWORD = "wonder land";
const message = (i: number) =>
  new TextEncoder().encode(`From: a@example.test\r\nSubject: seeded ${i}\r\n\r\nbody ${i}\r\n`);

const plainSocket = (server: DovecotIMAP) =>
  new Promise<ReturnType<typeof connect>>((resolve, reject) => {
    const socket = connect({ host: server.host, port: server.imapPort }, () => resolve(socket));
    socket.once("error", reject);
  });

describe("Dovecot IMAP test server", {
  skip: serverSkip(["dovecot", "/usr/lib/dovecot/imap"], "dovecot-imapd dovecot-lmtpd"),
}, () => {
  let server: DovecotIMAP;
  before(async () => {
    server = await startDovecotIMAP({ [USER]: PASSWORD });
    server.seedMaildir(
      USER,
      Array.from({ length: 30 }, (_, i) => message(i)),
      {
        flags: (i) => (i % 3 === 0 ? ["\\Seen", "\\Flagged"] : []),
      },
    );
    server.seedMaildir(USER, [message(100), message(101)], { mailbox: "Archiv/Entwürfe 日本" });
  });
  after(() => server?.stop());

  it("serves implicit TLS verified with the CA, with seeded mail in order and with flags", async () => {
    const socket = tlsConnect({
      host: server.host,
      port: server.imapsPort,
      ca: server.ca,
      servername: "localhost",
    });
    await new Promise((resolve, reject) =>
      socket.once("secureConnect", resolve).once("error", reject),
    );
    assert.equal(socket.authorized, true);
    const imap = rawIMAP(socket);
    assert.match(await imap.line(), /^\* OK /);
    assert.match((await imap.command("a1", `LOGIN ${USER} "${PASSWORD}"`)).at(-1) ?? "", /^a1 OK/);
    const capabilities = (await imap.command("a2", "CAPABILITY"))[0].split(" ");
    for (const name of [
      "IDLE",
      "MOVE",
      "UIDPLUS",
      "CONDSTORE",
      "QRESYNC",
      "LITERAL+",
      "SPECIAL-USE",
      "ESEARCH",
      "NAMESPACE",
    ]) {
      assert.ok(capabilities.includes(name), `${name} missing`);
    }
    assert.equal(capabilities.includes("COMPRESS=DEFLATE"), server.compress);
    const select = await imap.command("a3", "SELECT INBOX");
    assert.ok(select.includes("* 30 EXISTS"), select.join("\n"));
    const seen = await imap.command("a4", "SEARCH SEEN");
    assert.equal(seen[0], "* SEARCH 1 4 7 10 13 16 19 22 25 28");
    await server.deliver(USER, "Subject: by LMTP\r\n\r\n.starts with a dot\r\n");
    assert.ok((await imap.command("n1", "NOOP")).includes("* 31 EXISTS"));
    const subjects = await imap.command("a5", "UID FETCH 1,30,31 (FLAGS ENVELOPE)");
    assert.match(
      subjects[0],
      /UID 1 FLAGS \(\\Flagged \\Seen \\Recent\) ENVELOPE \(NIL "seeded 0"/,
    );
    assert.match(subjects[1], /UID 30 FLAGS \(\\Recent\) ENVELOPE \(NIL "seeded 29"/);
    assert.match(subjects[2], /UID 31 FLAGS \(\\Recent\) ENVELOPE \(NIL "by LMTP"/);
    const list = await imap.command("a6", 'LIST "" "*"');
    assert.ok(
      list.includes('* LIST (\\HasNoChildren) "/" "Archiv/Entw&APw-rfe &ZeVnLA-"'),
      list.join("\n"),
    );
    assert.ok(list.includes('* LIST (\\HasNoChildren \\Sent) "/" Sent'), list.join("\n"));
    const status = await imap.command("a7", 'STATUS "Archiv/Entw&APw-rfe &ZeVnLA-" (MESSAGES)');
    assert.match(status[0], /\(MESSAGES 2\)$/);
    const logout = await imap.command("a8", "LOGOUT");
    assert.match(logout[0], /^\* BYE/);
    imap.close();
  });

  it("refuses an implicit-TLS client that does not trust the CA", async () => {
    const socket = tlsConnect({
      host: server.host,
      port: server.imapsPort,
      servername: "localhost",
    });
    const error = await new Promise<Error>((resolve) => socket.once("error", resolve));
    assert.match(String(error), /self[- ]signed|unable to (get|verify)/i);
    socket.destroy();
  });

  it("upgrades the plaintext port with STARTTLS and drops STARTTLS from the capabilities", async () => {
    const imap = rawIMAP(await plainSocket(server));
    assert.match(await imap.line(), /^\* OK \[CAPABILITY [^\]]* STARTTLS /);
    assert.match((await imap.command("s1", "STARTTLS")).at(-1) ?? "", /^s1 OK/);
    const secure = await imap.startTLS(server.ca);
    assert.equal(secure.authorized, true);
    const capabilities = (await imap.command("s2", "CAPABILITY"))[0];
    assert.doesNotMatch(capabilities, /STARTTLS/);
    assert.match((await imap.command("s3", `LOGIN ${USER} "${PASSWORD}"`)).at(-1) ?? "", /^s3 OK/);
    assert.match((await imap.command("s4", "LOGOUT")).at(-1) ?? "", /^s4 OK/);
    imap.close();
  });

  it("tells an IDLE client at once about seeded mail", async () => {
    server.createMailbox(USER, "Watched");
    const imap = rawIMAP(await plainSocket(server));
    await imap.line();
    await imap.command("i1", `LOGIN ${USER} "${PASSWORD}"`);
    assert.ok((await imap.command("i2", "SELECT Watched")).includes("* 0 EXISTS"));
    imap.socket.write("i3 IDLE\r\n");
    assert.match(await imap.line(), /^\+ /);
    const date = new Date("2024-02-29T12:34:56Z");
    server.seedMaildir(USER, [message(1), message(2)], { mailbox: "Watched", internalDate: date });
    assert.equal(await imap.line(), "* 2 EXISTS");
    imap.socket.write("DONE\r\n");
    let last = await imap.line();
    while (last.startsWith("* ")) last = await imap.line();
    assert.match(last, /^i3 OK/);
    // INTERNALDATE comes from the file's mtime, in the server's zone.
    const fetched = (await imap.command("i4", "FETCH 2 INTERNALDATE"))[0];
    const [, d, mon, y, time, sign, hh, mm] =
      /"(\d+)-(\w{3})-(\d{4}) ([\d:]{8}) ([+-])(\d\d)(\d\d)"/.exec(fetched) ?? [];
    const offsetMs = (sign === "-" ? -1 : 1) * (Number(hh) * 60 + Number(mm)) * 60_000;
    assert.equal(Date.parse(`${d} ${mon} ${y} ${time} UTC`) - offsetMs, date.getTime(), fetched);
    imap.close();
  });

  for (const option of ["disablePlaintextAuth", "sslRequired"] as const) {
    it(`says LOGINDISABLED and refuses LOGIN before STARTTLS with ${option}`, async () => {
      const strict = await startDovecotIMAP({ [USER]: PASSWORD }, { [option]: true });
      try {
        const imap = rawIMAP(await plainSocket(strict));
        assert.match(await imap.line(), /LOGINDISABLED/);
        const refused = await imap.command("d1", `LOGIN ${USER} "${PASSWORD}"`);
        assert.match(refused.at(-1) ?? "", /^d1 NO \[PRIVACYREQUIRED\]/);
        await imap.command("d2", "STARTTLS");
        await imap.startTLS(strict.ca);
        const login = await imap.command("d3", `LOGIN ${USER} "${PASSWORD}"`);
        assert.match(login.at(-1) ?? "", /^d3 OK/);
        imap.close();
      } finally {
        await strict.stop();
      }
    });
  }
});
