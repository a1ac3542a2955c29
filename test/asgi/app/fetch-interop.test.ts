/**
 * Interop with the fetch world: a Hono app mounted inside an mtaio app (fromFetchHandler), and
 * an ASGI app answering as a fetch handler (toFetchHandler) exactly as it does through serve().
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { describe, it } from "node:test";
import fc from "fast-check";
import { Hono } from "hono";
import { setCookie } from "hono/cookie";
import { stream } from "hono/streaming";
import {
  ASGIApplication,
  fromFetchHandler,
  mount,
  Response,
  Router,
  TestClient,
} from "../../../src/asgi/app/index.js";
import { decodePathSegment } from "../../../src/asgi/path-decode.js";
import { toFetchHandler } from "../../../src/asgi/server/index.js";
import type { ASGIApp, ReceiveEvent } from "../../../src/asgi/types.js";
import { start } from "../server/helpers.js";

const MiB = 1024 * 1024;

function honoApp() {
  const hono = new Hono();
  hono.get("/hello", (c) => c.text(`hello from hono at ${new URL(c.req.url).pathname}`));
  hono.get("/users/:id", (c) => c.json({ id: c.req.param("id"), full: c.req.query("full") }));
  hono.post("/echo", async (c) => {
    const body = new Uint8Array(await c.req.arrayBuffer());
    return c.body(body, 201, { "x-length": String(body.byteLength) });
  });
  hono.get("/cookies", (c) => {
    setCookie(c, "a", "1", { path: "/" });
    setCookie(c, "b", "2", { httpOnly: true });
    return c.text("two cookies");
  });
  hono.get("/stream", (c) =>
    stream(c, async (s) => {
      for (let i = 0; i < 3; i++) await s.write(`part ${i}\n`);
    }),
  );
  return hono;
}

/** An mtaio app with Hono mounted at /hono, everything else its own routes. */
function mixedApp(): ASGIApp {
  const own = new ASGIApplication().include(
    new Router().get("/own", () => Response.text("from mtaio")),
  );
  return mount("/hono", fromFetchHandler(honoApp().fetch), own);
}

/** An mtaio app with the kinds of responses both paths must give alike. */
function comparedApp(): ASGIApplication {
  const router = new Router()
    .get("/plain", () => Response.text("plain ✓", 200, { "x-extra": "yes" }))
    .get("/json", (request) => Response.json({ path: request.path, query: request.query }))
    .post("/echo", async (request) => {
      const body = await request.body();
      return new Response(body, 200, {
        "content-type": request.headers["content-type"] ?? "application/octet-stream",
        "x-method": request.method,
      });
    })
    .get("/stream", () =>
      Response.stream(
        (async function* () {
          for (let i = 0; i < 5; i++) yield `chunk ${i}\n`;
        })(),
        200,
        { "content-type": "text/plain" },
      ),
    )
    .get("/cookies", () => Response.text("c").setCookie("a", "1").setCookie("b", "2"))
    .get("/empty", () => new Response(undefined, 204));
  return new ASGIApplication().include(router);
}

/** Hop-by-hop and per-connection headers a server adds on its own (RFC 9110 §7.6.1). */
const CONNECTION_HEADERS = new Set(["date", "connection", "keep-alive", "transfer-encoding"]);

async function snapshot(response: globalThis.Response) {
  const headers = [...response.headers].filter(([name]) => !CONNECTION_HEADERS.has(name));
  return {
    status: response.status,
    headers,
    cookies: response.headers.getSetCookie(),
    body: Buffer.from(await response.arrayBuffer()),
  };
}

describe("fromFetchHandler: a Hono app mounted in an mtaio app", () => {
  it("routes /hono/* to Hono with root_path stripped, the rest to mtaio (TestClient)", async () => {
    const client = new TestClient(mixedApp());
    const hello = await client.get("/hono/hello");
    assert.equal(hello.status, 200);
    assert.equal(hello.text(), "hello from hono at /hello");
    const user = await client.get("/hono/users/7", { query: { full: "yes" } });
    assert.deepEqual(user.json(), { id: "7", full: "yes" });
    const echo = await client.post("/hono/echo", { body: "ping ✓" });
    assert.equal(echo.status, 201);
    assert.equal(echo.text(), "ping ✓");
    assert.equal(echo.headers["x-length"], String(Buffer.byteLength("ping ✓")));
    const cookies = await client.get("/hono/cookies");
    assert.deepEqual(cookies.getAll("set-cookie"), ["a=1; Path=/", "b=2; Path=/; HttpOnly"]);
    assert.equal((await client.get("/hono/missing")).status, 404);
    assert.equal((await client.get("/own")).text(), "from mtaio");
    assert.equal((await client.get("/honox")).status, 404);
  });

  it("keeps the full path with stripRootPath: false (a Hono app with basePath)", async () => {
    const hono = new Hono().basePath("/hono");
    hono.get("/hello", (c) => c.text(new URL(c.req.url).pathname));
    const app = mount("/hono", fromFetchHandler(hono.fetch, { stripRootPath: false }));
    assert.equal((await new TestClient(app).get("/hono/hello")).text(), "/hono/hello");
  });

  it("serves the mounted Hono app over a real socket, streaming and POST included", async () => {
    await using server = await start(mixedApp());
    const hello = await fetch(`${server.url}/hono/hello`);
    assert.equal(await hello.text(), "hello from hono at /hello");
    const streamed = await fetch(`${server.url}/hono/stream`);
    assert.equal(await streamed.text(), "part 0\npart 1\npart 2\n");
    const payload = Buffer.alloc(900 * 1024, 7);
    const echo = await fetch(`${server.url}/hono/echo`, { method: "POST", body: payload });
    assert.equal(echo.status, 201);
    assert.ok(Buffer.from(await echo.arrayBuffer()).equals(payload));
    const cookies = await fetch(`${server.url}/hono/cookies`);
    assert.deepEqual(cookies.headers.getSetCookie(), ["a=1; Path=/", "b=2; Path=/; HttpOnly"]);
    assert.equal(await (await fetch(`${server.url}/own`)).text(), "from mtaio");
  });

  it("streams a large Hono response: the first chunk arrives before the producer finishes", async () => {
    // Far more than the socket buffers, undici's queue and the server's high-water mark hold
    // together, so only backpressure (not scheduling luck) keeps the producer from finishing.
    const total = 32 * MiB;
    const piece = new Uint8Array(64 * 1024).fill(1);
    let produced = 0;
    const hono = new Hono().get("/big", (c) =>
      stream(c, async (s) => {
        while (produced < total) {
          await s.write(piece);
          produced += piece.byteLength;
        }
      }),
    );
    await using server = await start(fromFetchHandler(hono.fetch));
    const response = await fetch(`${server.url}/big`);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const first = await reader.read();
    assert.ok(!first.done && first.value.byteLength > 0);
    assert.ok(produced < total, `the producer had already written ${produced} bytes`);
    let received = first.value?.byteLength ?? 0;
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) break;
      received += chunk.value.byteLength;
    }
    assert.equal(received, total);
  });
});

describe("fromFetchHandler: the client going away, and what fetch cannot carry", () => {
  it("aborts the handler's request signal when the client disconnects mid-response", {
    timeout: 10_000,
  }, async () => {
    let aborted!: () => void;
    const abortSeen = new Promise<void>((resolve) => (aborted = resolve));
    const hono = new Hono().get("/endless", (c) => {
      c.req.raw.signal.addEventListener("abort", () => aborted(), { once: true });
      const body = new ReadableStream<Uint8Array>({
        pull: async (controller) => {
          await new Promise((resolve) => setTimeout(resolve, 5));
          controller.enqueue(new Uint8Array(1024));
        },
      });
      return new globalThis.Response(body);
    });
    await using server = await start(fromFetchHandler(hono.fetch));
    const client = new AbortController();
    const response = await fetch(`${server.url}/endless`, { signal: client.signal });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    assert.equal((await reader.read()).done, false);
    client.abort();
    await abortSeen; // the test times out if the signal never aborts
  });

  it("aborts the signal of a handler still waiting to answer (a long poll)", {
    timeout: 10_000,
  }, async () => {
    let entered!: () => void;
    const handlerEntered = new Promise<void>((resolve) => (entered = resolve));
    let aborted!: () => void;
    const abortSeen = new Promise<void>((resolve) => (aborted = resolve));
    const hono = new Hono().get("/poll", async (c) => {
      const signal = c.req.raw.signal;
      entered();
      await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve()));
      aborted();
      return c.text("too late");
    });
    await using server = await start(fromFetchHandler(hono.fetch));
    const client = new AbortController();
    const request = fetch(`${server.url}/poll`, { signal: client.signal }).catch(() => null);
    await handlerEntered;
    client.abort();
    assert.equal(await request, null);
    await abortSeen; // the test times out if the signal never aborts
  });

  it("answers 405 for TRACE, which the fetch API cannot build a Request for", async () => {
    let called = false;
    const app = fromFetchHandler(() => {
      called = true;
      return new globalThis.Response("no");
    });
    const response = await new TestClient(app).request("TRACE", "/");
    assert.equal(response.status, 405);
    assert.equal(called, false);
  });
});

describe("toFetchHandler: an ASGI app as a fetch handler", () => {
  it("answers byte-for-byte as serve() does: text, HEAD, JSON, stream, POST echo, cookies, 204", async () => {
    const app = comparedApp();
    const handler = toFetchHandler(app);
    await using server = await start(app.asgi);
    const body = Buffer.from("héllo body ✓\u0000\r\n", "utf8");
    const cases: Array<[string, RequestInit]> = [
      ["/plain", {}],
      ["/plain", { method: "HEAD" }],
      ["/json?a=1&b=%C3%A9", {}],
      ["/stream", {}],
      ["/echo", { method: "POST", body, headers: { "content-type": "text/x-test" } }],
      ["/cookies", {}],
      ["/empty", {}],
      ["/missing", {}],
    ];
    for (const [path, init] of cases) {
      const viaSocket = await snapshot(await fetch(`${server.url}${path}`, init));
      const viaHandler = await snapshot(await handler(new Request(`${server.url}${path}`, init)));
      assert.deepEqual(viaHandler, viaSocket, path);
    }
    const cookies = await handler(new Request("http://x.test/cookies"));
    assert.deepEqual(cookies.headers.getSetCookie(), ["a=1", "b=2"]);
    const echo = await handler(
      new Request("http://x.test/echo", {
        method: "POST",
        body,
        headers: { "content-type": "a/b" },
      }),
    );
    assert.ok(Buffer.from(await echo.arrayBuffer()).equals(body));
  });

  it("builds the scope from the request URL, headers and the client option", async () => {
    let seen: unknown;
    const app: ASGIApp = async (scope, _receive, send) => {
      if (scope.type !== "http") return;
      seen = {
        ...scope,
        raw_path: Buffer.from(scope.raw_path ?? []).toString("latin1"),
        query_string: Buffer.from(scope.query_string).toString("latin1"),
      };
      await send({ type: "http.response.start", status: 200 });
      await send({ type: "http.response.body" });
    };
    const handler = toFetchHandler(app, {
      client: (_request, context) => (context as { ip: [string, number] }).ip,
      rootPath: "/api",
    });
    const response = await handler(
      new Request("https://example.test:8443/api/caf%C3%A9?q=%20x", {
        headers: { "X-Thing": "Value" },
      }),
      { ip: ["203.0.113.9", 5555] },
    );
    assert.equal(response.status, 200);
    assert.deepEqual(seen, {
      type: "http",
      asgi: { version: "3.0", spec_version: "2.4" },
      http_version: "1.1",
      method: "GET",
      scheme: "https",
      path: "/api/café",
      raw_path: "/api/caf%C3%A9",
      query_string: "q=%20x",
      root_path: "/api",
      headers: [
        ["host", "example.test:8443"],
        ["x-thing", "Value"],
      ],
      client: ["203.0.113.9", 5555],
      server: ["example.test", 8443],
    });
    const bad = await handler(new Request("http://x.test/%ff"));
    assert.equal(bad.status, 400);
  });

  it("streams a large response with backpressure: the first chunk comes before the producer ends", async () => {
    // Far more than the socket buffers, undici's queue and the server's high-water mark hold
    // together, so only backpressure (not scheduling luck) keeps the producer from finishing.
    const total = 32 * MiB;
    const piece = new Uint8Array(64 * 1024).fill(2);
    let produced = 0;
    const app: ASGIApp = async (scope, _receive, send) => {
      if (scope.type !== "http") return;
      await send({ type: "http.response.start", status: 200, headers: [["x-big", "1"]] });
      while (produced < total) {
        await send({ type: "http.response.body", body: piece, more_body: true });
        produced += piece.byteLength;
      }
      await send({ type: "http.response.body" });
    };
    const response = await toFetchHandler(app)(new Request("http://x.test/big"));
    assert.equal(response.headers.get("x-big"), "1");
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const first = await reader.read();
    assert.ok(!first.done);
    // Backpressure: the app is held at the stream's high-water mark until the consumer reads.
    assert.ok(produced < total, `the app had already sent ${produced} bytes`);
    let received = first.value.byteLength;
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) break;
      received += chunk.value.byteLength;
    }
    assert.equal(received, total);
  });

  it("streams a large request body into http.request events as it arrives", async () => {
    const total = 3 * MiB;
    const piece = new Uint8Array(256 * 1024).fill(3);
    let pushed = 0;
    let pushedAtFirstEvent = -1;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pushed >= total) {
          controller.close();
          return;
        }
        controller.enqueue(piece);
        pushed += piece.byteLength;
      },
    });
    const app: ASGIApp = async (scope, receive, send) => {
      if (scope.type !== "http") return;
      let received = 0;
      let events = 0;
      for (;;) {
        const event = await receive();
        assert.equal(event.type, "http.request");
        if (event.type !== "http.request") return;
        if (events++ === 0) pushedAtFirstEvent = pushed;
        received += event.body.byteLength;
        if (!event.more_body) break;
      }
      await send({ type: "http.response.start", status: 200 });
      await send({ type: "http.response.body", body: new TextEncoder().encode(String(received)) });
    };
    const request = new Request("http://x.test/up", { method: "PUT", body, duplex: "half" });
    const response = await toFetchHandler(app)(request);
    assert.equal(await response.text(), String(total));
    assert.ok(pushedAtFirstEvent < total, "the whole body was read before the app saw any");
  });

  it("tells the app http.disconnect when the response stream is cancelled", async () => {
    let afterCancel: ReceiveEvent | undefined;
    let sendError: unknown;
    const app: ASGIApp = async (scope, receive, send) => {
      if (scope.type !== "http") return;
      assert.deepEqual(await receive(), {
        type: "http.request",
        body: new Uint8Array(0),
        more_body: false,
      });
      await send({ type: "http.response.start", status: 200 });
      await send({ type: "http.response.body", body: new Uint8Array(10), more_body: true });
      afterCancel = await receive();
      try {
        await send({ type: "http.response.body", body: new Uint8Array(10), more_body: true });
      } catch (error) {
        sendError = error;
      }
    };
    let done!: () => void;
    const appDone = new Promise<void>((resolve) => (done = resolve));
    const response = await toFetchHandler(async (scope, receive, send) => {
      await app(scope, receive, send);
      done();
    })(new Request("http://x.test/"));
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    await reader.cancel();
    await appDone;
    assert.deepEqual(afterCancel, { type: "http.disconnect" });
    assert.equal((sendError as { code?: string }).code, "ASGI_CLIENT_DISCONNECTED");
  });

  it('runs lifespan startup once at the first request with lifespan: "lazy", shutdown on close()', async () => {
    const events: string[] = [];
    const app: ASGIApp = async (scope, receive, send) => {
      if (scope.type === "lifespan") {
        for (;;) {
          const event = await receive();
          events.push(event.type);
          if (event.type === "lifespan.startup") {
            (scope.state as Record<string, unknown>).db = "ready";
            await send({ type: "lifespan.startup.complete" });
          } else if (event.type === "lifespan.shutdown") {
            await send({ type: "lifespan.shutdown.complete" });
            return;
          }
        }
      }
      const text = String(scope.state?.db ?? "no state");
      await send({ type: "http.response.start", status: 200 });
      await send({ type: "http.response.body", body: new TextEncoder().encode(text) });
    };
    const lazy = toFetchHandler(app, { lifespan: "lazy" });
    const answers = await Promise.all([
      lazy(new Request("http://x.test/1")),
      lazy(new Request("http://x.test/2")),
    ]);
    assert.deepEqual(await Promise.all(answers.map((r) => r.text())), ["ready", "ready"]);
    assert.deepEqual(events, ["lifespan.startup"]);
    await lazy.close();
    assert.deepEqual(events, ["lifespan.startup", "lifespan.shutdown"]);
    // Default: no lifespan at all.
    events.length = 0;
    const plain = toFetchHandler(app);
    assert.equal(await (await plain(new Request("http://x.test/"))).text(), "no state");
    await plain.close();
    assert.deepEqual(events, []);
  });

  it("answers 500 to every request when lazy lifespan startup fails", async () => {
    const reported: unknown[] = [];
    let requests = 0;
    const app: ASGIApp = async (scope, receive, send) => {
      if (scope.type === "lifespan") {
        await receive();
        await send({ type: "lifespan.startup.failed", message: "no database" });
        return;
      }
      requests++;
    };
    const handler = toFetchHandler(app, {
      lifespan: "lazy",
      onError: (error) => reported.push(error),
    });
    assert.equal((await handler(new Request("http://x.test/"))).status, 500);
    assert.equal((await handler(new Request("http://x.test/"))).status, 500);
    assert.equal(requests, 0);
    assert.equal((reported[0] as { code?: string }).code, "ASGI_LIFESPAN_STARTUP_FAILED");
  });

  it("answers 500 when the app fails before its head, and reports the error", async () => {
    const reported: unknown[] = [];
    const handler = toFetchHandler(
      async () => {
        throw new Error("boom");
      },
      { onError: (error) => reported.push(error) },
    );
    const response = await handler(new Request("http://x.test/"));
    assert.equal(response.status, 500);
    assert.equal(await response.text(), "Internal Server Error");
    assert.equal((reported[0] as Error).message, "boom");
    // A plain-JavaScript app that throws before returning a promise gets the same answer.
    const sync = toFetchHandler(
      (() => {
        throw new Error("sync boom");
      }) as unknown as ASGIApp,
      { onError: (error) => reported.push(error) },
    );
    assert.equal((await sync(new Request("http://x.test/"))).status, 500);
    assert.equal((reported[1] as Error).message, "sync boom");
  });
});

describe("toFetchHandler → mount → fromFetchHandler round trip (fuzzed)", () => {
  it("the fetch app under the mount sees the URL the client asked for, minus the prefix", async () => {
    const seen = (request: globalThis.Request) => {
      const url = new URL(request.url);
      return new globalThis.Response(`${url.pathname}${url.search}`);
    };
    const handler = toFetchHandler(mount("/hono", fromFetchHandler(seen)));
    const pieces = fc.constantFrom(
      "a",
      "/",
      "%",
      "%2F",
      "%2f",
      "%C3%A9",
      "%ff",
      "%zz",
      "é",
      "あ",
      "..",
      ".",
      " ",
      "?",
      "#",
      "&",
      "=",
      "+",
      "%00",
      "\\",
      ";",
      "@",
      ":",
    );
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: pieces, maxLength: 10 }), async (rest) => {
        const input = `http://x.test/hono/${rest}`;
        const url = new URL(input);
        const response = await handler(new Request(input));
        const body = await response.text();
        if (decodePathSegment(url.pathname) === null) {
          assert.equal(response.status, 400, input);
        } else if (url.pathname !== "/hono" && !url.pathname.startsWith("/hono/")) {
          assert.equal(response.status, 404, input);
        } else {
          assert.equal(response.status, 200, input);
          assert.equal(body, `${url.pathname.slice("/hono".length) || "/"}${url.search}`, input);
        }
      }),
      { numRuns: 400 },
    );
  });
});
