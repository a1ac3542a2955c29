import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { IMAPError } from "../../../../src/errors.js";
import {
  chunkSequenceSet,
  compileSearch,
  decodeMailboxName,
  decodeModifiedUTF7,
  type EncodeOptions,
  encodeMailboxName,
  encodeModifiedUTF7,
  encodeString,
  formatIMAPDate,
  formatIMAPDateTime,
  joinCommandParts,
  parseSequenceSet,
  sequenceSet,
  validateFlag,
} from "../../../../src/mail/imap/codec/index.js";

const plain: EncodeOptions = { literalPlus: false, literalMinus: false, utf8: false };
const plus: EncodeOptions = { literalPlus: true, literalMinus: false, utf8: false };
const minus: EncodeOptions = { literalPlus: false, literalMinus: true, utf8: false };
const utf8: EncodeOptions = { literalPlus: false, literalMinus: false, utf8: true };

function invalid(e: unknown): boolean {
  return e instanceof IMAPError && e.code === "IMAP_INVALID_ARGUMENT";
}
const bytes = (s: string) => new Uint8Array(Buffer.from(s));

describe("encodeString: atom, quoted or literal (RFC 9051 §4.3)", () => {
  it("uses an atom for astrings made of ASTRING-CHARs only, never for NIL or empty", () => {
    assert.deepEqual(encodeString("INBOX.Sent]", plain, "astring"), ["INBOX.Sent]"]);
    assert.deepEqual(encodeString("user@example.com", plain, "astring"), ["user@example.com"]);
    assert.deepEqual(encodeString("nil", plain, "astring"), ['"nil"']);
    assert.deepEqual(encodeString("", plain, "astring"), ['""']);
    assert.deepEqual(encodeString("plain", plain), ['"plain"']); // string, not astring
  });

  it('quotes printable text with atom-specials, escaping " and \\', () => {
    assert.deepEqual(encodeString("two words", plain, "astring"), ['"two words"']);
    assert.deepEqual(encodeString('a"b\\c', plain, "astring"), ['"a\\"b\\\\c"']);
    for (const special of ["(", ")", "{", "%", "*", "\\", '"']) {
      assert.equal(typeof encodeString(`x${special}y`, plain, "astring")[0], "string");
      assert.notEqual(encodeString(`x${special}y`, plain, "astring")[0], `x${special}y`);
    }
  });

  it("sends control characters (TAB, ESC, DEL) as literals", () => {
    for (const control of ["\t", "\x1b", "\x7f"]) {
      assert.deepEqual(encodeString(`a${control}b`, utf8, "astring"), [
        { literal: bytes(`a${control}b`), nonSync: false },
      ]);
    }
  });

  it("sends 8-bit text as a literal unless UTF-8 is on, then quoted", () => {
    assert.deepEqual(encodeString("Grüße", plain), [{ literal: bytes("Grüße"), nonSync: false }]);
    assert.deepEqual(encodeString("Grüße", utf8), ['"Grüße"']);
    // bytes the caller gave are not known to be UTF-8: always a literal when 8-bit
    assert.deepEqual(encodeString(new Uint8Array([0xff, 0x41]), utf8), [
      { literal: new Uint8Array([0xff, 0x41]), nonSync: false },
    ]);
  });

  it("picks non-synchronizing literals per LITERAL+ and LITERAL- (RFC 7888)", () => {
    const big = "é".repeat(3000); // 6000 bytes
    const small = "é".repeat(10);
    assert.equal((encodeString(small, plus)[0] as { nonSync: boolean }).nonSync, true);
    assert.equal((encodeString(big, plus)[0] as { nonSync: boolean }).nonSync, true);
    assert.equal((encodeString(small, minus)[0] as { nonSync: boolean }).nonSync, true);
    assert.equal((encodeString(big, minus)[0] as { nonSync: boolean }).nonSync, false);
    assert.equal((encodeString(small, plain)[0] as { nonSync: boolean }).nonSync, false);
  });

  it("long printable strings go as literals", () => {
    const long = "a b".repeat(400);
    assert.deepEqual(encodeString(long, plain), [{ literal: bytes(long), nonSync: false }]);
  });

  it("refuses CR, LF and NUL in any argument before anything is produced", () => {
    for (const bad of ["a\rb", "a\nb", "a\0b", "\r\n", "x\r\nA2 LOGOUT"]) {
      assert.throws(() => encodeString(bad, plus), invalid);
      assert.throws(() => encodeString(bytes(bad), plus), invalid);
      assert.throws(() => encodeMailboxName(`Box${bad}`, plain), invalid);
      assert.throws(() => encodeMailboxName(`Box${bad}`, utf8), invalid);
      assert.throws(() => validateFlag(`$Flag${bad}`), invalid);
      assert.throws(() => compileSearch({ subject: bad }, plain), invalid);
      assert.throws(() => compileSearch({ raw: `ALL${bad}` }, plain), invalid);
      assert.throws(() => compileSearch(`ALL${bad}`, plain), invalid);
    }
  });

  it("never lets CR/LF/NUL through, for any string (property)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (s) => {
        let parts: ReturnType<typeof encodeString>;
        try {
          parts = encodeString(s, plain, "astring");
        } catch (e) {
          assert.ok(invalid(e));
          assert.match(s, /[\r\n\0]/);
          return;
        }
        for (const p of parts) {
          const text = typeof p === "string" ? p : Buffer.from(p.literal).toString("latin1");
          assert.doesNotMatch(text, /[\r\n\0]/);
        }
      }),
    );
  });
});

describe("mailbox names: modified UTF-7 (RFC 3501 §5.1.3) and UTF-8", () => {
  it("encodes and decodes the RFC 3501 example", () => {
    assert.equal(encodeModifiedUTF7("~peter/mail/台北/日本語"), "~peter/mail/&U,BTFw-/&ZeVnLIqe-");
    assert.equal(decodeModifiedUTF7("~peter/mail/&U,BTFw-/&ZeVnLIqe-"), "~peter/mail/台北/日本語");
  });

  it("writes & as &- and handles non-BMP characters (surrogate pairs)", () => {
    assert.equal(encodeModifiedUTF7("Tom & Jerry"), "Tom &- Jerry");
    assert.equal(decodeModifiedUTF7("Tom &- Jerry"), "Tom & Jerry");
    const emoji = "Fun 😀 stuff";
    const wire = encodeModifiedUTF7(emoji);
    assert.match(wire, /^Fun &[A-Za-z0-9+,]+- stuff$/);
    assert.equal(decodeModifiedUTF7(wire), emoji);
    assert.equal(encodeModifiedUTF7("Entwürfe"), "Entw&APw-rfe");
  });

  it("round-trips any string (property)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme" }), (s) => {
        const wire = encodeModifiedUTF7(s);
        assert.match(wire, /^[\x20-\x7e]*$/);
        assert.equal(decodeModifiedUTF7(wire), s);
      }),
    );
  });

  it("returns malformed names as they came, never throwing", () => {
    for (const bad of ["&", "a&b", "&U,BTFw", "&!!-", "&A-", "&AEE-"]) {
      assert.equal(decodeModifiedUTF7(bad), bad);
    }
    fc.assert(fc.property(fc.string(), (s) => typeof decodeModifiedUTF7(s) === "string"));
  });

  it("decodeMailboxName decodes only outside UTF-8 mode", () => {
    assert.equal(decodeMailboxName("&ZeVnLIqe-", false), "日本語");
    assert.equal(decodeMailboxName("&ZeVnLIqe-", true), "&ZeVnLIqe-");
  });

  it("encodeMailboxName: INBOX in any case, mUTF-7 or UTF-8, quoted when needed", () => {
    assert.deepEqual(encodeMailboxName("inbox", plain), ["INBOX"]);
    assert.deepEqual(encodeMailboxName("日本語", plain), ["&ZeVnLIqe-"]);
    assert.deepEqual(encodeMailboxName("日本語", utf8), ['"日本語"']);
    assert.deepEqual(encodeMailboxName("Sent Items", plain), ['"Sent Items"']);
    assert.deepEqual(encodeMailboxName("Tom & Jerry", plain), ['"Tom &- Jerry"']);
  });
});

describe("sequence sets", () => {
  it("compresses sorted, deduplicated numbers into ranges", () => {
    assert.equal(sequenceSet([9, 1, 2, 3, 4, 5, 7, 10, 3]), "1:5,7,9:10");
    assert.equal(sequenceSet(new Set([42])), "42");
    assert.throws(() => sequenceSet([]), invalid);
    assert.throws(() => sequenceSet([0]), invalid);
    assert.throws(() => sequenceSet([1.5]), invalid);
    assert.throws(() => sequenceSet([2 ** 32]), invalid);
  });

  it("parses sets in written order, bounded, refusing * and junk", () => {
    assert.deepEqual(parseSequenceSet("1:3,7"), [1, 2, 3, 7]);
    assert.deepEqual(parseSequenceSet("319:320,304"), [319, 320, 304]);
    assert.deepEqual(parseSequenceSet("4:2"), [2, 3, 4]);
    for (const bad of ["", "*", "1:*", "1,,2", "a", "1:2:3", "0", " 1"]) {
      assert.throws(() => parseSequenceSet(bad), invalid, bad);
    }
    assert.throws(() => parseSequenceSet("1:4294967295"), invalid);
    assert.throws(() => parseSequenceSet("1:10", 5), invalid);
  });

  it("round-trips (property)", () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: 5000 }), { minLength: 1 }), (list) => {
        const sorted = [...list].sort((a, b) => a - b);
        assert.deepEqual(parseSequenceSet(sequenceSet(list)), sorted);
      }),
    );
  });

  it("chunks into sets of at most n numbers", () => {
    assert.deepEqual(chunkSequenceSet([1, 2, 3, 4, 5, 8, 9, 20], 3), ["1:3", "4:5,8", "9,20"]);
    assert.deepEqual(chunkSequenceSet([], 3), []);
    assert.throws(() => chunkSequenceSet([1], 0), invalid);
  });
});

describe("dates and flags", () => {
  it("formats SEARCH dates and APPEND date-times in UTC", () => {
    const d = new Date(Date.UTC(2026, 1, 7, 3, 4, 5));
    assert.equal(formatIMAPDate(d), "7-Feb-2026");
    assert.equal(formatIMAPDateTime(d), "07-Feb-2026 03:04:05 +0000");
    assert.throws(() => formatIMAPDate(new Date(Number.NaN)), invalid);
  });

  it("validates flags: system flags, keywords; refuses specials and 8-bit", () => {
    for (const ok of ["\\Seen", "\\Answered", "$Forwarded", "$Label1", "NonJunk"]) {
      assert.equal(validateFlag(ok), ok);
    }
    for (const bad of ["", "\\", "two words", "a(b", "\\*", "x]", "ü", 'a"b', "a%"]) {
      assert.throws(() => validateFlag(bad), invalid, bad);
    }
  });
});

describe("compileSearch (RFC 9051 §6.4.4)", () => {
  it("compiles flags, dates, sizes, sets and strings, ANDed in order", () => {
    const r = compileSearch(
      {
        unseen: true,
        flagged: false,
        from: "alice@example.com",
        subject: "weekly report",
        since: new Date(Date.UTC(2024, 0, 2)),
        larger: 1000,
        uid: [1, 2, 3, 10],
        keyword: ["$Work", "$Urgent"],
        header: { "X-Mailer": "mtaio" },
        modseq: 720162338n,
      },
      plain,
    );
    assert.deepEqual(r, {
      parts: [
        'UNSEEN NOT FLAGGED FROM alice@example.com SUBJECT "weekly report" SINCE 2-Jan-2024 LARGER 1000 UID 1:3,10 KEYWORD $Work KEYWORD $Urgent HEADER X-Mailer mtaio MODSEQ 720162338',
      ],
      charset: false,
    });
  });

  it("OR and NOT group their criteria in parentheses", () => {
    assert.deepEqual(
      compileSearch({ or: [{ from: "a" }, { to: "b", seen: true }], not: { deleted: true } }, plain)
        .parts,
      ["OR (FROM a) (TO b SEEN) NOT (DELETED)"],
    );
    assert.deepEqual(compileSearch({}, plain).parts, ["ALL"]);
    assert.deepEqual(compileSearch({ seq: "1:*" }, plain).parts, ["1:*"]);
  });

  it("non-ASCII text: a UTF-8 literal and the charset flag, or quoted in UTF-8 mode", () => {
    const r = compileSearch({ subject: "Grüße", seen: true }, plain);
    assert.equal(r.charset, true);
    assert.deepEqual(r.parts, ["SUBJECT ", { literal: bytes("Grüße"), nonSync: false }, " SEEN"]);
    const p = compileSearch({ or: [{ body: "naïve" }, { text: "x" }] }, plus);
    assert.deepEqual(p.parts, [
      "OR (BODY ",
      { literal: bytes("naïve"), nonSync: true },
      ") (TEXT x)",
    ]);
    assert.deepEqual(compileSearch({ subject: "Grüße" }, utf8), {
      parts: ['SUBJECT "Grüße"'],
      charset: false,
    });
  });

  it("raw strings pass through when safe", () => {
    assert.deepEqual(compileSearch("UNSEEN SINCE 1-Jan-2024", plain), {
      parts: ["UNSEEN SINCE 1-Jan-2024"],
      charset: false,
    });
    assert.deepEqual(
      compileSearch({ raw: 'X-GM-RAW "has:attachment"', seen: false }, plain).parts,
      ['X-GM-RAW "has:attachment" NOT SEEN'],
    );
    assert.throws(() => compileSearch("SUBJECT ü", plain), invalid);
  });

  it("unknown keys and bad values are IMAP_INVALID_ARGUMENT", () => {
    const bad: unknown[] = [
      { nonsense: true },
      { seen: "yes" },
      { since: "2024-01-01" },
      { larger: -1 },
      { uid: "1:2;3" },
      { keyword: "\\Seen" },
      { or: [{ seen: true }] },
      { modseq: 5 },
    ];
    for (const criteria of bad) {
      assert.throws(
        () => compileSearch(criteria as never, plain),
        invalid,
        JSON.stringify(criteria),
      );
    }
  });

  it("joinCommandParts merges text and keeps literals apart", () => {
    const lit = { literal: bytes("x"), nonSync: false };
    assert.deepEqual(joinCommandParts(["A"], [lit], ["B", "C"], []), ["A ", lit, " BC"]);
  });
});

describe("nothing from an argument can reach the wire as CR, LF or NUL (property)", () => {
  const text = fc.string({ unit: "binary", maxLength: 40 });
  const criteria = fc.record(
    {
      subject: text,
      from: text,
      body: text,
      header: fc.dictionary(text, text, { maxKeys: 2 }),
      keyword: text,
      raw: text,
      not: fc.record({ text: text }, { requiredKeys: [] }),
    },
    { requiredKeys: [] },
  );
  const modes = fc.record({
    literalPlus: fc.boolean(),
    literalMinus: fc.boolean(),
    utf8: fc.boolean(),
  });

  it("compileSearch: an IMAPError or text parts free of CR/LF/NUL", () => {
    fc.assert(
      fc.property(criteria, modes, (c, options) => {
        let parts: ReturnType<typeof compileSearch>["parts"];
        try {
          parts = compileSearch(c, options).parts;
        } catch (e) {
          assert.ok(invalid(e), String(e));
          return;
        }
        for (const p of parts) {
          const bytesOut = typeof p === "string" ? Buffer.from(p) : Buffer.from(p.literal);
          assert.equal(
            bytesOut.includes(0x0d) || bytesOut.includes(0x0a) || bytesOut.includes(0),
            false,
          );
        }
      }),
      { numRuns: 500 },
    );
  });

  it("encodeMailboxName and validateFlag: an IMAPError or safe output", () => {
    fc.assert(
      fc.property(text, modes, (name, options) => {
        try {
          for (const p of encodeMailboxName(name, options)) {
            const out = typeof p === "string" ? p : Buffer.from(p.literal).toString("latin1");
            assert.doesNotMatch(out, /[\r\n\0]/);
          }
        } catch (e) {
          assert.ok(invalid(e), String(e));
        }
        try {
          assert.doesNotMatch(validateFlag(name), /[\r\n\0 ()"{]/);
        } catch (e) {
          assert.ok(invalid(e), String(e));
        }
      }),
      { numRuns: 500 },
    );
  });
});
