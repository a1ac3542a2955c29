import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { describe, it } from "node:test";
import { Response, TestClient } from "../../../../src/asgi/app/index.js";
import {
  AccessLogMiddleware,
  escapeLogField,
} from "../../../../src/asgi/app/middleware/access-log.js";
import type { ASGIApp } from "../../../../src/asgi/types.js";
import { appOf } from "./helpers.js";

// host ident user [time] "request" status bytes "referer" "agent"
const COMBINED =
  /^(\S+) - (\S+) \[(\d{2})\/([A-Z][a-z]{2})\/(\d{4}):(\d{2}):(\d{2}):(\d{2}) \+0000\] "(.*)" (\d{3}|-) (\d+|-) "(.*)" "(.*)"$/;

describe("AccessLogMiddleware", () => {
  it("writes one combined line per request", async () => {
    const lines: string[] = [];
    const app = appOf(() => Response.text("hello", 201));
    app.addMiddleware(AccessLogMiddleware, { log: (line) => lines.push(line) });
    const before = new Date();
    await new TestClient(app).get("/items?page=2", {
      headers: {
        referer: "https://example.com/",
        "user-agent": "curl/8.5.0",
        authorization: `Basic ${Buffer.from("alice:secret").toString("base64")}`,
      },
    });
    assert.equal(lines.length, 1);
    const match = COMBINED.exec(lines[0] ?? "");
    assert.ok(match, lines[0]);
    const [, host, user, day, month, year, , , , request, status, bytes, referer, agent] = match;
    assert.equal(host, "testclient");
    assert.equal(user, "alice");
    assert.equal(Number(day), before.getUTCDate());
    assert.equal(month, before.toUTCString().slice(8, 11));
    assert.equal(Number(year), before.getUTCFullYear());
    assert.equal(request, "GET /items?page=2 HTTP/1.1");
    assert.equal(status, "201");
    assert.equal(bytes, "5");
    assert.equal(referer, "https://example.com/");
    assert.equal(agent, "curl/8.5.0");
    assert.ok(!(lines[0] ?? "").includes("secret"));
  });

  it("escapes quotes and control characters so a client cannot forge lines", async () => {
    assert.equal(escapeLogField('a"b\\c\nd\u00e9'), 'a\\"b\\\\c\\x0ad\\xe9');
    const lines: string[] = [];
    const app = appOf(() => Response.text(""));
    app.addMiddleware(AccessLogMiddleware, { log: (line) => lines.push(line), format: "common" });
    await new TestClient(app).get("/", { headers: { "user-agent": 'x" "evil' } });
    assert.match(lines[0] ?? "", /^testclient - - \[[^\]]+\] "GET \/ HTTP\/1\.1" 200 -$/);
  });

  it("logs 500 when the app fails before answering, and rethrows", async () => {
    const written: string[] = [];
    const failing: ASGIApp = async () => {
      throw new Error("boom");
    };
    const middleware = new AccessLogMiddleware(failing, {
      log: { write: (text: string) => written.push(text) },
    });
    const client = new TestClient(middleware.call.bind(middleware));
    await assert.rejects(client.get("/x"), /boom/);
    assert.equal(written.length, 1);
    assert.match(written[0] ?? "", /"GET \/x HTTP\/1\.1" 500 - "-" "-"\n$/);
  });

  it("does not log lifespan events", async () => {
    const lines: string[] = [];
    const app = appOf(() => Response.text("x"));
    app.addMiddleware(AccessLogMiddleware, { log: (line) => lines.push(line) });
    const client = new TestClient(app);
    await client.start();
    await client.close();
    assert.deepEqual(lines, []);
  });
});
