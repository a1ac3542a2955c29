import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MailMessage } from "../../../src/mail/mime/index.js";
import { headerFields, parseMailDate, parseMessage } from "../../../src/mail/mime/parse/index.js";

const crlf = (text: string): string => text.replace(/\n/g, "\r\n");
const bytes = async (m: MailMessage, i: number): Promise<string> =>
  Buffer.from(await m.attachments[i].bytes()).toString("utf8");

describe("MailMessage.parse on hand-written real-world messages", () => {
  it("reads an LF-only message with folded headers, comments and a group", () => {
    const m = MailMessage.parse(
      [
        "From nobody Mon Jan  1 00:00:00 2024",
        "Received: from a by b;",
        "\tMon, 1 Jan 2024 00:00:00 +0000",
        "Received: from c by d",
        "From: John Doe <john@example.com> (the boss)",
        'To: Team: alice@example.com, "Bob, Jr." <bob@example.com>;,',
        "  carol@example.com (Carol C)",
        "Cc: undisclosed-recipients:;",
        "Subject: a folded",
        "  subject line",
        "Date: Tue, 2 Jan 2024 03:04:05 -0800 (PST)",
        "Message-ID:",
        " <abc@example.com>",
        "X-Empty:",
        "",
        "Body line 1",
        "Body line 2",
      ].join("\n"),
    );
    assert.equal(m.subject, "a folded  subject line");
    assert.deepEqual(m.sender, { name: "John Doe", address: "john@example.com" });
    assert.deepEqual(m.recipients, [
      { address: "alice@example.com", group: "Team" },
      { name: "Bob, Jr.", address: "bob@example.com", group: "Team" },
      { name: "Carol C", address: "carol@example.com" },
    ]);
    assert.deepEqual(m.cc, []);
    assert.equal(m.messageId, "<abc@example.com>");
    assert.equal(m.date?.toISOString(), "2024-01-02T11:04:05.000Z");
    assert.equal(m.textContent, "Body line 1\nBody line 2");
    assert.deepEqual(m.headers, {
      Received: ["from a by b;\tMon, 1 Jan 2024 00:00:00 +0000", "from c by d"],
      "X-Empty": "",
    });
    assert.equal(headerFields(m)?.length, 9);
  });

  it("decodes RFC 2047 words: B and Q, adjacent words joined, split characters, unknown charsets", () => {
    const m = MailMessage.parse(
      crlf(
        [
          "Subject: =?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?= =?utf-8?Q?caf=C3?=",
          " =?utf-8?Q?=A9_ok?= plain =?x-unknown?Q?raw?= =?utf-8*en?B?w6k=?=",
          "From: =?iso-8859-1?Q?Andr=E9?= Pirard <pirard@example.be>",
          "To: =?UTF-8?B?5bGx55SwIOWkqumDjg==?= <taro@example.jp>",
          "",
          "x",
        ].join("\n"),
      ),
    );
    // An unknown charset is read as UTF-8 (valid here), and the words are adjacent.
    assert.equal(m.subject, "テストcafé ok plain rawé");
    assert.deepEqual(m.sender, { name: "André Pirard", address: "pirard@example.be" });
    assert.deepEqual(m.recipients, [{ name: "山田 太郎", address: "taro@example.jp" }]);
  });

  it("reads raw UTF-8 headers (RFC 6532) and Latin-1 bytes without losing them", () => {
    const raw = Buffer.concat([
      Buffer.from(
        "Subject: Grüße aus Köln\r\nFrom: Jörg <jörg@example.de>\r\nX-Latin: caf",
        "utf8",
      ),
      Buffer.from([0xe9]),
      Buffer.from("\r\n\r\nhi\r\n"),
    ]);
    const m = MailMessage.parse(raw);
    assert.equal(m.subject, "Grüße aus Köln");
    assert.deepEqual(m.sender, { name: "Jörg", address: "jörg@example.de" });
    assert.equal(m.headers["X-Latin"], "café");
  });

  it("decodes an iso-2022-jp body, a shift_jis body and an unknown charset as UTF-8", () => {
    const jis = Buffer.from("1b2442243324731b2842", "hex"); // こん in ISO-2022-JP
    const m = MailMessage.parse(
      Buffer.concat([
        Buffer.from(
          'Content-Type: text/plain; charset="ISO-2022-JP"\r\nContent-Transfer-Encoding: 7bit\r\n\r\n',
        ),
        jis,
      ]),
    );
    assert.equal(m.textContent, "こん");
    const sjis = MailMessage.parse(
      Buffer.concat([
        Buffer.from(
          "Content-Type: text/plain; charset=Shift_JIS\r\nContent-Transfer-Encoding: base64\r\n\r\n",
        ),
        Buffer.from(Buffer.from([0x82, 0xb1, 0x82, 0xf1]).toString("base64")),
      ]),
    );
    assert.equal(sjis.textContent, "こん");
    const unknown = MailMessage.parse("Content-Type: text/plain; charset=x-nope\r\n\r\ncafé \xff");
    assert.equal(unknown.textContent, "café \xff");
  });

  it("reads RFC 2231 continuations with charset and language, and the name= fallback", async () => {
    const m = MailMessage.parse(
      crlf(`From: a@example.com
Content-Type: multipart/mixed; boundary="XX"

preamble is ignored
--XX
Content-Type: text/plain

body
--XX
Content-Type: application/pdf; name="=?utf-8?B?5aCx5ZGK5pu4LnBkZg==?="
Content-Disposition: attachment;
 filename*0*=utf-8'ja'%E5%A0%B1%E5%91%8A;
 filename*1*=%E6%9B%B8%202026;
 filename*2=".pdf"
Content-Transfer-Encoding: base64

JVBERi0x
LjQK
--XX
Content-Type: application/octet-stream; name="=?utf-8?B?5aCx5ZGK5pu4LnBkZg==?="
Content-Transfer-Encoding: base64

!!aGVs bG8=**
--XX
Content-Type: text/plain; name*=iso-8859-1''caf%E9.txt
Content-Transfer-Encoding: quoted-printable

a=3Db=
c =C3=A9
--XX--
epilogue is ignored
`),
    );
    assert.equal(m.textContent, "body");
    assert.deepEqual(
      m.attachments.map((a) => [a.filename, a.contentType, a.inline]),
      [
        ["報告書 2026.pdf", "application/pdf", false],
        ["報告書.pdf", "application/octet-stream", false],
        ["café.txt", "text/plain", false],
      ],
    );
    assert.equal(await bytes(m, 0), "%PDF-1.4\n");
    assert.equal(await bytes(m, 1), "hello");
    assert.equal(await bytes(m, 2), "a=bc é");
  });

  it("takes what is there when the closing boundary is missing, and survives junk", async () => {
    const m = MailMessage.parse(
      crlf(`Content-Type: multipart/alternative; boundary=b1

--b1
Content-Type: text/plain; charset=utf-8

plain
--b1-not-a-delimiter
--b1 \t
Content-Type: text/html

<p>html</p>
`),
    );
    assert.equal(m.textContent, "plain\n--b1-not-a-delimiter");
    assert.equal(m.htmlContent, "<p>html</p>\n");
    const none = MailMessage.parse(
      "Content-Type: multipart/mixed; boundary=zz\r\n\r\nno parts here\r\n",
    );
    assert.equal(none.textContent, "no parts here\n");
    const noBoundary = MailMessage.parse("Content-Type: multipart/mixed\r\n\r\nstill text");
    assert.equal(noBoundary.textContent, "still text");
    const badType = MailMessage.parse("Content-Type: garbage\r\n\r\nx");
    assert.equal(badType.textContent, "x");
    const noSeparator = MailMessage.parse("Subject: s\r\nthis line is no header\r\nmore");
    assert.equal(noSeparator.subject, "s");
    assert.equal(noSeparator.textContent, "this line is no header\nmore");
  });

  it("keeps a nested message/rfc822 as one attachment with its raw bytes", async () => {
    const innerLf =
      "From: x@example.com\nSubject: inner\nContent-Type: multipart/mixed; boundary=in\n\n--in\n\nhello\n--in--\n";
    const inner = crlf(innerLf);
    const m = MailMessage.parse(
      crlf(`From: a@example.com
Subject: Fwd: inner
Content-Type: multipart/mixed; boundary="out"

--out
Content-Type: text/plain

see below
--out
Content-Type: message/rfc822
Content-Disposition: inline

${innerLf}
--out--
`),
    );
    assert.equal(m.textContent, "see below");
    assert.equal(m.attachments.length, 1);
    assert.equal(m.attachments[0].contentType, "message/rfc822");
    const embedded = await m.attachments[0].bytes();
    assert.equal(Buffer.from(embedded).toString(), inner);
    assert.equal(MailMessage.parse(embedded).subject, "inner");
  });

  it("walks related and alternative inside mixed, inline images by Content-ID", async () => {
    const m = MailMessage.parse(
      crlf(`From: a@example.com
Content-Type: multipart/mixed; boundary=m

--m
Content-Type: multipart/alternative; boundary=a

--a
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

caf=E9
--a
Content-Type: multipart/related; boundary=r; type="text/html"

--r
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: base64

PGltZyBzcmM9ImNpZDppbWcxIj4=
--r
Content-Type: image/gif
Content-ID: <img1@x>
Content-Transfer-Encoding: base64
Content-Description: a dot

R0lGODlhAQABAAAAACw=
--r--
--a--
--m
Content-Type: text/plain
Content-Disposition: attachment

not the body
--m--
`),
    );
    assert.equal(m.textContent, "café");
    assert.equal(m.htmlContent, '<img src="cid:img1">');
    assert.deepEqual(
      m.attachments.map((a) => [a.filename, a.contentType, a.contentId, a.inline, a.headers]),
      [
        ["", "image/gif", "img1@x", true, { "Content-Description": "a dot" }],
        ["", "text/plain", undefined, false, {}],
      ],
    );
    assert.equal(await bytes(m, 1), "not the body");
    const { root } = parseMessage(await m.toBytes());
    assert.equal(root.headers.type, "multipart/mixed");
  });

  it("digest parts default to message/rfc822 (RFC 2046 §5.1.5)", () => {
    const m = MailMessage.parse(
      crlf("Content-Type: multipart/digest; boundary=d\n\n--d\n\nSubject: one\n\nfirst\n--d--\n"),
    );
    assert.equal(m.attachments[0].contentType, "message/rfc822");
  });

  it("parses RFC 5322 dates, obsolete forms included, and refuses nonsense", () => {
    const cases: [string, string | undefined][] = [
      ["Wed, 25 Nov 2026 06:36:23 +0000", "2026-11-25T06:36:23.000Z"],
      ["25 Nov 2026 06:36 +0130", "2026-11-25T05:06:00.000Z"],
      ["Thu, 1 Jan 98 00:00:00 EST", "1998-01-01T05:00:00.000Z"],
      ["Fri, 13 Mar 15 12:00:00 GMT", "2015-03-13T12:00:00.000Z"],
      ["Mon, 31 Dec 2029 23:59:60 Z", "2029-12-31T23:59:59.000Z"],
      ["Tue, 2 Jan 2024 03:04:05 -0800 (PST)", "2024-01-02T11:04:05.000Z"],
      ["31 Feb 2024 00:00:00 +0000", undefined],
      ["yesterday", undefined],
      ["1", undefined],
      ["25 Nov 2026 25:00:00 +0000", undefined],
      ["25 Nov 2026 10:00:00 +0099", undefined],
    ];
    for (const [text, iso] of cases) assert.equal(parseMailDate(text)?.toISOString(), iso, text);
    assert.equal(MailMessage.parse("Date: not a date\r\n\r\n").date, undefined);
  });

  it("decodes base64 leniently: garbage ignored, glued pieces with inner padding kept", () => {
    const b64 = (body: string): string =>
      MailMessage.parse(`Content-Transfer-Encoding: BASE64\r\n\r\n${body}`).textContent ?? "";
    assert.equal(b64("aGVs\r\nbG8=\r\n"), "hello");
    assert.equal(b64("aGk=aGk=\r\nYQ=="), "hihia");
    assert.equal(b64("a G\tV*s#b\r\nG8"), "hello");
    assert.equal(b64(""), "");
  });

  it("unflows format=flowed text (RFC 3676), quotes and signature kept", () => {
    const flowed = (params: string, body: string): string | undefined =>
      MailMessage.parse(`Content-Type: text/plain; format=flowed${params}\r\n\r\n${crlf(body)}`)
        .textContent;
    assert.equal(
      flowed("", "Hello this is \na flowed \nparagraph.\n From me\n> quoted \n> more\n-- \nsig"),
      "Hello this is a flowed paragraph.\nFrom me\n> quoted more\n-- \nsig",
    );
    assert.equal(flowed("; delsp=yes", "日本語の \n文章"), "日本語の文章");
    assert.equal(MailMessage.parse("\r\nsoft \nbreak").textContent, "soft \nbreak");
  });

  it("is safe with prototype-looking header names", async () => {
    const m = MailMessage.parse("__proto__: x\r\nconstructor: y\r\n\r\n");
    assert.equal(Object.getOwnPropertyDescriptor(m.headers, "__proto__")?.value, "x");
    assert.equal(Object.getPrototypeOf(m.headers), Object.prototype);
    assert.equal(({} as Record<string, unknown>).x, undefined);
    // A field name longer than render() accepts stays in the raw list only; the message renders.
    const long = MailMessage.parse(`${"X".repeat(100)}: v\r\nX-B: w\r\n\r\n`);
    assert.deepEqual(long.headers, { "X-B": "w" });
    assert.equal(headerFields(long)?.[0].name, "X".repeat(100));
    await long.toBytes();
  });
});
