import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { isValidHost } from "../../../src/asgi/server/host.js";

/**
 * RFC 9110 §7.2 / RFC 3986 §3.2.2-3 as one regular expression, written independently of the
 * scanner it checks (IPv6 loosened to its characters, as the scanner does).
 */
const HOST_GRAMMAR =
  /^(?:\[(?:[0-9A-Fa-f:.]+|[vV][0-9A-Fa-f]+\.[A-Za-z0-9\-._~!$&'()*+,;=:]+)\]|(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})*)(?::[0-9]*)?$/;

describe("isValidHost", () => {
  it("accepts host names, IPv4, IP literals, ports and the empty value", () => {
    for (const host of [
      "",
      "example.com",
      "EXAMPLE.com:8080",
      "127.0.0.1",
      "127.0.0.1:1",
      "localhost:",
      "[::1]",
      "[::1]:8000",
      "[2001:db8::7]",
      "[::ffff:192.0.2.1]:443",
      "[v1.fe80::a+en1]",
      "a%41b",
      "xn--bcher-kva.example",
      "a_b~c!$&'()*+,;=",
    ]) {
      assert.equal(isValidHost(host), true, JSON.stringify(host));
    }
  });

  it("rejects delimiters, spaces, controls, non-ASCII and broken forms", () => {
    for (const host of [
      "a b",
      "evil.example/x",
      "user@x",
      "x?y",
      "x#y",
      "x\\y",
      'x"y',
      "x:80a",
      "x:80:90",
      "[::1",
      "[]",
      "[::1]x",
      "[::1]:8a",
      "[g::1]",
      "[v.x]",
      "[v1.]",
      "::1",
      "%4",
      "%zz",
      "a\tb",
      "é.example",
      "x<y>",
    ]) {
      assert.equal(isValidHost(host), false, JSON.stringify(host));
    }
  });

  it("agrees with the RFC grammar on fuzzed values", () => {
    const piece = fc.constantFrom(
      "a",
      "Z",
      "0",
      "9",
      ".",
      "-",
      ":",
      "[",
      "]",
      "%",
      "%4",
      "%41",
      "v",
      "f",
      "@",
      "/",
      " ",
      "~",
      "!",
      "é",
      "\t",
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), (pieces) => {
        const host = pieces.join("");
        assert.equal(isValidHost(host), HOST_GRAMMAR.test(host), JSON.stringify(host));
      }),
      { numRuns: 5000 },
    );
  });
});
