/**
 * The framework hands mtaio's server a text body directly when the server's own send() reaches
 * it (src/asgi/fast-path.ts). These tests pin down that the shortcut is invisible: the same bytes
 * on the wire as through plain ASGI events, no stale text once the bytes were read, the same
 * outcome on errors, and no shortcut at all when a middleware stands between the two.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ASGIApplication, ASGIMiddleware, Response, Router } from "../../src/asgi/app/index.js";
import { DIRECT_SEND, type DirectSend } from "../../src/asgi/fast-path.js";
import type { Receive, Scope, Send, SendEvent } from "../../src/asgi/types.js";
import { hasWholeResponse, RawClient, start } from "./server/helpers.js";

/** Records the events that pass, and forwards them unchanged: send() is no longer the server's. */
class Recorder extends ASGIMiddleware {
  static events: SendEvent[] = [];
  override async call(scope: Scope, receive: Receive, send: Send): Promise<void> {
    await this.app(scope, receive, (event) => {
      Recorder.events.push(event);
      return send(event);
    });
  }
}

function appWith(routes: (router: Router) => void, middleware = false): ASGIApplication {
  const router = new Router();
  routes(router);
  const app = new ASGIApplication().include(router);
  if (middleware) app.addMiddleware(Recorder);
  return app;
}

/** The whole answer to one request, with the Date header (which changes) taken out. */
async function answer(port: number, request: string, until: (text: string) => boolean) {
  const client = new RawClient(port);
  await client.write(request);
  const text = await client.until(until, "the response");
  client.destroy();
  return text.replace(/\r\nDate: [^\r]*/i, "");
}

const ROUTES = (r: Router) => {
  r.get("/json", () => Response.json({ message: "mtaioへようこそ", lone: "\ud800" }, 201));
  r.get("/text", () => Response.text("plain ✓"));
  r.get("/async", async () => {
    await new Promise((resolve) => setImmediate(resolve));
    return Response.html("<p>later</p>");
  });
  r.get("/empty", () => Response.text(""));
  r.get("/big", () => Response.text("x".repeat(3 * 1024 * 1024 + 5)));
};

describe("the framework's direct text send to mtaio's server", () => {
  it("puts the same bytes on the wire as plain ASGI events do (through a middleware)", async () => {
    await using direct = await start(appWith(ROUTES).asgi);
    await using viaEvents = await start(appWith(ROUTES, true).asgi);
    for (const path of ["/json", "/text", "/async", "/empty"]) {
      const request = `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`;
      Recorder.events = [];
      const expected = await answer(viaEvents.port, request, hasWholeResponse);
      assert.ok(Recorder.events.length === 2, `${path}: the middleware saw the events`);
      assert.equal(await answer(direct.port, request, hasWholeResponse), expected, path);
    }
    // The body is UTF-8 (a lone surrogate becomes U+FFFD), framed by its byte length.
    const json = await (await fetch(`${direct.url}/json`)).arrayBuffer();
    assert.deepEqual(
      Buffer.from(json),
      Buffer.from(JSON.stringify({ message: "mtaioへようこそ", lone: "\ud800" })),
    );
  });

  it("a body larger than one write arrives whole; HEAD gets the GET length and no body", async () => {
    await using handle = await start(appWith(ROUTES).asgi);
    const big = await fetch(`${handle.url}/big`);
    assert.equal(big.headers.get("content-length"), String(3 * 1024 * 1024 + 5));
    assert.equal((await big.text()).length, 3 * 1024 * 1024 + 5);
    const head = await fetch(`${handle.url}/text`, { method: "HEAD" });
    assert.equal(head.headers.get("content-length"), String(Buffer.byteLength("plain ✓")));
    assert.equal(await head.text(), "");
  });

  it("bytes read through `body` (and changed in place) are what is sent, never the old text", async () => {
    await using handle = await start(
      appWith((r) =>
        r.get("/edited", () => {
          const response = Response.text("hello");
          const bytes = response.body as Uint8Array;
          bytes[0] = 0x4a; // "J"
          return response;
        }),
      ).asgi,
    );
    assert.equal(await (await fetch(`${handle.url}/edited`)).text(), "Jello");
  });

  it("errors come out as through events: a bad status is a 500 and the server keeps serving", async () => {
    await using handle = await start(
      appWith((r) => {
        r.get("/bad", () => Response.text("no", 42));
        r.get("/ok", () => Response.text("yes"));
      }).asgi,
    );
    const bad = await fetch(`${handle.url}/bad`);
    assert.equal(bad.status, 500);
    assert.equal(await bad.text(), "Internal Server Error");
    assert.match(String(handle.logger.errors[0]?.error), /status/i);
    assert.equal(await (await fetch(`${handle.url}/ok`)).text(), "yes");
  });

  it("only the server's own send() carries the mark; a wrapped send() gets plain events", async () => {
    let mark: unknown = "not seen";
    await using handle = await start(async (scope, receive, send) => {
      mark = (send as DirectSend)[DIRECT_SEND];
      await appWith(ROUTES).asgi(scope, receive, send);
    });
    await (await fetch(`${handle.url}/text`)).text();
    assert.equal(typeof (mark as { sendText?: unknown }).sendText, "function");
    Recorder.events = [];
    await using wrapped = await start(appWith(ROUTES, true).asgi);
    assert.equal(await (await fetch(`${wrapped.url}/text`)).text(), "plain ✓");
    const body = Recorder.events.find((event) => event.type === "http.response.body");
    assert.deepEqual(
      Buffer.from((body as { body: Uint8Array }).body),
      Buffer.from("plain ✓"),
      "the middleware saw the body as bytes",
    );
  });
});
