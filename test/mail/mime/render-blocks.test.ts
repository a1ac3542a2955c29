/**
 * The renderer's output plumbing: base64 lines written in place (in memory and streamed, any
 * chunking), and the canonical mark the SMTP encoder relies on to skip its CR/LF scan.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { describe, it } from "node:test";
import fc from "fast-check";
import { base64Encode, base64Lines } from "../../../src/mail/mime/base64.js";
import { isCanonical } from "../../../src/mail/mime/canonical-chunks.js";
import { Attachment, MailMessage } from "../../../src/mail/mime/index.js";

/** The obvious implementation: encode everything, cut at 76, CRLF after each line. */
function reference(bytes: Uint8Array): string {
  const text = Buffer.from(bytes).toString("base64");
  let out = "";
  for (let i = 0; i < text.length; i += 76) out += `${text.slice(i, i + 76)}\r\n`;
  return out;
}

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const chunk of chunks) out.push(chunk);
  return out;
}

const LONE_BREAK = /\r(?!\n)|(?<!\r)\n/;

describe("render output blocks", () => {
  it("base64Encode matches the reference for every length around line boundaries", () => {
    for (let n = 0; n <= 240; n++) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 37 + n) & 0xff);
      assert.equal(Buffer.from(base64Encode(bytes)).toString("latin1"), reference(bytes), `n=${n}`);
    }
  });

  it("base64Lines gives the same lines however the input is chunked", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 3000 }),
        fc.array(fc.nat({ max: 400 }), { maxLength: 20 }),
        async (bytes, cuts) => {
          const points = [...new Set(cuts.map((c) => Math.min(c, bytes.length)))].sort(
            (a, b) => a - b,
          );
          const chunks: Uint8Array[] = [];
          let at = 0;
          for (const p of [...points, bytes.length]) {
            chunks.push(bytes.slice(at, p));
            at = p;
          }
          const out = await collect(base64Lines(chunks));
          for (const chunk of out) {
            assert.ok(chunk.length % 78 === 0 || chunk === out.at(-1), "whole lines per chunk");
          }
          assert.equal(Buffer.concat(out).toString("latin1"), reference(bytes));
        },
      ),
      { numRuns: 150 },
    );
  });

  it("marks chunks canonical only when they are whole CRLF lines, for every content kind", async () => {
    const dir = await mkdtemp(join(tmpdir(), "mtaio-render-"));
    try {
      const file = join(dir, "data.bin");
      const fileBytes = Uint8Array.from({ length: 300_000 }, (_, i) => (i * 7) & 0xff);
      await writeFile(file, fileBytes);
      const message = new MailMessage({
        sender: "a@example.test",
        recipients: "b@example.test",
        subject: "blocks",
        textContent: "line one\nline two\r.dot line\rend",
        htmlContent: "<p>x</p>",
        attachments: [
          new Attachment({ filename: "a.txt", content: "in memory\n" }),
          Attachment.fromPath(file),
          new Attachment({
            filename: "s.bin",
            content: Readable.from([Buffer.from("stream "), Buffer.from("chunks")]),
          }),
          new Attachment({
            filename: "fwd.eml",
            content: Readable.from([Buffer.from("Subject: x\n\nbody\rmore")]),
            contentType: "message/rfc822",
          }),
        ],
      });
      const chunks = await collect(message.render());
      let marked = 0;
      for (const chunk of chunks) {
        if (!isCanonical(chunk)) continue;
        marked++;
        const text = Buffer.from(chunk).toString("latin1");
        assert.ok(!LONE_BREAK.test(text), "no lone CR or LF in a canonical chunk");
        assert.ok(text.endsWith("\r\n"), "a canonical chunk ends a line");
      }
      assert.ok(
        marked >= 3,
        `expected the header block, file and stream chunks marked (${marked})`,
      );
      const whole = Buffer.concat(chunks).toString("latin1");
      assert.ok(!LONE_BREAK.test(whole), "the whole message is CRLF-canonical");
      const b64 = reference(fileBytes);
      assert.ok(whole.includes(b64), "the file's base64 lines are intact");
      assert.ok(
        whole.includes("Subject: x\r\n\r\nbody\r\nmore\r\n"),
        "the rfc822 part is raw CRLF",
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("renders the same bytes twice apart from the fresh boundaries", async () => {
    const message = new MailMessage({
      sender: "a@example.test",
      recipients: "b@example.test",
      textContent: "t",
      htmlContent: "h",
      attachments: [new Attachment({ filename: "x.bin", content: new Uint8Array(5000).fill(7) })],
    });
    const strip = (s: string) => s.replace(/=_mtaio_[A-Za-z0-9_.]{24}/g, "B");
    const one = strip(await message.toText());
    const two = strip(await message.toText());
    assert.equal(one, two);
  });
});

describe("render: ids, boundaries and parameters", () => {
  it("never makes a boundary ending in '--' (its alphabet has no '-')", async () => {
    const message = new MailMessage({
      sender: "a@example.test",
      recipients: "b@example.test",
      textContent: "t",
      htmlContent: "h",
      attachments: [new Attachment({ filename: "x.txt", content: "x" })],
    });
    for (let i = 0; i < 200; i++) {
      const text = await message.toText();
      for (const [, boundary] of text.matchAll(/boundary="([^"]+)"/g)) {
        assert.match(boundary, /^=_mtaio_[A-Za-z0-9_.]{24}$/);
      }
    }
  });

  it("refuses a content-type parameter it could not write back instead of dropping it", async () => {
    const message = new MailMessage({
      sender: "a@example.test",
      recipients: "b@example.test",
      attachments: [
        new Attachment({ filename: "x.txt", content: "x", contentType: "text/plain; é=1" }),
      ],
    });
    await assert.rejects(
      message.toBytes(),
      (e: unknown) => e instanceof Error && "code" in e && e.code === "MAIL_INVALID_HEADER",
    );
  });
});
