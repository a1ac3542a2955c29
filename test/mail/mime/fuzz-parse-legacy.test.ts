/**
 * Fuzzing the legacy paths of the parser (issue 21): encoded-words in stateful and unknown
 * charsets, UTF-7, single-byte tables, uuencode (declared and pasted into text), bare-CR
 * messages, broken multiparts and embedded messages parsed on demand. Whatever the input,
 * parsing throws nothing but `MailError`, finishes quickly on hostile shapes, and the decoders
 * are total.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { MailError } from "../../../src/errors.js";
import { decodeCharset } from "../../../src/mail/mime/charset.js";
import { decodeUtf7 } from "../../../src/mail/mime/charsets/utf7.js";
import { decodeEncodedWords } from "../../../src/mail/mime/encoded-word-decode.js";
import { MailMessage } from "../../../src/mail/mime/index.js";
import { decodeUuencodeBody, findUuBlocks } from "../../../src/mail/mime/parse/uuencode.js";

const RUNS = Number(process.env.FUZZ_RUNS ?? 1000);

function onlyMailErrors(run: () => unknown): void {
  try {
    run();
  } catch (error) {
    if (!(error instanceof MailError)) throw error;
  }
}

const pieces = fc.constantFrom(
  "\r\n",
  "\n",
  "\r",
  " ",
  "\t",
  "--b",
  "--b--",
  "Content-Type: multipart/mixed; boundary=b\r\n",
  "Content-Type: multipart/related\r\n",
  "Content-Type: message/rfc822\r\n",
  "Content-Type: text/plain; charset=utf-7\r\n",
  "Content-Type: text/plain; charset=windows-1252\r\n",
  "Content-Type: text/plain; charset=iso-2022-jp\r\n",
  "Content-Transfer-Encoding: x-uuencode\r\n",
  "Content-Disposition: attachment; filename==?utf-8?B?w6k=?=\r\n",
  'Content-Type: a/b; name*0="=?ISO-2022-JP?B?GyRCJUYbKEI=?="; name*1="=?x?Q?a?="\r\n',
  "Subject: =?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?= =?ISO-2022-JP?B?GyRC?=\r\n",
  "Subject: =?utf-7?Q?+AKM-?= =?NONE?B?w6k=?= =?Shift_JIS?B?gw==?=\r\n",
  "From  : Big Bug bb@bug.com <> a@b c@d (x)\r\n",
  "Date: Thursday, April 09, 2003 9:00 AM JST\r\n",
  "begin 644 f.bin\n",
  "M86)C9&5F9VAI:FML;6YO<'%R<W1U=G=X>7I!0D-$149'2$E*2TQ-3D]045)3\n",
  "#86)C\n",
  "`\n",
  "end\n",
  "+AKM-",
  "+",
  "=?",
  "?=",
  "\x1b$B",
  "\x1b(B",
  "\x80\x92\x9f",
  "\0",
  "\xff",
);

describe("fuzz: legacy parse paths", () => {
  it("MIME-shaped legacy junk throws nothing but MailError; embedded messages too", () => {
    fc.assert(
      fc.property(fc.array(pieces, { maxLength: 80 }), fc.boolean(), (list, asBytes) => {
        const text = list.join("");
        onlyMailErrors(() => {
          const m = MailMessage.parse(asBytes ? Buffer.from(text, "latin1") : text);
          for (const a of m.attachments) {
            if (a.contentType.startsWith("message/")) onlyMailErrors(() => a.message());
          }
          // Decoded text carries no CR/LF/NUL into headers a render would refuse as injection.
          assert.doesNotMatch(m.subject, /[\r\n\0]/);
        });
      }),
      { numRuns: RUNS },
    );
  });

  it("the decoders are total on arbitrary input", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.string({ maxLength: 200 }),
        fc.constantFrom("utf-7", "windows-1252", "iso-2022-jp", "shift_jis", "none", "koi8-r"),
        (bytes, text, charset) => {
          assert.equal(typeof decodeCharset(bytes, charset), "string");
          assert.equal(typeof decodeUtf7(bytes), "string");
          assert.equal(typeof decodeEncodedWords(text), "string");
          const uu = decodeUuencodeBody(bytes);
          assert.ok(uu.bytes.length <= bytes.length * 2 + 3);
          assert.ok(Array.isArray(findUuBlocks(text)));
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("the UTF-7 decoder never loses a surrogate pair or keeps a lone one", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const s = decodeUtf7(bytes);
        // No lone surrogate: a high one without a low one after it, or a low one alone.
        assert.doesNotMatch(
          s,
          /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/,
        );
      }),
      { numRuns: RUNS },
    );
  });

  it("hostile legacy shapes finish quickly and within bounds", () => {
    const mb = 1024 * 1024;
    const shapes = [
      // Many begin lines: one scan, nothing allocated per line.
      `Subject: s\r\n\r\n${"begin 644 a\n".repeat(mb / 12)}`,
      // A huge uu block without end.
      `Subject: s\r\n\r\nbegin 644 a\n${"M86)C9&5F9VAI:FML;6YO<'%R<W1U=G=X>7I!0D-$149'2$E*2TQ-3D]045)3\n".repeat(mb / 62)}`,
      // Damaged lines claiming 63 bytes each in a declared x-uuencode part.
      `Content-Transfer-Encoding: x-uuencode\r\n\r\nbegin 644 a\n${"_\n".repeat(mb / 2)}`,
      // Long blank runs in a begin line (a lazy or backtracking name pattern is quadratic).
      `Subject: s\r\n\r\nbegin 644 ${" ".repeat(mb / 4)}x\r\nend\r\n`,
      `Content-Transfer-Encoding: x-uuencode\r\n\r\nbegin 644 x${" \t".repeat(mb / 8)}y\n`,
      `Content-Type: text/plain; charset=utf-7\r\n\r\n${"+".repeat(mb)}`,
      `Content-Type: text/plain; charset=utf-7\r\n\r\n+${"A".repeat(mb)}`,
      `Subject: ${"=?ISO-2022-JP?B?GyRC?= ".repeat(10 * 1024)}\r\n\r\n`,
      `Subject: ${"=?x?Q?a?=".repeat(20 * 1024)}\r\n\r\n`,
      `To: ${"a@b ".repeat(50 * 1024)}\r\n\r\n`,
      `To: ${"word ".repeat(50 * 1024)}\r\n\r\n`,
      `Subject: s${"\r".repeat(mb)}`,
      `Date: ${"Thursday ".repeat(20)}\r\n\r\n`,
    ];
    // A quadratic path would not finish within the test runner's timeout.
    for (const shape of shapes) onlyMailErrors(() => MailMessage.parse(shape));
  });
});
