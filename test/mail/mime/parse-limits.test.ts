import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { MailError } from "../../../src/errors.js";
import { MailMessage } from "../../../src/mail/mime/index.js";

function assertLimit(run: () => unknown): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof MailError, String(error));
    assert.equal(error.code, "MAIL_LIMIT_EXCEEDED");
    return true;
  });
}

function nested(depth: number): string {
  let body = "leaf\r\n";
  for (let i = depth; i > 0; i--) {
    body = `Content-Type: multipart/mixed; boundary=b${i}\r\n\r\n--b${i}\r\n${body}\r\n--b${i}--\r\n`;
  }
  return `Subject: deep\r\n${body}`;
}

function manyParts(count: number): string {
  const parts = Array.from(
    { length: count },
    (_, i) => `--p\r\nContent-Type: text/plain\r\n\r\n${i}\r\n`,
  );
  return `Content-Type: multipart/mixed; boundary=p\r\n\r\n${parts.join("")}--p--\r\n`;
}

describe("MailMessage.parse limits", () => {
  it("refuses nesting deeper than maxDepth (default 16)", () => {
    assert.equal(MailMessage.parse(nested(15)).textContent, "leaf\n");
    assertLimit(() => MailMessage.parse(nested(17)));
    assertLimit(() => MailMessage.parse(nested(3), { maxDepth: 2 }));
    // A depth bomb far beyond the stack is refused the same way, not with a RangeError.
    assertLimit(() => MailMessage.parse(nested(5000), { maxDepth: 1e9 }));
  });

  it("refuses more parts than maxParts (default 1000)", () => {
    assert.equal(MailMessage.parse(manyParts(900)).attachments.length, 899);
    assertLimit(() => MailMessage.parse(manyParts(1000)));
    assertLimit(() => MailMessage.parse(manyParts(10), { maxParts: 5 }));
  });

  it("refuses more header fields than maxHeaders (default 1000), in a part as well", () => {
    const fields = (n: number): string => "X-A: 1\r\n".repeat(n);
    assert.equal((MailMessage.parse(`${fields(999)}\r\n`).headers["X-A"] as string[]).length, 999);
    assertLimit(() => MailMessage.parse(`${fields(1001)}\r\n`));
    const inPart = `Content-Type: multipart/mixed; boundary=p\r\n\r\n--p\r\n${fields(20)}\r\nx\r\n--p--\r\n`;
    assertLimit(() => MailMessage.parse(inPart, { maxHeaders: 10 }));
  });

  it("refuses messages over maxSize, as bytes and as strings", () => {
    const big = new Uint8Array(2048).fill(0x61);
    assertLimit(() => MailMessage.parse(big, { maxSize: 1024 }));
    assertLimit(() => MailMessage.parse("a".repeat(2048), { maxSize: 1024 }));
    assertLimit(() => MailMessage.parse("é".repeat(600), { maxSize: 1024 })); // 1200 UTF-8 bytes
    assert.equal(MailMessage.parse(big, { maxSize: 4096 }).textContent?.length, 2048);
  });

  it("refuses a header field over 256 KiB, folded or not", () => {
    assertLimit(() => MailMessage.parse(`Subject: ${"a".repeat(300 * 1024)}\r\n\r\n`));
    assertLimit(() => MailMessage.parse(`Subject: x\r\n${" a\r\n".repeat(100 * 1024)}\r\n`));
  });

  it("reports bad arguments as MAIL_PARSE_ERROR", () => {
    for (const bad of [undefined, 42, {}, [1, 2]]) {
      assert.throws(
        () => MailMessage.parse(bad as unknown as string),
        (e: unknown) => e instanceof MailError && e.code === "MAIL_PARSE_ERROR",
      );
    }
    assert.throws(
      () => MailMessage.parse("x", { maxSize: -1 }),
      (e: unknown) => e instanceof MailError && e.code === "MAIL_PARSE_ERROR",
    );
  });
});

/** Throws unless `run` either succeeds or fails with a MailError. */
function onlyMailErrors(run: () => unknown): void {
  try {
    run();
  } catch (error) {
    if (!(error instanceof MailError)) throw error;
  }
}

describe("MailMessage.parse fuzzing", () => {
  const pieces = fc.constantFrom(
    "\r\n",
    "\n",
    "\r",
    "--b",
    "--b--",
    "--c",
    ": ",
    " ",
    "\t",
    "Content-Type: multipart/mixed; boundary=b\r\n",
    "Content-Type: multipart/alternative; boundary=c\n",
    "Content-Type: message/rfc822\r\n",
    "Content-Type: text/plain; charset=iso-2022-jp\r\n",
    "Content-Transfer-Encoding: base64\r\n",
    "Content-Transfer-Encoding: quoted-printable\r\n",
    "Content-Disposition: attachment; filename*0*=utf-8''%E5; filename*1*=%A0\r\n",
    "Subject: =?utf-8?B?5aCx?= =?bogus?Q?x?= =?utf-8?Q?=E5=A0?=\r\n",
    'From: "a, b" <a@b>, Team: c@d;, (comment) e@f\r\n',
    "Date: Wed, 25 Nov 2026 06:36:23 +0000\r\n",
    "=?",
    "?=",
    "=\r\n",
    "=4",
    "<",
    ">",
    '"',
    "(",
    ")",
    "\\",
    "\0",
    "\xff",
    "é",
  );

  it("arbitrary bytes never throw anything but MailError", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => {
        onlyMailErrors(() => MailMessage.parse(bytes));
      }),
      { numRuns: 1500 },
    );
  });

  it("MIME-shaped junk never throws anything but MailError, and parsed messages render", async () => {
    const samples: MailMessage[] = [];
    fc.assert(
      fc.property(fc.array(pieces, { maxLength: 80 }), fc.boolean(), (list, asBytes) => {
        const text = list.join("");
        onlyMailErrors(() => {
          const message = MailMessage.parse(asBytes ? Buffer.from(text, "latin1") : text);
          if (samples.length < 300) samples.push(message);
        });
      }),
      { numRuns: 1500 },
    );
    // A parsed message can be sent on: whatever the parser produced, render() fails only with a
    // MailError (e.g. an address without a domain), never with a crash or an injected line.
    for (const message of samples) {
      try {
        const head = (await message.toText()).split("\r\n\r\n")[0];
        // Every header line is a field or a continuation: nothing parsed was injected.
        for (const line of head.split("\r\n")) assert.match(line, /^([!-9;-~]+:|[ \t])/);
      } catch (error) {
        assert.ok(error instanceof MailError, String(error));
      }
    }
  });

  it("hostile shapes finish quickly (linear scans, no backtracking)", () => {
    const mb = 2 * 1024 * 1024;
    const shapes = [
      `Content-Type: multipart/mixed; boundary=b\r\n\r\n${"\n--bx".repeat(mb / 5)}`,
      `Subject: ${"=?".repeat(100 * 1024)}\r\n\r\n`,
      `Subject: ${"=?a?Q?".repeat(40 * 1024)}\r\n\r\n`,
      `To: ${"<".repeat(200 * 1024)}\r\n\r\n`,
      `To: ${"(".repeat(200 * 1024)}\r\n\r\n`,
      `Content-Type: text/plain; ${"a*0*=x;".repeat(30 * 1024)}\r\n\r\n`,
      `Content-Transfer-Encoding: quoted-printable\r\n\r\n${"= \t".repeat(mb / 3)}`,
      `Content-Transfer-Encoding: base64\r\n\r\n${"!".repeat(mb)}`,
      "\n".repeat(mb),
      `${"X: y\r\n ".repeat(900)}\r\n`,
    ];
    for (const shape of shapes) onlyMailErrors(() => MailMessage.parse(shape));
  });
});
