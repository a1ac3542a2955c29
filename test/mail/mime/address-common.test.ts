/**
 * The shortcut for common address forms (address-common.ts) must read every input it takes
 * exactly as the full parser does, and must take the forms real mail is made of.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { commonAddressList } from "../../../src/mail/mime/address-common.js";
import { readAddressTokens } from "../../../src/mail/mime/address-parse.js";
import { MailMessage } from "../../../src/mail/mime/index.js";

const RUNS = Number(process.env.FUZZ_RUNS ?? 3000);

/** Pieces of common forms and of the ones that must go the long way, glued at random. */
const PIECE = fc.constantFrom(
  '"',
  '""',
  '"Doe, John"',
  '"A \\"B\\""',
  "Alice",
  "Example",
  "O'Neil",
  " ",
  "  ",
  "\t",
  "<",
  ">",
  "a.b@c.d",
  "x@y",
  "bad..dot@x.y",
  "a@b..c",
  ",",
  ", ",
  ".",
  ":",
  ";",
  "@",
  "(c)",
  "\r\n ",
  "=?UTF-8?B?5bGx55Sw?=",
  "=?utf-8?q?a.b?=",
  "=?x?",
  "é",
  "\u00a0",
  "[1.2.3.4]",
  "\\",
);
const glued = fc.array(PIECE, { maxLength: 14 }).map((p) => p.join(""));
/** Entries in the common forms, so the shortcut is exercised as often as it is skipped. */
const common = fc
  .array(
    fc.oneof(
      fc.constantFrom("a@b.c", "first.last+tag@mail.example.org", "x_y%z@h-1.example"),
      fc
        .tuple(
          fc.constantFrom(
            '"Alice Example"',
            "Alice Example",
            "=?UTF-8?B?5bGx55Sw?= =?UTF-8?B?5aSq6YOO?=",
            '""',
            "",
            ' " Ops " ',
            "=?UTF-8?B?5bGx55Sw?=Alice",
            "Alice=?UTF-8?B?5bGx55Sw?=",
          ),
          fc.constantFrom("a@b.c", "ops@example.com", "bad..x@y.z"),
          fc.constantFrom("", " ", "\t"),
        )
        .map(([name, address, ws]) => `${ws}${name}${ws}<${address}>${ws}`),
    ),
    { maxLength: 4 },
  )
  .map((entries) => entries.join(","));

function checkSame(input: string): boolean {
  const quick = commonAddressList(input);
  if (quick === undefined) return false;
  assert.deepEqual(quick, readAddressTokens(input, false), JSON.stringify(input));
  let strict: unknown;
  try {
    strict = readAddressTokens(input, true);
  } catch {
    strict = "threw";
  }
  assert.deepEqual(quick, strict, `strict ${JSON.stringify(input)}`);
  return true;
}

describe("address lists: the shortcut for common forms", () => {
  it("gives what the full parser gives, for every input it takes", () => {
    let taken = 0;
    fc.assert(
      fc.property(fc.oneof(glued, common), (input) => {
        if (checkSame(input)) taken++;
      }),
      { numRuns: RUNS },
    );
    // Not vacuous: a good share of the inputs went through the shortcut.
    assert.ok(taken > RUNS / 5, `only ${taken} of ${RUNS} taken`);
  });

  it("takes the forms real headers are made of, and leaves the rest", () => {
    for (const input of [
      '"Alice Example" <alice@example.com>',
      "=?UTF-8?B?5bGx55Sw?= =?UTF-8?B?IOWkqumDjg==?= <yamada@example.jp>",
      'team@example.com, "Ops" <ops@example.com>',
      "<bounce+x_y@example.org>",
    ]) {
      assert.ok(checkSame(input), input);
    }
    for (const input of [
      '"Doe, John" <j@x.org>',
      "John Q. Public <jqp@example.com>",
      "Team: a@x.org, b@y.org;",
      "a@x.org (Alice)",
      "Ann <a@x.org> Bob <b@y.org>",
      "=?utf-8?q?a.b?= <a@b.c>",
    ]) {
      assert.equal(commonAddressList(input), undefined, input);
    }
  });

  it("parsed messages keep their names and addresses", () => {
    const m = MailMessage.parse(
      'From: "Bob O\'Neil" <bob@example.org>\r\nTo: =?UTF-8?B?5bGx55Sw?= <y@example.jp>, c@d.e\r\n\r\nhi',
    );
    assert.deepEqual(m.sender, { address: "bob@example.org", name: "Bob O'Neil" });
    assert.deepEqual(m.recipients, [
      { address: "y@example.jp", name: "山田" },
      { address: "c@d.e" },
    ]);
  });
});
