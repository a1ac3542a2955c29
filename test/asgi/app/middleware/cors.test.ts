import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Response, TestClient } from "../../../../src/asgi/app/index.js";
import { CORSMiddleware } from "../../../../src/asgi/app/middleware/cors.js";
import type { ASGIApp, SendEvent } from "../../../../src/asgi/types.js";
import { appOf, okApp } from "./helpers.js";

const preflight = (origin: string, method = "POST", headers?: string) => ({
  headers: {
    origin,
    "access-control-request-method": method,
    ...(headers === undefined ? {} : { "access-control-request-headers": headers }),
  },
});

describe("CORSMiddleware", () => {
  it("answers an allowed preflight with the allow-lists, without calling the app", async () => {
    let called = false;
    const app = appOf(() => {
      called = true;
      return Response.text("app");
    });
    app.addMiddleware(CORSMiddleware, {
      allowOrigins: ["https://a.example"],
      allowMethods: ["GET", "POST"],
      allowHeaders: ["X-Token"],
      maxAge: 120,
    });
    const response = await new TestClient(app).request(
      "OPTIONS",
      "/",
      preflight("https://a.example", "POST", "x-token, content-type"),
    );
    assert.equal(response.status, 204);
    assert.equal(called, false);
    assert.equal(response.headers["access-control-allow-origin"], "https://a.example");
    assert.equal(response.headers["access-control-allow-methods"], "GET, POST");
    assert.match(response.headers["access-control-allow-headers"] ?? "", /x-token/);
    assert.equal(response.headers["access-control-max-age"], "120");
    assert.equal(response.headers.vary, "Origin");
    assert.equal(response.headers["access-control-allow-credentials"], undefined);
  });

  it("refuses a preflight from a disallowed origin with 400 and no CORS headers", async () => {
    const app = okApp();
    app.addMiddleware(CORSMiddleware, { allowOrigins: ["https://a.example"] });
    const response = await new TestClient(app).request(
      "OPTIONS",
      "/",
      preflight("https://evil.example", "GET"),
    );
    assert.equal(response.status, 400);
    assert.match(response.text(), /origin/);
    const corsHeaders = Object.keys(response.headers).filter((name) =>
      name.startsWith("access-control-"),
    );
    assert.deepEqual(corsHeaders, []);
  });

  it("refuses a preflight asking for a method or header not allowed", async () => {
    const app = okApp();
    app.addMiddleware(CORSMiddleware, { allowOrigins: ["*"], allowMethods: ["GET"] });
    const client = new TestClient(app);
    const method = await client.request("OPTIONS", "/", preflight("https://x.example", "DELETE"));
    assert.equal(method.status, 400);
    assert.match(method.text(), /method/);
    const header = await client.request(
      "OPTIONS",
      "/",
      preflight("https://x.example", "GET", "x-secret"),
    );
    assert.equal(header.status, 400);
    assert.match(header.text(), /headers/);
    assert.equal(header.headers["access-control-allow-origin"], undefined);
  });

  it("echoes the requested method and headers when all are allowed", async () => {
    const app = okApp();
    app.addMiddleware(CORSMiddleware, {
      allowOrigins: ["*"],
      allowMethods: ["*"],
      allowHeaders: ["*"],
      allowCredentials: true,
    });
    const response = await new TestClient(app).request(
      "OPTIONS",
      "/",
      preflight("https://x.example", "PURGE", "X-One, X-Two"),
    );
    assert.equal(response.status, 204);
    // Credentials forbid "*" (Fetch §3.2.5): the origin, method and headers are echoed.
    assert.equal(response.headers["access-control-allow-origin"], "https://x.example");
    assert.equal(response.headers["access-control-allow-methods"], "PURGE");
    assert.equal(response.headers["access-control-allow-headers"], "x-one, x-two");
    assert.equal(response.headers["access-control-allow-credentials"], "true");
  });

  it("adds the origin, credentials, expose headers and Vary to a simple response", async () => {
    const app = appOf(() => Response.text("data", 200, { vary: "Accept-Language" }));
    app.addMiddleware(CORSMiddleware, {
      allowOrigins: ["https://a.example"],
      allowCredentials: true,
      exposeHeaders: ["X-Total"],
    });
    const response = await new TestClient(app).get("/", {
      headers: { origin: "https://a.example" },
    });
    assert.equal(response.text(), "data");
    assert.equal(response.headers["access-control-allow-origin"], "https://a.example");
    assert.equal(response.headers["access-control-allow-credentials"], "true");
    assert.equal(response.headers["access-control-expose-headers"], "X-Total");
    assert.equal(response.headers.vary, "Accept-Language, Origin");
  });

  it("sends * to any origin without credentials, and nothing to a disallowed one", async () => {
    const open = okApp();
    open.addMiddleware(CORSMiddleware, { allowOrigins: ["*"] });
    const star = await new TestClient(open).get("/", { headers: { origin: "https://z.example" } });
    assert.equal(star.headers["access-control-allow-origin"], "*");
    assert.equal(star.headers.vary, undefined);

    const closed = okApp();
    closed.addMiddleware(CORSMiddleware, { allowOrigins: ["https://a.example"] });
    const refused = await new TestClient(closed).get("/", {
      headers: { origin: "https://z.example" },
    });
    assert.equal(refused.status, 200);
    assert.equal(refused.text(), "ok");
    assert.equal(refused.headers["access-control-allow-origin"], undefined);
    assert.equal(refused.headers.vary, "Origin");
  });

  it("matches allowOriginRegex against the whole origin", async () => {
    const app = okApp();
    app.addMiddleware(CORSMiddleware, { allowOriginRegex: "https://[a-z]+\\.example\\.com" });
    const client = new TestClient(app);
    const good = await client.get("/", { headers: { origin: "https://app.example.com" } });
    assert.equal(good.headers["access-control-allow-origin"], "https://app.example.com");
    const suffix = await client.get("/", {
      headers: { origin: "https://app.example.com.evil.net" },
    });
    assert.equal(suffix.headers["access-control-allow-origin"], undefined);
    const regexObject = okApp();
    regexObject.addMiddleware(CORSMiddleware, { allowOriginRegex: /https:\/\/LOCAL/i });
    const ci = await new TestClient(regexObject).get("/", {
      headers: { origin: "https://local" },
    });
    assert.equal(ci.headers["access-control-allow-origin"], "https://local");
  });

  it("leaves requests without Origin, and lifespan scopes, untouched", async () => {
    const app = okApp();
    app.addMiddleware(CORSMiddleware, { allowOrigins: ["*"] });
    const client = new TestClient(app);
    await client.start();
    const plain = await client.request("OPTIONS", "/", {});
    assert.equal(plain.headers["access-control-allow-origin"], undefined);
    await client.close();
  });

  it("passes a non-http scope to the app unchanged", async () => {
    const seen: unknown[] = [];
    const inner: ASGIApp = async (scope) => {
      seen.push(scope);
    };
    const middleware = new CORSMiddleware(inner, { allowOrigins: ["*"] });
    const scope = { type: "lifespan", asgi: { version: "3.0", spec_version: "2.0" } } as const;
    const sent: SendEvent[] = [];
    await middleware.call(
      scope,
      async () => ({ type: "lifespan.startup" }),
      async (event) => {
        sent.push(event);
      },
    );
    assert.equal(seen[0], scope);
    assert.deepEqual(sent, []);
  });
});
