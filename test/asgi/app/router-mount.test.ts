/**
 * `router.mount(prefix, app)`: a whole ASGI app under a path prefix of a Router (an
 * ASGIApplication, StaticFiles, a fetch handler, a bare callable), with `root_path` as the
 * ASGI spec sets it, and an ASGIApplication's routes matched below its `root_path` (Starlette's
 * behaviour). Through TestClient, and once over a real socket.
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import WebSocket from "ws";
import {
  ASGIApplication,
  fromFetchHandler,
  mount,
  Response,
  Router,
  StaticFiles,
  TestClient,
} from "../../../src/asgi/app/index.js";
import { serve } from "../../../src/asgi/server/index.js";
import type { ASGIApp } from "../../../src/asgi/types.js";
import { ASGIError } from "../../../src/errors.js";
import { HELLO, makeTree } from "./static/fixtures.js";

/** An app that answers with what it was given: method, path, raw_path, root_path, body. */
function recorder(name: string): ASGIApp {
  return async (scope, receive, send) => {
    if (scope.type !== "http") return;
    let body = "";
    for (;;) {
      const event = await receive();
      if (event.type !== "http.request") break;
      body += Buffer.from(event.body).toString();
      if (!event.more_body) break;
    }
    const answer = JSON.stringify({
      name,
      method: scope.method,
      path: scope.path,
      raw_path: Buffer.from(scope.raw_path ?? []).toString("latin1"),
      root_path: scope.root_path,
      body,
    });
    await send({ type: "http.response.start", status: 200, headers: [["x-from", name]] });
    await send({ type: "http.response.body", body: Buffer.from(answer) });
  };
}

/** A sub-application whose routes are written without the prefix it is mounted at. */
function subApplication(): ASGIApplication {
  return new ASGIApplication().include(
    new Router()
      .get("/", (request) => Response.json({ home: true, root: request.scope.root_path }))
      .get("/users/{id:int}", (request, { id }) =>
        Response.json({ id, path: request.path, root: request.scope.root_path }),
      )
      .post("/echo", async (request) => Response.json(await request.json())),
  );
}

const tree = makeTree();
after(() => tree.remove());

describe("router.mount()", () => {
  it("runs an ASGIApplication under the prefix, its routes written without it", async () => {
    const client = new TestClient(
      new ASGIApplication().include(new Router().mount("/api", subApplication())),
    );
    assert.deepEqual((await client.get("/api/users/7")).json(), {
      id: 7,
      path: "/api/users/7",
      root: "/api",
    });
    // The mount point itself and with a trailing "/" both reach the sub-app's "/".
    assert.deepEqual((await client.get("/api")).json(), { home: true, root: "/api" });
    assert.deepEqual((await client.get("/api/")).json(), { home: true, root: "/api" });
    // The body reaches the mounted app; its 404 and 405 are its own.
    assert.deepEqual((await client.post("/api/echo", { json: { a: 1 } })).json(), { a: 1 });
    assert.equal((await client.get("/api/nothing")).status, 404);
    assert.equal((await client.delete("/api/echo")).status, 405);
    // Outside the prefix: the outer app's own 404.
    assert.equal((await client.get("/apix/users/7")).status, 404);
    assert.equal((await client.get("/other")).status, 404);
  });

  it("hands every method and the full path to a bare ASGI app, root_path extended", async () => {
    const client = new TestClient(
      new ASGIApplication().include(new Router().mount("/raw", recorder("raw"))),
    );
    const propfind = await client.request("PROPFIND", "/raw/a%2Fb/c", { body: "xml" });
    assert.deepEqual(propfind.json(), {
      name: "raw",
      method: "PROPFIND",
      path: "/raw/a/b/c",
      raw_path: "/raw/a%2Fb/c",
      root_path: "/raw",
      body: "xml",
    });
    assert.equal(propfind.headers["x-from"], "raw");
    // A prefix spelled with percent-escapes is the same prefix once decoded.
    const escaped = (await client.get("/r%61w/x")).json() as { root_path: string };
    assert.equal(escaped.root_path, "/raw");
  });

  it("lets a more specific route win over the mount, and no parameter steal it", async () => {
    const router = new Router()
      .get("/{name}", (_request, { name }) => Response.text(`param ${name}`))
      .get("/files/special", () => Response.text("special route"))
      .mount("/files", recorder("files"));
    const client = new TestClient(new ASGIApplication().include(router));
    assert.equal((await client.get("/files/special")).text(), "special route");
    assert.equal((await client.get("/files")).headers["x-from"], "files");
    assert.equal((await client.get("/files/other")).headers["x-from"], "files");
    assert.equal((await client.get("/elsewhere")).text(), "param elsewhere");
  });

  it("adds the prefixes of included routers and of an outer mount to root_path", async () => {
    const inner = new Router().mount("/files", recorder("files"));
    const app = new ASGIApplication().include(inner, { prefix: "/v1" });
    const client = new TestClient(app);
    const direct = (await client.get("/v1/files/a")).json() as Record<string, string>;
    assert.equal(direct.path, "/v1/files/a");
    assert.equal(direct.root_path, "/v1/files");

    // The same application, itself mounted at /outer: its router matches below /outer.
    const outer = new TestClient(mount("/outer", app));
    const nested = (await outer.get("/outer/v1/files/a")).json() as Record<string, string>;
    assert.equal(nested.path, "/outer/v1/files/a");
    assert.equal(nested.root_path, "/outer/v1/files");
  });

  it("serves StaticFiles and a fetch handler under their prefixes", async () => {
    const router = new Router().mount("/static", new StaticFiles({ directory: tree.root })).mount(
      "/fetch",
      fromFetchHandler(async (request) => new globalThis.Response(new URL(request.url).pathname)),
    );
    const client = new TestClient(new ASGIApplication().include(router));
    const file = await client.get("/static/hello.txt");
    assert.equal(file.status, 200);
    assert.equal(file.text(), HELLO);
    assert.equal((await client.get("/static/../secret.txt")).status, 404);
    assert.equal((await client.get("/static/%2e%2e/secret.txt")).status, 404);
    // fromFetchHandler takes root_path off the front: the fetch app sees its own path.
    assert.equal((await client.get("/fetch/x/y")).text(), "/x/y");
  });

  it("answers a 500 when the mounted app fails before responding", async () => {
    const errors: unknown[] = [];
    const failing: ASGIApp = async () => {
      throw new Error("mounted app broke");
    };
    const app = new ASGIApplication({ logger: { error: (_m, error) => errors.push(error) } });
    app.include(new Router().mount("/broken", failing));
    const response = await new TestClient(app).get("/broken/x");
    assert.equal(response.status, 500);
    assert.deepEqual(response.json(), { detail: "Internal Server Error" });
    assert.equal((errors[0] as Error).message, "mounted app broke");
  });

  it("refuses prefixes it cannot match", () => {
    for (const prefix of ["", "/", "static", "/static/", "/a/{id}", "/a/../b"]) {
      assert.throws(
        () => new Router().mount(prefix, recorder("x")),
        (error: unknown) => error instanceof ASGIError && error.code === "ASGI_INVALID_MOUNT",
        prefix,
      );
    }
  });

  it("hands WebSockets to the mounted app, whose routes match below root_path", async () => {
    const chat = new ASGIApplication().include(
      new Router().websocket("/ws/{room}", async (ws, { room }) => {
        await ws.accept();
        await ws.sendText(`${room} at ${ws.scope.root_path}`);
        await ws.close();
      }),
    );
    // With mount() (an ASGI app) and with router.mount() inside an application.
    const viaMount = new TestClient(mount("/chat", chat));
    const first = await viaMount.websocket("/chat/ws/lobby");
    assert.equal(await first.receiveText(), "lobby at /chat");
    const outer = new ASGIApplication().include(
      new Router().websocket("/ws/{room}", async (ws) => ws.close(1008)).mount("/chat", chat),
      { prefix: "/v2" },
    );
    const viaRouter = new TestClient(outer);
    const second = await viaRouter.websocket("/v2/chat/ws/kitchen");
    assert.equal(await second.receiveText(), "kitchen at /v2/chat");
    // The outer router's own WebSocket route is untouched, and a path the mounted app has
    // no route for is refused by it (403).
    await assert.rejects(viaRouter.websocket("/v2/ws/x"), { status: 403 });
    await assert.rejects(viaRouter.websocket("/v2/chat/nothing"), { status: 403 });
  });

  it("matches below the server's root_path, with the prefix in path or stripped by a proxy", async () => {
    const server = await serve(subApplication(), {
      port: 0,
      rootPath: "/api",
      logger: { error: () => {}, info: () => {} },
    });
    try {
      // The ASGI spec's form: path keeps the prefix, root_path names it.
      const full = await fetch(`${server.url}/api/users/3`);
      assert.deepEqual(await full.json(), { id: 3, path: "/api/users/3", root: "/api" });
      // A proxy that already took the prefix off: the path is routed whole.
      const stripped = await fetch(`${server.url}/users/4`);
      assert.deepEqual(await stripped.json(), { id: 4, path: "/users/4", root: "/api" });
    } finally {
      await server.close();
    }
  });

  it("works over a real socket", async () => {
    const app = new ASGIApplication().include(
      new Router()
        .get("/", () => Response.text("outer"))
        .mount("/api", subApplication())
        .mount("/raw", recorder("raw"))
        .mount(
          "/chat",
          new ASGIApplication().include(
            new Router().websocket("/ws/{room}", async (ws, { room }) => {
              await ws.accept();
              await ws.sendText(`${room} at ${ws.scope.root_path}`);
              await ws.close();
            }),
          ),
        ),
    );
    const server = await serve(app, { port: 0, logger: { error: () => {}, info: () => {} } });
    try {
      assert.equal(await (await fetch(server.url)).text(), "outer");
      const user = await fetch(`${server.url}/api/users/12`);
      assert.deepEqual(await user.json(), { id: 12, path: "/api/users/12", root: "/api" });
      const echoed = await fetch(`${server.url}/api/echo`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ over: "tcp" }),
      });
      assert.deepEqual(await echoed.json(), { over: "tcp" });
      const raw = (await (
        await fetch(`${server.url}/raw/q?x=1`, { method: "PUT", body: "b" })
      ).json()) as Record<string, string>;
      assert.equal(raw.method, "PUT");
      assert.equal(raw.root_path, "/raw");
      assert.equal(raw.body, "b");
      const ws = new WebSocket(`${server.url.replace("http", "ws")}/chat/ws/den`);
      const message = await new Promise<string>((resolve, reject) => {
        ws.once("message", (data) => resolve(String(data)));
        ws.once("error", reject);
      });
      assert.equal(message, "den at /chat");
      ws.close();
    } finally {
      await server.close();
    }
  });
});
