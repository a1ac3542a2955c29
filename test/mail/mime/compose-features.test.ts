/**
 * MIME composition features, each checked on the wire and by Python's `email` package
 * (policy.default): RFC 2231 filename continuations, groups, quoted-printable bodies,
 * attachments from every content kind, one-shot streams, Bcc, and the managed header fields.
 */
import assert from "node:assert/strict";
import { createReadStream } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { MailError } from "../../../src/errors.js";
import { Attachment, MailMessage } from "../../../src/mail/mime/index.js";
import type { MailMessageInit } from "../../../src/mail/mime/types.js";
import {
  checkWireFormat,
  fieldValue,
  headerFields,
  pythonHasEncodedWordSpaceBug,
  pythonParse,
  pythonParseAll,
  sameName,
  sha256,
  splitMessage,
  unexpectedDefects,
} from "./compose-helpers.js";

const DATE = new Date(Date.UTC(2026, 10, 25, 9, 30, 15));

function message(extra: MailMessageInit = {}): MailMessage {
  return new MailMessage({
    sender: "Sender <sender@example.test>",
    recipients: ["rcpt@example.test"],
    subject: "features",
    date: DATE,
    ...extra,
  });
}

/** Deterministic pseudo-random bytes (every byte value, no text structure). */
function noise(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

function isMailError(code: string): (e: unknown) => boolean {
  return (e) => e instanceof MailError && e.code === code;
}

/** The header section of the part whose Content-Disposition names `filename` (raw, folded). */
function partHead(bytes: Uint8Array, needle: string): string {
  const sections = checkWireFormat(bytes);
  const found = sections.find((s) => s.includes(needle));
  assert.ok(found, `no part header with ${needle}`);
  return found;
}

describe("MIME composition: RFC 2231 filenames", () => {
  it("cuts a long non-ASCII filename into filename*N* continuations that Python joins back", async () => {
    const filename = `${"報告書 ".repeat(12)}最終版 2026 (改訂) "draft", 100% — 𝄞.pdf`;
    const content = noise(3000);
    const bytes = await message({
      textContent: "see attached\n",
      attachments: [new Attachment({ filename, content, contentType: "application/pdf" })],
    }).toBytes();
    const head = partHead(bytes, "filename*0*=");
    const disposition = headerFields(head).find(([n]) => n === "Content-Disposition");
    assert.ok(disposition);
    const segments = [...disposition[1].matchAll(/filename\*(\d+)\*=/g)].map((m) => Number(m[1]));
    assert.ok(segments.length >= 3, disposition[1]);
    assert.deepEqual(
      segments,
      segments.map((_, i) => i),
    );
    assert.match(disposition[1], /filename\*0\*=utf-8''%E5%A0%B1/);
    // Every continuation is its own line of at most 78 characters, pure ASCII.
    for (const line of disposition[1].split("\r\n")) {
      assert.ok(line.length <= 78 && /^[ -~]*$/.test(line), line);
    }
    const py = await pythonParse(bytes);
    assert.deepEqual(unexpectedDefects(py.defects), []);
    const part = py.parts[1];
    assert.equal(part.filename, filename);
    assert.equal(part.typeName, filename);
    assert.equal(part.disposition, "attachment");
    assert.equal(part.contentType, "application/pdf");
    assert.equal(part.sha256, sha256(content));
  });

  it("writes a short ASCII filename plainly and quotes one with specials", async () => {
    const bytes = await message({
      textContent: "x",
      attachments: [
        new Attachment({ filename: "report.txt", content: "a" }),
        new Attachment({ filename: 'my "best"; file (1).txt', content: "b" }),
      ],
    }).toBytes();
    const text = Buffer.from(bytes).toString("latin1");
    assert.match(text, /Content-Disposition: attachment; filename=report\.txt\r\n/);
    assert.match(text, /filename="my \\"best\\"; file \(1\)\.txt"/);
    const py = await pythonParse(bytes);
    assert.deepEqual(
      py.parts.slice(1).map((p) => p.filename),
      ["report.txt", 'my "best"; file (1).txt'],
    );
  });
});

describe("MIME composition: structure", () => {
  it("nests mixed ⊃ alternative ⊃ related with only the parts that exist", async () => {
    const png = noise(300, 9);
    const inline = (): Attachment =>
      new Attachment({
        filename: "logo.png",
        content: png,
        contentType: "image/png",
        contentId: "logo@x",
      });
    const file = (): Attachment =>
      new Attachment({ filename: "a.pdf", content: "%PDF", contentType: "application/pdf" });
    const cases: [MailMessageInit, string][] = [
      [{}, "text/plain"],
      [{ textContent: "t" }, "text/plain"],
      [{ htmlContent: "<p>h</p>" }, "text/html"],
      [{ textContent: "t", htmlContent: "h" }, "multipart/alternative(text/plain,text/html)"],
      [{ htmlContent: "h", attachments: [inline()] }, "multipart/related(text/html,image/png)"],
      [
        { textContent: "t", htmlContent: "h", attachments: [inline()] },
        "multipart/alternative(text/plain,multipart/related(text/html,image/png))",
      ],
      [{ textContent: "t", attachments: [file()] }, "multipart/mixed(text/plain,application/pdf)"],
      [{ attachments: [file()] }, "application/pdf"],
      // Without HTML nothing can refer to the image: it is an ordinary (inline) part of mixed.
      [{ textContent: "t", attachments: [inline()] }, "multipart/mixed(text/plain,image/png)"],
      [
        { textContent: "t", htmlContent: "h", attachments: [file(), inline(), file()] },
        "multipart/mixed(multipart/alternative(text/plain,multipart/related(text/html,image/png)),application/pdf,application/pdf)",
      ],
    ];
    const rendered: Uint8Array[] = [];
    for (const [init] of cases) {
      const bytes = await message(init).toBytes();
      checkWireFormat(bytes);
      rendered.push(bytes);
    }
    const parsed = await pythonParseAll(rendered);
    cases.forEach(([init, tree], i) => {
      assert.equal(parsed[i].tree, tree, JSON.stringify(Object.keys(init)));
      assert.deepEqual(unexpectedDefects(parsed[i].defects), []);
      const image = parsed[i].parts.find((p) => p.contentType === "image/png");
      if (image) {
        assert.equal(image.disposition, "inline");
        assert.equal(image.contentId, "<logo@x>");
        assert.equal(image.sha256, sha256(png));
      }
    });
  });
});

describe("MIME composition: groups", () => {
  it("renders RFC 5322 groups that Python reads back with their members", async () => {
    const bytes = await message({
      recipients: [
        { name: "Ann", address: "ann@example.test", group: "Team" },
        { address: "bob@example.test", group: "Team" },
        "solo@example.test",
        { name: "山田 太郎", address: "taro@example.jp", group: "開発, チーム" },
      ],
      cc: ['Undisclosed: "Doe, Jane" <jane@example.test>, joe@example.test;'],
      textContent: "x",
    }).toBytes();
    const head = splitMessage(bytes).head;
    assert.match(
      fieldValue(head, "To") as string,
      /^ Team: Ann <ann@example\.test>, bob@example\.test;, solo@example\.test, =\?utf-8\?[BQ]\?[^?]+\?=( =\?utf-8\?[BQ]\?[^?]+\?=)* : =\?utf-8\?/,
    );
    assert.equal(
      fieldValue(head, "Cc"),
      ' Undisclosed: "Doe, Jane" <jane@example.test>, joe@example.test;',
    );
    const py = await pythonParse(bytes);
    const bug = await pythonHasEncodedWordSpaceBug();
    assert.deepEqual(unexpectedDefects(py.defects), []);
    const to = py.to ?? [];
    assert.equal(to.length, 3);
    assert.deepEqual(to[0], {
      group: "Team",
      mailboxes: [
        { name: "Ann", address: "ann@example.test" },
        { name: "", address: "bob@example.test" },
      ],
    });
    assert.deepEqual(to[1], {
      group: null,
      mailboxes: [{ name: "", address: "solo@example.test" }],
    });
    assert.ok(sameName(to[2].group, "開発, チーム", bug), String(to[2].group));
    assert.deepEqual(to[2].mailboxes, [{ name: "山田 太郎", address: "taro@example.jp" }]);
    assert.deepEqual(py.cc, [
      {
        group: "Undisclosed",
        mailboxes: [
          { name: "Doe, Jane", address: "jane@example.test" },
          { name: "", address: "joe@example.test" },
        ],
      },
    ]);
  });
});

describe("MIME composition: quoted-printable", () => {
  const cases: [string, string][] = [
    [
      "long lines with a few accents",
      `${"Grüße aus Köln. The quick brown fox jumps over the lazy dog. ".repeat(6)}\n${"a".repeat(300)}é\nshort\n`,
    ],
    [
      "lines that transports mangle",
      "From the start\n.leading dot\n.\ntrailing space \ntrailing tab\t\nequals = sign =3D\n" +
        `${"x".repeat(75)}=\n${"y".repeat(74)}é\ncafé`,
    ],
    ["a bare CR and LF in the text", "one\rtwo\nthree\r\nfour — ok"],
    ["a control character in ASCII text", "bell \u0007 here\nand more text that is plain ASCII"],
  ];
  for (const [name, text] of cases) {
    it(`chooses QP for ${name}; soft breaks within 76 columns; Python decodes the same text`, async () => {
      const html = `<p>${text.replace(/\n/g, "<br>\n")}</p>`;
      const bytes = await message({ textContent: text, htmlContent: html }).toBytes();
      checkWireFormat(bytes);
      const { body } = splitMessage(bytes);
      assert.match(body, /Content-Transfer-Encoding: quoted-printable/);
      for (const section of body.split(/\r\n--=_/).slice(1)) {
        if (!/Content-Transfer-Encoding: quoted-printable/.test(section)) continue;
        const qp = section.slice(section.indexOf("\r\n\r\n") + 4);
        for (const line of qp.split("\r\n")) {
          assert.ok(line.length <= 76, `QP line of ${line.length}: ${line}`);
          assert.ok(/^[!-~ \t]*$/.test(line), `non-ASCII in QP: ${line}`);
          assert.ok(!/[ \t]$/.test(line), `QP line ends in whitespace: ${JSON.stringify(line)}`);
          assert.ok(!line.startsWith("From ") && !line.startsWith("."), line);
        }
      }
      const py = await pythonParse(bytes);
      assert.deepEqual(unexpectedDefects(py.defects), []);
      const canonical = text.replace(/\r\n|\r|\n/g, "\n");
      assert.deepEqual(
        py.parts.map((p) => [p.contentType, p.cte, p.text]),
        [
          ["text/plain", "quoted-printable", canonical],
          ["text/html", "quoted-printable", html.replace(/\r\n|\r|\n/g, "\n")],
        ],
      );
    });
  }

  it("keeps 7bit for short ASCII lines, 8bit only with eightBit, base64 for Japanese", async () => {
    const japanese = "日本語のテキストです。".repeat(30);
    const parts = async (text: string, eightBit: boolean): Promise<(string | null)[]> => {
      const py = await pythonParse(await message({ textContent: text }).toBytes({ eightBit }));
      assert.equal(py.parts[0].text?.replace(/\n$/, ""), text);
      return [py.parts[0].cte];
    };
    assert.deepEqual(await parts("plain ascii", false), ["7bit"]);
    assert.deepEqual(await parts("café", true), ["8bit"]);
    assert.deepEqual(await parts(japanese, false), ["base64"]);
    assert.deepEqual(await parts(japanese, true), ["8bit"]);
    // 8BITMIME does not lift the 998-octet line limit (RFC 5322 §2.1.1): QP or base64 then.
    assert.deepEqual(await parts(`${"é".repeat(600)}`, true), ["base64"]);
    assert.deepEqual(await parts(`${"e".repeat(1200)}é`, true), ["quoted-printable"]);
  });
});

describe("MIME composition: attachment sources", () => {
  let dir = "";
  const fileBytes = noise(200_001, 7);
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "mtaio-compose-"));
    await writeFile(join(dir, "データ.bin"), fileBytes);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("streams files, Node Readables, web ReadableStreams and async iterables byte-exactly", async () => {
    const chunked = noise(70_000, 3);
    const web = noise(100_003, 4);
    const iter = noise(57 * 10 + 1, 5);
    const path = join(dir, "データ.bin");
    const attachments = [
      Attachment.fromPath(path, { contentType: "application/octet-stream" }),
      new Attachment({ path, filename: "renamed.bin" }),
      new Attachment({ filename: "readable.bin", content: createReadStream(path) }),
      new Attachment({
        filename: "from.bin",
        // Odd chunk sizes, so the base64 encoder has to carry bytes between chunks.
        content: Readable.from([
          chunked.subarray(0, 1),
          chunked.subarray(1, 58),
          chunked.subarray(58),
        ]),
      }),
      new Attachment({
        filename: "web.bin",
        content: new ReadableStream<Uint8Array>({
          start(controller) {
            for (let i = 0; i < web.length; i += 4099) controller.enqueue(web.slice(i, i + 4099));
            controller.close();
          },
        }),
      }),
      new Attachment({
        filename: "iter.bin",
        content: (async function* () {
          for (let i = 0; i < iter.length; i += 100) yield iter.slice(i, i + 100);
        })(),
      }),
      new Attachment({ filename: "empty.bin", content: new Uint8Array(0) }),
      new Attachment({ filename: "text.txt", content: "a string is content, not a path\n" }),
    ];
    const bytes = await message({ textContent: "files", attachments }).toBytes();
    checkWireFormat(bytes);
    const py = await pythonParse(bytes);
    assert.deepEqual(unexpectedDefects(py.defects), []);
    assert.deepEqual(
      py.parts.slice(1).map((p) => [p.filename, p.cte, p.size, p.sha256]),
      [
        ["データ.bin", "base64", fileBytes.length, sha256(fileBytes)],
        ["renamed.bin", "base64", fileBytes.length, sha256(fileBytes)],
        ["readable.bin", "base64", fileBytes.length, sha256(fileBytes)],
        ["from.bin", "base64", chunked.length, sha256(chunked)],
        ["web.bin", "base64", web.length, sha256(web)],
        ["iter.bin", "base64", iter.length, sha256(iter)],
        ["empty.bin", "base64", 0, sha256("")],
        ["text.txt", "base64", 32, sha256("a string is content, not a path\n")],
      ],
    );
  });

  it("re-reads files and in-memory content on a second render", async () => {
    const m = message({
      textContent: "again",
      attachments: [
        Attachment.fromPath(join(dir, "データ.bin")),
        new Attachment({ filename: "b.bin", content: noise(1000) }),
      ],
    });
    const [first, second] = await pythonParseAll([await m.toBytes(), await m.toBytes()]);
    assert.deepEqual(first.parts, second.parts);
    assert.equal(first.messageId, second.messageId);
    assert.equal(second.parts[1].sha256, sha256(fileBytes));
  });

  const streams: [string, () => Attachment["content"]][] = [
    ["a Node Readable", () => Readable.from([new Uint8Array([1, 2, 3])])],
    ["a file ReadStream", () => createReadStream(join(dir, "データ.bin"))],
    [
      "a web ReadableStream",
      () =>
        new ReadableStream<Uint8Array>({
          start(c) {
            c.enqueue(new Uint8Array([1]));
            c.close();
          },
        }),
    ],
    [
      "an async iterable",
      () =>
        (async function* () {
          yield new Uint8Array([1]);
        })(),
    ],
  ];
  for (const [kind, make] of streams) {
    it(`refuses to render ${kind} a second time: MAIL_STREAM_CONSUMED before any byte`, async () => {
      const m = message({
        textContent: "once",
        attachments: [new Attachment({ content: make() })],
      });
      await m.toBytes();
      let produced = false;
      assert.throws(() => {
        m.render();
        produced = true;
      }, isMailError("MAIL_STREAM_CONSUMED"));
      assert.equal(produced, false);
      await assert.rejects(m.toBytes(), isMailError("MAIL_STREAM_CONSUMED"));
    });
  }

  it("reports a failing stream or a missing file as MAIL_ATTACHMENT_READ, bad chunks as MAIL_INVALID_CONTENT", async () => {
    const failing = new Readable({
      read() {
        this.destroy(new Error("disk on fire"));
      },
    });
    await assert.rejects(
      message({ attachments: [new Attachment({ content: failing })] }).toBytes(),
      (e: unknown) =>
        isMailError("MAIL_ATTACHMENT_READ")(e) && (e as MailError).cause instanceof Error,
    );
    await assert.rejects(
      message({ attachments: [Attachment.fromPath(join(dir, "missing.bin"))] }).toBytes(),
      isMailError("MAIL_ATTACHMENT_READ"),
    );
    const numbers = (async function* () {
      yield 42 as unknown as Uint8Array;
    })();
    await assert.rejects(
      message({ attachments: [new Attachment({ content: numbers })] }).toBytes(),
      isMailError("MAIL_INVALID_CONTENT"),
    );
    assert.throws(
      () => new Attachment({ content: 42 as unknown as Uint8Array }),
      isMailError("MAIL_INVALID_CONTENT"),
    );
    assert.throws(
      () => new Attachment({ content: "x", path: "/etc/hostname" }),
      isMailError("MAIL_INVALID_CONTENT"),
    );
    // Content replaced by something unusable after construction: refused before any byte.
    for (const bad of [42, undefined, { not: "a stream" }]) {
      const a = new Attachment({ filename: "late.bin", content: "ok" });
      a.content = bad as unknown as Uint8Array;
      let produced = false;
      assert.throws(() => {
        message({ textContent: "x", attachments: [a] }).render();
        produced = true;
      }, isMailError("MAIL_INVALID_CONTENT"));
      assert.equal(produced, false);
    }
  });
});

describe("MIME composition: Bcc and managed header fields", () => {
  it("never writes Bcc, but puts it into the envelope (deduplicated)", async () => {
    const m = message({
      recipients: ["To One <one@example.test>", "two@EXAMPLE.test"],
      cc: ["cc@example.test", "one@example.test"],
      bcc: ["Secret Person <secret@hidden.test>", "two@example.test", "例@例え.jp"],
      textContent: "x",
    });
    for (const options of [{}, { smtputf8: true }]) {
      const bytes = await m.toBytes(options);
      const text = Buffer.from(bytes).toString("utf8");
      assert.ok(!/^bcc:/im.test(text), "a Bcc field was written");
      assert.ok(!/secret|hidden\.test|Secret Person|例え/i.test(text), "a Bcc address leaked");
      const py = (await pythonParseAll([bytes], ["smtputf8" in options]))[0];
      assert.equal(py.bcc, false);
    }
    assert.deepEqual(m.envelope(), {
      from: "sender@example.test",
      to: [
        "one@example.test",
        "two@EXAMPLE.test",
        "cc@example.test",
        "secret@hidden.test",
        "例@例え.jp",
      ],
      smtputf8: true,
    });
    const ascii = message({ bcc: ["b@例え.jp"] }).envelope();
    assert.deepEqual(ascii, {
      from: "sender@example.test",
      to: ["rcpt@example.test", "b@xn--r8jz45g.jp"],
      smtputf8: false,
    });
    assert.throws(
      () => new MailMessage({ recipients: ["a@b.test"] }).envelope(),
      isMailError("MAIL_MISSING_SENDER"),
    );
  });

  it("writes Message-ID, Date and MIME-Version exactly once, keeps them across renders", async () => {
    const m = new MailMessage({
      sender: "a@bücher.test",
      recipients: "r@example.test",
      textContent: "x",
    });
    const first = await m.toBytes();
    const second = await m.toBytes();
    const head = splitMessage(first).head;
    const names = headerFields(head).map(([n]) => n.toLowerCase());
    for (const name of ["message-id", "date", "mime-version", "from", "to", "subject"]) {
      assert.equal(names.filter((n) => n === name).length, 1, name);
    }
    assert.match(fieldValue(head, "Message-ID") as string, /^ <[0-9a-f]{32}@xn--bcher-kva\.test>$/);
    assert.equal(fieldValue(head, "MIME-Version"), " 1.0");
    assert.match(
      fieldValue(head, "Date") as string,
      /^ [A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000$/,
    );
    assert.deepEqual(first, second);
    assert.match(m.messageId as string, /^<[0-9a-f]{32}@xn--bcher-kva\.test>$/);
    const py = await pythonParse(first);
    assert.equal(py.messageId, m.messageId);
    assert.equal(py.mimeVersion, "1.0");
    assert.equal(py.date, (m.date as Date).toISOString().replace(/\.\d{3}Z$/, "+00:00"));

    const given = message({ messageId: "custom.id@example.test", textContent: "x" });
    const givenPy = await pythonParse(await given.toBytes());
    assert.equal(givenPy.messageId, "<custom.id@example.test>");
    assert.equal(givenPy.date, "2026-11-25T09:30:15+00:00");
    for (const bad of ["no-at-sign", "<a b@c>", "<a@b>>"]) {
      assert.throws(() => message({ messageId: bad }).render(), isMailError("MAIL_INVALID_HEADER"));
    }
  });

  it("refuses managed fields in headers and invalid field names", () => {
    for (const name of ["Bcc", "content-type", "MIME-Version", "Message-ID", "From"]) {
      assert.throws(
        () => message({ headers: { [name]: "x" } }).render(),
        isMailError("MAIL_INVALID_HEADER"),
        name,
      );
    }
    for (const name of ["X Space", "X:Colon", "", "Ü-Header", "x".repeat(77)]) {
      assert.throws(
        () => message({ headers: { [name]: "x" } }).render(),
        isMailError("MAIL_INVALID_HEADER"),
        name,
      );
    }
  });
});
