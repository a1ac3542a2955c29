import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import { MailError } from "../../../src/errors.js";
import { Attachment, MailMessage } from "../../../src/mail/mime/index.js";

const helper = new URL("./python_email.py", import.meta.url).pathname;

function pythonParse(bytes: Uint8Array): Record<string, unknown> {
  const r = spawnSync("/usr/bin/python3", [helper], { input: bytes, encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

const sha = (b: Uint8Array | string): string => createHash("sha256").update(b).digest("hex");

describe("MailMessage composition, checked by Python's email package", () => {
  it("round-trips a Japanese subject, names, text, html and attachments", async () => {
    const png = new Uint8Array(5000).map((_, i) => i % 251);
    const message = new MailMessage({
      subject: "テストメッセージ",
      sender: '"Doe, John" <j@x.org>',
      recipients: ["recipient@example.com", "山田 太郎 <taro@example.jp>"],
      cc: ["Ann <ann@example.org>"],
      bcc: ["hidden@example.org"],
      textContent: "mtaioからこんにちは\n",
      htmlContent: '<h1>mtaioからこんにちは</h1><img src="cid:logo">',
    });
    message.attachments.push(new Attachment({ filename: "報告書 2026.txt", content: "hello\n" }));
    message.attachments.push(
      new Attachment({
        filename: "logo.png",
        content: png,
        contentType: "image/png",
        contentId: "logo",
      }),
    );
    const bytes = await message.toBytes();
    const text = new TextDecoder().decode(bytes);
    assert.ok(!/hidden@example.org/.test(text), "Bcc must never be written");
    for (const line of text.split("\r\n")) assert.ok(line.length <= 78, line);
    const py = pythonParse(bytes);
    assert.equal(py.subject, "テストメッセージ");
    assert.deepEqual(py.from, [{ name: "Doe, John", address: "j@x.org" }]);
    assert.deepEqual(py.to, [
      { name: "", address: "recipient@example.com" },
      { name: "山田 太郎", address: "taro@example.jp" },
    ]);
    assert.deepEqual(py.cc, [{ name: "Ann", address: "ann@example.org" }]);
    assert.deepEqual(py.bcc, []);
    assert.equal(py.text, "mtaioからこんにちは\n");
    assert.equal(py.html, '<h1>mtaioからこんにちは</h1><img src="cid:logo">\n'.trimEnd());
    assert.deepEqual(py.attachments, [
      { filename: "logo.png", contentType: "image/png", contentId: "<logo>", sha256: sha(png) },
      {
        filename: "報告書 2026.txt",
        contentType: "application/octet-stream",
        contentId: null,
        sha256: sha("hello\n"),
      },
    ]);
    assert.deepEqual(message.envelope(), {
      from: "j@x.org",
      to: ["recipient@example.com", "taro@example.jp", "ann@example.org", "hidden@example.org"],
      smtputf8: false,
    });
  });

  it("rejects CR/LF/NUL in headers, addresses and filenames before rendering", () => {
    const cases = [
      new MailMessage({ subject: "a\r\nBcc: x@y.z", sender: "a@b.c" }),
      new MailMessage({ sender: "a@b.c\r\nX: y" }),
      new MailMessage({ sender: "a@b.c", headers: { "X-A": "1\n2" } }),
      new MailMessage({
        sender: "a@b.c",
        attachments: [new Attachment({ filename: "a\0b", content: "x" })],
      }),
    ];
    for (const message of cases) {
      assert.throws(
        () => message.render(),
        (e: unknown) => e instanceof MailError && e.code === "MAIL_HEADER_INJECTION",
      );
    }
  });
});
