/** The SMTP body encoder's shortcut for chunks the renderer marked canonical. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { markCanonical } from "../../../src/mail/mime/canonical-chunks.js";
import { BodyEncoder } from "../../../src/mail/smtp/data-encoder.js";

function encode(chunks: string[], mark: boolean, dotStuff: boolean): string {
  const encoder = new BodyEncoder({ dotStuff });
  const out: Buffer[] = [];
  for (const c of chunks) {
    const bytes = Buffer.from(c, "latin1");
    out.push(Buffer.from(encoder.push(mark ? markCanonical(bytes) : bytes)));
  }
  out.push(Buffer.from(encoder.end()));
  return Buffer.concat(out).toString("latin1");
}

const line = fc
  .array(fc.constantFrom("a", ".", " ", "z", "."), { maxLength: 6 })
  .map((cs) => `${cs.join("")}\r\n`);
const chunk = fc.array(line, { minLength: 1, maxLength: 5 }).map((ls) => ls.join(""));

describe("SMTP body encoder: canonical chunks", () => {
  it("gives exactly what the full scan gives (dot-stuffing included)", () => {
    fc.assert(
      fc.property(fc.array(chunk, { maxLength: 6 }), fc.boolean(), (chunks, dotStuff) => {
        assert.equal(encode(chunks, true, dotStuff), encode(chunks, false, dotStuff));
      }),
      { numRuns: 300 },
    );
  });

  it("stuffs a dot at the start of a marked chunk and after a line break inside it", () => {
    assert.equal(encode([".a\r\n", "b\r\n.c\r\n"], true, true), "..a\r\nb\r\n..c\r\n.\r\n");
  });

  it("still completes a lone CR left by an unmarked chunk before a marked one", () => {
    assert.equal(encode(["x\r"], false, true), "x\r\n.\r\n");
    const encoder = new BodyEncoder({ dotStuff: true });
    const a = Buffer.from(encoder.push(Buffer.from("x\r")));
    const b = Buffer.from(encoder.push(markCanonical(Buffer.from(".y\r\n"))));
    const c = Buffer.from(encoder.end());
    assert.equal(Buffer.concat([a, b, c]).toString("latin1"), "x\r\n..y\r\n.\r\n");
  });
});
