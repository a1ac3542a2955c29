import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { BodyStructure, FetchAttributes } from "../../../../src/mail/imap/codec/index.js";
import { as, parseOne } from "./helpers.js";

function fetch(line: string): FetchAttributes {
  return as(parseOne(line), "fetch").attributes;
}

/** RFC 3501 §8 sample FETCH response. */
const RFC3501_FETCH =
  '* 12 FETCH (FLAGS (\\Seen) INTERNALDATE "17-Jul-1996 02:44:25 -0700" RFC822.SIZE 4286 ' +
  'ENVELOPE ("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)" "IMAP4rev1 WG mtg summary and minutes" ' +
  '(("Terry Gray" NIL "gray" "cac.washington.edu")) (("Terry Gray" NIL "gray" "cac.washington.edu")) ' +
  '(("Terry Gray" NIL "gray" "cac.washington.edu")) ((NIL NIL "imap" "cac.washington.edu")) ' +
  '((NIL NIL "minutes" "CNRI.Reston.VA.US")("John Klensin" NIL "KLENSIN" "MIT.EDU")) NIL NIL ' +
  '"<B27397-0100000@cac.washington.edu>") ' +
  'BODY ("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 3028 92))\r\n';

describe("FETCH attributes (RFC 9051 §7.5.2)", () => {
  it("parses the RFC 3501 sample FETCH response", () => {
    const r = as(parseOne(RFC3501_FETCH), "fetch");
    assert.equal(r.seq, 12);
    const a = r.attributes;
    assert.deepEqual(a.flags, ["\\Seen"]);
    assert.equal(a.internalDate?.toISOString(), "1996-07-17T09:44:25.000Z");
    assert.equal(a.size, 4286);
    assert.deepEqual(a.envelope, {
      date: "Wed, 17 Jul 1996 02:23:25 -0700 (PDT)",
      subject: "IMAP4rev1 WG mtg summary and minutes",
      from: [{ name: "Terry Gray", address: "gray@cac.washington.edu" }],
      sender: [{ name: "Terry Gray", address: "gray@cac.washington.edu" }],
      replyTo: [{ name: "Terry Gray", address: "gray@cac.washington.edu" }],
      to: [{ address: "imap@cac.washington.edu" }],
      cc: [
        { address: "minutes@CNRI.Reston.VA.US" },
        { name: "John Klensin", address: "KLENSIN@MIT.EDU" },
      ],
      bcc: [],
      messageId: "<B27397-0100000@cac.washington.edu>",
    });
    assert.deepEqual(a.bodyStructure, {
      type: "text",
      subtype: "plain",
      parameters: { charset: "US-ASCII" },
      encoding: "7bit",
      size: 3028,
      lines: 92,
      part: "1",
    });
  });

  it("UID, MODSEQ, space-padded INTERNALDATE, BINARY.SIZE, unknown items (Gmail X-GM-*)", () => {
    const a = fetch(
      '* 1 FETCH (UID 4827313 MODSEQ (12121231000) INTERNALDATE " 7-Feb-1994 21:52:25 +0100" ' +
        "BINARY.SIZE[1.2] 2239 X-GM-MSGID 1278455344230334865 X-GM-THRID 1266894439832287888 " +
        'X-GM-LABELS (\\Inbox \\Sent Important "Muy Importante" {5}\r\nlit\r\n) EMAILID (M6d99ac3275bb4e))\r\n',
    );
    assert.equal(a.uid, 4827313);
    assert.equal(a.modseq, 12121231000n);
    assert.equal(a.internalDate?.toISOString(), "1994-02-07T20:52:25.000Z");
    assert.deepEqual(a.binarySizes, { "1.2": 2239 });
    assert.deepEqual(a.extra, {
      "X-GM-MSGID": "1278455344230334865",
      "X-GM-THRID": "1266894439832287888",
      "X-GM-LABELS": [
        "\\Inbox",
        "\\Sent",
        "Important",
        "Muy Importante",
        new Uint8Array(Buffer.from("lit\r\n")),
      ],
      EMAILID: ["M6d99ac3275bb4e"],
    });
  });

  it("section keys are upper-cased, without <origin>; NIL and quoted values", () => {
    const a = fetch(
      '* 3 FETCH (body[header.fields (subject "x-a]")] {11}\r\nSubject: x\n BODY[1]<0> "ab\\"c" BODY[2] NIL RFC822.TEXT NIL)\r\n',
    );
    assert.deepEqual(Object.keys(a.sections!), [
      'BODY[HEADER.FIELDS (SUBJECT "X-A]")]',
      "BODY[1]",
      "BODY[2]",
      "RFC822.TEXT",
    ]);
    assert.deepEqual(a.sections!["BODY[1]"], new Uint8Array(Buffer.from('ab"c')));
    assert.equal(a.sections!["BODY[2]"], null);
  });

  it("an unparseable INTERNALDATE is kept raw in extra", () => {
    const a = fetch('* 3 FETCH (INTERNALDATE "yesterday")\r\n');
    assert.equal(a.internalDate, undefined);
    assert.deepEqual(a.extra, { INTERNALDATE: "yesterday" });
  });
});

describe("ENVELOPE (RFC 9051 §7.5.2, RFC 3501 §7.4.2)", () => {
  it("decodes RFC 2047 words in subject and names; NIL everywhere", () => {
    const a = fetch(
      '* 1 FETCH (ENVELOPE (NIL "=?UTF-8?B?w6lsw6h2ZQ==?= =?ISO-8859-1?Q?caf=E9?=" ' +
        '(("=?utf-8?q?J=C3=BCrgen?=" NIL "j" "example.de")) NIL NIL NIL NIL NIL NIL NIL))\r\n',
    );
    assert.deepEqual(a.envelope, {
      subject: "élèvecafé",
      from: [{ name: "Jürgen", address: "j@example.de" }],
      sender: [],
      replyTo: [],
      to: [],
      cc: [],
      bcc: [],
    });
  });

  it("flattens groups: start entry, members carrying the group, end dropped", () => {
    const a = fetch(
      '* 1 FETCH (ENVELOPE ("d" "s" NIL NIL NIL ((NIL NIL "Team" NIL)("A" NIL "a" "x.org")(NIL NIL "b" "x.org")' +
        '(NIL NIL NIL NIL)(NIL NIL "c" "y.org")) ((NIL NIL "undisclosed-recipients" NIL)(NIL NIL NIL NIL)) NIL NIL NIL))\r\n',
    );
    assert.deepEqual(a.envelope?.to, [
      { group: "Team" },
      { name: "A", address: "a@x.org", group: "Team" },
      { address: "b@x.org", group: "Team" },
      { address: "c@y.org" },
    ]);
    assert.deepEqual(a.envelope?.cc, [{ group: "undisclosed-recipients" }]);
  });

  it("tolerates literals, missing host, short and long lists, and an empty name", () => {
    const a = fetch(
      '* 1 FETCH (ENVELOPE ({6}\r\nSat, 1 {4}\r\nSubj (("" NIL "postmaster" NIL)) NIL NIL NIL NIL NIL "<a@b>" "<c@d>" EXTRA) UID 1)\r\n',
    );
    assert.equal(a.envelope?.date, "Sat, 1");
    assert.equal(a.envelope?.subject, "Subj");
    assert.deepEqual(a.envelope?.from, [{ address: "postmaster" }]);
    assert.equal(a.envelope?.inReplyTo, "<a@b>");
    assert.equal(a.envelope?.messageId, "<c@d>");
    assert.equal(a.uid, 1);
    const short = fetch('* 2 FETCH (ENVELOPE ("d" "s"))\r\n').envelope;
    assert.deepEqual(short, {
      date: "d",
      subject: "s",
      from: [],
      sender: [],
      replyTo: [],
      to: [],
      cc: [],
      bcc: [],
    });
  });
});

function structure(bs: string): BodyStructure {
  const s = fetch(`* 1 FETCH (BODYSTRUCTURE ${bs})\r\n`).bodyStructure;
  assert.ok(s);
  return s;
}

describe("BODYSTRUCTURE (RFC 9051 §7.5.2 body)", () => {
  it("parses the RFC 3501 multipart example with part numbers", () => {
    const s = structure(
      '(("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 1152 23)("TEXT" "PLAIN" ("CHARSET" "US-ASCII" "NAME" "cc.diff") ' +
        '"<960723163407.20117h@cac.washington.edu>" "Compiler diff" "BASE64" 4554 73) "MIXED")',
    );
    assert.equal(s.type, "multipart");
    assert.equal(s.subtype, "mixed");
    assert.equal(s.part, "");
    assert.deepEqual(
      s.childNodes?.map((c) => [c.part, c.type, c.subtype, c.size, c.lines]),
      [
        ["1", "text", "plain", 1152, 23],
        ["2", "text", "plain", 4554, 73],
      ],
    );
    assert.deepEqual(s.childNodes?.[1].parameters, { charset: "US-ASCII", name: "cc.diff" });
    assert.equal(s.childNodes?.[1].id, "<960723163407.20117h@cac.washington.edu>");
    assert.equal(s.childNodes?.[1].description, "Compiler diff");
    assert.equal(s.childNodes?.[1].encoding, "base64");
  });

  it("reads extension data: md5, disposition, language, location, extra items", () => {
    const s = structure(
      '(("text" "html" ("charset" "utf-8") NIL NIL "quoted-printable" 200 5 "md5sum" ("inline" NIL) ("en" "de") "http://x/" (1 2) "extra")' +
        '("application" "pdf" ("name" "a.pdf") NIL NIL "base64" 4000 NIL ("attachment" ("filename" "a.pdf" "size" "3000")) "fr" NIL) ' +
        '"mixed" ("boundary" "b1") ("inline" NIL) NIL "loc" 42)',
    );
    assert.deepEqual(s.parameters, { boundary: "b1" });
    assert.deepEqual(s.disposition, { type: "inline", parameters: {} });
    assert.equal(s.location, "loc");
    const [html, pdf] = s.childNodes!;
    assert.equal(html.md5, "md5sum");
    assert.deepEqual(html.language, ["en", "de"]);
    assert.equal(html.location, "http://x/");
    assert.equal(html.lines, 5);
    assert.deepEqual(pdf.disposition, {
      type: "attachment",
      parameters: { filename: "a.pdf", size: "3000" },
    });
    assert.deepEqual(pdf.language, ["fr"]);
    assert.equal(pdf.lines, undefined);
  });

  it("message/rfc822 carries its envelope and body, numbered below it", () => {
    const s = structure(
      '(("text" "plain" NIL NIL NIL "7bit" 10 1)("message" "rfc822" NIL NIL NIL "7bit" 500 ' +
        '("date" "inner subject" NIL NIL NIL NIL NIL NIL NIL NIL) ' +
        '(("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 5 1)("image" "png" NIL NIL NIL "base64" 100) "alternative") 20 NIL NIL NIL NIL)' +
        '("message" "rfc822" NIL NIL NIL "7bit" 50 (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) ("text" "plain" NIL NIL NIL "7bit" 3 1) 2) "mixed")',
    );
    const [, msg, msg2] = s.childNodes!;
    assert.equal(msg.part, "2");
    assert.equal(msg.envelope?.subject, "inner subject");
    assert.equal(msg.lines, 20);
    assert.equal(msg.body?.subtype, "alternative");
    assert.equal(msg.body?.part, "2");
    assert.deepEqual(
      msg.body?.childNodes?.map((c) => c.part),
      ["2.1", "2.2"],
    );
    assert.equal(msg2.body?.part, "3.1");
    assert.equal(msg2.lines, 2);
  });

  it("tolerates server quirks: NIL strings, numbers as strings, missing fields, message/rfc822 without envelope, BODY form", () => {
    // Exchange has been seen sending NIL type/encoding and sizes as strings.
    const a = structure('(NIL NIL NIL NIL NIL NIL "1234")');
    assert.deepEqual(a, { type: "", subtype: "", parameters: {}, size: 1234, part: "1" });
    const b = structure('("TEXT" "plain")');
    assert.deepEqual(b, { type: "text", subtype: "plain", parameters: {}, part: "1" });
    const c = structure('("message" "rfc822" () NIL NIL "7BIT" 300 NIL NIL NIL NIL)');
    assert.equal(c.envelope, undefined);
    assert.equal(c.size, 300);
    const d = structure('(("TEXT" "PLAIN" ("CHARSET" NIL) NIL NIL "7BIT" "10" "1") "ALTERNATIVE")');
    assert.deepEqual(d.childNodes?.[0].parameters, { charset: "" });
    assert.equal(d.childNodes?.[0].lines, 1);
    assert.equal(d.childNodes?.[0].size, 10);
    const body = fetch(
      '* 1 FETCH (BODY ("text" "plain" NIL NIL NIL "7bit" 1 1))\r\n',
    ).bodyStructure;
    assert.equal(body?.type, "text");
    const disp = structure('("text" "plain" NIL NIL NIL "7bit" 1 1 NIL "inline" NIL NIL)');
    assert.deepEqual(disp.disposition, { type: "inline", parameters: {} });
  });

  it("decodes RFC 2231 continuations and charsets and RFC 2047 words in parameters", () => {
    const s = structure(
      '("application" "octet-stream" ("name*0*" "utf-8\'\'%E2%82%AC%20rates" "name*1" ".txt" "x" "=?utf-8?q?caf=C3=A9?=") NIL NIL "base64" 10 ' +
        'NIL ("attachment" ("FILENAME*" "iso-8859-1\'\'na%EFve.txt")) NIL NIL)',
    );
    assert.equal(s.parameters.name, "€ rates.txt");
    assert.equal(s.parameters.x, "café");
    assert.deepEqual(s.disposition, { type: "attachment", parameters: { filename: "naïve.txt" } });
  });
});

describe("FETCH items the parser has no type for", () => {
  it("keeps a value followed by more values as one array, then reads the next item", () => {
    const a = fetch(
      '* 1 FETCH (PREVIEW (FUZZY) "Hello there" UID 5 SAVEDATE "07-Dec-2026 10:00:00 +0000" THREADID NIL)\r\n',
    );
    assert.deepEqual(a.extra, {
      PREVIEW: [["FUZZY"], "Hello there"],
      SAVEDATE: "07-Dec-2026 10:00:00 +0000",
      THREADID: null,
    });
    assert.equal(a.uid, 5);
  });
});
