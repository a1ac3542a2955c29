import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { IMAPError } from "../../../../src/errors.js";
import { type IMAPResponse, ResponseParser } from "../../../../src/mail/imap/codec/index.js";
import { CORPUS } from "./corpus.js";
import { parseChunks } from "./helpers.js";

const corpus = CORPUS.map((entry) => Buffer.from(entry.wire, "latin1"));
const everything = Buffer.concat(corpus);

/** Pushes bytes in the given pieces; returns the responses, or the error thrown. */
function run(
  bytes: Uint8Array,
  cuts: number[],
  limits = {},
  stream = false,
): { out: IMAPResponse[]; error?: unknown } {
  const out: IMAPResponse[] = [];
  const parser = new ResponseParser({
    limits,
    onResponse: (r) => out.push(r),
    // stream every other literal offered, to fuzz both paths
    streamLiteral: stream ? (info) => (info.size % 2 === 0 ? () => {} : undefined) : undefined,
  });
  let last = 0;
  try {
    for (const cut of [...cuts, bytes.length].sort((a, b) => a - b)) {
      parser.push(bytes.subarray(last, cut));
      last = cut;
    }
  } catch (error) {
    return { out, error };
  }
  return { out };
}

function onlyIMAPErrors(result: { error?: unknown }): void {
  if (result.error !== undefined) {
    assert.ok(result.error instanceof IMAPError, `not an IMAPError: ${String(result.error)}`);
    assert.match(result.error.code, /^IMAP_(PARSE_ERROR|LIMIT_EXCEEDED)$/);
    // the parser wraps an internal failure (a bug) with its cause: there must be none
    assert.equal(result.error.cause, undefined, `internal failure: ${String(result.error.cause)}`);
  }
}

const cutsFor = (length: number) =>
  fc.array(fc.integer({ min: 0, max: length }), { maxLength: 12 });

describe("IMAP response parser fuzzing (fast-check)", () => {
  it("random bytes in random pieces never throw anything but IMAPError", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 400 }).chain((b) => fc.tuple(fc.constant(b), cutsFor(b.length))),
        ([bytes, cuts]) => onlyIMAPErrors(run(bytes, cuts)),
      ),
      { numRuns: 2000 },
    );
  });

  it("IMAP-flavoured random text (tokens, parens, literals) never throws anything but IMAPError", () => {
    const token = fc.constantFrom(
      "* ",
      "A1 ",
      "+ ",
      "OK ",
      "FETCH ",
      "1 ",
      "(",
      ")",
      "[",
      "]",
      '"',
      "\\",
      "{",
      "}",
      "~{",
      "{3}\r\n",
      "{0}\r\n",
      "NIL",
      " ",
      "\r\n",
      "\n",
      "UID ",
      "ENVELOPE ",
      "BODYSTRUCTURE ",
      "BODY[",
      "BINARY[",
      "FLAGS ",
      "LIST ",
      "STATUS ",
      "ESEARCH ",
      "NAMESPACE ",
      "ID ",
      "VANISHED ",
      "SEARCH ",
      "MODSEQ ",
      "<",
      ">",
      "abc",
      "\x00",
      "\xff",
      "123456789012345678901",
      "INTERNALDATE ",
      "[UIDVALIDITY ",
      "[COPYUID ",
      "[PERMANENTFLAGS ",
      '"x" ',
    );
    fc.assert(
      fc.property(
        fc
          .array(token, { maxLength: 60 })
          .map((t) => Buffer.from(t.join(""), "latin1"))
          .chain((b) => fc.tuple(fc.constant(b), cutsFor(b.length))),
        ([bytes, cuts]) => onlyIMAPErrors(run(bytes, cuts, { maxDepth: 8, maxLiteralSize: 64 })),
      ),
      { numRuns: 3000 },
    );
  });

  it("mutated corpus responses never throw anything but IMAPError", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: corpus.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.boolean()), {
          minLength: 1,
          maxLength: 6,
        }),
        fc.array(fc.nat(), { maxLength: 6 }),
        (index, edits, rawCuts) => {
          const bytes = Array.from(corpus[index]);
          for (const [at, value, insert] of edits) {
            const i = at % (bytes.length + 1);
            if (insert) bytes.splice(i, 0, value);
            else if (i < bytes.length) bytes[i] = value;
          }
          const mutated = Uint8Array.from(bytes);
          const cuts = rawCuts.map((c) => c % (mutated.length + 1));
          onlyIMAPErrors(run(mutated, cuts));
          onlyIMAPErrors(run(mutated, cuts, {}, true));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("the whole corpus in random pieces gives the same responses as in one piece", () => {
    const whole = parseChunks(everything);
    assert.equal(
      whole.length,
      CORPUS.reduce((n, e) => n + e.responses, 0),
    );
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: everything.length }), { maxLength: 40 }),
        (cuts) => {
          assert.deepEqual(parseChunks(everything, cuts), whole);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("a response truncated anywhere emits nothing for it and holds its bytes", () => {
    for (const bytes of corpus) {
      const complete = parseChunks(bytes).length;
      for (let cut = 0; cut < bytes.length; cut += 7) {
        const r = run(bytes.subarray(0, cut), []);
        onlyIMAPErrors(r);
        assert.ok(r.out.length <= complete);
      }
    }
  });
});
