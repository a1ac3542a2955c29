/**
 * Property-based tests (fast-check) of the address parser that reads callers' address
 * strings (and, leniently, network headers): any input gives mailboxes or a MailError, never
 * another exception; strings written the way people write them (`"Doe, John" <j@x>`, groups,
 * comments, encoded-words) come out as the same mailboxes through render() and Python.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { MailError } from "../../../src/errors.js";
import { parseAddressList } from "../../../src/mail/mime/address-parse.js";
import { MailMessage } from "../../../src/mail/mime/index.js";
import { checkWireFormat, pythonParseAll } from "./compose-helpers.js";
import { asciiLocalPart, wellFormed } from "./fuzz-arbitraries.js";

const RUNS = Number(process.env.FUZZ_RUNS ?? 300);

const SPECIAL = fc.constantFrom(
  ..."()<>[]:;@\\,.\"' \t=?",
  "=?utf-8?B?YQ==?=",
  "=?x?Q?",
  "\r\n ",
  "é",
  "😀",
);
const addressish = fc
  .array(
    fc.oneof(
      SPECIAL,
      fc.string({ unit: "grapheme-ascii", maxLength: 6 }),
      fc.string({ unit: "binary", maxLength: 3 }),
    ),
    {
      maxLength: 40,
    },
  )
  .map((p) => p.join(""));

function isMailError(e: unknown): boolean {
  return e instanceof MailError && typeof e.code === "string" && e.code.startsWith("MAIL_");
}

/** A display name as a person would type it: atoms, or a quoted string with escapes. */
const printableName = fc
  .string({
    unit: fc.constantFrom(..."abcXYZ 019,.;:<>@()[]\"\\'!#-_"),
    minLength: 1,
    maxLength: 30,
  })
  .filter((n) => n.trim() === n && !/ {2}/.test(n));

function quoteName(name: string): string {
  return /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~ -]+$/.test(name) && !name.includes("=?")
    ? name
    : `"${name.replace(/(["\\])/g, "\\$1")}"`;
}

const typedMailbox = fc.record({
  name: fc.option(printableName, { nil: undefined }),
  local: asciiLocalPart,
  domain: fc.constantFrom("example.test", "mail.example.test", "[192.0.2.7]"),
});

describe("fuzz: address parsing of caller strings", () => {
  it("lenient parsing of any text returns mailboxes and never throws", () => {
    fc.assert(
      fc.property(addressish, (input) => {
        const boxes = parseAddressList(input, false);
        for (const box of boxes) assert.equal(typeof box.address, "string");
      }),
      { numRuns: RUNS },
    );
  });

  it("strict parsing and rendering of any text either works or throws MailError", async () => {
    await fc.assert(
      fc.asyncProperty(addressish, async (input) => {
        try {
          parseAddressList(input, true);
        } catch (e) {
          assert.ok(isMailError(e), String(e));
        }
        let bytes: Uint8Array | undefined;
        try {
          bytes = await new MailMessage({ sender: "a@b.test", recipients: input }).toBytes();
        } catch (e) {
          assert.ok(isMailError(e), String(e));
        }
        if (bytes) checkWireFormat(bytes);
      }),
      { numRuns: RUNS },
    );
  });

  it("pathological input (deep comments, endless quotes, 100 000 commas) ends quickly", () => {
    for (const input of [
      "(".repeat(100_000),
      `${"(a".repeat(50_000)}`,
      '"'.repeat(100_001),
      ",".repeat(100_000),
      "<".repeat(100_000),
      `a@b${":".repeat(50_000)}`,
      "=?utf-8?B?".repeat(20_000),
    ]) {
      try {
        parseAddressList(input, false);
        parseAddressList(input, true);
      } catch (e) {
        assert.ok(isMailError(e), String(e));
      }
    }
    assert.throws(() => parseAddressList("a@b.test, ".repeat(30_000), false), isMailError);
  });

  it("typed address strings (quotes, commas, groups, comments) render to the same mailboxes", async () => {
    const lists = fc.sample(
      fc.array(fc.tuple(typedMailbox, fc.constantFrom("plain", "comment", "group")), {
        minLength: 1,
        maxLength: 4,
      }),
      { numRuns: 25, seed: 0x61646472 },
    );
    const rendered: Uint8Array[] = [];
    const expected: { name: string; address: string; group: string | null }[][] = [];
    for (const list of lists) {
      const parts: string[] = [];
      const want: { name: string; address: string; group: string | null }[] = [];
      list.forEach(([box, style], i) => {
        const address = `${box.local}@${box.domain}`;
        const canonical = parseAddressList(address, true)[0].address;
        const mailbox = box.name === undefined ? address : `${quoteName(box.name)} <${address}>`;
        if (style === "group") {
          parts.push(`Group ${i}: ${mailbox};`);
          want.push({ name: box.name ?? "", address: canonical, group: `Group ${i}` });
        } else if (style === "comment" && box.name !== undefined) {
          // The old `addr (Name)` form: the comment is the name (RFC 5322 §3.4, obs usage).
          parts.push(`${address} (${box.name.replace(/([()\\])/g, "\\$1")})`);
          want.push({ name: box.name, address: canonical, group: null });
        } else {
          parts.push(mailbox);
          want.push({ name: box.name ?? "", address: canonical, group: null });
        }
      });
      const message = new MailMessage({ sender: "a@b.test", recipients: parts.join(", ") });
      const bytes = await message.toBytes();
      checkWireFormat(bytes);
      rendered.push(bytes);
      expected.push(want);
    }
    const parsed = await pythonParseAll(rendered);
    parsed.forEach((py, i) => {
      const got = (py.to ?? []).flatMap((g) =>
        g.mailboxes.map((m) => ({ name: m.name, address: m.address, group: g.group })),
      );
      assert.deepEqual(got, expected[i], `list ${i}: ${JSON.stringify(lists[i])}`);
    });
  });

  it("non-ASCII local parts need SMTPUTF8: refused without it, raw UTF-8 with it", async () => {
    const m = new MailMessage({
      sender: "josé@例え.jp",
      recipients: "用户@example.test",
      textContent: "x",
    });
    assert.throws(
      () => m.render(),
      (e: unknown) => e instanceof MailError && e.code === "MAIL_SMTPUTF8_REQUIRED",
    );
    const bytes = await m.toBytes({ smtputf8: true });
    checkWireFormat(bytes, { smtputf8: true });
    const [py] = await pythonParseAll([bytes], [true]);
    assert.equal(py.from?.[0].mailboxes[0].address, "josé@例え.jp");
    assert.equal(py.to?.[0].mailboxes[0].address, "用户@example.test");
    assert.deepEqual(m.envelope(), {
      from: "josé@例え.jp",
      to: ["用户@example.test"],
      smtputf8: true,
    });
    // An IDN domain alone needs no SMTPUTF8: it goes as an A-label.
    const idn = await new MailMessage({ sender: "a@例え.jp", textContent: "x" }).toText();
    assert.match(idn, /^From: a@xn--r8jz45g\.jp\r\n/m);
    assert.equal(wellFormed(idn), idn);
  });
});
