import assert from "node:assert/strict";
import type { Stats } from "node:fs";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  contentTypeFor,
  ifRangeAllows,
  isNotModified,
  parseRange,
} from "../../../../src/asgi/app/static-http.js";

const stats = (size: number, mtimeMs: number) => ({ size, mtimeMs }) as Stats;

describe("static-http", () => {
  it("parseRange keeps every partial range inside the file (fuzz)", () => {
    const header = fc.oneof(
      fc.string(),
      fc
        .tuple(fc.option(fc.nat(), { nil: undefined }), fc.option(fc.nat(), { nil: undefined }))
        .map(([a, b]) => `bytes=${a ?? ""}-${b ?? ""}`),
    );
    fc.assert(
      fc.property(header, fc.nat({ max: 1_000_000 }), (value, size) => {
        const result = parseRange(value, size);
        if (result.kind === "partial") {
          const { start, end } = result.range;
          assert.ok(Number.isInteger(start) && Number.isInteger(end), value);
          assert.ok(start >= 0 && start <= end && end < size, `${value} of ${size}`);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("parseRange reads each range form", () => {
    assert.deepEqual(parseRange(undefined, 10), { kind: "full" });
    assert.deepEqual(parseRange("bytes=2-4", 10), { kind: "partial", range: { start: 2, end: 4 } });
    assert.deepEqual(parseRange("bytes=2-", 10), { kind: "partial", range: { start: 2, end: 9 } });
    assert.deepEqual(parseRange("bytes=-4", 10), { kind: "partial", range: { start: 6, end: 9 } });
    assert.deepEqual(parseRange("bytes=10-", 10), { kind: "unsatisfiable" });
    assert.deepEqual(parseRange("bytes=99999999999999999999-", 10), { kind: "unsatisfiable" });
    assert.deepEqual(parseRange("bytes=0-1, 3-4", 10), { kind: "full" });
    assert.deepEqual(parseRange("bytes=4-2", 10), { kind: "full" });
    assert.deepEqual(parseRange("bytes=1.5-2", 10), { kind: "full" });
  });

  it("isNotModified and ifRangeAllows never throw on junk headers (fuzz)", () => {
    fc.assert(
      fc.property(fc.option(fc.string()), fc.option(fc.string()), (a, b) => {
        const file = stats(10, 1_700_000_000_123);
        assert.equal(typeof isNotModified(a ?? undefined, b ?? undefined, file), "boolean");
        assert.equal(typeof ifRangeAllows(a ?? undefined, file), "boolean");
      }),
      { numRuns: 1000 },
    );
  });

  it("compares If-Modified-Since in whole seconds", () => {
    const file = stats(10, Date.parse("2024-01-01T00:00:00Z") + 900);
    assert.equal(isNotModified(undefined, "Mon, 01 Jan 2024 00:00:00 GMT", file), true);
    assert.equal(isNotModified(undefined, "Sun, 31 Dec 2023 23:59:59 GMT", file), false);
  });

  it("types text with a charset, binaries without", () => {
    assert.equal(contentTypeFor("a.JS"), "text/javascript; charset=utf-8");
    assert.equal(contentTypeFor("a.svg"), "image/svg+xml");
    assert.equal(contentTypeFor("a.woff2"), "font/woff2");
    assert.equal(contentTypeFor(".hidden"), "application/octet-stream");
    assert.equal(contentTypeFor("a.constructor"), "application/octet-stream");
    assert.equal(contentTypeFor("a.__proto__"), "application/octet-stream");
  });
});
