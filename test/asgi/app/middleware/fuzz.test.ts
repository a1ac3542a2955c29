import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { escapeLogField } from "../../../../src/asgi/app/middleware/access-log.js";
import {
  type CompressionEncoding,
  negotiateEncoding,
} from "../../../../src/asgi/app/middleware/compression.js";
import { SessionMiddleware } from "../../../../src/asgi/app/middleware/session.js";
import { splitHost } from "../../../../src/asgi/app/middleware/shared.js";

const offered: CompressionEncoding[] = ["br", "gzip"];

describe("standard middleware parsers under arbitrary input", () => {
  it("negotiateEncoding returns an offered coding or undefined, and honours q=0", () => {
    fc.assert(
      fc.property(fc.string(), (header) => {
        const chosen = negotiateEncoding(header, offered);
        assert.ok(chosen === undefined || offered.includes(chosen));
      }),
    );
    fc.assert(
      fc.property(fc.constantFrom(...offered), fc.string(), (refused, rest) => {
        // Whatever else is listed first, an explicit q=0 at the end wins for that coding.
        const header = `${rest.replace(/[,;]/g, "")}, ${refused};q=0`;
        assert.notEqual(negotiateEncoding(header, [refused]), refused);
      }),
    );
  });

  it("session decode accepts only values the same keys encoded", () => {
    const middleware = new SessionMiddleware(async () => {}, { secretKey: ["a", "b"] });
    fc.assert(
      fc.property(fc.string(), (value) => {
        assert.equal(middleware.decode(value), undefined);
      }),
    );
    fc.assert(
      fc.property(
        fc.dictionary(fc.string(), fc.jsonValue()),
        fc.nat({ max: 40 }),
        (session, flip) => {
          const encoded = middleware.encode(session);
          assert.deepEqual(middleware.decode(encoded), JSON.parse(JSON.stringify(session)));
          // Any single changed character breaks the signature (or the format).
          const index = flip % encoded.length;
          const replacement = encoded[index] === "A" ? "B" : "A";
          const tampered = encoded.slice(0, index) + replacement + encoded.slice(index + 1);
          assert.equal(middleware.decode(tampered), undefined, tampered);
        },
      ),
    );
  });

  it("escapeLogField leaves only printable ASCII and no bare quote", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (value) => {
        const escaped = escapeLogField(value);
        assert.match(escaped, /^[\x20-\x7e]*$/);
        assert.doesNotMatch(escaped.replace(/\\\\/g, ""), /(^|[^\\])"/);
      }),
    );
  });

  it("splitHost never throws and keeps host and port apart", () => {
    fc.assert(
      fc.property(fc.string(), (host) => {
        const { hostname, port } = splitHost([["host", host]]);
        assert.equal(hostname + port, host.trim().toLowerCase());
        assert.ok(port === "" || port.startsWith(":"));
      }),
    );
  });
});
