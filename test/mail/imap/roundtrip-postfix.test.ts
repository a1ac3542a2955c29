/**
 * The whole mail chain, both halves of the client: messages composed by MailMessage are sent
 * with AsyncSMTPClient through Postfix (STARTTLS, AUTH) → LMTP → Dovecot, then read back with
 * AsyncIMAPClient and compared field by field with what was sent. Legacy Japanese mail
 * (ISO-2022-JP, Shift_JIS, EUC-JP with RFC 2047 / RFC 2231 headers, encoded by Python's
 * codecs, not by us) goes the same way and must come out as the original strings.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { after, before, describe, it } from "node:test";
import {
  AsyncIMAPClient,
  AsyncSMTPClient,
  Attachment,
  MailMessage,
} from "../../../src/mail/index.js";
import { serverSkip, type TempDir, type TestCertificates } from "../../servers/common.js";
import { type DovecotIMAP, startDovecotIMAP } from "../../servers/dovecot-imap.js";
import { type Postfix, postfixCertificates, startPostfix } from "../../servers/postfix.js";

const USER = "user@example.test";
const PASSWORD = "s3cret pass";

function composed(): MailMessage[] {
  const pdf = new Uint8Array(30_000).map((_, i) => (i * 13 + 7) % 256);
  const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
  const base = { sender: "送信者 <sender@example.test>", recipients: [USER] };
  return [
    new MailMessage({ ...base, subject: "plain ascii", textContent: "hello\nworld" }),
    new MailMessage({
      ...base,
      subject:
        "日本語の件名がとても長い場合にも正しく折り返されて復元されることを確認するためのテストメッセージです",
      textContent: "本文です。\n二行目。",
    }),
    new MailMessage({
      ...base,
      subject: "text and html",
      textContent: "plain part",
      htmlContent: "<p>HTML <b>part</b> — ünïcödé</p>",
      cc: ["Carol <carol@example.test>", "dave@example.test"],
      replyTo: "返信先 <reply@example.test>",
    }),
    new MailMessage({
      ...base,
      subject: "attachments",
      textContent: "see attached",
      htmlContent: '<p>inline: <img src="cid:logo@example.test"></p>',
      attachments: [
        new Attachment({
          filename: "請求書 2026.pdf",
          content: pdf,
          contentType: "application/pdf",
        }),
        new Attachment({
          filename: "logo.png",
          content: png,
          contentType: "image/png",
          contentId: "logo@example.test",
        }),
        new Attachment({
          filename: "notes.txt",
          content: "テキスト添付",
          contentType: "text/plain",
        }),
      ],
    }),
    new MailMessage({ ...base, subject: "", textContent: "" }),
  ];
}

/** Legacy-charset messages, encoded by Python's codecs (an encoder independent of ours). */
const LEGACY = `
import sys, base64, email.header
def word(text, cs):
    return email.header.Header(text, cs).encode()
out = []
for cs, cte in (("iso-2022-jp", "7bit"), ("shift_jis", "8bit"), ("euc-jp", "8bit")):
    body = "日本語の本文（%s）です。\\r\\n" % cs
    fn = "%s''" % cs + "".join("%%%02X" % b for b in "資料.txt".encode(cs))
    msg = ("From: %s <legacy@example.test>\\r\\nTo: user@example.test\\r\\nSubject: %s\\r\\n"
           "Message-ID: <legacy-%s@example.test>\\r\\nMIME-Version: 1.0\\r\\n"
           "Content-Type: multipart/mixed; boundary=b\\r\\n\\r\\n--b\\r\\n"
           "Content-Type: text/plain; charset=%s\\r\\nContent-Transfer-Encoding: %s\\r\\n\\r\\n"
          ) % (word("山田 太郎", cs), word("会議の議事録（%s）" % cs, cs), cs, cs, cte)
    raw = msg.encode("ascii") + body.encode(cs) + (
        "--b\\r\\nContent-Type: text/plain; charset=%s\\r\\n"
        "Content-Disposition: attachment; filename*=%s\\r\\n"
        "Content-Transfer-Encoding: base64\\r\\n\\r\\n%s\\r\\n--b--\\r\\n"
    ).encode("ascii") % (cs.encode(), fn.encode(), base64.b64encode("添付".encode(cs)))
    out.append(base64.b64encode(raw).decode())
print("\\n".join(out))
`;

describe("MailMessage → SMTP → Postfix → LMTP → Dovecot → IMAP → MailMessage", {
  skip: serverSkip(
    ["postfix", "dovecot", "/usr/lib/postfix/sbin/master", "/usr/lib/dovecot/imap", "python3"],
    "postfix dovecot-imapd dovecot-lmtpd python3",
  ),
}, () => {
  let dir: TempDir;
  let certs: TestCertificates;
  let dovecot: DovecotIMAP;
  let postfix: Postfix;

  before(async () => {
    ({ dir, certificates: certs } = await postfixCertificates("imap-chain"));
    dovecot = await startDovecotIMAP({ [USER]: PASSWORD });
    postfix = await startPostfix({
      certificates: certs,
      lmtpPort: dovecot.lmtpPort,
      saslPort: dovecot.authPort,
      mailboxes: [USER],
    });
  });
  after(async () => {
    await postfix?.stop();
    await dovecot?.stop();
    await dir?.remove();
  });

  it("every composed kind comes back from IMAP as the MIME parser reads what was sent", async () => {
    const messages = composed();
    const sent = new Map<string, MailMessage>();
    {
      await using smtp = new AsyncSMTPClient();
      await smtp.connect("localhost", postfix.port, { tls: { ca: certs.ca } });
      await smtp.login(USER, PASSWORD);
      for (const message of messages) {
        const bytes = await message.toBytes();
        const result = await smtp.sendRaw(message.envelope(), bytes);
        assert.deepEqual(result.accepted, [USER]);
        sent.set(message.messageId as string, MailMessage.parse(bytes));
      }
    }
    await dovecot.waitForMessages(USER, messages.length, 20_000);

    await using imap = new AsyncIMAPClient();
    await imap.connect("127.0.0.1", dovecot.imapsPort, {
      security: "tls",
      tls: { ca: dovecot.ca, servername: "localhost" },
    });
    await imap.login(USER, PASSWORD);
    await imap.selectMailbox("INBOX");
    const fetched = await imap.fetchMessages();
    assert.equal(fetched.length, messages.length);
    for (const got of fetched) {
      const want = sent.get(got.messageId as string);
      assert.ok(want, `unexpected message ${got.messageId}`);
      assert.equal(got.subject, want.subject);
      assert.deepEqual(got.sender, want.sender);
      assert.deepEqual(got.recipients, want.recipients);
      assert.deepEqual(got.cc, want.cc);
      assert.deepEqual(got.replyTo, want.replyTo);
      assert.equal(got.textContent, want.textContent);
      assert.equal(got.htmlContent, want.htmlContent);
      assert.equal(got.date?.getTime(), want.date?.getTime());
      assert.deepEqual(
        got.attachments.map((a) => [
          a.filename,
          a.contentType,
          a.contentId,
          Buffer.from(a.content as Uint8Array).toString("base64"),
        ]),
        want.attachments.map((a) => [
          a.filename,
          a.contentType,
          a.contentId,
          Buffer.from(a.content as Uint8Array).toString("base64"),
        ]),
      );
      assert.ok(got.uid > 0);
      assert.ok((got.size ?? 0) > 0);
    }
    // The originals, not just self-consistency: a few fields against what was composed.
    const japanese = fetched.find((m) => m.subject.startsWith("日本語の件名"));
    assert.equal(japanese?.subject, messages[1].subject);
    assert.equal(japanese?.textContent?.replace(/\r?\n$/, ""), "本文です。\n二行目。");
    const withFiles = fetched.find((m) => m.subject === "attachments");
    const pdf = withFiles?.attachments.find((a) => a.contentType === "application/pdf");
    assert.equal(pdf?.filename, "請求書 2026.pdf");
  });

  it("legacy ISO-2022-JP, Shift_JIS and EUC-JP mail decodes to the original strings", async () => {
    const python = spawnSync("python3", ["-c", LEGACY], { encoding: "utf8" });
    assert.equal(python.status, 0, python.stderr);
    const raws = python.stdout
      .trim()
      .split("\n")
      .map((line) => Buffer.from(line, "base64"));
    {
      await using smtp = new AsyncSMTPClient();
      await smtp.connect("localhost", postfix.port, { tls: { ca: certs.ca } });
      await smtp.login(USER, PASSWORD);
      for (const raw of raws) {
        await smtp.sendRaw({ from: "legacy@example.test", to: [USER] }, raw, { eightBit: true });
      }
    }
    await using imap = new AsyncIMAPClient();
    await imap.connect("127.0.0.1", dovecot.imapsPort, {
      security: "tls",
      tls: { ca: dovecot.ca, servername: "localhost" },
    });
    await imap.login(USER, PASSWORD);
    await imap.selectMailbox("INBOX");
    for (const charset of ["iso-2022-jp", "shift_jis", "euc-jp"]) {
      const deadline = Date.now() + 20_000;
      let uids: number[] = [];
      while (uids.length === 0 && Date.now() < deadline) {
        uids = await imap.search({ header: { "Message-ID": `legacy-${charset}@example.test` } });
        if (uids.length === 0) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.equal(uids.length, 1, charset);
      const [message] = await imap.fetchMessages({ criteria: { uid: uids } });
      assert.equal(message.subject, `会議の議事録（${charset}）`);
      assert.deepEqual(message.sender, { name: "山田 太郎", address: "legacy@example.test" });
      assert.equal(message.textContent?.trimEnd(), `日本語の本文（${charset}）です。`);
      assert.equal(message.attachments[0].filename, "資料.txt");
      // The IMAP side decodes the envelope on its own (RFC 2047 in ENVELOPE).
      for await (const item of imap.streamMessages({ uids })) {
        assert.equal(item.envelope?.subject, `会議の議事録（${charset}）`);
        assert.equal(item.envelope?.from[0].name, "山田 太郎");
      }
    }
  });
});
