import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createApp } from "../../../examples/app.js";
import {
  ASGIApplication,
  ASGIMiddleware,
  HTTPError,
  type Request,
  Response,
  Router,
  TestClient,
  ValidationError,
} from "../../../src/asgi/app/index.js";
import { serve } from "../../../src/asgi/server/index.js";
import type { Receive, Scope, Send } from "../../../src/asgi/types.js";

describe("ASGIApplication", () => {
  it("answers 404 JSON when no router matches", async () => {
    const res = await new TestClient(new ASGIApplication()).get("/missing");
    assert.equal(res.status, 404);
    assert.deepEqual(res.json(), { detail: "Not Found" });
  });

  it("maps HTTPError and ValidationError to their status, detail and headers", async () => {
    const router = new Router()
      .get("/auth", () => {
        throw new HTTPError(401, "Login required", { headers: { "www-authenticate": "Bearer" } });
      })
      .get("/invalid", () => {
        throw new ValidationError({ field: "name", problem: "missing" }, 422);
      });
    const client = new TestClient(new ASGIApplication().include(router));
    const auth = await client.get("/auth");
    assert.equal(auth.status, 401);
    assert.equal(auth.headers["www-authenticate"], "Bearer");
    assert.deepEqual(auth.json(), { detail: "Login required" });
    const invalid = await client.get("/invalid");
    assert.equal(invalid.status, 422);
    assert.deepEqual(invalid.json(), { detail: { field: "name", problem: "missing" } });
  });

  it("turns any other error into a 500 that leaks nothing", async () => {
    const app = new (class extends ASGIApplication {
      override async handleRequest(): Promise<Response> {
        throw new Error("database password is hunter2");
      }
    })();
    const res = await new TestClient(app).get("/");
    assert.equal(res.status, 500);
    assert.deepEqual(res.json(), { detail: "Internal Server Error" });
    assert.ok(!res.text().includes("hunter2"));
  });

  it("an error mid-stream is re-thrown to the server instead of a second response", async () => {
    async function* failing(): AsyncGenerator<string> {
      yield "partial";
      throw new Error("stream broke");
    }
    const app = new (class extends ASGIApplication {
      override async handleRequest(): Promise<Response> {
        return Response.stream(failing());
      }
    })();
    await assert.rejects(new TestClient(app).get("/"), /stream broke/);
  });

  it("synchronous and asynchronous handlers, errors and HEAD take the same paths", async () => {
    const router = new Router()
      .get("/sync", () => Response.json({ sync: true }))
      .get("/async", async () => Response.json({ async: true }))
      .get("/sync-throws", () => {
        throw new Error("secret");
      })
      .get("/async-rejects", async () => {
        throw new HTTPError(409, "Conflict");
      })
      .get("/bad-header", () => Response.json({}).appendHeader("x", "ok").setCookie("a", "b"))
      .get("/late-bad-header", () => {
        const response = Response.json({});
        response.headers["x-bad"] = "\r\nevil: 1";
        return response;
      });
    const client = new TestClient(new ASGIApplication().include(router));
    assert.deepEqual((await client.get("/sync")).json(), { sync: true });
    assert.deepEqual((await client.get("/async")).json(), { async: true });
    const thrown = await client.get("/sync-throws");
    assert.equal(thrown.status, 500);
    assert.ok(!thrown.text().includes("secret"));
    assert.equal((await client.get("/async-rejects")).status, 409);
    const head = await client.request("HEAD", "/sync");
    assert.equal(head.status, 200);
    assert.equal(head.body.byteLength, 0);
    assert.equal(head.headers["content-length"], String('{"sync":true}'.length));
    assert.deepEqual((await client.get("/bad-header")).getAll("set-cookie"), ["a=b"]);
    const late = await client.get("/late-bad-header");
    assert.equal(late.status, 500);
    assert.equal(late.headers.evil, undefined);
  });

  it("sends a Response subclass through its own send(), from a sync or an async handler", async () => {
    class Tagged extends Response {
      override send(send: Send, includeBody = true): Promise<void> {
        this.appendHeader("x-tagged", "1");
        return super.send(send, includeBody);
      }
    }
    const router = new Router()
      .get("/sync", () => new Tagged("sync"))
      .get("/async", async () => new Tagged("async"));
    const client = new TestClient(new ASGIApplication().include(router));
    for (const path of ["/sync", "/async"]) {
      const res = await client.get(path);
      assert.equal(res.headers["x-tagged"], "1", path);
      assert.equal(res.text(), path.slice(1));
    }
  });

  it("a handleRequest override that calls super reaches the routers", async () => {
    const app = new (class extends ASGIApplication {
      override async handleRequest(request: Request): Promise<Response> {
        const response = await super.handleRequest(request);
        return response.appendHeader("x-wrapped", "1");
      }
    })().include(new Router().get("/", () => Response.text("hi")));
    const res = await new TestClient(app).get("/");
    assert.equal(res.text(), "hi");
    assert.equal(res.headers["x-wrapped"], "1");
    assert.equal((await new TestClient(app).get("/nope")).status, 404);
  });

  it("handleError can be overridden", async () => {
    const app = new (class extends ASGIApplication {
      override async handleRequest(): Promise<Response> {
        throw new Error("x");
      }
      override async handleError(_error: unknown, send: Send): Promise<void> {
        await Response.text("custom", 503).send(send);
      }
    })();
    const res = await new TestClient(app).get("/");
    assert.equal(res.status, 503);
    assert.equal(res.text(), "custom");
  });

  it("runs middleware with the last added outermost", async () => {
    const order: string[] = [];
    const tagger = (label: string) =>
      class extends ASGIMiddleware {
        override async call(scope: Scope, receive: Receive, send: Send): Promise<void> {
          order.push(`${label}>`);
          await this.app(scope, receive, async (event) => {
            if (event.type === "http.response.start") {
              event.headers = [...(event.headers ?? []), ["x-by", label]];
            }
            await send(event);
          });
          order.push(`<${label}`);
        }
      };
    const app = new (class extends ASGIApplication {
      override async handleRequest(): Promise<Response> {
        order.push("handler");
        return Response.text("ok");
      }
    })();
    app.addMiddleware(tagger("inner")).addMiddleware(tagger("outer"));
    const res = await new TestClient(app).get("/");
    assert.deepEqual(order, ["outer>", "inner>", "handler", "<inner", "<outer"]);
    assert.equal(res.headers["x-by"], "inner, outer");
  });

  it("passes middleware options and keeps app.asgi identity stable", async () => {
    class Header extends ASGIMiddleware<{ value: string }> {
      override async call(scope: Scope, receive: Receive, send: Send): Promise<void> {
        await this.app(scope, receive, async (event) => {
          if (event.type === "http.response.start") {
            event.headers = [...(event.headers ?? []), ["x-opt", this.options.value]];
          }
          await send(event);
        });
      }
    }
    const app = new ASGIApplication();
    const callable = app.asgi;
    app.addMiddleware(Header, { value: "yes" });
    assert.equal(app.asgi, callable);
    assert.equal((await new TestClient(app.asgi).get("/")).headers["x-opt"], "yes");
  });

  it("sends fresh events: middleware may add headers in place, request after request", async () => {
    // Starlette's MutableHeaders(scope=message) style: push onto the start event's own list.
    // A list shared between responses (a Response reused, a constant) would grow each time.
    class AddHeader extends ASGIMiddleware {
      override async call(scope: Scope, receive: Receive, send: Send): Promise<void> {
        await this.app(scope, receive, (event) => {
          if (event.type === "http.response.start") {
            event.headers ??= [];
            event.headers.push(["x-added", "1"]);
          }
          return send(event);
        });
      }
    }
    const shared = Response.json({ same: true }, 200, { "x-own": "yes" });
    shared.appendHeader("link", "</a>");
    const router = new Router()
      .get("/shared", () => shared)
      .get("/async", async () => Response.text("later"))
      .get("/fail", () => {
        throw new HTTPError(409, "Conflict", { headers: { "x-why": "busy" } });
      });
    const client = new TestClient(new ASGIApplication().include(router).addMiddleware(AddHeader));
    for (let round = 0; round < 3; round++) {
      for (const [path, status] of [
        ["/shared", 200],
        ["/async", 200],
        ["/fail", 409],
        ["/missing", 404],
      ] as const) {
        for (const method of ["GET", "HEAD"] as const) {
          const res = await client.request(method, path);
          assert.equal(res.status, status, `${method} ${path}`);
          assert.deepEqual(res.getAll("x-added"), ["1"], `${method} ${path} round ${round}`);
        }
      }
    }
    const last = await client.get("/shared");
    assert.deepEqual(last.getAll("link"), ["</a>"]);
    assert.equal(last.headers["x-own"], "yes");
    assert.deepEqual(last.json(), { same: true });
  });
  it("runs startup and shutdown through the lifespan scope", async () => {
    const calls: string[] = [];
    const app = new (class extends ASGIApplication {
      override async startup(): Promise<void> {
        calls.push("startup");
      }
      override async shutdown(): Promise<void> {
        calls.push("shutdown");
      }
    })();
    {
      await using client = new TestClient(app);
      await client.start();
      assert.deepEqual(calls, ["startup"]);
      assert.equal((await client.get("/")).status, 404);
    }
    assert.deepEqual(calls, ["startup", "shutdown"]);
  });

  it("reports a failing startup", async () => {
    const app = new (class extends ASGIApplication {
      override async startup(): Promise<void> {
        throw new Error("no database");
      }
    })();
    await assert.rejects(new TestClient(app).start(), /no database/);
  });

  it("request.signal aborts once the exchange ends (TestClient sends http.disconnect)", async () => {
    let signal: AbortSignal | undefined;
    const app = new (class extends ASGIApplication {
      override async handleRequest(request: Request): Promise<Response> {
        signal = request.signal;
        return Response.text(String(signal.aborted));
      }
    })();
    const res = await new TestClient(app).get("/");
    assert.equal(res.text(), "false");
    const watched = signal as AbortSignal;
    if (!watched.aborted)
      await new Promise((resolve) => watched.addEventListener("abort", resolve));
    assert.equal(watched.aborted, true);
  });

  it("a handler gets typed params and the request", async () => {
    const router = new Router().post("/echo/{n:int}", async (request: Request, params) =>
      Response.json({ n: params.n + 1, body: await request.json() }),
    );
    const res = await new TestClient(new ASGIApplication().include(router)).post("/echo/1", {
      json: { a: 1 },
    });
    assert.deepEqual(res.json(), { n: 2, body: { a: 1 } });
  });
});

describe("the example app", () => {
  it("serves /, GET /users/{user_id} and POST /users in-process", async () => {
    const client = new TestClient(createApp());
    assert.deepEqual((await client.get("/")).json(), { message: "mtaioへようこそ" });
    assert.deepEqual((await client.get("/users/abc")).json(), { user_id: "abc" });
    const created = await client.post("/users", { json: { name: "Taro" } });
    assert.equal(created.status, 201);
    assert.deepEqual(created.json(), { name: "Taro" });
  });

  it("serves over a real socket with serve() and fetch", async () => {
    const log = console.log;
    console.log = () => {};
    const server = await serve(createApp(), { host: "127.0.0.1", port: 0 });
    try {
      const home = await fetch(`${server.url}/`);
      assert.equal(home.status, 200);
      assert.deepEqual(await home.json(), { message: "mtaioへようこそ" });
      const user = await fetch(`${server.url}/users/a%2Fb`);
      assert.deepEqual(await user.json(), { user_id: "a/b" });
      const created = await fetch(`${server.url}/users`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name: "花子" }),
      });
      assert.equal(created.status, 201);
      assert.deepEqual(await created.json(), { name: "花子" });
      const wrong = await fetch(`${server.url}/users`, { method: "DELETE" });
      assert.equal(wrong.status, 405);
      assert.equal(wrong.headers.get("allow"), "POST");
    } finally {
      await server.close();
      console.log = log;
    }
  });
});

describe("repeated headers, cookies and prefixes over a real socket", () => {
  it("each Set-Cookie and appended line reaches the client as its own line", async () => {
    const api = new Router().get("/me", (request) =>
      Response.json({ sid: request.cookies.sid ?? null, tags: request.queryAll("t") })
        .setCookie("sid", "s1", { path: "/", httpOnly: true, sameSite: "Lax" })
        .setCookie("theme", "dark")
        .appendHeader("vary", "cookie")
        .appendHeader("vary", "accept"),
    );
    const app = new ASGIApplication().include(api, { prefix: "/api" });
    const server = await serve(app, { host: "127.0.0.1", port: 0, lifespan: "off" });
    try {
      const res = await fetch(`${server.url}/api/me?t=a&t=b`, { headers: { cookie: "sid=old" } });
      assert.equal(res.status, 200);
      assert.deepEqual(res.headers.getSetCookie(), [
        "sid=s1; Path=/; HttpOnly; SameSite=Lax",
        "theme=dark",
      ]);
      assert.equal(res.headers.get("vary"), "cookie, accept");
      assert.deepEqual(await res.json(), { sid: "old", tags: ["a", "b"] });
      assert.equal((await fetch(`${server.url}/me`)).status, 404);
    } finally {
      await server.close();
    }
  });
});
