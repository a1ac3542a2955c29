/**
 * The fast path between mtaio's framework and mtaio's server (src/asgi/fast-path.ts) is
 * invisible on the wire. The same framework apps are served twice over real sockets: as they
 * are, where the framework meets the server's own send() and receive() and takes the
 * shortcuts, and behind a pass-through wrapper whose send() and receive() are plain functions
 * returning their own promises, which turns every shortcut off. Each request of a matrix
 * (plain, JSON, bytes, streams, SSE, files, redirects, cookies, errors, HEAD, request bodies
 * read every way, middleware-wrapped send, pipelined keep-alive batches) must get the very
 * same bytes from both, the Date header aside.
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  ASGIApplication,
  ASGIMiddleware,
  CORSMiddleware,
  CompressionMiddleware,
  HTTPError,
  mount,
  Response,
  Router,
  StaticFiles,
} from "../../src/asgi/app/index.js";
import { Exchange } from "../../src/asgi/server/exchange.js";
import type { ServerHandle } from "../../src/asgi/server/index.js";
import type { ASGIApp, Receive, Scope, Send } from "../../src/asgi/types.js";
import { type TempDir, tempDir } from "../servers/common.js";
import { RawClient, start } from "./server/helpers.js";

/** The same app with every shortcut off: what any ASGI middleware in between amounts to. */
function withoutShortcuts(app: ASGIApp): ASGIApp {
  return async (scope, receive, send) => {
    await app(
      scope,
      () => receive(),
      async (event) => {
        await send(event);
      },
    );
  };
}

/** Adds a header to the start event in place, as Starlette-style middleware do. */
class AddHeader extends ASGIMiddleware {
  override async call(scope: Scope, receive: Receive, send: Send): Promise<void> {
    await this.app(scope, receive, (event) => {
      if (event.type === "http.response.start") {
        event.headers = [...(event.headers ?? []), ["x-wrapped", "yes"]];
      }
      return send(event);
    });
  }
}

async function* chunks(): AsyncIterable<string | Uint8Array> {
  yield "first,";
  await new Promise((resolve) => setImmediate(resolve));
  yield Buffer.from("second ✓,");
  yield "";
  yield "third";
}

async function* events() {
  yield { data: "one\ntwo" };
  yield { event: "tick", id: "7", data: "three" };
}

const silent = { error: () => {} };

function routes(router: Router): void {
  router.get("/text", () => Response.text("plain ✓"));
  router.get("/json", () => Response.json({ message: "mtaioへようこそ", lone: "\ud800" }, 201));
  router.get("/html", async () => {
    await new Promise((resolve) => setImmediate(resolve));
    return Response.html("<p>later</p>");
  });
  router.get("/empty", () => Response.text(""));
  router.get("/bytes", () => {
    return new Response(Buffer.from([0, 1, 2, 0xff, 0x80]), 200, {
      "content-type": "application/octet-stream",
    });
  });
  router.get("/big", () => Response.text(`${"x".repeat(3 * 1024 * 1024)}é`));
  router.get("/medium", () => Response.text("y".repeat(5000)));
  router.get("/stream", () => Response.stream(chunks(), 200, { "content-type": "text/plain" }));
  router.get("/sse", () => Response.sse(events()));
  router.get("/redirect", () => Response.redirect("/text", 308));
  router.get("/cookie", () =>
    Response.text("cookie").setCookie("session", "abc", { httpOnly: true, path: "/" }),
  );
  router.get("/appended", () => Response.text("appended").appendHeader("x-extra", "1"));
  router.get("/read-body", () => {
    const response = Response.text("abc");
    const bytes = response.body as Uint8Array;
    bytes[0] = 0x41; // changed in place after it was read as bytes
    return response;
  });
  router.get("/users/{id:int}", (_request, { id }) => Response.json({ id }));
  router.get("/files/{rest:path}", (request, { rest }) =>
    Response.json({ rest, query: request.query.q ?? null }),
  );
  router.get("/error", () => {
    throw new Error("boom");
  });
  router.get("/http-error", () => {
    throw new HTTPError(418, "I'm a teapot", { headers: { "x-why": "tea" } });
  });
  router.post("/echo", async (request) => Response.json(await request.json()));
  router.post("/text-body", async (request) => Response.text(await request.text()));
  router.post("/form", async (request) => Response.json(await request.form()));
  router.post("/size", async (request) => Response.json({ size: (await request.body()).length }));
  router.post("/ignore", () => Response.text("ignored"));
}

function frameworkApp(directory: string, middleware: boolean): ASGIApp {
  const router = new Router();
  routes(router);
  const app = new ASGIApplication({ logger: silent }).include(router);
  if (middleware) {
    app.addMiddleware(CompressionMiddleware, { minimumSize: 100 });
    app.addMiddleware(CORSMiddleware, { allowOrigins: ["https://example.com"] });
    app.addMiddleware(AddHeader);
  }
  return mount("/static", new StaticFiles({ directory }), app);
}

/** Sends `request` on a fresh connection and returns all it got once the server closed. */
async function exchange(handle: ServerHandle, request: string | Buffer): Promise<string> {
  const client = new RawClient(handle.port);
  await client.write(request);
  const text = await client.untilClosed();
  return text.replace(/\r\nDate: [^\r]*/gi, "");
}

function get(path: string, headers = ""): string {
  return `GET ${path} HTTP/1.1\r\nHost: x\r\n${headers}Connection: close\r\n\r\n`;
}
function head(path: string, headers = ""): string {
  return `HEAD ${path} HTTP/1.1\r\nHost: x\r\n${headers}Connection: close\r\n\r\n`;
}
function post(path: string, type: string, body: string, extra = ""): string {
  const length = Buffer.byteLength(body);
  return `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: ${type}\r\nContent-Length: ${length}\r\n${extra}Connection: close\r\n\r\n${body}`;
}
function chunked(path: string, type: string, pieces: string[]): string {
  const body = pieces.map((p) => `${Buffer.byteLength(p).toString(16)}\r\n${p}\r\n`).join("");
  return `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: ${type}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${body}0\r\n\r\n`;
}

const GETS = [
  "/text",
  "/json",
  "/html",
  "/empty",
  "/bytes",
  "/big",
  "/medium",
  "/stream",
  "/sse",
  "/redirect",
  "/cookie",
  "/appended",
  "/read-body",
  "/users/42",
  "/users/abc",
  "/files/a/b%2Fc/d%C3%A9?q=%20x",
  "/files/%zz",
  "/error",
  "/http-error",
  "/nope",
  "/static/hello.txt",
  "/static/missing.txt",
  "/static/../secret",
];

const REQUESTS: Array<[string, string]> = [
  ...GETS.map((path): [string, string] => [`GET ${path}`, get(path)]),
  ...GETS.map((path): [string, string] => [`HEAD ${path}`, head(path)]),
  ["POST /text (405)", post("/text", "text/plain", "x")],
  ["GET /static/hello.txt, a range", get("/static/hello.txt", "Range: bytes=2-5\r\n")],
  ["POST /echo", post("/echo", "application/json", '{"a":[1,2,{"b":"ü"}]}')],
  ["POST /echo, malformed JSON", post("/echo", "application/json", '{"a":')],
  ["POST /echo, chunked", chunked("/echo", "application/json", ['{"a":', '"split"}'])],
  [
    "POST /echo, Expect: 100-continue",
    post("/echo", "application/json", '{"c":1}', "Expect: 100-continue\r\n"),
  ],
  ["POST /text-body", post("/text-body", "text/plain; charset=utf-8", "héllo wörld")],
  ["POST /form", post("/form", "application/x-www-form-urlencoded", "a=1&b=%C3%BC&a=2")],
  ["POST /size, empty", post("/size", "application/octet-stream", "")],
  ["POST /size, 200 KiB", post("/size", "application/octet-stream", "z".repeat(200 * 1024))],
  ["POST /ignore, body unread", post("/ignore", "text/plain", "never read")],
  [
    "a pipelined keep-alive batch",
    `GET /text HTTP/1.1\r\nHost: x\r\n\r\n${post("/echo", "application/json", "[1]").replace("Connection: close\r\n", "")}GET /stream HTTP/1.1\r\nHost: x\r\n\r\nHEAD /json HTTP/1.1\r\nHost: x\r\n\r\n${get("/users/7")}`,
  ],
];

/** Requests that exercise the middleware-wrapped app's own paths. */
const MIDDLEWARE_REQUESTS: Array<[string, string]> = [
  ...REQUESTS,
  ["GET /medium, gzip", get("/medium", "Accept-Encoding: gzip\r\n")],
  ["GET /json, CORS", get("/json", "Origin: https://example.com\r\n")],
  [
    "OPTIONS /json, CORS preflight",
    `OPTIONS /json HTTP/1.1\r\nHost: x\r\nOrigin: https://example.com\r\nAccess-Control-Request-Method: GET\r\nConnection: close\r\n\r\n`,
  ],
];

describe("the framework's fast path to mtaio's server, compared on the wire", () => {
  let dir: TempDir;
  const sendTextCalls = { count: 0 };
  const original = Exchange.prototype.sendText;
  before(async () => {
    dir = await tempDir("asgi-fast-path");
    await writeFile(join(dir.path, "hello.txt"), "hello, static world\n");
    // Counts the direct sends, to show the two servers really take different paths.
    Exchange.prototype.sendText = function (this: Exchange, ...args) {
      sendTextCalls.count++;
      return original.apply(this, args);
    };
  });
  after(async () => {
    Exchange.prototype.sendText = original;
    await dir?.remove();
  });

  for (const middleware of [false, true]) {
    const label = middleware ? "behind CORS, compression and a header middleware" : "bare";
    it(`the same bytes with and without the shortcuts (${label})`, async () => {
      const app = frameworkApp(dir.path, middleware);
      await using direct = await start(app);
      await using plain = await start(withoutShortcuts(app));
      const requests = middleware ? MIDDLEWARE_REQUESTS : REQUESTS;
      for (const [what, request] of requests) {
        const before = sendTextCalls.count;
        const expected = await exchange(plain, request);
        assert.equal(sendTextCalls.count, before, `${what}: no direct send without shortcuts`);
        const actual = await exchange(direct, request);
        assert.ok(expected.startsWith("HTTP/1.1 "), `${what}: got ${expected.slice(0, 80)}`);
        assert.equal(actual, expected, what);
      }
      assert.equal(direct.logger.errors.length, 0, JSON.stringify(direct.logger.errors));
      assert.equal(plain.logger.errors.length, 0, JSON.stringify(plain.logger.errors));
    });
  }

  it("the bare app does take the direct send for plain text and JSON", async () => {
    const app = frameworkApp(dir.path, false);
    await using direct = await start(app);
    const before = sendTextCalls.count;
    await exchange(direct, get("/text"));
    await exchange(direct, get("/json"));
    assert.equal(sendTextCalls.count - before, 2);
  });
});
