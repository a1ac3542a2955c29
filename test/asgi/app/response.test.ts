import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  ASGIApplication,
  type Request,
  Response,
  Router,
  TestClient,
} from "../../../src/asgi/app/index.js";
import { frameEvent } from "../../../src/asgi/app/response.js";
import { SETTLED } from "../../../src/asgi/fast-path.js";
import type { SendEvent } from "../../../src/asgi/types.js";
import { ASGIError } from "../../../src/errors.js";

function appOf(handler: (request: Request) => Response | Promise<Response>): ASGIApplication {
  return new (class extends ASGIApplication {
    override async handleRequest(request: Request): Promise<Response> {
      return handler(request);
    }
  })();
}

async function* from<T>(items: T[]): AsyncGenerator<T> {
  for (const item of items) yield item;
}

describe("Response", () => {
  it("text, json and html set type, status, headers and content-length", async () => {
    const client = new TestClient(appOf(() => Response.json({ a: "é" }, 201, { "X-Thing": "1" })));
    const r = await client.get("/");
    assert.equal(r.status, 201);
    assert.equal(r.headers["content-type"], "application/json");
    assert.equal(r.headers["x-thing"], "1");
    assert.equal(r.headers["content-length"], String(r.body.byteLength));
    assert.deepEqual(r.json(), { a: "é" });
    const t = Response.text("hi");
    assert.equal(t.statusCode, 200);
    assert.equal(t.headers["content-type"], "text/plain; charset=utf-8");
    assert.equal(Response.html("<p>").headers["content-type"], "text/html; charset=utf-8");
  });

  it("redirect sets location and 302 by default", async () => {
    const r = await new TestClient(appOf(() => Response.redirect("/next"))).get("/");
    assert.equal(r.status, 302);
    assert.equal(r.headers.location, "/next");
  });

  it("send emits start then one final body for fixed content", async () => {
    const events: SendEvent[] = [];
    await Response.text("abc").send(async (event) => {
      events.push(event);
    });
    assert.equal(events.length, 2);
    assert.equal(events[0]?.type, "http.response.start");
    assert.equal(events[1]?.type, "http.response.body");
    assert.deepEqual(events[0]?.type === "http.response.start" ? events[0].headers : [], [
      ["content-type", "text/plain; charset=utf-8"],
      ["content-length", "3"],
    ]);
  });

  it("a whole response waits for a slow send, tolerates one returning nothing, reports one that throws", async () => {
    // Slow: the body event must not go out before the start event's promise settles.
    const order: string[] = [];
    await Response.text("x").send((event) => {
      order.push(`call ${event.type}`);
      return new Promise<void>((resolve) =>
        setTimeout(() => {
          order.push(`done ${event.type}`);
          resolve();
        }, 5),
      );
    });
    assert.deepEqual(order, [
      "call http.response.start",
      "done http.response.start",
      "call http.response.body",
      "done http.response.body",
    ]);
    // Loosely typed: a send that returns undefined still gets both events.
    const seen: string[] = [];
    const loose = ((event: SendEvent) => {
      seen.push(event.type);
    }) as unknown as (event: SendEvent) => Promise<void>;
    await Response.text("y").send(loose);
    assert.deepEqual(seen, ["http.response.start", "http.response.body"]);
    // Throwing synchronously: a rejected promise, not an exception out of send().
    const boom = new Error("boom");
    const sent = Response.text("z").send(() => {
      throw boom;
    });
    assert.ok(sent instanceof Promise);
    await assert.rejects(sent, (error) => error === boom);
  });

  it("after a send that returns the server's SETTLED, the body follows in the same turn", async () => {
    // mtaio's server returns SETTLED from a send() it has finished with (fast-path.ts): the
    // framework skips the await, and hands the last send()'s SETTLED back to the server.
    const seen: string[] = [];
    const settledSend = (event: SendEvent) => {
      seen.push(event.type);
      return SETTLED;
    };
    const sent = Response.text("a").send(settledSend);
    assert.deepEqual(seen, ["http.response.start", "http.response.body"]); // no await needed
    assert.equal(sent, SETTLED);
    // Through the application too (default dispatch, synchronous handler): its ASGI callable
    // hands SETTLED back, so the server can finish the exchange without a microtask.
    seen.length = 0;
    const app = new ASGIApplication().include(new Router().get("/", () => Response.text("b")));
    const result = app.asgi(
      {
        type: "http",
        asgi: { version: "3.0", spec_version: "2.4" },
        http_version: "1.1",
        method: "GET",
        scheme: "http",
        path: "/",
        raw_path: Buffer.from("/"),
        query_string: Buffer.alloc(0),
        root_path: "",
        headers: [],
        client: null,
        server: null,
      },
      async () => ({ type: "http.request", body: new Uint8Array(0), more_body: false }),
      settledSend,
    );
    assert.equal(result, SETTLED);
    assert.deepEqual(seen, ["http.response.start", "http.response.body"]);
    // Any other promise is awaited: the body waits for the start event's send to settle.
    const order: string[] = [];
    let release: () => void = () => {};
    const pending = Response.text("c").send((event) => {
      order.push(event.type);
      return event.type === "http.response.start"
        ? new Promise<void>((resolve) => {
            release = resolve;
          })
        : SETTLED;
    });
    await Promise.resolve();
    assert.deepEqual(order, ["http.response.start"]);
    release();
    await pending;
    assert.deepEqual(order, ["http.response.start", "http.response.body"]);
  });

  it("streams an async iterable without content-length", async () => {
    const client = new TestClient(
      appOf(() => Response.stream(from(["a", "b", new Uint8Array([99])]))),
    );
    const r = await client.get("/");
    assert.equal(r.text(), "abc");
    assert.equal(r.headers["content-length"], undefined);
  });

  it("frames server-sent events, splitting multi-line data", async () => {
    const events = from([{ data: "one\ntwo", event: "greet", id: "7" }, { data: "x" }]);
    const r = await new TestClient(appOf(() => Response.sse(events))).get("/");
    assert.equal(r.headers["content-type"], "text/event-stream");
    assert.equal(r.text(), "event: greet\nid: 7\ndata: one\ndata: two\n\ndata: x\n\n");
  });

  it("rejects CR, LF and NUL in header names and values", async () => {
    for (const headers of <Record<string, string>[]>[
      { "x-a": "1\r\nSet-Cookie: x" },
      { "x-a\n": "1" },
      { "x-a": "a\0b" },
    ]) {
      assert.throws(
        () => Response.text("x", 200, headers),
        (error: unknown) => error instanceof ASGIError && error.code === "ASGI_INVALID_HEADER",
      );
    }
    const response = Response.text("x");
    response.headers["x-late"] = "a\rb";
    await assert.rejects(
      response.send(async () => {}),
      (error: unknown) => error instanceof ASGIError && error.code === "ASGI_INVALID_HEADER",
    );
  });

  it("a header injection from a handler becomes a 500 that leaks nothing", async () => {
    const r = await new TestClient(appOf(() => Response.text("x", 200, { a: "\r\nevil: 1" }))).get(
      "/",
    );
    assert.equal(r.status, 500);
    assert.deepEqual(r.json(), { detail: "Internal Server Error" });
    assert.equal(r.headers.evil, undefined);
  });
});

describe("Response headers with repeated names", () => {
  it("appendHeader and list values send one line each; the record keeps single values", async () => {
    const client = new TestClient(
      appOf(() =>
        Response.text("x", 200, { Link: ["</a>; rel=preload", "</b>; rel=preload"], "x-one": "1" })
          .appendHeader("Vary", "accept")
          .appendHeader("vary", "cookie"),
      ),
    );
    const res = await client.get("/");
    assert.deepEqual(res.getAll("link"), ["</a>; rel=preload", "</b>; rel=preload"]);
    assert.deepEqual(res.getAll("vary"), ["accept", "cookie"]);
    assert.equal(res.headers["x-one"], "1");
    assert.deepEqual(
      res.headerList.map(([name]) => name),
      ["x-one", "content-type", "link", "link", "vary", "vary", "content-length"],
    );
  });

  it("checks appended lines and list values when they come in", () => {
    const isInvalid = (error: unknown) =>
      error instanceof ASGIError && error.code === "ASGI_INVALID_HEADER";
    assert.throws(() => Response.text("x").appendHeader("x-a", "1\r\nevil: 1"), isInvalid);
    assert.throws(() => Response.text("x").appendHeader("x-a\n", "1"), isInvalid);
    assert.throws(() => Response.text("x", 200, { link: ["ok", "bad\0"] }), isInvalid);
  });

  it("a header record replaced or edited after construction is checked at send", async () => {
    const response = Response.json({});
    response.headers = { "x-new": "a\nb" };
    await assert.rejects(
      response.send(async () => {}),
      (error: unknown) => error instanceof ASGIError && error.code === "ASGI_INVALID_HEADER",
    );
    assert.equal(response.started, false, "nothing was sent, so an error response is possible");
    const events: SendEvent[] = [];
    const edited = Response.json({ a: 1 });
    edited.headers["X-Upper"] = "ok"; // a mixed-case name set directly is sent lower-case
    await edited.send(async (event) => {
      events.push(event);
    });
    assert.deepEqual(events[0]?.type === "http.response.start" ? events[0].headers : [], [
      ["content-type", "application/json"],
      ["x-upper", "ok"],
      ["content-length", "7"],
    ]);
  });

  it("a content-type given by the caller wins over the factory's", async () => {
    const r = await new TestClient(
      appOf(() => Response.json({}, 200, { "Content-Type": "application/problem+json" })),
    ).get("/");
    assert.deepEqual(r.getAll("content-type"), ["application/problem+json"]);
  });
});

describe("Server-sent events", () => {
  it("frames retry, id, event, comments and data; a control-only event has no data line", async () => {
    const events = from([
      { retry: 5000, comment: "hello" },
      { data: "a\r\nb", id: "42", event: "tick" },
      { comment: "keep-alive" },
    ]);
    const r = await new TestClient(appOf(() => Response.sse(events))).get("/");
    assert.equal(r.headers["cache-control"], "no-cache");
    assert.equal(
      r.text(),
      ": hello\nretry: 5000\n\nevent: tick\nid: 42\ndata: a\ndata: b\n\n: keep-alive\n\n",
    );
  });

  it("rejects a retry that is not a non-negative integer and ids with line breaks", () => {
    const isInvalid = (error: unknown) =>
      error instanceof ASGIError && error.code === "ASGI_INVALID_EVENT";
    assert.throws(() => frameEvent({ retry: -1 }), isInvalid);
    assert.throws(() => frameEvent({ retry: 1.5 }), isInvalid);
    assert.throws(() => frameEvent({ retry: Number.NaN }), isInvalid);
    assert.throws(() => frameEvent({ id: "1\n2", data: "x" }), isInvalid);
    assert.throws(() => frameEvent({ event: "a\rb", data: "x" }), isInvalid);
    assert.equal(frameEvent({ retry: 0 }), "retry: 0\n\n");
  });
});
