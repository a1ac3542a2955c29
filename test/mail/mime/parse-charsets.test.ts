/**
 * Charsets and RFC 2047 encoded-words as mail from many clients carries them: ISO-2022-JP
 * subjects folded into several words, multibyte characters split across words, the windows-125x
 * family's 0x80–0x9F, UTF-7, and words in unknown charsets. The single-byte tables and the UTF-7
 * decoder are checked against Python's codecs.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import fc from "fast-check";
import { decodeCharset, knownCharset } from "../../../src/mail/mime/charset.js";
import { SINGLE_BYTE_TABLES } from "../../../src/mail/mime/charsets/single-byte-tables.js";
import { decodeUtf7 } from "../../../src/mail/mime/charsets/utf7.js";
import { decodeEncodedWords } from "../../../src/mail/mime/encoded-word-decode.js";
import { MailMessage } from "../../../src/mail/mime/index.js";
import { serverSkip } from "../../servers/common.js";

const b64 = (bytes: Uint8Array | string, encoding: BufferEncoding = "latin1"): string =>
  (typeof bytes === "string" ? Buffer.from(bytes, encoding) : Buffer.from(bytes)).toString(
    "base64",
  );
/** ISO-2022-JP bytes of a katakana/kanji text, via Python-free known encodings. */
const TESUTO = "\x1b$B%F%9%H\x1b(B"; // テスト
const MESSEJI = "\x1b$B%a%C%;!<%8\x1b(B"; // メッセージ
const jis = (s: string): string => `=?ISO-2022-JP?B?${b64(s)}?=`;

describe("RFC 2047 encoded-words in a stateful charset decode one by one (§6.2)", () => {
  it("an ISO-2022-JP subject folded into several words, as Japanese MUAs write it", () => {
    // Each word returns to ASCII (ESC ( B) and the next starts with ESC $ B: joined as bytes,
    // the two escapes in a row are an error for the decoder (U+FFFD, `テスト�テスト`).
    assert.equal(decodeEncodedWords(`${jis(TESUTO)} ${jis(TESUTO)}`), "テストテスト");
    const m = MailMessage.parse(
      `Subject: ${jis(TESUTO)}\r\n\t${jis(MESSEJI)}\r\n ${jis(TESUTO)}\r\nFrom: x@example.jp\r\n\r\nbody`,
    );
    assert.equal(m.subject, "テストメッセージテスト");
    assert.ok(!m.subject.includes("\uFFFD"));
  });

  it("an ISO-2022-JP string a sender cut in the middle of a shifted run is joined", () => {
    // No ESC ( B at the end of the first word, no escape at the start of the second: the
    // second word's bytes only mean テスト's last character in the first word's state.
    const first = `=?ISO-2022-JP?B?${b64("\x1b$B%F%9")}?=`;
    const second = `=?ISO-2022-JP?B?${b64("%H\x1b(B")}?=`;
    assert.equal(decodeEncodedWords(`${first} ${second}`), "テスト");
    // A word back in ASCII is never joined with the next.
    assert.equal(decodeEncodedWords(`${jis(TESUTO)} =?ISO-2022-JP?B?${b64("abc")}?=`), "テストabc");
  });

  it("in display names and in filenames (quoted RFC 2047, RFC 2231 continuations)", () => {
    const m = MailMessage.parse(
      [
        `From: ${jis(TESUTO)} ${jis(MESSEJI)} <taro@example.jp>`,
        'Content-Type: multipart/mixed; boundary="b"',
        "",
        "--b",
        "Content-Type: text/plain",
        "",
        "body",
        "--b",
        `Content-Type: application/octet-stream; name="${jis(TESUTO)} ${jis(MESSEJI)}.txt"`,
        "Content-Disposition: attachment;",
        ` filename*0="${jis(TESUTO)}";`,
        ` filename*1="${jis(MESSEJI)}.txt"`,
        "",
        "x",
        "--b",
        `Content-Type: application/octet-stream; name=${jis(TESUTO)}`,
        "",
        "y",
        "--b--",
      ].join("\r\n"),
    );
    assert.deepEqual(m.sender, { name: "テストメッセージ", address: "taro@example.jp" });
    assert.equal(m.attachments[0].filename, "テストメッセージ.txt");
    // An encoded-word left unquoted in a parameter (not allowed, but written) is decoded too.
    assert.equal(m.attachments[1].filename, "テスト");
  });

  it("joins bytes where a stateless multibyte character was split across two words", () => {
    // "é" (C3 A9) split between two UTF-8 words; "テ" (83 65) split between Shift_JIS words;
    // "ス" (A5 B9) split between EUC-JP words; GB18030 "中" (D6 D0).
    assert.equal(decodeEncodedWords("=?utf-8?Q?caf=C3?= =?utf-8?Q?=A9?="), "café");
    assert.equal(decodeEncodedWords("=?Shift_JIS?B?gw==?= =?Shift_JIS?B?ZYNYg2c=?="), "テスト");
    assert.equal(decodeEncodedWords("=?EUC-JP?Q?=A5=C6=A5?=\r\n =?EUC-JP?Q?=B9=A5=C8?="), "テスト");
    assert.equal(decodeEncodedWords("=?GB18030?B?1g==?= =?GB18030?B?0A==?="), "中");
  });

  it("keeps the whitespace between an encoded-word and plain text, drops it between words", () => {
    assert.equal(decodeEncodedWords("a =?utf-8?Q?b?= c"), "a b c");
    assert.equal(decodeEncodedWords("=?utf-8?Q?b?=  \t =?utf-8?Q?c?="), "bc");
    assert.equal(decodeEncodedWords(`${jis(TESUTO)} plain ${jis(TESUTO)}`), "テスト plain テスト");
  });

  it("reads unknown charsets and =?NONE?= as UTF-8 when valid, else Latin-1", () => {
    assert.equal(decodeEncodedWords(`=?NONE?B?${b64("Grüße", "utf8")}?=`), "Grüße");
    assert.equal(decodeEncodedWords("=?x-unknown?Q?Gr=FC=DFe?="), "Grüße");
    assert.equal(decodeEncodedWords("=?unknown-8bit?Q?caf=C3=A9?="), "café");
  });
});

describe("single-byte charsets from tables of our own", () => {
  const windows1252 = Uint8Array.from([0x80, 0x92, 0x93, 0x94, 0x96, 0x97, 0x85, 0xe9]);

  it("windows-1252 maps 0x80–0x9F to the characters people typed", () => {
    // Node 20's TextDecoder returns C1 controls here on some 20.x releases; this must not.
    assert.equal(decodeCharset(windows1252, "windows-1252"), "€’“”–—…é");
    // Labels that mean windows-1252 (WHATWG): iso-8859-1, latin1, cp1252, us-ascii.
    for (const label of ["iso-8859-1", "latin1", "CP1252", "x-cp1252", "win-1252"]) {
      assert.equal(decodeCharset(windows1252, label), "€’“”–—…é", label);
    }
  });

  it("in a message body and in encoded-words", () => {
    const raw = Buffer.concat([
      Buffer.from(
        "Subject: =?windows-1252?Q?It=92s_=80_5_=96_ok?=\r\nContent-Type: text/plain; charset=windows-1252\r\nContent-Transfer-Encoding: 8bit\r\n\r\n",
      ),
      Buffer.from([0x93, 0x48, 0x69, 0x94, 0x20, 0x80, 0x35]),
    ]);
    const m = MailMessage.parse(raw);
    assert.equal(m.subject, "It’s € 5 – ok");
    assert.equal(m.textContent, "“Hi” €5");
  });

  it("windows-1250/1251, ISO-8859-2/15/16, KOI8-R", () => {
    assert.equal(decodeCharset(Uint8Array.from([0x8a, 0x9a, 0xb9]), "windows-1250"), "Šš\u0105");
    assert.equal(decodeCharset(Uint8Array.from([0xcf, 0xf0, 0xe8, 0x88]), "windows-1251"), "При€");
    assert.equal(decodeCharset(Uint8Array.from([0xa1, 0xb1]), "iso-8859-2"), "Ąą");
    assert.equal(decodeCharset(Uint8Array.from([0xa4]), "iso-8859-15"), "€");
    assert.equal(decodeCharset(Uint8Array.from([0xa1, 0xaa]), "ISO_8859-16"), "ĄȘ");
    assert.equal(decodeCharset(Uint8Array.from([0xf0, 0xd2, 0xc9]), "koi8-r"), "При");
    assert.ok(knownCharset("iso-8859-16"));
  });

  it("every table agrees with Python's codecs byte for byte", {
    skip: serverSkip("/usr/bin/python3", "python3"),
  }, () => {
    const script = `
import json, sys
names = json.load(sys.stdin)
codec = {"windows-%s" % n: "cp%s" % n for n in (874, 1250, 1251, 1252, 1253, 1254, 1255, 1256, 1257, 1258)}
codec.update({"koi8-r": "koi8_r", "koi8-u": "koi8_u", "ibm866": "cp866", "macintosh": "mac_roman"})
out = {}
for name in names:
    c = codec.get(name, name.replace("-", "_", 2).replace("iso_8859_", "iso8859_"))
    row = []
    for b in range(256):
        try: row.append(bytes([b]).decode(c))
        except UnicodeDecodeError: row.append(None)
    out[name] = row
print(json.dumps(out))`;
    const names = Object.keys(SINGLE_BYTE_TABLES);
    assert.ok(names.length >= 20);
    const r = spawnSync("/usr/bin/python3", ["-c", script], {
      input: JSON.stringify(names),
      encoding: "utf8",
    });
    assert.equal(r.status, 0, r.stderr);
    const python = JSON.parse(r.stdout) as Record<string, (string | null)[]>;
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    for (const name of names) {
      const ours = Array.from(decodeCharset(all, name));
      assert.equal(ours.length, 256, name);
      for (let b = 0; b < 256; b++) {
        // Bytes Python leaves undefined: C1 control below 0xA0 (WHATWG), else U+FFFD.
        const want = python[name][b] ?? (b < 0xa0 ? String.fromCharCode(b) : "\uFFFD");
        assert.equal(ours[b], want, `${name} 0x${b.toString(16)}`);
      }
    }
  });
});

describe("UTF-7 (RFC 2152)", () => {
  it("decodes the RFC's examples and its edge cases", () => {
    const u7 = (s: string): string => decodeUtf7(Buffer.from(s, "latin1"));
    assert.equal(u7("A+ImIDkQ."), "A≢Α.");
    assert.equal(u7("Hi Mom -+Jjo--!"), "Hi Mom -☺-!");
    assert.equal(u7("+ZeVnLIqe-"), "日本語");
    assert.equal(u7("Item 3 is +AKM-1."), "Item 3 is £1.");
    assert.equal(u7("1 +- 1 = 2"), "1 + 1 = 2");
    assert.equal(u7("+2D3eAA-"), "😀"); // a surrogate pair
    assert.equal(u7("+2D0-x"), "\uFFFDx"); // a lone high surrogate
    assert.equal(u7("trailing +"), "trailing ");
  });

  it("in a body (charset=utf-7) and in an encoded-word", () => {
    const m = MailMessage.parse(
      "Subject: =?utf-7?Q?Hi_+AKM-1?=\r\nContent-Type: text/plain; charset=utf-7\r\n\r\nA+ImIDkQ. +ZeVnLIqe-\r\n",
    );
    assert.equal(m.subject, "Hi £1");
    assert.equal(m.textContent, "A≢Α. 日本語\n");
  });

  it("agrees with Python's utf-7 codec on random text", {
    skip: serverSkip("/usr/bin/python3", "python3"),
  }, () => {
    const samples: string[] = [];
    let seed = 7;
    const next = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    const alphabet = "aZ09 +-/.=~!\\\n日本語€😀ü\u00a3";
    const chars = Array.from(alphabet);
    for (let i = 0; i < 200; i++) {
      let s = "";
      for (let k = next() % 30; k > 0; k--) s += chars[next() % chars.length];
      samples.push(s);
    }
    const r = spawnSync(
      "/usr/bin/python3",
      [
        "-c",
        "import json,sys,base64; print(json.dumps([base64.b64encode(s.encode('utf-7')).decode() for s in json.load(sys.stdin)]))",
      ],
      { input: JSON.stringify(samples), encoding: "utf8" },
    );
    assert.equal(r.status, 0, r.stderr);
    const encoded = JSON.parse(r.stdout) as string[];
    for (const [i, text] of samples.entries()) {
      assert.equal(decodeUtf7(Buffer.from(encoded[i], "base64")), text, JSON.stringify(text));
    }
  });
});

describe("UTF-8 bodies (long texts take a faster path than short ones)", () => {
  // Long enough for the ICU path: kana, emoji (surrogate pairs), a BOM, NUL and ASCII.
  const piece = fc.constantFrom("日本語の本文", "😀", "\ufeff", "\u0000", "abc ", "é", "\r\n");
  const longText = fc.array(piece, { minLength: 200, maxLength: 400 }).map((a) => a.join(""));

  it("valid UTF-8 decodes to exactly the text that was encoded", () => {
    fc.assert(
      fc.property(longText, (text) => {
        assert.equal(decodeCharset(Buffer.from(text, "utf8"), "utf-8"), text);
      }),
    );
  });

  it("bad sequences anywhere in a long text become U+FFFD, as Node's own UTF-8 decoder makes them", () => {
    const bad = fc.constantFrom([0xff], [0xe3, 0x81], [0xed, 0xa0, 0x80], [0xc0, 0xaf], [0xf0]);
    fc.assert(
      fc.property(longText, bad, fc.nat(), (text, junk, at) => {
        const bytes = Buffer.from(text, "utf8");
        const cut = at % (bytes.length + 1);
        const mixed = Buffer.concat([
          bytes.subarray(0, cut),
          Buffer.from(junk),
          bytes.subarray(cut),
        ]);
        assert.equal(decodeCharset(mixed, "utf-8"), mixed.toString("utf8"));
      }),
    );
  });

  it("a long body in UTF-8 keeps its text through the parser", () => {
    const text = "本日は晴天なり。\n".repeat(200);
    const raw = `Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n${Buffer.from(text).toString("base64")}\r\n`;
    assert.equal(MailMessage.parse(raw).textContent, text);
  });
});
