/** The mail-level argument guards (src/mail/arguments.ts) SMTP and IMAP share. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { IMAPError } from "../../src/errors.js";
import { assertHostName, assertSafeArgument } from "../../src/mail/arguments.js";

const invalid = (message: string) => new IMAPError(message, { code: "IMAP_INVALID_ARGUMENT" });

describe("assertSafeArgument", () => {
  it("refuses CR, LF, NUL, other controls, DEL and non-strings with the protocol's error", () => {
    for (const bad of ["a\r\nb", "a\n", "\r", "a\u0000b", "tab\there", "del\u007f"]) {
      assert.throws(
        () => assertSafeArgument(bad, "mailbox name", invalid),
        (e: unknown) => {
          assert.ok(e instanceof IMAPError);
          assert.equal(e.code, "IMAP_INVALID_ARGUMENT");
          assert.match(e.message, /^mailbox name contains/);
          return true;
        },
      );
    }
    assert.throws(() => assertSafeArgument(42 as never, "x", invalid), {
      code: "IMAP_INVALID_ARGUMENT",
    });
  });

  it("accepts any string without control characters, Unicode included", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme" }), (value) => {
        fc.pre(!/[\u0000-\u001f\u007f]/.test(value));
        assertSafeArgument(value, "x", invalid);
      }),
    );
    assertSafeArgument('請求書 "quoted" \\', "x", invalid);
  });
});

describe("assertHostName", () => {
  it("refuses empty names, white space and controls", () => {
    for (const bad of ["", "mail example.com", "mail\r\n", "a\u0000"]) {
      assert.throws(() => assertHostName(bad, invalid), { code: "IMAP_INVALID_ARGUMENT" });
    }
    assertHostName("imap.example.com", invalid);
    assertHostName("::1", invalid);
  });
});
