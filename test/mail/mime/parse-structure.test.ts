/**
 * Structure and transfer-encoding defects of real mail: broken inner multiparts and empty
 * parts that must not take the text slot, uuencoded files (declared and pasted into text),
 * invalid quoted-printable, bare-CR line endings, embedded messages parsed on demand, and the
 * charset of composed text attachments (checked with Python's email).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { MailError } from "../../../src/errors.js";
import { Attachment, MailMessage } from "../../../src/mail/mime/index.js";
import { decodeQuotedPrintable } from "../../../src/mail/mime/quoted-printable.js";
import { serverSkip } from "../../servers/common.js";
import { pythonParse } from "./compose-helpers.js";

const crlf = (lines: string[]): string => lines.join("\r\n");
const text = async (a: Attachment): Promise<string> => Buffer.from(await a.bytes()).toString();

/** POSIX uuencode of `data` (the format's definition, written out for the test). */
function uuencode(name: string, data: Buffer): string {
  const enc = (v: number): string => String.fromCharCode(v === 0 ? 96 : v + 32);
  const lines = [`begin 644 ${name}`];
  for (let i = 0; i < data.length; i += 45) {
    const chunk = data.subarray(i, i + 45);
    let line = enc(chunk.length);
    for (let k = 0; k < chunk.length; k += 3) {
      const [a, b = 0, c = 0] = [chunk[k], chunk[k + 1], chunk[k + 2]];
      line += enc(a >> 2) + enc(((a << 4) | (b >> 4)) & 63) + enc(((b << 2) | (c >> 6)) & 63);
      line += enc(c & 63);
    }
    lines.push(line);
  }
  lines.push("`", "end");
  return lines.join("\r\n");
}

describe("multipart structure", () => {
  it("an inner multipart without a boundary does not take the text slot", async () => {
    const m = MailMessage.parse(
      crlf([
        'Content-Type: multipart/mixed; boundary="outer"',
        "",
        "--outer",
        "Content-Type: multipart/alternative",
        "",
        "",
        "--outer",
        "Content-Type: text/plain",
        "",
        "The real text.",
        "--outer",
        "Content-Type: multipart/related; boundary=never-used",
        "",
        "some bytes nobody can split",
        "--outer--",
      ]),
    );
    assert.equal(m.textContent, "The real text.");
    // The empty broken multipart is dropped; the one with content is kept as opaque bytes.
    assert.equal(m.attachments.length, 1);
    assert.equal(m.attachments[0].contentType, "application/octet-stream");
    assert.equal(await text(m.attachments[0]), "some bytes nobody can split");
  });

  it("empty parts between two consecutive boundaries are not text parts", () => {
    const m = MailMessage.parse(
      crlf([
        'Content-Type: multipart/mixed; boundary="b"',
        "",
        "--b",
        "--b",
        "",
        "--b",
        "Content-Type: text/plain; charset=utf-8",
        "",
        "Hello",
        "--b--",
      ]),
    );
    assert.equal(m.textContent, "Hello");
    assert.equal(m.attachments.length, 0);
  });

  it("a top-level multipart with no boundary is still shown as text", () => {
    const m = MailMessage.parse("Content-Type: multipart/mixed\r\n\r\nJust text.\r\n");
    assert.equal(m.textContent, "Just text.\n");
  });

  it("reads bare-CR line endings", () => {
    const m = MailMessage.parse(
      'Subject: old mac\rFrom: a@x.org\rContent-Type: multipart/mixed; boundary="b"\r\r--b\rContent-Type: text/plain\r\rline 1\rline 2\r--b--\r',
    );
    assert.equal(m.subject, "old mac");
    assert.deepEqual(m.sender, { address: "a@x.org" });
    assert.equal(m.textContent, "line 1\nline 2");
  });

  it("a bare CR inside a CRLF message stays data, even in its first line", () => {
    const m = MailMessage.parse("Subject: s\r\n\r\na\rb\r\n");
    assert.equal(m.textContent, "a\rb\n");
    const stray = MailMessage.parse("Subject: a\rb\r\nFrom: x@y.org\r\n\r\nbody\r\n");
    assert.equal(stray.subject, "a b");
    assert.deepEqual(stray.sender, { address: "x@y.org" });
    assert.equal(stray.textContent, "body\n");
  });
});

describe("embedded messages (message/rfc822) parsed on demand", () => {
  const inner = crlf(["Subject: inner", "From: in@x.org", "", "I am embedded"]);
  const outer = crlf([
    "Subject: outer",
    'Content-Type: multipart/mixed; boundary="b"',
    "",
    "--b",
    "Content-Type: text/plain",
    "",
    "see attached",
    "--b",
    "Content-Type: message/rfc822",
    "",
    inner,
    "--b--",
  ]);

  it("attachment.message() gives a MailMessage", () => {
    const m = MailMessage.parse(outer);
    const nested = m.attachments[0].message();
    assert.equal(nested.subject, "inner");
    assert.deepEqual(nested.sender, { address: "in@x.org" });
    assert.equal(nested.textContent, "I am embedded");
  });

  it("within the outer limits: the nesting counts against maxDepth", () => {
    const deep = crlf([
      "Subject: inner",
      'Content-Type: multipart/mixed; boundary="c"',
      "",
      "--c",
      'Content-Type: multipart/mixed; boundary="d"',
      "",
      "--d",
      "",
      "x",
      "--d--",
      "--c--",
    ]);
    const m = MailMessage.parse(outer.replace(inner, deep), { maxDepth: 3 });
    assert.throws(
      () => m.attachments[0].message(),
      (e: unknown) => e instanceof MailError && e.code === "MAIL_LIMIT_EXCEEDED",
    );
    assert.equal(m.attachments[0].message({ maxDepth: 5 }).subject, "inner");
    // An embedded message at the deepest level allowed has no level left for itself.
    const atLimit = MailMessage.parse(outer, { maxDepth: 1 });
    assert.throws(
      () => atLimit.attachments[0].message(),
      (e: unknown) => e instanceof MailError && e.code === "MAIL_LIMIT_EXCEEDED",
    );
    assert.equal(
      MailMessage.parse(outer, { maxDepth: 2 }).attachments[0].message().subject,
      "inner",
    );
  });

  it("refuses an attachment that is not a message", () => {
    const a = new Attachment({ filename: "a.txt", content: "x", contentType: "text/plain" });
    assert.throws(
      () => a.message(),
      (e: unknown) => e instanceof MailError && e.code === "MAIL_PARSE_ERROR",
    );
  });
});

describe("uuencode", () => {
  const data = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 37 + 11) & 0xff));

  it("a part with Content-Transfer-Encoding: x-uuencode, named by its begin line", async () => {
    for (const cte of ["x-uuencode", "uuencode", "X-UUE"]) {
      const m = MailMessage.parse(
        crlf([
          'Content-Type: multipart/mixed; boundary="b"',
          "",
          "--b",
          "Content-Type: text/plain",
          "",
          "body",
          "--b",
          "Content-Type: application/octet-stream",
          `Content-Transfer-Encoding: ${cte}`,
          "",
          uuencode("photo.jpg", data),
          "--b--",
        ]),
      );
      assert.equal(m.textContent, "body");
      assert.equal(m.attachments.length, 1, cte);
      assert.equal(m.attachments[0].filename, "photo.jpg");
      assert.deepEqual(Buffer.from(await m.attachments[0].bytes()), data);
    }
  });

  it("begin 644 blocks inside a text/plain body become attachments", async () => {
    const m = MailMessage.parse(
      crlf([
        "Subject: files",
        "",
        "Here are the files.",
        "",
        uuencode("a.bin", data),
        "",
        uuencode("b.txt", Buffer.from("hello\n")),
        "Bye.",
      ]),
    );
    assert.equal(m.textContent, "Here are the files.\n\n\nBye.");
    assert.deepEqual(
      m.attachments.map((a) => a.filename),
      ["a.bin", "b.txt"],
    );
    assert.deepEqual(Buffer.from(await m.attachments[0].bytes()), data);
    assert.equal(await text(m.attachments[1]), "hello\n");
  });

  it("text that only mentions `begin 644` is left alone", () => {
    const body = "To start, begin 644 is a mode.\nbegin 644 notes\nThis is not uuencode.\nend\n";
    const m = MailMessage.parse(`Subject: s\n\n${body}`);
    assert.equal(m.textContent, body);
    assert.equal(m.attachments.length, 0);
  });
});

describe("invalid quoted-printable (RFC 2045 §6.7 robustness)", () => {
  const qp = (s: string): string =>
    Buffer.from(decodeQuotedPrintable(Buffer.from(s, "latin1"))).toString("latin1");

  it("decodes the valid escapes and keeps the rest literally", () => {
    // `=` followed by something that is not two hex digits stays as written.
    assert.equal(qp("x=4G y=G4 100%=zz"), "x=4G y=G4 100%=zz");
    assert.equal(qp("a=4"), "a=4");
    // `==` at a line end: a literal `=` then a soft line break (what Thunderbird and Outlook
    // read; Python's quopri keeps the line break).
    assert.equal(qp("a==\r\nb"), "a=b");
    // An escaped `=` right after a stray one.
    assert.equal(qp("a==3D"), "a==");
    assert.equal(qp("caf=E9 =C3=A9"), "caf\xe9 \xc3\xa9");
    // Soft breaks with transport padding after the `=`, LF or CR line ends.
    assert.equal(qp("a=  \r\nb=\nc"), "abc");
  });
});

describe("quoted-printable decoding against a byte-at-a-time reading of RFC 2045 §6.7", () => {
  /** The rules spelled out one byte at a time: the reference the decoder must agree with. */
  function reference(bytes: Uint8Array): string {
    const hex = (c: number): number => {
      const d = "0123456789ABCDEF".indexOf(String.fromCharCode(c).toUpperCase());
      return c === undefined ? -1 : d;
    };
    const blank = (c: number): boolean => c === 0x20 || c === 0x09;
    const n = bytes.length;
    let out = "";
    for (let i = 0; i < n; i++) {
      const b = bytes[i];
      if (b === 0x3d) {
        let j = i + 1;
        while (j < n && blank(bytes[j])) j++;
        if (j >= n || bytes[j] === 0x0a) {
          i = j; // soft line break (LF), or `=` and blanks at the very end
          continue;
        }
        if (j + 1 < n && bytes[j] === 0x0d && bytes[j + 1] === 0x0a) {
          i = j + 1; // soft line break (CRLF)
          continue;
        }
        const hi = i + 1 < n ? hex(bytes[i + 1]) : -1;
        const lo = i + 2 < n ? hex(bytes[i + 2]) : -1;
        if (hi >= 0 && lo >= 0) {
          out += String.fromCharCode(hi * 16 + lo);
          i += 2;
        } else out += "=";
        continue;
      }
      if (blank(b)) {
        let j = i;
        while (j < n && blank(bytes[j])) j++;
        // Rule 3: blanks before a line break or the end are transport padding.
        if (j === n || bytes[j] === 0x0a || (bytes[j] === 0x0d && bytes[j + 1] === 0x0a)) {
          i = j - 1;
          continue;
        }
      }
      out += String.fromCharCode(b);
    }
    return out;
  }

  it("agrees on random text made of the characters that matter", () => {
    const piece = fc.constantFrom(
      "=",
      " ",
      "\t",
      "\r",
      "\n",
      "\r\n",
      "=\r\n",
      "a",
      "3D",
      "e9",
      "G",
      "\xff",
      "\0",
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 60 }), (pieces) => {
        const bytes = Buffer.from(pieces.join(""), "latin1");
        const decoded = Buffer.from(decodeQuotedPrintable(bytes)).toString("latin1");
        assert.equal(decoded, reference(bytes), JSON.stringify(pieces.join("")));
      }),
      { numRuns: 5000 },
    );
  });
});

describe("composing text attachments from strings", () => {
  it("writes charset=utf-8 for string content of a text type, not for bytes", async () => {
    const m = new MailMessage({
      sender: "a@example.com",
      recipients: "b@example.com",
      textContent: "see attached",
      attachments: [
        new Attachment({
          filename: "報告書 2026.txt",
          content: "本文です",
          contentType: "text/plain",
        }),
        new Attachment({
          filename: "raw.txt",
          content: Buffer.from("bytes"),
          contentType: "text/plain",
        }),
        new Attachment({
          filename: "latin.txt",
          content: "caf\xe9",
          contentType: "text/plain; charset=iso-8859-1",
        }),
      ],
    });
    const raw = await m.toText();
    assert.match(raw, /Content-Type: text\/plain; charset=utf-8;\s+name=/);
    assert.match(raw, /Content-Type: text\/plain; name="raw.txt"/);
    assert.doesNotMatch(raw, /charset=iso-8859-1;\s+charset/);
    const back = MailMessage.parse(raw);
    assert.equal(await text(back.attachments[0]), "本文です");
  });

  it("Python's email reads the text attachment without mojibake", {
    skip: serverSkip("/usr/bin/python3", "python3"),
  }, async () => {
    const m = new MailMessage({
      sender: "a@example.com",
      recipients: "b@example.com",
      textContent: "see attached",
      attachments: [
        new Attachment({
          filename: "報告書 2026.txt",
          content: "本文です",
          contentType: "text/plain",
        }),
      ],
    });
    const py = await pythonParse(await m.toBytes());
    const part = py.parts.find((p) => p.filename === "報告書 2026.txt");
    assert.ok(part, JSON.stringify(py.parts));
    assert.equal(part.charset, "utf-8");
    assert.equal(part.text, "本文です");
  });
});
