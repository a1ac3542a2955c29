/**
 * The real-world chain: AsyncSMTPClient → Postfix (STARTTLS, SASL AUTH through Dovecot,
 * PIPELINING, CHUNKING, SMTPUTF8) → LMTP → Dovecot → Maildir, and we read the delivered file.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { after, before, describe, it } from "node:test";
import { SMTPError } from "../../../src/errors.js";
import { Attachment, MailMessage } from "../../../src/mail/mime/index.js";
import { AsyncSMTPClient, type SendableMessage } from "../../../src/mail/smtp/index.js";
import { serverSkip, type TempDir, type TestCertificates } from "../../servers/common.js";
import { type Dovecot, startDovecot } from "../../servers/dovecot.js";
import { type Postfix, postfixCertificates, startPostfix } from "../../servers/postfix.js";

const USER = "user@example.test";
const PASSWORD = "s3cret pass";
const UTF8_USER = "ユーザー@example.test";

/** Python's `email` package with policy.default: an independent reading of a delivered file. */
const PARSE = `
import sys, json, base64, email
from email import policy
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=policy.default)
body = lambda kind: (lambda p: p.get_content() if p else None)(m.get_body(preferencelist=(kind,)))
print(json.dumps({"subject": m["subject"], "from": str(m["from"]), "to": str(m["to"]), "bcc": m["bcc"],
  "text": body("plain"), "html": body("html"),
  "attachments": [{"filename": a.get_filename(), "data": base64.b64encode(a.get_content()).decode()} for a in m.iter_attachments()]}))
`;

describe("SMTP client → Postfix → LMTP → Dovecot Maildir", {
  skip: serverSkip(["postfix", "dovecot", "/usr/lib/postfix/sbin/master"], "postfix dovecot-lmtpd"),
}, () => {
  let dir: TempDir;
  let certs: TestCertificates;
  let dovecot: Dovecot;
  let postfix: Postfix;

  before(async () => {
    ({ dir, certificates: certs } = await postfixCertificates("smtp-chain"));
    dovecot = await startDovecot({ [USER]: PASSWORD });
    postfix = await startPostfix({
      certificates: certs,
      lmtpPort: dovecot.lmtpPort,
      saslPort: dovecot.authPort,
      mailboxes: [USER, UTF8_USER],
    });
  });
  after(async () => {
    await postfix?.stop();
    await dovecot?.stop();
    await dir?.remove();
  });

  const connect = async () => {
    const client = new AsyncSMTPClient();
    await client.connect("localhost", postfix.port, { tls: { ca: certs.ca } });
    return client;
  };

  it("delivers over STARTTLS + AUTH with BDAT, and the Maildir file holds the exact body", async () => {
    await using client = await connect();
    assert.equal(client.secure, true);
    assert.ok(client.capabilities.has("CHUNKING") && client.capabilities.has("PIPELINING"));
    await client.login(USER, PASSWORD);
    const body =
      "From: sender@mtaio.test\r\nTo: user@example.test\r\nSubject: chain test\r\nMessage-ID: <chain-1@mtaio.test>\r\n\r\n" +
      "first line\r\n.\r\n..two dots\r\nbare lf\nend\r\n";
    const result = await client.sendRaw(
      { from: "sender@mtaio.test", to: [USER, "nobody@example.test"] },
      body,
    );
    assert.deepEqual(result.accepted, [USER]);
    assert.equal(result.rejected[0].recipient, "nobody@example.test");
    assert.equal(result.rejected[0].replyCode, 550);
    assert.equal(result.rejected[0].enhancedStatus, "5.1.1");
    assert.match(result.response, /queued as/);
    const [delivered] = await dovecot.waitForMessages(USER, 1);
    const text = delivered.toString("utf8");
    assert.match(text, /^Delivered-To: user@example.test$/m);
    assert.match(text, /ESMTPSA/); // Postfix saw an authenticated, encrypted session
    assert.ok(text.endsWith("first line\n.\n..two dots\nbare lf\nend\n"), text);
  });

  it("sends several messages on one connection, with an internationalised recipient (SMTPUTF8)", async () => {
    await using client = await connect();
    await client.login(USER, PASSWORD);
    const message: SendableMessage = {
      messageId: "<utf8@mtaio.test>",
      envelope: () => ({ from: "送信者@mtaio.test", to: [UTF8_USER], smtputf8: true }),
      async *render() {
        yield Buffer.from(
          "From: 送信者@mtaio.test\r\nTo: ユーザー@example.test\r\nSubject: 国際化\r\n\r\n",
        );
        yield Buffer.from("こんにちは\r\n");
      },
    };
    const first = await client.sendMessage(message);
    assert.deepEqual(first.accepted, [UTF8_USER]);
    assert.equal(first.messageId, "<utf8@mtaio.test>");
    // A failed transaction in between: every recipient rejected.
    await assert.rejects(
      client.sendRaw(
        { from: "a@mtaio.test", to: ["ghost@example.test"] },
        "Subject: x\r\n\r\nx\r\n",
      ),
      (e: unknown) =>
        e instanceof SMTPError && e.code === "SMTP_RECIPIENTS_REJECTED" && e.replyCode === 550,
    );
    const second = await client.sendRaw(
      { from: "a@mtaio.test", to: [USER] },
      "Subject: after failure\r\n\r\nok\r\n",
    );
    assert.deepEqual(second.accepted, [USER]);
    // Postfix accepted the SMTPUTF8 transaction above. Dovecot 2.3's LMTP has no SMTPUTF8, so
    // Postfix cannot hand the internationalised mailbox on; only the ASCII one is checked.
    const inbox = await dovecot.waitForMessages(USER, 2);
    assert.ok(inbox.some((m) => m.toString().includes("Subject: after failure")));
  });

  it("sends a MailMessage (text, html, attachment, Bcc) that Python's email parser and ours read back intact", async () => {
    await using client = await connect();
    await client.login(USER, PASSWORD);
    const bytes = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7) & 0xff));
    const message = new MailMessage({
      subject: "テストメッセージ",
      sender: "Sender Name <sender@mtaio.test>",
      recipients: ["Recipient <other@example.test>"],
      bcc: [USER],
      textContent: "mtaioからこんにちは\n.\nend",
      htmlContent: "<h1>mtaioからこんにちは</h1>",
    });
    message.attachments.push(new Attachment({ filename: "報告書 2026.bin", content: bytes }));
    const before = (await dovecot.inbox(USER)).length;
    const result = await client.sendMessage(message);
    assert.ok(result.accepted.includes(USER));
    assert.ok(result.messageId);
    const inbox = await dovecot.waitForMessages(USER, before + 1);
    const file = `${dir.path}/delivered.eml`;
    // Maildir order is not delivery order: pick this message by its Message-ID.
    const delivered = inbox.find((raw) => raw.toString().includes(result.messageId as string));
    assert.ok(delivered, "the sent message is in the Dovecot inbox");
    await writeFile(file, delivered);
    const parsed = JSON.parse(
      execFileSync("/usr/bin/python3", ["-c", PARSE, file], { encoding: "utf8" }),
    );
    assert.equal(parsed.subject, "テストメッセージ");
    assert.equal(parsed.bcc, null);
    assert.match(parsed.from, /Sender Name <sender@mtaio.test>/);
    assert.equal(
      parsed.text.replace(/\r\n/g, "\n").replace(/\n$/, ""),
      "mtaioからこんにちは\n.\nend",
    );
    assert.match(parsed.html, /<h1>mtaioからこんにちは<\/h1>/);
    assert.equal(parsed.attachments[0].filename, "報告書 2026.bin");
    assert.deepEqual(Buffer.from(parsed.attachments[0].data, "base64"), bytes);
    // Our own parser reads the delivered file (with Postfix's and Dovecot's added headers) alike.
    const ours = MailMessage.parse(delivered);
    assert.equal(ours.subject, "テストメッセージ");
    assert.deepEqual(ours.bcc, []);
    assert.equal(ours.textContent?.replace(/\n$/, ""), "mtaioからこんにちは\n.\nend");
    assert.equal(ours.htmlContent?.includes("<h1>mtaioからこんにちは</h1>"), true);
    assert.equal(ours.attachments[0]?.filename, "報告書 2026.bin");
    assert.deepEqual(Buffer.from(ours.attachments[0]?.content as Uint8Array), bytes);
  });

  it("rejects a wrong password with Postfix's 535 5.7.8", async () => {
    await using client = await connect();
    await assert.rejects(client.login(USER, "wrong"), (e: unknown) => {
      assert.ok(e instanceof SMTPError);
      assert.equal(e.code, "SMTP_AUTH_FAILED");
      assert.equal(e.replyCode, 535);
      assert.equal(e.enhancedStatus, "5.7.8");
      return true;
    });
  });

  it("does not get AUTH offered before STARTTLS, and refuses plaintext credentials itself", async () => {
    await using client = new AsyncSMTPClient();
    await client.connect("127.0.0.1", postfix.port, { security: "none" });
    assert.equal(client.secure, false);
    await assert.rejects(client.login(USER, PASSWORD), { code: "SMTP_AUTH_INSECURE" });
  });
});
