import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { ForwardedTrust } from "../../../src/asgi/server/forwarded.js";
import { decodePathSegment, type ServerHandle } from "../../../src/asgi/server/index.js";
import { latin1Bytes, parseTarget } from "../../../src/asgi/server/path.js";
import type { HTTPScope } from "../../../src/asgi/types.js";
import { RawClient, responseBody, start, textApp } from "./helpers.js";

describe("request target parsing", () => {
  it("decodes once, from the raw bytes, as UTF-8", () => {
    assert.deepEqual(parseTarget("/a%20b/%E3%81%82?x=%20"), {
      rawPath: "/a%20b/%E3%81%82",
      path: "/a b/あ",
      query: "x=%20",
    });
    assert.equal(parseTarget("/%252F")?.path, "/%2F", "no double decoding");
    assert.equal(decodePathSegment("a%2Fb"), "a/b", "a segment keeps its decoded slash");
  });

  it("rejects malformed percent-encoding and invalid UTF-8", () => {
    for (const bad of ["/%", "/%2", "/%zz", "/a%G0", "/%C3%28", "/%FF"]) {
      assert.equal(parseTarget(bad), null, bad);
    }
  });

  it("splits and decodes an origin-form target as indexOf and decodePathSegment would (fuzzed)", () => {
    // The reference: the query starts at the first "?", a fragment is cut from the query, and
    // the path is decoded whole (or the target refused).
    const reference = (url: string) => {
      const q = url.indexOf("?");
      const rawPath = q < 0 ? url : url.slice(0, q);
      const path = decodePathSegment(rawPath);
      if (path === null) return null;
      const query = q < 0 ? "" : url.slice(q + 1).split("#")[0];
      return { rawPath, path, query };
    };
    const pieces = fc.constantFrom(
      "/",
      "a",
      "%",
      "2F",
      "%2F",
      "?",
      "#",
      "=",
      "&",
      "\u00c3",
      "%C3%A9",
      "%zz",
    );
    fc.assert(
      fc.property(fc.string({ unit: pieces, maxLength: 12 }), (rest) => {
        const url = `/${rest}`;
        assert.deepEqual(parseTarget(url), reference(url), url);
      }),
      { numRuns: 1000 },
    );
  });

  it("handles absolute-form and asterisk-form targets", () => {
    assert.deepEqual(parseTarget("http://example.com/p?q=1"), {
      rawPath: "/p",
      path: "/p",
      query: "q=1",
    });
    assert.deepEqual(parseTarget("http://example.com?q"), { rawPath: "/", path: "/", query: "q" });
    assert.equal(parseTarget("*")?.path, "*");
    assert.equal(parseTarget("nonsense"), null);
  });

  it("decodePathSegment inverts encodeURIComponent and never throws (fuzzed)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 40 }), (text) => {
        assert.equal(decodePathSegment(encodeURIComponent(text)), text);
      }),
      { numRuns: 300 },
    );
    const pieces = fc.constantFrom("%", "2", "F", "z", "\u00e9", "/", "a", "C", "3", "%C3", "%A9");
    fc.assert(
      fc.property(fc.string({ unit: pieces }), (raw) => {
        const decoded = decodePathSegment(raw);
        assert.ok(decoded === null || typeof decoded === "string");
      }),
    );
  });
});

describe("latin1Bytes (scope.raw_path / query_string)", () => {
  it("gives the same bytes as Buffer.from(text, 'latin1'), short and long (fuzzed)", () => {
    fc.assert(
      fc.property(
        fc.string({
          unit: fc.integer({ min: 0, max: 0xff }).map((c) => String.fromCharCode(c)),
          maxLength: 200,
        }),
        (text) => {
          const bytes = latin1Bytes(text);
          assert.ok(Buffer.isBuffer(bytes));
          assert.deepEqual(bytes, Buffer.from(text, "latin1"));
        },
      ),
    );
  });
});

describe("X-Forwarded-For from trusted proxies", () => {
  it("takes the rightmost untrusted hop, so a client cannot forge the left part", () => {
    const trust = new ForwardedTrust(["10.0.0.2", "10.0.0.3"]);
    const read = (value: string) => trust.read([["x-forwarded-for", value]]).client?.[0];
    assert.equal(read("1.1.1.1, 203.0.113.7, 10.0.0.3, 10.0.0.2"), "203.0.113.7");
    assert.equal(read("10.0.0.3"), "10.0.0.3", "all trusted: the first hop");
    assert.equal(trust.read([]).client, null);
    assert.equal(trust.trusts("::ffff:10.0.0.2"), true, "IPv4-mapped IPv6");
    assert.equal(trust.read([["x-forwarded-proto", "HTTPS, http"]]).scheme, "https");
    assert.equal(trust.read([["x-forwarded-proto", "gopher"]]).scheme, null);
  });
});

describe("scope built by the server", () => {
  let handle: ServerHandle;
  let last: HTTPScope | undefined;
  let calls = 0;

  before(async () => {
    handle = await start(async (scope, _receive, send) => {
      if (scope.type !== "http") throw new Error("no lifespan");
      calls++;
      last = scope;
      await send({ type: "http.response.start", status: 204 });
      await send({ type: "http.response.body" });
    });
  });
  after(() => handle.close());

  it("carries method, decoded path, raw_path, query_string, headers, client and server", async () => {
    const response = await fetch(`${handle.url}/caf%C3%A9/a%2Fb?x=1&y=%20`, {
      method: "PUT",
      headers: { "X-Custom": "Value", "X-Latin": "caf\u00e9" },
      body: "",
    });
    assert.equal(response.status, 204);
    const scope = last!;
    assert.equal(scope.type, "http");
    assert.deepEqual(scope.asgi, { version: "3.0", spec_version: "2.4" });
    assert.equal(scope.http_version, "1.1");
    assert.equal(scope.method, "PUT");
    assert.equal(scope.scheme, "http");
    assert.equal(scope.path, "/café/a/b");
    assert.equal(Buffer.from(scope.raw_path!).toString("latin1"), "/caf%C3%A9/a%2Fb");
    assert.equal(Buffer.from(scope.query_string).toString("latin1"), "x=1&y=%20");
    assert.equal(scope.root_path, "");
    const headers = new Map(scope.headers);
    assert.equal(headers.get("x-custom"), "Value");
    assert.equal(headers.get("x-latin"), "caf\u00e9", "latin1 strings, one char per byte");
    for (const [name] of scope.headers) assert.equal(name, name.toLowerCase());
    assert.equal(scope.client?.[0], "127.0.0.1");
    assert.equal(typeof scope.client?.[1], "number");
    assert.deepEqual(scope.server, ["127.0.0.1", handle.port]);
    assert.equal(scope.state, undefined, "no lifespan state when the app has no lifespan");
  });

  it("keeps repeated headers as separate pairs, in order", async () => {
    const client = new RawClient(handle.port);
    await client.write(
      "GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\nx-a: 2\r\nConnection: close\r\n\r\n",
    );
    await client.untilClosed();
    assert.deepEqual(
      last!.headers.filter(([name]) => name === "x-a"),
      [
        ["x-a", "1"],
        ["x-a", "2"],
      ],
    );
  });

  it("answers 400 to malformed percent-encoding without calling the app", async () => {
    const before = calls;
    for (const target of ["/%zz", "/a%2", "/%C3%28"]) {
      const client = new RawClient(handle.port);
      await client.write(`GET ${target} HTTP/1.1\r\nHost: x\r\n\r\n`);
      const text = await client.untilClosed();
      assert.match(text, /^HTTP\/1\.1 400 /, target);
    }
    assert.equal(calls, before);
  });

  it("answers 400 to a malformed request line and keeps serving", async () => {
    const client = new RawClient(handle.port);
    await client.write("GARBAGE\r\n\r\n");
    assert.match(await client.untilClosed(), /^HTTP\/1\.1 400 /);
    assert.equal((await fetch(handle.url)).status, 204);
  });

  it("reports HTTP/1.0", async () => {
    const client = new RawClient(handle.port);
    await client.write("GET /old HTTP/1.0\r\n\r\n");
    await client.untilClosed();
    assert.equal(last!.http_version, "1.0");
    assert.equal(last!.path, "/old");
  });

  it("passes rootPath through as root_path", async () => {
    let rootPath: string | undefined;
    await using mounted = await start(
      async (scope, _receive, send) => {
        if (scope.type !== "http") throw new Error("no lifespan");
        rootPath = scope.root_path;
        await send({ type: "http.response.start", status: 204 });
        await send({ type: "http.response.body" });
      },
      { rootPath: "/api" },
    );
    await fetch(mounted.url);
    assert.equal(rootPath, "/api");
  });

  it("answers every fuzzed request target with the decoded path or a 400, and keeps serving", async () => {
    await using echo = await start(textApp((scope) => scope.path));
    const piece = fc.constantFrom(
      "/",
      "a",
      "%",
      "%2F",
      "%2f",
      "%25",
      "%E3%81%82",
      "%C3",
      "%zz",
      "é",
      "+",
      ";",
      "~",
      "..",
    );
    await fc.assert(
      fc.asyncProperty(fc.array(piece, { maxLength: 12 }), async (pieces) => {
        const target = `/${pieces.join("")}`;
        const client = new RawClient(echo.port);
        await client.write(
          Buffer.from(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, "latin1"),
        );
        const text = await client.untilClosed();
        const expected = parseTarget(Buffer.from(target, "latin1").toString("latin1"));
        if (expected === null) {
          assert.match(text, /^HTTP\/1\.1 400 /, target);
        } else {
          assert.match(text, /^HTTP\/1\.1 200 /, target);
          assert.equal(responseBody(text), expected.path, target);
        }
      }),
      { numRuns: 60 },
    );
    assert.equal(await (await fetch(echo.url)).text(), "/");
  });

  it("takes client and scheme from X-Forwarded-* only from trusted proxies", async () => {
    const seen: Array<[HTTPScope["client"], string]> = [];
    const app = textApp((scope) => {
      seen.push([scope.client, scope.scheme]);
      return "ok";
    });
    const headers = { "x-forwarded-for": "203.0.113.7, 10.0.0.2", "x-forwarded-proto": "https" };
    await using trusting = await start(app, { forwardedAllowIps: ["127.0.0.1", "10.0.0.2"] });
    await (await fetch(trusting.url, { headers })).text();
    assert.deepEqual(seen.pop(), [["203.0.113.7", 0], "https"]);

    await using untrusting = await start(app, { forwardedAllowIps: ["192.0.2.1"] });
    await (await fetch(untrusting.url, { headers })).text();
    const [client, scheme] = seen.pop()!;
    assert.equal(client?.[0], "127.0.0.1", "a peer that is not trusted cannot forge its address");
    assert.equal(scheme, "http");
  });
});
