/**
 * Chunked transfer decoding (transfer-stream.ts) gives the same bytes as decoding the whole
 * body at once, however the input is split.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { decodeBase64Body } from "../../../src/mail/mime/parse/transfer-decoding.js";
import {
  decodeQuotedPrintable,
  encodeQuotedPrintable,
} from "../../../src/mail/mime/quoted-printable.js";
import { transferDecoder } from "../../../src/mail/mime/transfer-stream.js";

function decodeInPieces(encoding: string, data: Uint8Array, cuts: number[]): Uint8Array {
  const decoder = transferDecoder(encoding);
  const out: Uint8Array[] = [];
  let at = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    out.push(decoder.write(data.subarray(at, cut)));
    at = cut;
  }
  out.push(decoder.write(data.subarray(at)));
  out.push(decoder.end());
  return Buffer.concat(out);
}

const base64Lines = (bytes: Uint8Array) =>
  new TextEncoder().encode(
    (
      Buffer.from(bytes)
        .toString("base64")
        .match(/.{1,76}/g) ?? []
    ).join("\r\n"),
  );

describe("transferDecoder", () => {
  it("base64 split at every byte equals the whole-body decoder", () => {
    const bytes = new Uint8Array(300).map((_, i) => (i * 31) % 256);
    const encoded = base64Lines(bytes);
    for (let cut = 0; cut <= encoded.length; cut++) {
      assert.deepEqual(decodeInPieces("base64", encoded, [cut]), Buffer.from(bytes), `cut ${cut}`);
    }
  });

  it("base64 lines padded with characters outside the alphabet, under random splits", () => {
    // A line may hold spaces or other characters outside the alphabet (RFC 2045 §6.8: they
    // are ignored), so a line whose length is a multiple of four need not hold whole quanta.
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 1500 }),
        fc.integer({ min: 1, max: 80 }),
        fc.constantFrom(" ", "\t", "!", "*"),
        fc.array(fc.nat(), { maxLength: 10 }),
        (bytes, width, stray, rawCuts) => {
          const lines = Buffer.from(bytes)
            .toString("base64")
            .match(new RegExp(`.{1,${width}}`, "g"));
          const padded = (lines ?? []).map(
            (line) => line + stray.repeat((4 - (line.length % 4)) % 4),
          );
          const encoded = new TextEncoder().encode(padded.join("\r\n"));
          const cuts = rawCuts.map((c) => c % (encoded.length + 1));
          const whole = Buffer.from(decodeBase64Body(encoded));
          assert.deepEqual(decodeInPieces("base64", encoded, cuts), whole);
        },
      ),
      { numRuns: 400 },
    );
  });

  it("base64 and quoted-printable under random splits", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 2000 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        (bytes, rawCuts) => {
          const b64 = base64Lines(bytes);
          const cuts = rawCuts.map((c) => c % (b64.length + 1));
          assert.deepEqual(decodeInPieces("BASE64", b64, cuts), Buffer.from(decodeBase64Body(b64)));
          const qp = new TextEncoder().encode(encodeQuotedPrintable(bytes));
          const qpCuts = rawCuts.map((c) => c % (qp.length + 1));
          assert.deepEqual(
            decodeInPieces("quoted-printable", qp, qpCuts),
            Buffer.from(decodeQuotedPrintable(qp)),
          );
          assert.deepEqual(decodeInPieces("quoted-printable", qp, qpCuts), Buffer.from(bytes));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("base64 with line breaks anywhere (not whole quanta a line) under random splits", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 3000 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        (bytes, rawBreaks, rawCuts) => {
          let text = Buffer.from(bytes).toString("base64");
          const breaks = [...new Set(rawBreaks.map((b) => b % text.length))].sort((a, b) => b - a);
          for (const at of breaks) text = `${text.slice(0, at)}\r\n${text.slice(at)}`;
          const encoded = new TextEncoder().encode(text);
          const cuts = rawCuts.map((c) => c % (encoded.length + 1));
          assert.deepEqual(decodeInPieces("base64", encoded, cuts), Buffer.from(bytes));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("base64 chunks do not share memory with the input or with each other", () => {
    const encoded = base64Lines(new Uint8Array(10_000).map((_, i) => i % 251));
    const decoder = transferDecoder("base64");
    const input = Buffer.from(encoded);
    const first = decoder.write(input.subarray(0, 5000));
    const second = decoder.write(input.subarray(5000));
    assert.notEqual(first.buffer, input.buffer);
    assert.notEqual(second.buffer, input.buffer);
    assert.notEqual(first.buffer, second.buffer);
  });

  it("a long quoted-printable stretch without line ends is decoded, not carried whole", () => {
    const decoder = transferDecoder("quoted-printable");
    const chunk = new TextEncoder().encode("a=3D".repeat(50_000));
    const first = decoder.write(chunk);
    assert.ok(first.length > 0);
    const rest = decoder.end();
    assert.equal(Buffer.concat([first, rest]).toString(), "a=".repeat(50_000));
  });

  it("other encodings pass through", () => {
    const decoder = transferDecoder("8bit");
    const chunk = new Uint8Array([1, 2, 3]);
    assert.equal(decoder.write(chunk), chunk);
    assert.equal(decoder.end().length, 0);
  });
});
