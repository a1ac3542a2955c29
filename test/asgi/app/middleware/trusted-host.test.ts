import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TestClient } from "../../../../src/asgi/app/index.js";
import { TrustedHostMiddleware } from "../../../../src/asgi/app/middleware/trusted-host.js";
import type { ASGIApp, Scope, SendEvent } from "../../../../src/asgi/types.js";
import { ASGIError } from "../../../../src/errors.js";
import { okApp } from "./helpers.js";

function clientFor(allowedHosts: string[], wwwRedirect?: boolean) {
  const app = okApp();
  app.addMiddleware(TrustedHostMiddleware, {
    allowedHosts,
    ...(wwwRedirect === undefined ? {} : { wwwRedirect }),
  });
  return new TestClient(app);
}

describe("TrustedHostMiddleware", () => {
  it("lets allowed hosts through, with or without a port, in any case", async () => {
    const client = clientFor(["example.com", "*.api.example.com", "[::1]"]);
    for (const host of ["example.com", "EXAMPLE.com:8443", "v1.api.example.com", "[::1]:8000"]) {
      const response = await client.get("/", { headers: { host } });
      assert.equal(response.status, 200, host);
      assert.equal(response.text(), "ok");
    }
  });

  it("refuses other hosts with 400 before the app runs", async () => {
    const client = clientFor(["example.com", "*.api.example.com"]);
    for (const host of ["evil.com", "api.example.com", "example.com.evil.com", "x.example.com"]) {
      const response = await client.get("/", { headers: { host } });
      assert.equal(response.status, 400, host);
      assert.equal(response.text(), "Invalid host header");
    }
    const missing = await client.get("/");
    assert.equal(missing.status, 400);
  });

  it("redirects the bare domain to an allowed www. name, keeping path, query and port", async () => {
    const client = clientFor(["www.example.com"]);
    const response = await client.get("/a%20b?x=1", { headers: { host: "example.com:8080" } });
    assert.equal(response.status, 307);
    assert.equal(response.headers.location, "http://www.example.com:8080/a%20b?x=1");
    const off = await clientFor(["www.example.com"], false).get("/", {
      headers: { host: "example.com" },
    });
    assert.equal(off.status, 400);
  });

  it("allows everything with the default ['*']", async () => {
    const response = await clientFor(["*"]).get("/", { headers: { host: "anything.test" } });
    assert.equal(response.status, 200);
  });

  it("rejects wildcard patterns it cannot honour", () => {
    for (const pattern of ["*example.com", "api.*.example.com", "example.*"]) {
      assert.throws(
        () => new TrustedHostMiddleware(async () => {}, { allowedHosts: [pattern] }),
        (error) => error instanceof ASGIError && error.code === "ASGI_INVALID_MIDDLEWARE_OPTION",
      );
    }
  });

  it("closes a websocket handshake for a refused host and passes lifespan through", async () => {
    let reached = 0;
    const inner: ASGIApp = async () => {
      reached++;
    };
    const middleware = new TrustedHostMiddleware(inner, { allowedHosts: ["example.com"] });
    const sent: SendEvent[] = [];
    const send = async (event: SendEvent) => {
      sent.push(event);
    };
    const websocket = {
      type: "websocket",
      headers: [["host", "evil.com"]],
      scheme: "ws",
      path: "/ws",
    } as unknown as Scope;
    await middleware.call(websocket, async () => ({ type: "http.disconnect" }), send);
    assert.deepEqual(sent, [{ type: "websocket.close", code: 1008 }]);
    assert.equal(reached, 0);
    await middleware.call(
      { type: "lifespan", asgi: { version: "3.0", spec_version: "2.0" } },
      async () => ({ type: "lifespan.startup" }),
      send,
    );
    assert.equal(reached, 1);
  });
});
