/**
 * Property-based tests (fast-check) of the header and address encoders, end to end through
 * `MailMessage.render()`: whatever unicode a caller puts into a subject, display name, group
 * name or filename, every line stays within 998 octets (78 where a fold point exists), headers
 * stay ASCII without SMTPUTF8, nothing leaks CR/LF/NUL, and decoding gives back the exact input.
 * A sample is also decoded by Python's email package (policy.default), in one process.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { MailError } from "../../../src/errors.js";
import { parseAddressList } from "../../../src/mail/mime/address-parse.js";
import { decodeEncodedWords } from "../../../src/mail/mime/encoded-word.js";
import { Attachment, MailMessage } from "../../../src/mail/mime/index.js";
import { parseParameterized } from "../../../src/mail/mime/params.js";
import type { MailAddress, MailMessageInit } from "../../../src/mail/mime/types.js";
import {
  afterColon,
  checkWireFormat,
  fieldValue,
  pythonHasEncodedWordSpaceBug,
  pythonParseAll,
  sameName,
  sha256,
  splitMessage,
  unexpectedDefects,
} from "./compose-helpers.js";
import {
  addressList,
  expectedWire,
  headerText,
  injectedText,
  mailbox,
  nonEmptyHeaderText,
} from "./fuzz-arbitraries.js";

const RUNS = Number(process.env.FUZZ_RUNS ?? 150);
const SEED = process.env.FUZZ_SEED
  ? { seed: Number(process.env.FUZZ_SEED), path: process.env.FUZZ_PATH }
  : {};

function baseMessage(extra: MailMessageInit = {}): MailMessage {
  return new MailMessage({
    sender: "sender@example.test",
    recipients: ["rcpt@example.test"],
    textContent: "body\n",
    date: new Date(Date.UTC(2026, 10, 25, 10, 0, 0)),
    ...extra,
  });
}

/** What a parser must give back for a mailbox we wrote (empty names are not written). */
function expectedBox(box: MailAddress, smtputf8: boolean): MailAddress {
  const out: MailAddress = { address: expectedWire(box.address, smtputf8) };
  if (box.name !== undefined && box.name !== "") out.name = box.name;
  if (box.group !== undefined) out.group = box.group;
  return out;
}

/** Our own parser's canonical form of an addr-spec (quotes only where RFC 5322 needs them). */
function canonical(address: string): string {
  return parseAddressList(address, true)[0].address;
}

function firstSection(bytes: Uint8Array): string {
  return splitMessage(bytes).head;
}

describe("fuzz: header and address encoders", () => {
  it("subjects round-trip through RFC 2047 and stay within the line limits", async () => {
    await fc.assert(
      fc.asyncProperty(headerText, fc.boolean(), async (subject, smtputf8) => {
        const bytes = await baseMessage({ subject }).toBytes({ smtputf8 });
        checkWireFormat(bytes, { smtputf8 });
        const head = Buffer.from(firstSection(bytes), "latin1").toString("utf8");
        const value = fieldValue(head, "Subject");
        assert.notEqual(value, undefined);
        assert.equal(decodeEncodedWords(afterColon(value as string)), subject);
      }),
      { numRuns: RUNS, includeErrorInReport: true, ...SEED },
    );
  });

  it("address lists (names, quotes, commas, groups, IDN) round-trip through the address parser", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc
          .boolean()
          .chain((smtputf8) =>
            fc.tuple(fc.constant(smtputf8), addressList(smtputf8), mailbox(smtputf8)),
          ),
        async ([smtputf8, to, from]) => {
          const message = baseMessage({ sender: from, recipients: to, cc: to, replyTo: [from] });
          const bytes = await message.toBytes({ smtputf8 });
          checkWireFormat(bytes, { smtputf8 });
          const head = Buffer.from(firstSection(bytes), "latin1").toString("utf8");
          for (const [field, boxes] of [
            ["To", to],
            ["Cc", to],
            ["From", [from]],
            ["Reply-To", [from]],
          ] as const) {
            const value = fieldValue(head, field) as string;
            const parsed = parseAddressList(value, true);
            const expected = boxes.map((b) => {
              const e = expectedBox(b, smtputf8);
              e.address = canonical(e.address);
              return e;
            });
            assert.deepEqual(parsed, expected, `${field}: ${value}`);
          }
        },
      ),
      { numRuns: RUNS, includeErrorInReport: true, ...SEED },
    );
  });

  it("filenames round-trip through RFC 2231 (filename*) and the RFC 2047 name= fallback", async () => {
    await fc.assert(
      fc.asyncProperty(nonEmptyHeaderText, fc.boolean(), async (filename, smtputf8) => {
        const message = baseMessage({
          attachments: [new Attachment({ filename, content: "x", contentType: "text/csv" })],
        });
        const bytes = await message.toBytes({ smtputf8 });
        const sections = checkWireFormat(bytes, { smtputf8 });
        const part = sections[sections.length - 1];
        const disposition = parseParameterized(
          afterColon(fieldValue(part, "Content-Disposition") ?? ""),
        );
        assert.equal(disposition.value, "attachment");
        assert.equal(disposition.params.filename, filename);
        const type = parseParameterized(afterColon(fieldValue(part, "Content-Type") ?? ""));
        assert.equal(type.value, "text/csv");
        assert.equal(type.params.name, filename);
      }),
      { numRuns: RUNS, includeErrorInReport: true, ...SEED },
    );
  });

  it("extra header values round-trip like unstructured fields", async () => {
    await fc.assert(
      fc.asyncProperty(headerText, async (value) => {
        const bytes = await baseMessage({ headers: { "X-Fuzz": value } }).toBytes();
        checkWireFormat(bytes);
        const raw = fieldValue(firstSection(bytes), "X-Fuzz") as string;
        assert.equal(decodeEncodedWords(afterColon(raw)), value);
      }),
      { numRuns: RUNS, includeErrorInReport: true, ...SEED },
    );
  });

  it("header names: valid ftext names are written as given, anything else is MailError", async () => {
    const MANAGED =
      /^(from|to|cc|bcc|reply-to|subject|date|message-id|mime-version|content-type|content-transfer-encoding|content-disposition|content-id)$/i;
    const nameArb = fc.oneof(
      fc.stringMatching(/^X-[!-9;-~]{1,20}$/),
      fc.string({
        unit: fc.constantFrom(..."Xx-:; \t\u00e9\u007f\u0001!~", "Bcc", "From"),
        maxLength: 12,
      }),
      fc.constantFrom("Bcc", "bcc", "To", `X-${"n".repeat(74)}`, `X-${"n".repeat(75)}`),
    );
    await fc.assert(
      fc.asyncProperty(
        nameArb,
        fc.string({ unit: "grapheme-ascii", maxLength: 20 }),
        async (name, value) => {
          const valid = /^[!-9;-~]{1,76}$/.test(name) && !MANAGED.test(name);
          const message = baseMessage({ headers: { [name]: value } });
          if (!valid) {
            assert.throws(
              () => message.render(),
              (e: unknown) => e instanceof MailError,
            );
            return;
          }
          const bytes = await message.toBytes();
          checkWireFormat(bytes);
          const raw = fieldValue(firstSection(bytes), name);
          assert.notEqual(raw, undefined, name);
          assert.equal(decodeEncodedWords(afterColon(raw as string)), value);
        },
      ),
      { numRuns: RUNS, includeErrorInReport: true, ...SEED },
    );
  });

  it("CR, LF or NUL anywhere a caller's string reaches a header → MailError from render(), before any byte", () => {
    const places: ((bad: string) => MailMessageInit)[] = [
      (bad) => ({ subject: bad }),
      (bad) => ({ sender: `a@b.test${bad}` }),
      (bad) => ({ sender: { name: bad, address: "a@b.test" } }),
      (bad) => ({ recipients: [{ address: `x${bad}@b.test` }] }),
      (bad) => ({ recipients: [{ name: "n", address: "x@b.test", group: bad }] }),
      (bad) => ({ cc: [`${bad} <c@b.test>`] }),
      (bad) => ({ bcc: [`b${bad}@b.test`] }),
      (bad) => ({ replyTo: [{ name: bad, address: "r@b.test" }] }),
      (bad) => ({ headers: { "X-A": bad } }),
      (bad) => ({ headers: { [`X-${bad}`]: "v" } }),
      (bad) => ({ headers: { "X-List": ["ok", bad] } }),
      (bad) => ({ messageId: `<a${bad}@b.test>` }),
      (bad) => ({ attachments: [new Attachment({ filename: bad, content: "x" })] }),
      (bad) => ({
        attachments: [new Attachment({ content: "x", contentType: `text/plain; a=${bad}` })],
      }),
      (bad) => ({ attachments: [new Attachment({ content: "x", contentId: `id${bad}` })] }),
      (bad) => ({ attachments: [new Attachment({ content: "x", headers: { "X-B": bad } })] }),
    ];
    fc.assert(
      fc.property(fc.nat(places.length - 1), injectedText, (place, bad) => {
        const message = baseMessage(places[place](bad));
        let produced = false;
        assert.throws(
          () => {
            message.render();
            produced = true;
          },
          (e: unknown) => e instanceof MailError && e.code === "MAIL_HEADER_INJECTION",
        );
        assert.equal(produced, false);
      }),
      { numRuns: RUNS * 2 },
    );
  });

  it("a refused render leaves stream attachments unread, so the fixed message still renders", async () => {
    const stream = (async function* () {
      yield new TextEncoder().encode("streamed bytes");
    })();
    const message = baseMessage({
      subject: "bad\r\nBcc: x@evil.test",
      attachments: [new Attachment({ filename: "s.bin", content: stream })],
    });
    assert.throws(() => message.render(), MailError);
    message.subject = "fixed";
    const [py] = await pythonParseAll([await message.toBytes()]);
    assert.equal(py.subject, "fixed");
    assert.equal(py.parts[1].sha256, sha256("streamed bytes"));
  });

  it("30 random messages decode in Python's email package to exactly what was given", async () => {
    const sample = fc.sample(
      fc.boolean().chain((smtputf8) =>
        fc.record({
          smtputf8: fc.constant(smtputf8),
          subject: headerText,
          from: mailbox(smtputf8),
          to: addressList(smtputf8),
          text: headerText,
          filenames: fc.array(nonEmptyHeaderText, { maxLength: 2 }),
          extra: headerText,
        }),
      ),
      { numRuns: 30, seed: 0x6d7461 },
    );
    const rendered: Uint8Array[] = [];
    for (const s of sample) {
      const message = baseMessage({
        subject: s.subject,
        sender: s.from,
        recipients: s.to,
        cc: [...s.to].reverse(),
        replyTo: [s.from],
        textContent: s.text,
        headers: { "X-Extra": s.extra },
        attachments: s.filenames.map(
          (filename, i) => new Attachment({ filename, content: `file ${i}` }),
        ),
      });
      const bytes = await message.toBytes({ smtputf8: s.smtputf8 });
      checkWireFormat(bytes, { smtputf8: s.smtputf8 });
      rendered.push(bytes);
    }
    const parsed = await pythonParseAll(
      rendered,
      sample.map((s) => s.smtputf8),
    );
    const bug = await pythonHasEncodedWordSpaceBug();
    sample.forEach((s, i) => {
      const py = parsed[i];
      const where = `sample ${i}: ${JSON.stringify(s)}`;
      const names = [s.from.name, ...s.to.flatMap((b) => [b.name, b.group]), ...s.filenames];
      const controls = /[\0-\x08\x0a-\x1f\x7f]/.test(names.join(""));
      assert.deepEqual(unexpectedDefects(py.defects, { controls, utf8: s.smtputf8 }), [], where);
      assert.equal(py.subject, s.subject, where);
      assert.equal(py.extra["X-Extra"], s.extra, where);
      const from = py.from?.flatMap((g) => g.mailboxes) ?? [];
      assert.equal(from.length, 1, where);
      assert.ok(sameName(from[0].name, s.from.name ?? "", bug), `${where}: ${from[0].name}`);
      assert.equal(from[0].address, canonical(expectedWire(s.from.address, s.smtputf8)), where);
      for (const [field, got, want] of [
        ["to", py.to, s.to],
        ["cc", py.cc, [...s.to].reverse()],
        ["replyTo", py.replyTo, [s.from]],
      ] as const) {
        const boxes = (got ?? []).flatMap((g) =>
          g.mailboxes.map((m) => ({ ...m, group: g.group })),
        );
        assert.equal(boxes.length, want.length, `${field} ${where}`);
        want.forEach((box, j) => {
          const b = boxes[j];
          assert.equal(b.address, canonical(expectedWire(box.address, s.smtputf8)), where);
          assert.ok(sameName(b.name, box.name ?? "", bug), `${field} ${where}: name ${b.name}`);
          assert.equal(b.group === null, box.group === undefined, `${field} ${where}`);
          if (box.group !== undefined) {
            assert.ok(sameName(b.group, box.group, bug), `${field} ${where}: group ${b.group}`);
          }
        });
      }
      // A 7bit/8bit body that ends the message gets the final CRLF the message needs.
      const text = s.text.replace(/\r\n|\r|\n/g, "\n");
      const raw = py.parts[0].cte === "7bit" || py.parts[0].cte === "8bit";
      const last = s.filenames.length === 0 && !text.endsWith("\n");
      assert.equal(py.parts[0].text, raw && last ? `${text}\n` : text, where);
      assert.deepEqual(
        py.parts.slice(1).map((p) => [p.filename, p.typeName, p.sha256]),
        s.filenames.map((f, j) => [f, f, sha256(`file ${j}`)]),
        where,
      );
    });
  });
});
