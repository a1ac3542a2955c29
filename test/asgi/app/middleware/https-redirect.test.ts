import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TestClient } from "../../../../src/asgi/app/index.js";
import { HTTPSRedirectMiddleware } from "../../../../src/asgi/app/middleware/https-redirect.js";
import type { ASGIApp, HTTPScope, Scope, SendEvent } from "../../../../src/asgi/types.js";
import { ASGIError } from "../../../../src/errors.js";
import { okApp } from "./helpers.js";

function scopeOf(overrides: Partial<HTTPScope> | Record<string, unknown>): Scope {
  return {
    type: "http",
    asgi: { version: "3.0", spec_version: "2.4" },
    http_version: "1.1",
    method: "POST",
    scheme: "http",
    path: "/",
    raw_path: null,
    query_string: new Uint8Array(0),
    root_path: "",
    headers: [],
    client: null,
    server: ["10.0.0.1", 8080],
    ...overrides,
  } as Scope;
}

async function run(middleware: HTTPSRedirectMiddleware, scope: Scope) {
  const sent: SendEvent[] = [];
  await middleware.call(
    scope,
    async () => ({ type: "http.disconnect" }),
    async (event) => {
      sent.push(event);
    },
  );
  return sent;
}

describe("HTTPSRedirectMiddleware", () => {
  it("redirects http to https with 307, keeping host, path and query, dropping :80", async () => {
    const app = okApp();
    app.addMiddleware(HTTPSRedirectMiddleware);
    const client = new TestClient(app);
    const response = await client.get("/a%2Fb/c?q=1&r=%20", {
      headers: { host: "example.com:80" },
    });
    assert.equal(response.status, 307);
    assert.equal(response.headers.location, "https://example.com/a%2Fb/c?q=1&r=%20");
    const withPort = await client.get("/", { headers: { host: "example.com:8000" } });
    assert.equal(withPort.headers.location, "https://example.com:8000/");
  });

  it("uses 308 and httpsPort when asked", async () => {
    const app = okApp();
    app.addMiddleware(HTTPSRedirectMiddleware, { statusCode: 308, httpsPort: 8443 });
    const response = await new TestClient(app).get("/x", {
      headers: { host: "example.com:8080" },
    });
    assert.equal(response.status, 308);
    assert.equal(response.headers.location, "https://example.com:8443/x");
  });

  it("lets https requests through to the app", async () => {
    let reached = false;
    const inner: ASGIApp = async () => {
      reached = true;
    };
    const sent = await run(
      new HTTPSRedirectMiddleware(inner),
      scopeOf({ scheme: "https", headers: [["host", "example.com"]] }),
    );
    assert.equal(reached, true);
    assert.deepEqual(sent, []);
  });

  it("falls back to scope.server without a Host header", async () => {
    const sent = await run(new HTTPSRedirectMiddleware(async () => {}), scopeOf({}));
    const start = sent[0];
    assert.equal(start?.type, "http.response.start");
    if (start?.type === "http.response.start") {
      assert.deepEqual(
        start.headers?.find(([name]) => name === "location"),
        ["location", "https://10.0.0.1:8080/"],
      );
    }
  });

  it("redirects ws to wss through the denial-response extension, else closes", async () => {
    const middleware = new HTTPSRedirectMiddleware(async () => {
      throw new Error("the app must not run");
    });
    const websocket = {
      type: "websocket",
      scheme: "ws",
      path: "/chat",
      raw_path: null,
      query_string: new TextEncoder().encode("room=1"),
      headers: [["host", "example.com"]],
      server: null,
    };
    const denied = await run(
      middleware,
      scopeOf({ ...websocket, extensions: { "websocket.http.response": {} } }),
    );
    assert.deepEqual(denied[0], {
      type: "websocket.http.response.start",
      status: 307,
      headers: [["location", "wss://example.com/chat?room=1"]],
    });
    assert.equal(denied[1]?.type, "websocket.http.response.body");
    const closed = await run(middleware, scopeOf(websocket));
    assert.deepEqual(closed, [{ type: "websocket.close", code: 1008 }]);
  });

  it("refuses options it cannot honour", () => {
    const bad = [{ statusCode: 301 }, { httpsPort: 0 }, { httpsPort: 70000 }];
    for (const options of bad) {
      assert.throws(
        () => new HTTPSRedirectMiddleware(async () => {}, options as never),
        (error) => error instanceof ASGIError && error.code === "ASGI_INVALID_MIDDLEWARE_OPTION",
      );
    }
  });
});
