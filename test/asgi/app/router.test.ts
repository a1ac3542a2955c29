import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  ASGIApplication,
  HTTPError,
  Response,
  Router,
  TestClient,
} from "../../../src/asgi/app/index.js";
import { splitRawPath } from "../../../src/asgi/app/route-tree.js";

function clientFor(router: Router): TestClient {
  return new TestClient(new ASGIApplication().include(router));
}

describe("Router", () => {
  const router = new Router()
    .get(
      "/users/{id:int}",
      (_r, params) => {
        const id: number = params.id; // typed from the template
        return Response.json({ id, type: typeof id });
      },
      { name: "user" },
    )
    .get("/users/me", () => Response.json({ me: true }))
    .get("/files/{rest:path}", (_r, params) => Response.json({ rest: params.rest }), {
      name: "file",
    })
    .get("/tags/{tag}", (_r, params) => Response.json({ tag: params.tag }), { name: "tag" })
    .post("/tags/{tag}", () => Response.text("created", 201))
    .route("/multi", () => Response.text("m"), { methods: ["PUT", "PATCH"] });
  const client = clientFor(router);

  it("converts int params and prefers static segments", async () => {
    assert.deepEqual((await client.get("/users/42")).json(), { id: 42, type: "number" });
    assert.deepEqual((await client.get("/users/me")).json(), { me: true });
    const notInt = await client.get("/users/abc");
    assert.equal(notInt.status, 404);
    assert.deepEqual(notInt.json(), { detail: "Not Found" });
  });

  it("path params span slashes; %2F stays inside a segment", async () => {
    assert.deepEqual((await client.get("/files/a/b/c.txt")).json(), { rest: "a/b/c.txt" });
    assert.deepEqual((await client.get("/tags/a%2Fb")).json(), { tag: "a/b" });
    assert.equal((await client.get("/tags/a/b")).status, 404);
    assert.deepEqual((await client.get("/tags/%E3%81%82")).json(), { tag: "あ" });
  });

  it("malformed percent-encoding is a 400", async () => {
    const res = await client.get("/tags/%zz");
    assert.equal(res.status, 400);
    assert.equal((await client.get("/tags/%C3")).status, 400);
  });

  it("answers HEAD for GET routes without a body", async () => {
    const res = await client.request("HEAD", "/tags/x");
    assert.equal(res.status, 200);
    assert.equal(res.body.byteLength, 0);
    assert.equal(res.headers["content-length"], String(JSON.stringify({ tag: "x" }).length));
  });

  it("405 with Allow when only the method differs", async () => {
    const res = await client.delete("/tags/x");
    assert.equal(res.status, 405);
    assert.equal(res.headers.allow, "GET, POST, HEAD");
    const multi = await client.get("/multi");
    assert.equal(multi.status, 405);
    assert.equal(multi.headers.allow, "PUT, PATCH");
    assert.equal((await client.patch("/multi")).text(), "m");
    assert.equal((await client.post("/tags/x")).status, 201);
  });

  it("urlFor percent-encodes parameters", () => {
    assert.equal(router.urlFor("user", { id: 7 }), "/users/7");
    assert.equal(router.urlFor("tag", { tag: "a/b c" }), "/tags/a%2Fb%20c");
    assert.equal(router.urlFor("file", { rest: "x y/z" }), "/files/x%20y/z");
    assert.throws(() => router.urlFor("nope"), { name: "ASGIError", code: "ASGI_UNKNOWN_ROUTE" });
  });

  it("the path is walked segment by segment, yet malformed encoding anywhere is a 400", () => {
    // The walk decodes a segment only when it reaches it; a path that matches nothing is
    // checked whole, so where the walk stopped does not turn a 400 into a 404.
    assert.throws(() => router.resolve("GET", "/nowhere/%zz"), { code: "HTTP_MALFORMED_PATH" });
    assert.throws(() => router.resolve("GET", "/users/%zz/x"), { code: "HTTP_MALFORMED_PATH" });
    assert.throws(() => router.resolve("GET", "/files/a/%C3"), { code: "HTTP_MALFORMED_PATH" });
    assert.equal(router.resolve("GET", "/files/a%2Fb//c/")?.params.rest, "a/b//c/");
    assert.equal(router.resolve("GET", "/users/7/x"), null);
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom("/", "users", "files", "tags", "me", "7", "%2F", "%zz", "%C3"), {
          maxLength: 8,
        }),
        (parts) => {
          const raw = `/${parts.join("")}`;
          let malformed = false;
          try {
            splitRawPath(raw);
          } catch {
            malformed = true;
          }
          if (malformed) {
            assert.throws(() => router.resolve("GET", raw), { code: "HTTP_MALFORMED_PATH" });
          } else {
            router.resolve("GET", raw); // a route, null or 405: never a 400
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it("fuzz: matching any raw path yields a result, null, or a typed HTTPError", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary-ascii", maxLength: 60 }), (tail) => {
        for (const method of ["GET", "POST", "HEAD", "OPTIONS"]) {
          try {
            router.resolve(method, `/${tail}`);
          } catch (error) {
            assert.ok(error instanceof HTTPError, String(error));
            assert.ok(error.statusCode === 400 || error.statusCode === 405);
          }
        }
      }),
      { numRuns: 500 },
    );
  });

  it("splitRawPath splits like String.split and decodes every segment once", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.constantFrom("/", "a", "%41", "%2F", "%25", "\u00c3\u00a9", "\u00e9", "x%", "%zz"),
          {
            maxLength: 12,
          },
        ),
        (parts) => {
          const raw = parts.join("");
          const pieces = raw.split("/");
          const expected: string[] | null = [pieces[0] as string];
          let malformed = false;
          for (const piece of pieces.slice(1)) {
            try {
              // The raw path is the wire bytes as latin1: bytes ≥ 0x80 are UTF-8 to decode.
              const escaped = piece.replace(
                /[\u0080-\u00ff]/g,
                (c) => `%${c.charCodeAt(0).toString(16)}`,
              );
              expected.push(decodeURIComponent(escaped));
            } catch {
              malformed = true;
            }
          }
          if (malformed) {
            assert.throws(() => splitRawPath(raw), { code: "HTTP_MALFORMED_PATH" });
          } else {
            assert.deepEqual(splitRawPath(raw), expected);
          }
        },
      ),
      { numRuns: 500 },
    );
    assert.deepEqual(splitRawPath("/"), ["", ""]);
    assert.deepEqual(splitRawPath("/a//b/"), ["", "a", "", "b", ""]);
    assert.deepEqual(splitRawPath("*"), ["*"]);
  });

  it("static segments whose hashes collide each keep their own route", async () => {
    // "Aa" and "BB" share the 31-based string hash the tree files static children under.
    const colliding = new Router()
      .get("/Aa", () => Response.text("Aa"))
      .get("/BB", () => Response.text("BB"))
      .get("/Aa/{x}", (_r, params) => Response.text(`Aa ${params.x}`))
      .get("/BB/{x}", (_r, params) => Response.text(`BB ${params.x}`))
      .get("/{other}/{x}", (_r, params) => Response.text(`other ${params.other}`));
    const collidingClient = clientFor(colliding);
    assert.equal((await collidingClient.get("/Aa")).text(), "Aa");
    assert.equal((await collidingClient.get("/BB")).text(), "BB");
    assert.equal((await collidingClient.get("/Aa/1")).text(), "Aa 1");
    assert.equal((await collidingClient.get("/BB/1")).text(), "BB 1");
    assert.equal((await collidingClient.get("/%41a/2")).text(), "Aa 2"); // decoded, then matched
    assert.equal((await collidingClient.get("/Ab/3")).text(), "other Ab");
    assert.equal((await collidingClient.get("/AaB/4")).text(), "other AaB");
  });

  it("a static segment that is not plain ASCII matches its escaped and its raw UTF-8 form", async () => {
    const accented = clientFor(
      new Router()
        .get("/café", () => Response.text("café"))
        .get("/café/{x}", (_r, params) => Response.text(`café ${params.x}`))
        .get("/a b", () => Response.text("space")),
    );
    assert.equal((await accented.get("/caf%C3%A9")).text(), "café");
    assert.equal((await accented.get("/caf%C3%A9/1")).text(), "café 1");
    assert.equal((await accented.get("/a%20b")).text(), "space");
    assert.equal((await accented.get("/cafe")).status, 404);
    // The raw UTF-8 bytes on the wire (a latin1 string in the scope's raw path).
    const raw = new Router().get("/café/{x}", (_r, params) => Response.text(`café ${params.x}`));
    const found = raw.resolve("GET", "/caf\u00c3\u00a9/2");
    assert.ok(found !== null);
    assert.deepEqual({ ...found.params }, { x: "2" });
  });

  it("fuzz: matches what a naive matcher over the templates picks", () => {
    // The reference: split and decode the path, keep the templates whose segments all fit
    // (a static equals its segment, a parameter takes any non-empty one), and pick the one
    // that is static earliest (the tree tries static children before the parameter child).
    const SEGMENTS = ["a", "b", "Aa", "BB", "ab"];
    const template = fc.array(fc.constantFrom(...SEGMENTS, "{p}"), { minLength: 1, maxLength: 4 });
    const wire = fc.constantFrom("a", "b", "Aa", "BB", "ab", "%41a", "%61", "x", "", "%2F");
    fc.assert(
      fc.property(
        fc.uniqueArray(template, { maxLength: 12, selector: (parts) => parts.join("/") }),
        fc.array(wire, { minLength: 1, maxLength: 5 }),
        (templates, pathParts) => {
          const tree = new Router();
          const named = (parts: string[]) =>
            `/${parts.map((part, i) => (part === "{p}" ? `{p${i}}` : part)).join("/")}`;
          for (const parts of templates) tree.get(named(parts), () => Response.text(named(parts)));
          const segments = pathParts.map((part) => decodeURIComponent(part));
          const staticFirst = (a: string[], b: string[]) => {
            for (let i = 0; i < a.length; i++) {
              if ((a[i] === "{p}") !== (b[i] === "{p}")) return a[i] !== "{p}";
            }
            return false;
          };
          let best: string[] | undefined;
          for (const parts of templates) {
            const fits =
              parts.length === segments.length &&
              parts.every((part, i) =>
                part === "{p}" ? segments[i] !== "" : part === segments[i],
              );
            if (fits && (best === undefined || staticFirst(parts, best))) best = parts;
          }
          const found = tree.resolve("GET", `/${pathParts.join("/")}`);
          if (best === undefined) {
            assert.equal(found, null);
            return;
          }
          assert.ok(found !== null, `no route for ${pathParts.join("/")}`);
          const response = found.handler(undefined as never, found.params) as Response;
          assert.equal(Buffer.from(response.body as Uint8Array).toString(), named(best));
          const expected: Record<string, string> = {};
          best.forEach((part, i) => {
            if (part === "{p}") expected[`p${i}`] = segments[i] as string;
          });
          assert.deepEqual({ ...found.params }, expected);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("each lookup returns its own parameters: interleaved and nested lookups do not mix", async () => {
    const inner = new Router().get("/v/{a}/{b}", () => Response.text("inner"));
    const outer = new Router().get("/u/{id:int}", (request, params) => {
      // A lookup in another router while this handler's parameters are in use.
      const nested = inner.resolve("GET", "/v/x/y");
      return Response.json({ params, nested: nested?.params, own: request.params });
    });
    const first = outer.resolve("GET", "/u/1");
    const second = inner.resolve("GET", "/v/p/q");
    const third = outer.resolve("GET", "/u/2");
    assert.deepEqual(first?.params, { id: 1 });
    assert.deepEqual(second?.params, { a: "p", b: "q" });
    assert.deepEqual(third?.params, { id: 2 });
    const res = await clientFor(outer).get("/u/7");
    assert.deepEqual(res.json(), { params: { id: 7 }, nested: { a: "x", b: "y" }, own: { id: 7 } });
  });

  it("rejects a __proto__ or empty parameter name when the route is registered", () => {
    assert.throws(() => new Router().get("/a/{__proto__}", () => Response.text("x")), {
      code: "ASGI_INVALID_ROUTE",
    });
    assert.throws(() => new Router().get("/a/{}", () => Response.text("x")), {
      code: "ASGI_INVALID_ROUTE",
    });
  });
});

describe("Router.include (prefixes)", () => {
  const items = new Router()
    .get("/", () => Response.json({ list: true }), { name: "items" })
    .get("/{id:int}", (_r, params) => Response.json({ id: params.id }), { name: "item" })
    .post("/{id:int}", () => Response.text("updated"));
  const v1 = new Router().include(items, { prefix: "/items" });
  const api = new Router()
    .get("/api/health", () => Response.json({ ok: true }))
    .get("/api/{section}", (_r, params) => Response.json({ section: params.section }))
    .include(v1, { prefix: "/api/v1" });
  const client = clientFor(api);

  it("serves an included router's routes under its prefix, nested", async () => {
    assert.deepEqual((await client.get("/api/v1/items/")).json(), { list: true });
    assert.deepEqual((await client.get("/api/v1/items/7")).json(), { id: 7 });
    assert.equal((await client.post("/api/v1/items/7")).text(), "updated");
    assert.equal((await client.get("/api/v1/items/x")).status, 404);
    assert.equal((await client.get("/items/7")).status, 404, "not outside the prefix");
    assert.equal((await client.delete("/api/v1/items/7")).headers.allow, "GET, POST, HEAD");
  });

  it("the parent's own routes win; a prefix segment still matches its parameters otherwise", async () => {
    assert.deepEqual((await client.get("/api/health")).json(), { ok: true });
    assert.deepEqual((await client.get("/api/v1")).json(), { section: "v1" });
    assert.deepEqual((await client.get("/api/other")).json(), { section: "other" });
  });

  it("routes added to the included router later are served too", async () => {
    items.get("/latest", () => Response.json({ latest: true }));
    assert.deepEqual((await client.get("/api/v1/items/latest")).json(), { latest: true });
  });

  it("urlFor reaches named routes of included routers, with their prefix", () => {
    assert.equal(api.urlFor("item", { id: 3 }), "/api/v1/items/3");
    assert.equal(api.urlFor("items"), "/api/v1/items/");
  });

  it("ASGIApplication.include takes a prefix too", async () => {
    const app = new ASGIApplication().include(items, { prefix: "/shop" });
    const res = await new TestClient(app).get("/shop/5");
    assert.deepEqual(res.json(), { id: 5 });
  });

  it("rejects prefixes that are not static segments, and cycles", () => {
    for (const prefix of ["api", "/api/", "/{x}", "/a//b"]) {
      assert.throws(() => new Router().include(new Router(), { prefix }), {
        code: "ASGI_INVALID_ROUTE",
      });
    }
    const a = new Router();
    const b = new Router().include(a);
    assert.throws(() => a.include(b), { code: "ASGI_INVALID_ROUTE" });
    assert.throws(() => a.include(a), { code: "ASGI_INVALID_ROUTE" });
  });
});
