/**
 * Server responses gathered for the parser tests, from the RFCs' examples (RFC 9051, 3501,
 * 4315, 4731, 2342, 2971, 5258, 5819, 6154, 7162, 3516) and from servers' documented or
 * commonly reported behaviour (Dovecot, Gmail X-GM-* attributes, Exchange/Outlook.com and
 * Yahoo quirks). Each entry is a complete wire text (CRLF line ends) and the number of
 * responses it holds; a few check a value a quirk is about.
 */
import assert from "node:assert/strict";
import type { IMAPResponse } from "../../../../src/mail/imap/codec/index.js";
import { as } from "./helpers.js";

export interface CorpusEntry {
  name: string;
  wire: string;
  responses: number;
  check?: (responses: IMAPResponse[]) => void;
}

const crlf = (...lines: string[]) => `${lines.join("\r\n")}\r\n`;

function fetchOf(r: IMAPResponse) {
  return as(r, "fetch").attributes;
}

export const CORPUS: CorpusEntry[] = [
  {
    name: "Dovecot greeting, login, capability",
    wire: crlf(
      "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS AUTH=PLAIN] Dovecot (Debian) ready.",
      "a1 OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT SORT=DISPLAY THREAD=REFERENCES THREAD=REFS THREAD=ORDEREDSUBJECT MULTIAPPEND URL-PARTIAL CATENATE UNSELECT CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED I18NLEVEL=1 CONDSTORE QRESYNC ESEARCH ESORT SEARCHRES WITHIN CONTEXT=SEARCH LIST-STATUS BINARY MOVE SNIPPET=FUZZY PREVIEW=FUZZY PREVIEW STATUS=SIZE SAVEDATE LITERAL+ NOTIFY SPECIAL-USE] Logged in",
    ),
    responses: 2,
  },
  {
    name: "Dovecot SELECT with CONDSTORE",
    wire: crlf(
      "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)",
      "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted.",
      "* 3 EXISTS",
      "* 0 RECENT",
      "* OK [UNSEEN 2] First unseen.",
      "* OK [UIDVALIDITY 1733600000] UIDs valid",
      "* OK [UIDNEXT 4] Predicted next UID",
      "* OK [HIGHESTMODSEQ 5] Highest",
      "a2 OK [READ-WRITE] Select completed (0.001 + 0.000 secs).",
    ),
    responses: 9,
  },
  {
    name: "Dovecot ENVELOPE with missing headers, a group and an unparseable address",
    wire: crlf(
      '* 1 FETCH (UID 7 FLAGS () ENVELOPE (NIL NIL ((NIL NIL "MISSING_MAILBOX" "MISSING_DOMAIN")) ((NIL NIL "MISSING_MAILBOX" "MISSING_DOMAIN")) ((NIL NIL "MISSING_MAILBOX" "MISSING_DOMAIN")) ((NIL NIL "undisclosed-recipients" NIL)(NIL NIL NIL NIL)) NIL NIL NIL NIL))',
    ),
    responses: 1,
    check: ([r]) => {
      const env = fetchOf(r).envelope!;
      assert.equal(env.subject, undefined);
      assert.deepEqual(env.to, [{ group: "undisclosed-recipients" }]);
    },
  },
  {
    name: "Dovecot BODYSTRUCTURE of a multipart with attachment and extension data",
    wire: crlf(
      '* 2 FETCH (UID 8 BODYSTRUCTURE ((("text" "plain" ("charset" "utf-8") NIL NIL "quoted-printable" 1256 34 NIL NIL NIL NIL)("text" "html" ("charset" "utf-8") NIL NIL "quoted-printable" 5012 110 NIL NIL NIL NIL) "alternative" ("boundary" "b2") NIL NIL NIL)("application" "pdf" ("name" "report.pdf") NIL NIL "base64" 81234 NIL ("attachment" ("filename" "report.pdf" "size" "59321")) NIL NIL) "mixed" ("boundary" "b1") NIL NIL NIL))',
    ),
    responses: 1,
    check: ([r]) => {
      const s = fetchOf(r).bodyStructure!;
      assert.deepEqual(
        s.childNodes!.map((c) => c.part),
        ["1", "2"],
      );
      assert.deepEqual(
        s.childNodes![0].childNodes!.map((c) => c.part),
        ["1.1", "1.2"],
      );
      assert.equal(s.childNodes![1].disposition?.parameters.filename, "report.pdf");
    },
  },
  {
    name: "Dovecot LIST with SPECIAL-USE (RFC 6154), LIST-STATUS (RFC 5819) and NAMESPACE",
    wire: crlf(
      '* LIST (\\HasNoChildren) "." INBOX',
      "* STATUS INBOX (MESSAGES 3 UNSEEN 1 UIDVALIDITY 1733600000)",
      '* LIST (\\HasNoChildren \\Drafts) "." Drafts',
      '* LIST (\\HasNoChildren \\Sent) "." "Sent Messages"',
      '* LIST (\\HasNoChildren \\Trash) "." Trash',
      '* LIST (\\HasChildren) "." "Archive" ("CHILDINFO" ("SUBSCRIBED"))',
      '* LIST (\\HasNoChildren) "." "Entw&APw-rfe"',
      '* NAMESPACE (("" ".")) NIL NIL',
      "a3 OK List completed (0.001 + 0.000 secs).",
    ),
    responses: 9,
  },
  {
    name: "Dovecot ID and ENABLE",
    wire: crlf(
      '* ID ("name" "Dovecot")',
      "a4 OK ID completed.",
      "* ENABLED CONDSTORE QRESYNC",
      "a5 OK Enabled.",
    ),
    responses: 4,
  },
  {
    name: "RFC 9051 §7 examples: status responses and alerts",
    wire: crlf(
      "* OK IMAP4rev2 server ready",
      "* NO [ALERT] System shutdown in 10 minutes",
      "* BAD Disk crash, attempting salvage to a new disk!",
      "* PREAUTH IMAP4rev2 server logged in as Smith",
      "* BYE Autologout; idle for too long",
      "+ Ready for additional command text",
      "A001 OK LOGIN completed",
      "A002 NO [AUTHENTICATIONFAILED] Authentication failed",
      "A003 BAD Unknown command",
    ),
    responses: 9,
  },
  {
    name: "RFC 9051 §7.2-7.4 mailbox data",
    wire: crlf(
      "* ENABLED CONDSTORE QRESYNC",
      "* CAPABILITY STARTTLS AUTH=GSSAPI IMAP4rev2 LOGINDISABLED XPIG-LATIN",
      '* LIST (\\Noselect) "/" ~/Mail/foo',
      '* NAMESPACE (("" "/")) (("~" "/")) (("#shared/" "/")("#public/" "/")("#ftp/" "/")("#news." "."))',
      "* STATUS blurdybloop (MESSAGES 231 UIDNEXT 44292)",
      '* ESEARCH (TAG "A285") UID MIN 7 MAX 3800',
      '* ESEARCH (TAG "A286") COUNT 15',
      "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)",
      "* 23 EXISTS",
      "* 44 EXPUNGE",
    ),
    responses: 10,
  },
  {
    name: "RFC 9051 §6.4.5 FETCH examples: partial body, BINARY.SIZE, header fields literal",
    wire: crlf(
      '* 2 FETCH (FLAGS (\\Deleted \\Seen) INTERNALDATE "08-Jul-2022 11:43:12 +0000" RFC822.SIZE 44827)',
      "* 3 FETCH (BODY[HEADER.FIELDS (DATE FROM)] {57}\r\nDate: Wed, 17 Jul 1996 02:23:25 -0700\r\nFrom: x@y.test\r\n\r\n UID 3)",
      "* 4 FETCH (BODY[]<0> {11}\r\nFrom: abc\r\n)",
      "* 5 FETCH (BINARY.SIZE[1] 2345 UID 5)",
    ),
    responses: 4,
    check: (r) => {
      assert.equal(
        Buffer.from(fetchOf(r[1]).sections!["BODY[HEADER.FIELDS (DATE FROM)]"] as Uint8Array)
          .length,
        57,
      );
      assert.ok(fetchOf(r[2]).sections!["BODY[]"] instanceof Uint8Array);
    },
  },
  {
    name: "RFC 3516 BINARY literal8 with NUL bytes",
    wire: "* 1 FETCH (UID 9 BINARY[1] ~{6}\r\n\0\x01\x02\r\n\xff)\r\n",
    responses: 1,
  },
  {
    name: "RFC 4315 UIDPLUS codes",
    wire: crlf(
      "A003 OK [APPENDUID 38505 3955] APPEND completed",
      "A004 OK [COPYUID 38505 304,319:320 3956:3958] Done",
      "A005 OK [APPENDUID 38505 3955:3957] MULTIAPPEND completed",
      "A006 NO [UIDNOTSTICKY] Non-persistent UIDs",
    ),
    responses: 4,
  },
  {
    name: "RFC 7162 CONDSTORE/QRESYNC",
    wire: crlf(
      "* OK [HIGHESTMODSEQ 715194045007] Highest",
      "* 1 FETCH (UID 4 MODSEQ (65402) FLAGS (\\Seen))",
      "* 50 FETCH (MODSEQ (12111230047))",
      "d105 OK [MODIFIED 7,9] Conditional STORE failed",
      "* OK [CLOSED]",
      "* VANISHED (EARLIER) 41,43:116,118,120:211,214:540",
      "* VANISHED 405,407,410,425",
      "* SEARCH 2 5 6 7 11 12 18 19 20 23 (MODSEQ 917162500)",
      "* OK [NOMODSEQ] Sorry, this mailbox format doesn't support modsequences",
    ),
    responses: 9,
  },
  {
    name: "RFC 5258 LIST-EXTENDED",
    wire: crlf(
      '* LIST () "/" "Fruit"',
      '* LIST () "/" "Fruit/Apple"',
      '* LIST (\\Subscribed \\NonExistent) "/" "Fruit/Peach"',
      '* LIST (\\Subscribed) "/" "Tofu" ("CHILDINFO" ("SUBSCRIBED"))',
      '* LIST () "/" "NewMailbox" ("OLDNAME" ("OldMailbox"))',
      '* LIST (\\Remote) "/" "Bread"',
      '* LIST (\\HasChildren) "." "Foo" ("X-EXT" (1 2 (3 "x")) "CHILDINFO" ("SUBSCRIBED"))',
    ),
    responses: 7,
  },
  {
    name: "RFC 2971 ID and RFC 2342 NAMESPACE variants",
    wire: crlf(
      '* ID ("name" "Cyrus" "version" "1.5" "os" "sunos" "os-version" "5.5" "support-url" "mailto:cyrus-bugs+@andrew.cmu.edu")',
      "* ID NIL",
      '* NAMESPACE (("" "/")) NIL NIL',
      '* NAMESPACE NIL NIL (("" "."))',
      '* NAMESPACE (("INBOX." ".")) (("user." ".")) (("shared." "."))',
    ),
    responses: 5,
  },
  {
    name: "Gmail X-GM-* attributes and labels with escaped backslashes",
    wire: crlf(
      '* 1 FETCH (X-GM-THRID 1278455344230334865 X-GM-MSGID 1278455344230334865 X-GM-LABELS ("\\\\Important" "\\\\Sent" Foo "Bar Baz") UID 1 FLAGS (\\Seen))',
      "* 2 FETCH (X-GM-LABELS () UID 2 FLAGS ())",
      "* 3 FETCH (X-GM-MSGID 1278455344230334866 X-GM-LABELS (\\Inbox) UID 3 MODSEQ (12345) FLAGS ($NotPhishing \\Seen))",
      "* OK [HIGHESTMODSEQ 1234567] Highest",
    ),
    responses: 4,
    check: (r) => {
      assert.deepEqual(fetchOf(r[0]).extra!["X-GM-LABELS"], [
        "\\Important",
        "\\Sent",
        "Foo",
        "Bar Baz",
      ]);
      assert.deepEqual(fetchOf(r[1]).extra!["X-GM-LABELS"], []);
    },
  },
  {
    name: "Gmail BODYSTRUCTURE of a related/alternative message with an inline image",
    wire: crlf(
      '* 9 FETCH (UID 42 BODYSTRUCTURE ((("TEXT" "PLAIN" ("CHARSET" "UTF-8") NIL NIL "QUOTED-PRINTABLE" 123 4 NIL NIL NIL)("TEXT" "HTML" ("CHARSET" "UTF-8") NIL NIL "QUOTED-PRINTABLE" 456 8 NIL NIL NIL) "ALTERNATIVE" ("BOUNDARY" "000000000000a") NIL NIL)("IMAGE" "PNG" ("NAME" "image.png") "<ii_kx1>" NIL "BASE64" 1000 NIL ("INLINE" ("FILENAME" "image.png")) NIL) "RELATED" ("BOUNDARY" "000000000000b") NIL NIL))',
    ),
    responses: 1,
    check: ([r]) => {
      const s = fetchOf(r).bodyStructure!;
      assert.equal(s.subtype, "related");
      assert.equal(s.childNodes![1].id, "<ii_kx1>");
      assert.equal(s.childNodes![1].disposition?.type, "inline");
    },
  },
  {
    name: "Exchange/Outlook.com BODYSTRUCTURE oddities: NIL strings, zero sizes, encoded names",
    wire: crlf(
      '* 1 FETCH (UID 11 BODYSTRUCTURE (("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 0 0 NIL NIL NIL NIL)("application" "octet-stream" ("name" "=?utf-8?B?w7xiZXJzaWNodC5wZGY=?=") NIL NIL "base64" 5066 NIL ("attachment" ("filename" "=?utf-8?B?w7xiZXJzaWNodC5wZGY=?=" "size" "3702" "creation-date" "Mon, 07 Dec 2026 10:11:12 GMT")) NIL NIL) "mixed" ("boundary" "_002_") NIL "en-US"))',
      '* 2 FETCH (UID 12 BODYSTRUCTURE ("message" "rfc822" NIL NIL NIL "7BIT" 0 NIL NIL NIL NIL))',
      '* 3 FETCH (UID 13 BODYSTRUCTURE (("text" "html" ("charset" "us-ascii") NIL NIL "quoted-printable" 300 12 NIL NIL NIL NIL) "alternative" NIL NIL NIL NIL))',
      '* 4 FETCH (UID 14 BODYSTRUCTURE ("application" "ms-tnef" ("name" "winmail.dat") NIL NIL "base64" 2000 NIL ("attachment" NIL) NIL NIL))',
    ),
    responses: 4,
    check: (r) => {
      const s = fetchOf(r[0]).bodyStructure!;
      assert.equal(s.childNodes![1].parameters.name, "übersicht.pdf");
      assert.equal(s.childNodes![1].disposition?.parameters.filename, "übersicht.pdf");
      assert.deepEqual(s.language, ["en-US"]);
      assert.equal(fetchOf(r[1]).bodyStructure!.envelope, undefined);
      assert.deepEqual(fetchOf(r[3]).bodyStructure!.disposition, {
        type: "attachment",
        parameters: {},
      });
    },
  },
  {
    name: "Exchange ENVELOPE with NIL everywhere and an empty address list name",
    wire: crlf(
      '* 5 FETCH (UID 15 ENVELOPE (NIL "" (("" NIL "user" "example.com")) NIL NIL NIL NIL NIL NIL NIL) FLAGS (\\Seen) INTERNALDATE "07-Dec-2026 10:11:12 +0000")',
      "* 6 FETCH (UID 16 ENVELOPE (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL))",
    ),
    responses: 2,
    check: (r) => {
      assert.deepEqual(fetchOf(r[0]).envelope!.from, [{ address: "user@example.com" }]);
      assert.equal(fetchOf(r[0]).envelope!.subject, "");
    },
  },
  {
    name: "Exchange: disposition sent as a bare string (MailKit issue 919)",
    wire: crlf(
      '* 37 FETCH (UID 67 FLAGS (\\Seen \\Recent) RFC822.SIZE 14801 BODYSTRUCTURE (("text" "plain" ("charset" "ISO-8859-1") NIL NIL "QUOTED-PRINTABLE" 850 31 NIL "inline" NIL NIL)("text" "html" ("charset" "ISO-8859-1") NIL NIL "QUOTED-PRINTABLE" 14692 502 NIL "inline" NIL NIL) "alternative" ("boundary" "----=_Part_45") NIL NIL))',
    ),
    responses: 1,
    check: ([r]) => {
      const [text, html] = fetchOf(r).bodyStructure!.childNodes!;
      assert.deepEqual(text.disposition, { type: "inline", parameters: {} });
      assert.equal(html.lines, 502);
    },
  },
  {
    name: "Gmail: empty multipart as a subtype alone inside a report (MailKit issue 1841)",
    wire: crlf(
      '* 51 FETCH (MODSEQ (18812) BODY (("TEXT" "PLAIN" ("CHARSET" "windows-1252") NIL NIL "QUOTED-PRINTABLE" 211 5)("MESSAGE" "DELIVERY-STATUS" NIL NIL NIL "7BIT" 344)("MESSAGE" "RFC822" NIL NIL NIL "7BIT" 2942 ("Sat, 3 Jan 2015 19:26:15 +0100" "Re: MPG" (("c p" NIL "c.p" "gmail.test")) (("c p" NIL "c.p" "gmail.test")) (("c p" NIL "c.p" "gmail.test")) (("am sa[cft]" NIL "sm" "cft.test")) NIL NIL "<D3@x.test>" "<D4@gmail.test>") ("ALTERNATIVE") 51) "REPORT"))',
    ),
    responses: 1,
    check: ([r]) => {
      const s = fetchOf(r).bodyStructure!;
      assert.equal(s.subtype, "report");
      const inner = s.childNodes![2].body!;
      assert.deepEqual(inner, {
        type: "multipart",
        subtype: "alternative",
        parameters: {},
        childNodes: [],
        part: "3",
      });
      assert.equal(s.childNodes![2].lines, 51);
    },
  },
  {
    name: "bounce with an empty host and a multipart sent as a basic body (MailKit 1393, 878)",
    wire: crlf(
      '* 6285 FETCH (UID 11889 FLAGS (\\Seen) ENVELOPE ("Mon, 17 Nov 2014 13:29:22 +0100" "[undeliverable] Re: Adresy" ((NIL NIL "Mail Delivery System" "")) ((NIL NIL "Mail Delivery System" "")) ((NIL NIL "Mail Delivery System" "")) ((NIL NIL "e.username" "example.com")) NIL NIL "<D6@example.com>" "<c0@one.example.com>"))',
      '* 58056 FETCH (UID 168531 BODYSTRUCTURE (("multipart" "related" ("boundary" "----=_@@@@B") NIL NIL "7BIT" 400 ("boundary" "----=_@@@@B") NIL NIL NIL)("TEXT" "html" ("charset" "UTF8") NIL NIL "7BIT" 1115 70 NIL NIL NIL NIL) "mixed" ("boundary" "----=--_D") NIL NIL NIL) FLAGS ())',
      '* 7 FETCH (BODYSTRUCTURE (("TEXT" "PLAIN" ("CHARSET" "windows-1251") NIL NIL "base64" 356 5)( "X-ZIP" ("BOUNDARY" "") NIL NIL "base64" 10) "MIXED"))',
    ),
    responses: 3,
    check: (r) => {
      assert.deepEqual(fetchOf(r[0]).envelope!.from, [{ address: "Mail Delivery System" }]);
      assert.equal(fetchOf(r[1]).bodyStructure!.childNodes![0].type, "multipart");
      assert.equal(fetchOf(r[1]).flags!.length, 0);
    },
  },
  {
    name: "Yahoo/iCloud: sections as quoted strings, NIL body, extra spaces",
    wire: crlf(
      '* 1 FETCH (UID 1 BODY[HEADER.FIELDS (SUBJECT)] "Subject: hi\\r\\n" BODY[TEXT] NIL)',
      "* 2 FETCH (UID  2  FLAGS (\\Seen )  RFC822.SIZE 100 )",
      "* 3 FETCH (UID 3 RFC822.SIZE NIL)",
    ),
    responses: 3,
    check: (r) => {
      assert.equal(fetchOf(r[1]).uid, 2);
      assert.deepEqual(fetchOf(r[1]).flags, ["\\Seen"]);
    },
  },
  {
    name: "message/rfc822 attachment with its own envelope and multipart body",
    wire: crlf(
      '* 7 FETCH (BODYSTRUCTURE (("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 20 2 NIL NIL NIL NIL)("message" "rfc822" ("name" "fwd.eml") NIL NIL "7bit" 900 ("Tue, 1 Dec 2026 09:00:00 +0000" "=?ISO-8859-1?Q?Re:_caf=E9?=" (("Bob" NIL "bob" "x.test")) (("Bob" NIL "bob" "x.test")) (("Bob" NIL "bob" "x.test")) ((NIL NIL "alice" "y.test")) NIL NIL "<a@x.test>" "<b@x.test>") (("text" "plain" ("charset" "iso-8859-1") NIL NIL "quoted-printable" 100 5 NIL NIL NIL NIL)("text" "html" ("charset" "iso-8859-1") NIL NIL "quoted-printable" 300 9 NIL NIL NIL NIL) "alternative" ("boundary" "in") NIL NIL NIL) 30 NIL ("attachment" ("filename" "fwd.eml")) NIL NIL) "mixed" ("boundary" "out") NIL NIL NIL))',
    ),
    responses: 1,
    check: ([r]) => {
      const msg = fetchOf(r).bodyStructure!.childNodes![1];
      assert.equal(msg.envelope?.subject, "Re: café");
      assert.equal(msg.envelope?.inReplyTo, "<a@x.test>");
      assert.deepEqual(
        msg.body?.childNodes?.map((c) => c.part),
        ["2.1", "2.2"],
      );
    },
  },
  {
    name: "RFC 2231 parameters split and charset-tagged (as Dovecot passes them through)",
    wire: crlf(
      '* 8 FETCH (BODYSTRUCTURE ("application" "pdf" ("name*0*" "utf-8\'\'%E6%97%A5%E6%9C%AC" "name*1*" "%E8%AA%9E.pdf") NIL NIL "base64" 10 NIL ("attachment" ("filename*" "utf-8\'\'%E6%97%A5%E6%9C%AC%E8%AA%9E.pdf")) NIL NIL))',
    ),
    responses: 1,
    check: ([r]) => {
      const s = fetchOf(r).bodyStructure!;
      assert.equal(s.parameters.name, "日本語.pdf");
      assert.equal(s.disposition?.parameters.filename, "日本語.pdf");
    },
  },
  {
    name: "literals where strings are expected: subject, names and mailbox names",
    wire:
      '* 1 FETCH (UID 1 ENVELOPE ("Mon, 7 Dec 2026" {12}\r\nGr\xc3\xbc\xc3\x9fe \xe2\x82\xac1 (({3}\r\nJ\xc3\xb6 NIL "j" "x.test")) NIL NIL NIL NIL NIL NIL NIL))\r\n' +
      '* LIST () "/" {8}\r\nfoo\r\nbar\r\n' +
      "* STATUS {5}\r\nINBOX (MESSAGES 1)\r\n",
    responses: 3,
    check: (r) => {
      assert.equal(fetchOf(r[0]).envelope!.subject, "Grüße €1");
      assert.deepEqual(fetchOf(r[0]).envelope!.from, [{ name: "Jö", address: "j@x.test" }]);
      assert.equal(as(r[1], "list").name, "foo\r\nbar");
      assert.equal(as(r[2], "status-response").mailbox, "INBOX");
    },
  },
  {
    name: "unknown and vendor responses kept as text",
    wire: crlf(
      '* QUOTAROOT INBOX ""',
      '* QUOTA "" (STORAGE 10 512)',
      "* METADATA INBOX (/private/comment NIL)",
      "* SORT 2 3 6",
      "* THREAD (2)(3 6 (4 23)(44 7 96))",
      '* XLIST (\\HasNoChildren \\Inbox) "/" "Inbox"',
      "* 5 XAPPLEPUSHSERVICE",
      '* OK [X-UNKNOWN-CODE with (lists "and]" strings)] text',
      "* OK [REFERRAL imap://user;AUTH=*@SERVER2/SHARED/FOO] Remote mailbox",
    ),
    responses: 9,
  },
  {
    name: "SASL continuations and an empty one",
    wire: crlf("+ ", "+ dGVzdA==", "+", "A1 OK [CAPABILITY IMAP4rev1 IDLE] Authenticated"),
    responses: 4,
  },
  {
    name: "IDLE updates",
    wire: crlf(
      "+ idling",
      "* 4 EXISTS",
      "* 1 RECENT",
      "* 2 FETCH (FLAGS (\\Seen \\Recent) UID 10)",
      "* 3 EXPUNGE",
      "A9 OK Idle completed (0.001 + 10.000 secs).",
    ),
    responses: 6,
  },
  {
    name: "bare LF line ends and blank lines (tolerated)",
    wire: "* 1 EXISTS\n\r\n* OK hi\nA1 OK done\n",
    responses: 3,
  },
];
