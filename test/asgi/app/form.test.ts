import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { parseMultipart, parseUrlencoded, parseUrlencodedAll } from "../../../src/asgi/app/form.js";
import { HTTPError } from "../../../src/asgi/app/index.js";

describe("form parsers", () => {
  it("fuzz: parseUrlencodedAll agrees with URLSearchParams.getAll and its last value is the record's", () => {
    const part = fc.stringMatching(/^[a-z%+0-9]{0,4}$/);
    fc.assert(
      fc.property(fc.array(fc.tuple(part, part), { maxLength: 6 }), (pairs) => {
        const text = pairs.map(([k, v]) => `${k}=${v}`).join("&");
        let record: Record<string, string>;
        try {
          record = parseUrlencoded(text);
        } catch (error) {
          assert.ok(error instanceof HTTPError && error.statusCode === 400);
          return;
        }
        for (const name of Object.keys(record)) {
          const all = parseUrlencodedAll(text, name);
          assert.deepEqual(all, new URLSearchParams(text).getAll(name));
          assert.equal(all.at(-1), record[name]);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("urlencoded: + is a space, last value wins, __proto__ is a plain key", () => {
    const parsed = parseUrlencoded("a=1+2&a=3&__proto__=x&flag&=v");
    assert.equal(parsed.a, "3");
    assert.deepEqual(Object.entries(parsed)[1], ["__proto__", "x"]);
    assert.equal(parsed.flag, "");
    assert.equal(Object.getPrototypeOf(parsed), null);
    assert.equal(({} as Record<string, unknown>).x, undefined);
  });

  it("fuzz: urlencoded parsing returns a null-prototype record or a 400 HTTPError", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (text) => {
        try {
          const parsed = parseUrlencoded(text);
          assert.equal(Object.getPrototypeOf(parsed), null);
          for (const value of Object.values(parsed)) assert.equal(typeof value, "string");
        } catch (error) {
          assert.ok(error instanceof HTTPError && error.statusCode === 400, String(error));
        }
      }),
      { numRuns: 1000 },
    );
  });

  it("fuzz: multipart parsing of arbitrary bytes only fails with HTTPError", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 200 }),
        fc.constantFrom("", "--b\r\n"),
        (bytes, prefix) => {
          const body = Buffer.concat([Buffer.from(prefix), bytes]);
          try {
            parseMultipart(body, "b", { maxParts: 5, maxFieldSize: 100, maxFileSize: 100 });
          } catch (error) {
            assert.ok(error instanceof HTTPError, String(error));
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
