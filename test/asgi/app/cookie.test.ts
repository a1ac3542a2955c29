import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { parseCookieHeader, serializeCookie } from "../../../src/asgi/app/cookie.js";
import {
  ASGIApplication,
  type Request,
  Response,
  TestClient,
} from "../../../src/asgi/app/index.js";
import { ASGIError } from "../../../src/errors.js";

function appOf(handler: (request: Request) => Response | Promise<Response>): ASGIApplication {
  return new (class extends ASGIApplication {
    override async handleRequest(request: Request): Promise<Response> {
      return handler(request);
    }
  })();
}

const isCookieError = (error: unknown) =>
  error instanceof ASGIError && error.code === "ASGI_INVALID_COOKIE";

describe("Response.setCookie", () => {
  it("sends one Set-Cookie line per cookie, with every attribute", async () => {
    const client = new TestClient(
      appOf(() =>
        Response.json({ ok: true })
          .setCookie("session", "abc123", {
            path: "/",
            domain: "example.com",
            maxAge: 3600,
            expires: new Date(Date.UTC(2030, 0, 2, 3, 4, 5)),
            secure: true,
            httpOnly: true,
            sameSite: "Strict",
          })
          .setCookie("theme", "dark")
          .deleteCookie("old", { path: "/app" }),
      ),
    );
    const res = await client.get("/");
    assert.equal(res.status, 200);
    assert.deepEqual(res.getAll("set-cookie"), [
      "session=abc123; Domain=example.com; Path=/; Max-Age=3600; " +
        "Expires=Wed, 02 Jan 2030 03:04:05 GMT; Secure; HttpOnly; SameSite=Strict",
      "theme=dark",
      "old=; Path=/app; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
    ]);
    // The single-valued record still works alongside the repeated lines.
    assert.equal(res.headers["content-type"], "application/json");
  });

  it("rejects names, values and attributes that could inject (CR, LF, ;, space, quote)", () => {
    const response = Response.text("x");
    for (const [name, value] of [
      ["a;b", "1"],
      ["a b", "1"],
      ["", "1"],
      ["a", "1; Domain=evil.example"],
      ["a", "1\r\nx-evil: 1"],
      ["a", 'say "hi"'],
      ["a", "caf\u00e9"],
    ] as const) {
      assert.throws(() => response.setCookie(name, value), isCookieError, `${name}=${value}`);
    }
    assert.throws(() => response.setCookie("a", "1", { path: "/; HttpOnly" }), isCookieError);
    assert.throws(() => response.setCookie("a", "1", { path: "/\r\nx: y" }), isCookieError);
    assert.throws(() => response.setCookie("a", "1", { domain: "a.com; Secure" }), isCookieError);
    assert.throws(() => response.setCookie("a", "1", { maxAge: 1.5 }), isCookieError);
    assert.throws(
      () => response.setCookie("a", "1", { expires: new Date(Number.NaN) }),
      isCookieError,
    );
    assert.throws(
      () => response.setCookie("a", "1", { sameSite: "Lax; x" as "Lax" }),
      isCookieError,
    );
    // Rules browsers enforce by dropping the cookie are errors here, not silent losses.
    assert.throws(() => response.setCookie("a", "1", { sameSite: "None" }), isCookieError);
    assert.throws(() => response.setCookie("a", "1", { partitioned: true }), isCookieError);
    assert.throws(() => response.setCookie("__Secure-a", "1"), isCookieError);
    assert.throws(
      () => response.setCookie("__Host-a", "1", { secure: true, path: "/", domain: "a.com" }),
      isCookieError,
    );
    assert.equal(
      serializeCookie("__Host-a", "1", { secure: true, path: "/", sameSite: "None" }),
      "__Host-a=1; Path=/; Secure; SameSite=None",
    );
    assert.equal(response.getHeaderLines("set-cookie").length, 0, "nothing was added");
  });

  it("fuzz: any accepted cookie is one header line with exactly the attributes asked for", () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.option(fc.string()), (name, value, path) => {
        let line: string;
        try {
          line = serializeCookie(name, value, path === null ? {} : { path });
        } catch (error) {
          assert.ok(isCookieError(error));
          return;
        }
        assert.ok(!/[\r\n\0]/.test(line));
        assert.equal(line.split(";").length, path === null ? 1 : 2);
      }),
    );
  });
});

describe("Request.cookies", () => {
  it("parses the Cookie header lazily: first of a name wins, quotes removed, null prototype", async () => {
    const client = new TestClient(
      appOf((r) =>
        Response.json({
          cookies: { ...r.cookies },
          proto: Object.getPrototypeOf(r.cookies),
        }),
      ),
    );
    const res = await client.get("/", {
      headers: { cookie: 'a=1; b="two"; a=shadowed; __proto__=x; junk; c=' },
    });
    assert.deepEqual(res.json(), {
      cookies: { a: "1", b: "two", ["__proto__"]: "x", c: "" },
      proto: null,
    });
    assert.deepEqual({ ...parseCookieHeader("") }, {});
  });

  it("fuzz: any Cookie header parses to a null-prototype record of strings, never throws", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 200 }), (header) => {
        const cookies = parseCookieHeader(header);
        assert.equal(Object.getPrototypeOf(cookies), null);
        for (const value of Object.values(cookies)) assert.equal(typeof value, "string");
      }),
      { numRuns: 300 },
    );
    // What setCookie writes, a browser sends back as name=value, and it parses back.
    fc.assert(
      fc.property(
        fc.stringMatching(/^[A-Za-z0-9_-]{1,10}$/),
        fc.stringMatching(/^[!#-+\--:<-[\]-~]{0,20}$/),
        (name, value) => {
          const line = serializeCookie(name, value, { path: "/" });
          const pair = line.slice(0, line.indexOf(";"));
          assert.equal(parseCookieHeader(`x=1; ${pair}`)[name], name === "x" ? "1" : value);
        },
      ),
      { numRuns: 300 },
    );
  });
});
