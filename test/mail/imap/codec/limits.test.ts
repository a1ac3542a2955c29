import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { IMAPError } from "../../../../src/errors.js";
import {
  DEFAULT_PARSER_LIMITS,
  type IMAPParserLimits,
  ResponseParser,
} from "../../../../src/mail/imap/codec/index.js";

function limitExceeded(e: unknown): boolean {
  return e instanceof IMAPError && e.code === "IMAP_LIMIT_EXCEEDED";
}

function parser(limits: Partial<IMAPParserLimits>, seen: unknown[] = []): ResponseParser {
  return new ResponseParser({ limits, onResponse: (r) => seen.push(r) });
}

describe("IMAP response parser limits", () => {
  it("has the documented defaults", () => {
    assert.deepEqual(DEFAULT_PARSER_LIMITS, {
      maxLineLength: 1024 * 1024,
      maxLiteralSize: 64 * 1024 * 1024,
      maxResponseSize: 128 * 1024 * 1024,
      maxDepth: 64,
    });
  });

  it("a line longer than maxLineLength fails before its end arrives", () => {
    const p = parser({ maxLineLength: 100 });
    p.push(Buffer.from(`* OK ${"x".repeat(90)}`));
    assert.throws(() => p.push(Buffer.from("y".repeat(20))), limitExceeded);
    assert.throws(() => p.push(Buffer.from("\r\n")), limitExceeded); // dead
    const ok: unknown[] = [];
    parser({ maxLineLength: 100 }, ok).push(Buffer.from(`* OK ${"x".repeat(94)}\r\n`));
    assert.equal(ok.length, 1);
  });

  it("a literal announced larger than maxLiteralSize fails before its bytes are read", () => {
    const p = parser({ maxLiteralSize: 1000 });
    assert.throws(() => p.push(Buffer.from("* 1 FETCH (BODY[] {1001}\r\n")), limitExceeded);
    const q = parser({ maxLiteralSize: 1000 });
    q.push(Buffer.from("* 1 FETCH (BODY[] {1000}\r\n"));
    assert.equal(q.buffered, 26);
  });

  it("a literal size with absurdly many digits fails at once", () => {
    assert.throws(
      () => parser({}).push(Buffer.from("* 1 FETCH (BODY[] {99999999999999999999}\r\n")),
      limitExceeded,
    );
  });

  it("literals adding up past maxResponseSize fail when the last one is announced", () => {
    const p = parser({ maxResponseSize: 100 });
    p.push(Buffer.from(`* 1 FETCH (BODY[1] {40}\r\n${"a".repeat(40)} `));
    assert.throws(() => p.push(Buffer.from("BODY[2] {40}\r\n")), limitExceeded);
  });

  it("nesting deeper than maxDepth is IMAP_LIMIT_EXCEEDED, at any depth asked", () => {
    const nested = (n: number) => `* 1 FETCH (X ${"(".repeat(n)}${")".repeat(n)})\r\n`;
    const seen: unknown[] = [];
    parser({ maxDepth: 5 }, seen).push(Buffer.from(nested(4)));
    assert.equal(seen.length, 1);
    assert.throws(() => parser({ maxDepth: 5 }).push(Buffer.from(nested(5))), limitExceeded);
    assert.throws(() => parser({}).push(Buffer.from(nested(200_000))), limitExceeded);
  });

  it("held bytes are reported by `buffered` and released once the response is complete", () => {
    const p = parser({});
    p.push(Buffer.from("* 1 FETCH (BODY[] {10}\r\n01234"));
    assert.equal(p.buffered, 29);
    p.push(Buffer.from("56789)\r\n"));
    assert.equal(p.buffered, 0);
  });
});
