/**
 * message/rfc822 attachments (a forwarded email): RFC 2046 §5.2.1 permits only 7bit, 8bit or
 * binary for their body, so they are written as they are (line ends made CRLF), never base64,
 * and refused when they cannot go so (8-bit data without 8BITMIME, NUL, lines over 998).
 */
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { describe, it } from "node:test";
import { MailError } from "../../../src/errors.js";
import { Attachment, MailMessage } from "../../../src/mail/mime/index.js";
import type { RenderOptions } from "../../../src/mail/mime/types.js";
import { checkWireFormat, pythonParseAll, unexpectedDefects } from "./compose-helpers.js";

/** BUG 1 of /tmp/mtaio-mime-bugs.md (render.ts) is FIXED: these run as ordinary tests. */
const TODO: string | undefined = undefined;

const INNER =
  "From: Old Sender <old@example.test>\nSubject: hi\nMessage-ID: <inner@example.test>\n\nforwarded body\nline two\n";

function forward(content: Attachment["content"], options?: { contentType?: string }): MailMessage {
  return new MailMessage({
    sender: "fwd@example.test",
    recipients: "rcpt@example.test",
    subject: "Fwd: hi",
    textContent: "see the forwarded message\n",
    attachments: [
      new Attachment({
        filename: "forwarded.eml",
        content,
        contentType: options?.contentType ?? "message/rfc822",
      }),
    ],
  });
}

function isMailError(code: string): (e: unknown) => boolean {
  return (e) => e instanceof MailError && e.code === code;
}

async function renderBoth(
  messages: MailMessage[],
  options: RenderOptions,
): Promise<{ raw: string[]; parts: Awaited<ReturnType<typeof pythonParseAll>> }> {
  const bytes: Uint8Array[] = [];
  for (const m of messages) {
    const b = await m.toBytes(options);
    checkWireFormat(b, options);
    bytes.push(b);
  }
  return {
    raw: bytes.map((b) => Buffer.from(b).toString("utf8")),
    parts: await pythonParseAll(bytes),
  };
}

describe("MIME composition: message/rfc822 attachments (RFC 2046 §5.2.1)", () => {
  it("writes an ASCII message as 7bit with CRLF lines, from a string, bytes or a stream", {
    todo: TODO,
  }, async () => {
    const messages = [
      forward(INNER),
      forward(new TextEncoder().encode(INNER)),
      forward(Readable.from([Buffer.from(INNER.slice(0, 10)), Buffer.from(INNER.slice(10))])),
      forward(INNER, { contentType: "Message/RFC822" }),
    ];
    const { raw, parts } = await renderBoth(messages, {});
    for (const [i, text] of raw.entries()) {
      const head = /Content-Type: message\/rfc822[\s\S]*?\r\n\r\n/i.exec(text)?.[0] ?? "";
      assert.match(head, /Content-Transfer-Encoding: 7bit\r\n/, `message ${i}: ${head}`);
      assert.ok(text.includes(INNER.replace(/\n/g, "\r\n")), `message ${i}: inner message not raw`);
      const py = parts[i];
      assert.deepEqual(unexpectedDefects(py.defects), [], `message ${i}`);
      const part = py.parts.find((p) => p.contentType === "message/rfc822");
      assert.ok(part, `message ${i}: no message/rfc822 part`);
      assert.equal(part.innerSubject, "hi");
      assert.equal(part.innerBody?.replace(/\r\n/g, "\n"), "forwarded body\nline two\n");
      assert.equal(part.filename, "forwarded.eml");
    }
  });

  it("writes 8-bit content as 8bit when the transport has 8BITMIME", { todo: TODO }, async () => {
    const inner =
      "Subject: =?utf-8?Q?gr=C3=BC=C3=9Fe?=\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nGrüße\r\n";
    const { raw, parts } = await renderBoth([forward(inner)], { eightBit: true });
    assert.match(
      raw[0],
      /Content-Type: message\/rfc822[\s\S]*?Content-Transfer-Encoding: 8bit\r\n/,
    );
    const part = parts[0].parts.find((p) => p.contentType === "message/rfc822");
    assert.equal(part?.innerSubject, "grüße");
    assert.equal(part?.innerBody, "Grüße\r\n");
  });

  it("refuses what cannot go as 7bit/8bit instead of silently base64-encoding it", {
    todo: TODO,
  }, async () => {
    const cases: [string, Attachment["content"], RenderOptions][] = [
      ["8-bit data without 8BITMIME", "Subject: x\r\n\r\nGrüße\r\n", {}],
      ["a line over 998 octets", `Subject: x\r\n\r\n${"a".repeat(999)}\r\n`, { eightBit: true }],
      ["a NUL byte", "Subject: x\r\n\r\na\0b\r\n", { eightBit: true }],
      ["8-bit data in a stream", Readable.from([Buffer.from("Subject: x\r\n\r\nGrüße\r\n")]), {}],
    ];
    for (const [what, content, options] of cases) {
      await assert.rejects(
        async () => forward(content).toBytes(options),
        isMailError("MAIL_INVALID_CONTENT"),
        what,
      );
    }
  });
});
