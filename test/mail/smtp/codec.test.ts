import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { MailError, SMTPError } from "../../../src/errors.js";
import { assertSafeArgument } from "../../../src/mail/arguments.js";
import {
  assertEnvelopeAddress,
  mailCommand,
  rcptCommand,
  xtext,
} from "../../../src/mail/smtp/commands.js";
import { BodyEncoder, encodeBody } from "../../../src/mail/smtp/data-encoder.js";
import { invalidArgument } from "../../../src/mail/smtp/errors.js";
import {
  formatReply,
  parseCapabilities,
  parseReplyLine,
  ReplyAssembler,
  type SMTPReply,
} from "../../../src/mail/smtp/reply.js";

function parseAll(text: string, assembler = new ReplyAssembler()): SMTPReply[] {
  const replies: SMTPReply[] = [];
  for (const line of text.split("\r\n").slice(0, -1)) {
    const reply = assembler.push(line);
    if (reply) replies.push(reply);
  }
  return replies;
}

describe("SMTP reply codec (RFC 5321 §4.2)", () => {
  it("parses single and multi-line replies with enhanced status codes", () => {
    const [reply] = parseAll(
      "250-mx.example.com hello\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-AUTH PLAIN LOGIN\r\n250 ENHANCEDSTATUSCODES\r\n",
    );
    assert.equal(reply.code, 250);
    assert.equal(reply.lines.length, 5);
    const caps = parseCapabilities(reply);
    assert.deepEqual(caps.get("SIZE"), ["10240000"]);
    assert.deepEqual(caps.get("AUTH"), ["PLAIN", "LOGIN"]);
    assert.ok(caps.has("PIPELINING"));

    const [rejected] = parseAll(
      "550-5.1.1 The email account does not exist.\r\n550 5.1.1 Try again\r\n",
    );
    assert.equal(rejected.code, 550);
    assert.equal(rejected.enhancedStatus, "5.1.1");
    assert.deepEqual(rejected.lines, ["The email account does not exist.", "Try again"]);
  });

  it("accepts a bare code and ignores an enhanced status whose class disagrees with the code", () => {
    assert.deepEqual(parseReplyLine("250"), { code: 250, last: true, text: "" });
    const [reply] = parseAll("250 5.1.1 odd\r\n");
    assert.equal(reply.enhancedStatus, undefined);
    assert.equal(reply.text, "5.1.1 odd");
  });

  it("treats AUTH=LOGIN as AUTH", () => {
    const [reply] = parseAll("250-hi\r\n250-AUTH=LOGIN PLAIN\r\n250 AUTH CRAM-MD5\r\n");
    assert.deepEqual(parseCapabilities(reply).get("AUTH"), ["LOGIN", "PLAIN", "CRAM-MD5"]);
  });

  it("rejects malformed lines and code changes inside a reply with SMTP_MALFORMED_REPLY", () => {
    for (const bad of ["", "25", "abc hello", "250_oops", "650 nope", "2x0 x", "199 too low"]) {
      assert.throws(
        () => parseReplyLine(bad),
        (e: unknown) => e instanceof SMTPError && e.code === "SMTP_MALFORMED_REPLY",
        bad,
      );
    }
    const assembler = new ReplyAssembler();
    assembler.push("250-first");
    assert.throws(() => assembler.push("251 second"), { code: "SMTP_MALFORMED_REPLY" });
    // The assembler recovers for the next reply.
    assert.equal(assembler.push("250 ok")?.code, 250);
  });

  it("caps the number of lines and bytes of a reply", () => {
    const assembler = new ReplyAssembler({ maxLines: 5, maxReplyBytes: 1000 });
    assert.throws(() => parseAll(`${"250-x\r\n".repeat(10)}250 x\r\n`, assembler), {
      code: "SMTP_REPLY_TOO_LARGE",
    });
    const small = new ReplyAssembler({ maxLines: 100, maxReplyBytes: 100 });
    assert.throws(() => small.push(`250-${"x".repeat(200)}`), { code: "SMTP_REPLY_TOO_LARGE" });
  });

  it("fuzz: any input line either parses or fails with an SMTPError, never anything else", () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: "binary", maxLength: 300 }), { maxLength: 30 }),
        (lines) => {
          const assembler = new ReplyAssembler({ maxLines: 10, maxReplyBytes: 2000 });
          for (const line of lines) {
            try {
              const reply = assembler.push(line);
              if (reply) {
                assert.ok(reply.code >= 200 && reply.code <= 559);
                assert.equal(reply.text, reply.lines.join("\n"));
              }
            } catch (error) {
              assert.ok(error instanceof SMTPError, String(error));
              assert.match(error.code, /^SMTP_(MALFORMED_REPLY|REPLY_TOO_LARGE)$/);
            }
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("fuzz: formatted replies round-trip", () => {
    const code = fc.tuple(
      fc.integer({ min: 2, max: 5 }),
      fc.integer({ min: 0, max: 5 }),
      fc.integer({ min: 0, max: 9 }),
    );
    const text = fc.string({ maxLength: 60 }).filter((s) => !/[\r\n]/.test(s));
    fc.assert(
      fc.property(code, fc.array(text, { minLength: 1, maxLength: 8 }), ([a, b, c], lines) => {
        const n = a * 100 + b * 10 + c;
        const replies = parseAll(formatReply(n, lines));
        assert.equal(replies.length, 1);
        assert.equal(replies[0].code, n);
        if (replies[0].enhancedStatus === undefined) assert.deepEqual(replies[0].lines, lines);
      }),
      { numRuns: 1000 },
    );
  });
});

describe("SMTP body encoder: dot-stuffing and line-end normalising", () => {
  const enc = (s: string) =>
    Buffer.from(encodeBody(Buffer.from(s, "latin1"), true)).toString("latin1");

  it("doubles leading dots and terminates with CRLF.CRLF", () => {
    assert.equal(enc("a\r\n.b\r\n..c\r\n"), "a\r\n..b\r\n...c\r\n.\r\n");
    assert.equal(enc(".first"), "..first\r\n.\r\n");
    assert.equal(enc(""), ".\r\n");
  });

  it("turns lone LF and lone CR into CRLF, so '\\n.\\n' cannot end DATA (no SMTP smuggling)", () => {
    assert.equal(enc("a\n.\nMAIL FROM:<x>\n"), "a\r\n..\r\nMAIL FROM:<x>\r\n.\r\n");
    assert.equal(enc("a\r.\rb"), "a\r\n..\r\nb\r\n.\r\n");
    assert.equal(enc("a\r\n.\r\nQUIT\r\n"), "a\r\n..\r\nQUIT\r\n.\r\n");
  });

  it("keeps state across chunk boundaries", () => {
    const encoder = new BodyEncoder({ dotStuff: true });
    const parts = ["a\r", "\n.", "b\r", "x\n", "."].map((p) => Buffer.from(p));
    const out = Buffer.concat([...parts.map((p) => encoder.push(p)), encoder.end()]).toString();
    assert.equal(out, "a\r\n..b\r\nx\r\n..\r\n.\r\n");
  });

  it("does not dot-stuff for BDAT but still normalises line ends", () => {
    assert.equal(Buffer.from(encodeBody(Buffer.from(".a\nb"), false)).toString(), ".a\r\nb\r\n");
  });

  it("fuzz: output has no lone CR/LF, ends DATA exactly once, and un-stuffs to the normalised input", () => {
    // Half raw byte soup, half mostly-clean CRLF text (exercises the no-copy fast path).
    const soup = fc
      .uint8Array({ maxLength: 400 })
      .map((a) => a.map((b) => [0x0d, 0x0a, 0x2e, 0x41][b % 4]));
    const text = fc
      .array(fc.constantFrom("\r\n", "\r\n", "\r\n", "A", "AB", "A.", ".", "\r", "\n"), {
        maxLength: 120,
      })
      .map((tokens) => new Uint8Array(Buffer.from(tokens.join(""), "latin1")));
    const bytes = fc.oneof(soup, text);
    fc.assert(
      fc.property(bytes, fc.array(fc.nat(400), { maxLength: 6 }), (input, cuts) => {
        const encoder = new BodyEncoder({ dotStuff: true });
        const points = [...new Set(cuts.map((c) => c % (input.length + 1)))].sort((a, b) => a - b);
        const pieces: Uint8Array[] = [];
        let last = 0;
        for (const p of [...points, input.length]) {
          pieces.push(encoder.push(input.subarray(last, p)));
          last = p;
        }
        pieces.push(encoder.end());
        const out = Buffer.concat(pieces).toString("latin1");
        assert.ok(!/\r(?!\n)|(?<!\r)\n/.test(out), "lone CR or LF on the wire");
        assert.ok(out.endsWith(".\r\n"));
        const body = out.slice(0, -3);
        assert.ok(!body.startsWith(".\r\n") && !body.includes("\r\n.\r\n"), "early terminator");
        const unstuffed = body
          .split("\r\n")
          .map((l) => (l.startsWith(".") ? l.slice(1) : l))
          .join("\r\n");
        let normalised = Buffer.from(input)
          .toString("latin1")
          .replace(/\r\n|\r|\n/g, "\r\n");
        if (normalised.length > 0 && !normalised.endsWith("\r\n")) normalised += "\r\n";
        assert.equal(unstuffed, normalised);
      }),
      { numRuns: 2000 },
    );
  });
});

describe("SMTP command arguments", () => {
  it("refuses CR, LF and NUL in arguments with a MailError before anything is sent", () => {
    for (const bad of ["a@b.c\r\nRCPT TO:<evil@x>", "a@b.c\n", "a\u0000@b.c", "a@b.c\r"]) {
      assert.throws(
        () => assertEnvelopeAddress(bad, "recipient"),
        (e: unknown) => e instanceof MailError && e.code === "SMTP_INVALID_ARGUMENT",
      );
    }
    assert.throws(() => assertSafeArgument("x\ny", "name", invalidArgument), {
      code: "SMTP_INVALID_ARGUMENT",
    });
    assert.throws(() => assertEnvelopeAddress("no-at-sign", "recipient"), {
      code: "SMTP_INVALID_ADDRESS",
    });
    assert.throws(() => assertEnvelopeAddress("a>b@c.d", "recipient"), {
      code: "SMTP_INVALID_ADDRESS",
    });
    assertEnvelopeAddress('"john doe"@example.com', "recipient");
    assertEnvelopeAddress("", "sender", true);
  });

  it("formats MAIL and RCPT with SIZE, BODY, SMTPUTF8 and DSN parameters (RFC 1870, 6152, 6531, 3461)", () => {
    assert.equal(
      mailCommand("a@b.c", {
        size: 1234,
        eightBit: true,
        smtputf8: true,
        dsn: { ret: "HDRS", envid: "id+1=2" },
      }),
      "MAIL FROM:<a@b.c> SIZE=1234 BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=id+2B1+3D2\r\n",
    );
    assert.equal(
      rcptCommand("x+y@b.c", { notify: ["SUCCESS", "FAILURE"] }),
      "RCPT TO:<x+y@b.c> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;x+2By@b.c\r\n",
    );
    assert.equal(
      rcptCommand("ユーザー@例え.jp", { notify: ["NEVER"] }),
      "RCPT TO:<ユーザー@例え.jp> NOTIFY=NEVER ORCPT=utf-8;ユーザー@例え.jp\r\n",
    );
    assert.throws(() => rcptCommand("a@b.c", { notify: ["NEVER", "SUCCESS"] }), {
      code: "SMTP_INVALID_ARGUMENT",
    });
    assert.equal(xtext("a b"), "a+20b");
  });
});
