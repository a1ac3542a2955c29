import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { after, before, describe, it } from "node:test";
import {
  ASGIApplication,
  Mount,
  mount,
  Response,
  Router,
  StaticFiles,
  TestClient,
} from "../../../../src/asgi/app/index.js";
import { serve } from "../../../../src/asgi/server/index.js";
import type { ASGIApp, HTTPScope } from "../../../../src/asgi/types.js";
import { ASGIError } from "../../../../src/errors.js";
import { HELLO, makeTree, SECRET, type Tree } from "./fixtures.js";

/** An app that answers with the scope's path, raw_path and root_path as JSON. */
function recorder(name: string): ASGIApp {
  return async (scope, _receive, send) => {
    if (scope.type !== "http") return;
    const body = new TextEncoder().encode(
      JSON.stringify({
        name,
        path: scope.path,
        raw_path: Buffer.from(scope.raw_path ?? []).toString("latin1"),
        root_path: scope.root_path,
      }),
    );
    await send({ type: "http.response.start", status: 200 });
    await send({ type: "http.response.body", body });
  };
}

describe("mount()", () => {
  it("keeps path whole and extends root_path (ASGI HTTP spec)", async () => {
    const client = new TestClient(mount("/sub", recorder("sub"), recorder("main")));
    assert.deepEqual((await client.get("/sub/a%20b")).json(), {
      name: "sub",
      path: "/sub/a b",
      raw_path: "/sub/a%20b",
      root_path: "/sub",
    });
    assert.equal(((await client.get("/sub")).json() as { name: string }).name, "sub");
    assert.equal(((await client.get("/sub/")).json() as { name: string }).name, "sub");
    assert.equal(((await client.get("/subway")).json() as { name: string }).name, "main");
    assert.equal(((await client.get("/")).json() as { name: string }).name, "main");
  });

  it("nests, and builds on the server's root_path", async () => {
    const inner = mount("/b", recorder("inner"));
    const outer = mount("/a", inner);
    const seen = (await new TestClient(outer).get("/a/b/c")).json() as Record<string, string>;
    assert.equal(seen.root_path, "/a/b");
    assert.equal(seen.path, "/a/b/c");
    const scope = (root_path: string): HTTPScope => ({
      type: "http",
      asgi: { version: "3.0", spec_version: "2.4" },
      http_version: "1.1",
      method: "GET",
      scheme: "http",
      path: "/proxy/a/x",
      raw_path: null,
      query_string: new Uint8Array(0),
      root_path,
      headers: [],
      client: null,
      server: null,
    });
    for (const root of ["/proxy", "/proxy/"]) {
      let child: HTTPScope | undefined;
      const app = mount("/a", async (s) => {
        if (s.type === "http") child = s;
      });
      await app(
        scope(root),
        async () => ({ type: "http.disconnect" }),
        async () => {},
      );
      assert.equal(child?.root_path, "/proxy/a", root);
      assert.equal(child?.path, "/proxy/a/x");
    }
  });

  it("answers 404 without a fallback, and takes apps with an asgi property", async () => {
    // The framework's Router matches below root_path, so a mounted application's routes
    // are written without the prefix (see docs/asgi.md, "Static files and mounting").
    const app = new ASGIApplication().include(
      new Router().get("/x", (request) => Response.text(request.scope.root_path)),
    );
    const client = new TestClient(mount("/app", app));
    const res = await client.get("/app/x");
    assert.equal(res.status, 200);
    assert.equal(res.text(), "/app");
    assert.equal((await client.get("/elsewhere")).status, 404);
    assert.equal((await client.get("/elsewhere")).text(), "Not Found");
  });

  it("refuses prefixes it cannot match", () => {
    for (const prefix of ["", "/", "static", "/static/", "/a/{id}", "/a/../b", "/a b", "/a%2Fb"]) {
      assert.throws(
        () => mount(prefix, recorder("x")),
        (error: unknown) => error instanceof ASGIError && error.code === "ASGI_INVALID_MOUNT",
        prefix,
      );
    }
  });
});

describe("Mount middleware and StaticFiles under a prefix", () => {
  let tree: Tree;
  before(() => {
    tree = makeTree();
  });
  after(() => tree.remove());

  function application(): ASGIApplication {
    let started = false;
    const app = new (class extends ASGIApplication {
      override async startup() {
        started = true;
      }
    })().include(new Router().get("/api/started", () => Response.json({ started })));
    app.addMiddleware(Mount, {
      prefix: "/static",
      app: new StaticFiles({ directory: tree.root, html: true }),
    });
    return app;
  }

  it("serves files under the prefix and routes the rest to the application", async () => {
    await using client = new TestClient(application());
    await client.start();
    assert.deepEqual((await client.get("/api/started")).json(), { started: true });
    assert.equal((await client.get("/static/hello.txt")).text(), HELLO);
    assert.equal((await client.get("/static/docs/")).text(), "<h1>docs index</h1>");
    const missing = await client.get("/nothing");
    assert.deepEqual(missing.json(), { detail: "Not Found" }, "the application's own 404");
  });

  it("redirects a directory to its slash form under the mount point", async () => {
    const client = new TestClient(application());
    const res = await client.get("/static/docs");
    assert.equal(res.status, 307);
    assert.equal(res.headers.location, "/static/docs/");
    const top = await client.get("/static");
    assert.equal(top.headers.location, "/static/");
  });

  it("works over a real socket: ranges, HEAD, 304 and raw traversal paths", async () => {
    await using server = await serve(application(), { port: 0, logger: { error() {}, info() {} } });
    const get = (path: string, headers: Record<string, string> = {}, method = "GET") =>
      new Promise<{ status: number; headers: Record<string, unknown>; body: string }>(
        (resolve, reject) => {
          const req = httpRequest(
            { host: "127.0.0.1", port: server.port, path, method, headers },
            (res) => {
              let body = "";
              res.setEncoding("latin1");
              res.on("data", (chunk: string) => (body += chunk));
              res.on("end", () =>
                resolve({ status: res.statusCode ?? 0, headers: res.headers, body }),
              );
            },
          );
          req.on("error", reject);
          req.end();
        },
      );
    const whole = await get("/static/big.bin");
    assert.equal(whole.status, 200);
    assert.equal(whole.body.length, tree.big.length);
    assert.equal(Buffer.from(whole.body, "latin1").equals(Buffer.from(tree.big)), true);
    const part = await get("/static/big.bin", { range: "bytes=10-19" });
    assert.equal(part.status, 206);
    assert.equal(part.headers["content-range"], `bytes 10-19/${tree.big.length}`);
    assert.equal(part.body, Buffer.from(tree.big.subarray(10, 20)).toString("latin1"));
    const head = await get("/static/hello.txt", {}, "HEAD");
    assert.equal(head.status, 200);
    assert.equal(head.headers["content-length"], String(HELLO.length));
    assert.equal(head.body, "");
    const cached = await get("/static/hello.txt", { "if-none-match": String(head.headers.etag) });
    assert.equal(cached.status, 304);
    for (const attack of [
      "/static/../secret.txt",
      "/static/%2e%2e/secret.txt",
      "/static/..%2fsecret.txt",
      "/static/..%5csecret.txt",
      "/static/out-link.txt",
    ]) {
      const res = await get(attack);
      assert.ok(!res.body.includes(SECRET), attack);
      assert.ok(res.status === 404 || res.status === 400, `${attack}: ${res.status}`);
    }
  });
});
