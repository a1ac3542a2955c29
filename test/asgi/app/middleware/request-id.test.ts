import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Response, TestClient } from "../../../../src/asgi/app/index.js";
import {
  RequestIdMiddleware,
  requestIdOf,
} from "../../../../src/asgi/app/middleware/request-id.js";
import { appOf } from "./helpers.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function echoApp() {
  return appOf((request) => Response.json({ id: requestIdOf(request) ?? null }));
}

describe("RequestIdMiddleware", () => {
  it("generates a UUID per request, exposes it to handlers and echoes it", async () => {
    const app = echoApp();
    app.addMiddleware(RequestIdMiddleware);
    const client = new TestClient(app);
    const first = await client.get("/");
    const second = await client.get("/");
    const id = first.headers["x-request-id"] ?? "";
    assert.match(id, UUID);
    assert.deepEqual(first.json(), { id });
    assert.notEqual(second.headers["x-request-id"], id);
  });

  it("ignores an incoming id unless trusted", async () => {
    const untrusted = echoApp();
    untrusted.addMiddleware(RequestIdMiddleware);
    const response = await new TestClient(untrusted).get("/", {
      headers: { "x-request-id": "from-client" },
    });
    assert.notEqual(response.headers["x-request-id"], "from-client");
    assert.match(response.headers["x-request-id"] ?? "", UUID);
  });

  it("keeps a trusted incoming id, but replaces one unsafe for logs", async () => {
    const app = echoApp();
    app.addMiddleware(RequestIdMiddleware, { trustIncoming: true, header: "X-Correlation-ID" });
    const client = new TestClient(app);
    const kept = await client.get("/", { headers: { "x-correlation-id": "abc-123" } });
    assert.equal(kept.headers["x-correlation-id"], "abc-123");
    assert.deepEqual(kept.json(), { id: "abc-123" });
    const unsafe = await client.get("/", { headers: { "x-correlation-id": 'a" b' } });
    assert.match(unsafe.headers["x-correlation-id"] ?? "", UUID);
    const long = await client.get("/", { headers: { "x-correlation-id": "a".repeat(201) } });
    assert.match(long.headers["x-correlation-id"] ?? "", UUID);
  });

  it("uses the generator given, and leaves an id the app set alone", async () => {
    let n = 0;
    const app = appOf((request) =>
      request.path === "/own"
        ? Response.text("x", 200, { "x-request-id": "app-chosen" })
        : Response.text("y"),
    );
    app.addMiddleware(RequestIdMiddleware, { generate: () => `req-${++n}` });
    const client = new TestClient(app);
    assert.equal((await client.get("/")).headers["x-request-id"], "req-1");
    const own = await client.get("/own");
    assert.deepEqual(own.getAll("x-request-id"), ["app-chosen"]);
  });

  it("returns undefined without the middleware", async () => {
    const response = await new TestClient(echoApp()).get("/");
    assert.deepEqual(response.json(), { id: null });
  });
});
