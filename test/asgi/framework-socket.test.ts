/**
 * The framework (ASGIApplication + Router) served by serve() on a real loopback port, hit
 * with Node's fetch and raw TCP: the bad-input rules of the issue end to end, where the
 * server and the framework meet (limits, parsing errors, disconnects, streaming, SSE).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ASGIApplication, ASGIMiddleware, Response, Router } from "../../src/asgi/app/index.js";
import type { ServeOptions } from "../../src/asgi/server/index.js";
import type { Receive, Scope, Send } from "../../src/asgi/types.js";
import { ASGIError, HTTPError } from "../../src/errors.js";
import { naiveMerge } from "./pollution-gadget.js";
import { gate, RawClient, start } from "./server/helpers.js";

/** The framework app under test; each test adds what it needs through `routes`. */
function appWith(
  routes: (router: Router) => void,
  options: ConstructorParameters<typeof ASGIApplication>[0] = {},
): ASGIApplication {
  const router = new Router();
  routes(router);
  return new ASGIApplication(options).include(router);
}

async function serveApp(app: ASGIApplication, options: ServeOptions = {}) {
  return start(app.asgi, options);
}

/** Writes `total` bytes of body in 1 MiB writes until done or the server closes the socket. */
async function pushBody(client: RawClient, total: number): Promise<number> {
  const chunk = Buffer.alloc(1024 * 1024, 0x61);
  let written = 0;
  while (written < total && !client.closed && !client.socket.destroyed) {
    const ok = await client.write(chunk).then(
      () => true,
      () => false,
    );
    if (!ok) break;
    written += chunk.length;
  }
  return written;
}

const HUGE = 10 * 1024 * 1024 * 1024; // a declared 10 GiB body
const PUSHED = 64 * 1024 * 1024; // what the client tries to push after the head

describe("framework over a real socket: request bodies", () => {
  it("a Content-Length over the server limit gets 413 before the app runs, and the rest is not read", async () => {
    let called = 0;
    await using handle = await serveApp(
      appWith((r) =>
        r.post("/upload", async (request) => {
          called++;
          return Response.json({ size: (await request.body()).byteLength });
        }),
      ),
    );
    const rssBefore = process.memoryUsage().rss;
    const client = new RawClient(handle.port);
    await client.write(`POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: ${HUGE}\r\n\r\n`);
    const pushed = await pushBody(client, PUSHED);
    const text = await client.untilClosed();
    assert.match(text, /^HTTP\/1\.1 413 /);
    assert.equal(called, 0, "the handler never ran");
    assert.ok(pushed < PUSHED, `the server kept reading the body (${pushed} bytes accepted)`);
    const grown = process.memoryUsage().rss - rssBefore;
    assert.ok(grown < 48 * 1024 * 1024, `RSS grew by ${grown} bytes`);
  });

  it("the framework's own maxBodySize (below the server limit) answers 413 JSON and closes instead of draining", async () => {
    await using handle = await serveApp(
      appWith(
        (r) =>
          r.post("/upload", async (request) =>
            Response.json({ size: (await request.body()).byteLength }),
          ),
        { maxBodySize: 1024 },
      ),
      { bodyLimit: Number.POSITIVE_INFINITY },
    );
    const client = new RawClient(handle.port);
    await client.write(`POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: ${HUGE}\r\n\r\n`);
    const pushed = await pushBody(client, PUSHED);
    const text = await client.untilClosed();
    assert.match(text, /^HTTP\/1\.1 413 /);
    assert.match(text, /"detail":"Request body too large"/);
    assert.ok(pushed < PUSHED, `the server drained the body (${pushed} bytes accepted)`);
  });

  it("a chunked body that grows past the limit gets 413 and the connection is closed", async () => {
    for (const [limits, bodyLimit] of [
      [{}, 64 * 1024], // the server's limit
      [{ maxBodySize: 64 * 1024 }, Number.POSITIVE_INFINITY], // the framework's
    ] as const) {
      let handlerSaw = "";
      await using handle = await serveApp(
        appWith(
          (r) =>
            r.post("/upload", async (request) => {
              try {
                return Response.json({ size: (await request.body()).byteLength });
              } catch (error) {
                handlerSaw = String(error);
                throw error;
              }
            }),
          limits,
        ),
        { bodyLimit },
      );
      const client = new RawClient(handle.port);
      await client.write("POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
      const piece = Buffer.concat([
        Buffer.from("100000\r\n"), // 1 MiB per chunk
        Buffer.alloc(1024 * 1024, 0x62),
        Buffer.from("\r\n"),
      ]);
      let pushed = 0;
      while (pushed < 64 && !client.closed) {
        if (
          !(await client.write(piece).then(
            () => true,
            () => false,
          ))
        )
          break;
        pushed++;
      }
      const text = await client.untilClosed();
      assert.match(text, /^HTTP\/1\.1 413 /, JSON.stringify(limits));
      assert.ok(pushed < 64, `the chunked body was drained (${pushed} MiB accepted)`);
      assert.notEqual(handlerSaw, "", "the handler saw body() fail");
      // The framework then tries to answer on a closed connection: not an app error.
      assert.deepEqual(
        handle.logger.errors.map((entry) => String(entry.error)),
        [],
        JSON.stringify(limits),
      );
    }
  });

  it("malformed JSON → 400, a wrong content type for json()/form() → 415", async () => {
    await using handle = await serveApp(
      appWith((r) => {
        r.post("/json", async (request) => Response.json({ got: await request.json() }));
        r.post("/form", async (request) => Response.json({ got: await request.form() }));
      }),
    );
    const post = (path: string, body: string, type: string) =>
      fetch(`${handle.url}${path}`, { method: "POST", body, headers: { "content-type": type } });
    const malformed = await post("/json", '{"a":', "application/json");
    assert.equal(malformed.status, 400);
    assert.deepEqual(await malformed.json(), { detail: "Malformed JSON body" });
    const wrongJSON = await post("/json", '{"a":1}', "text/plain");
    assert.equal(wrongJSON.status, 415);
    await wrongJSON.arrayBuffer();
    const wrongForm = await post("/form", "a=1", "application/json");
    assert.equal(wrongForm.status, 415);
    await wrongForm.arrayBuffer();
    const good = await post("/json", '{"a":[1,2]}', "application/vnd.api+json");
    assert.deepEqual(await good.json(), { got: { a: [1, 2] } });
  });

  it("__proto__ and constructor.prototype in JSON and urlencoded bodies cannot pollute prototypes", async () => {
    const merged: Record<string, unknown> = {};
    await using handle = await serveApp(
      appWith((r) => {
        r.post("/json", async (request) => {
          const body = await request.json();
          naiveMerge(merged, body);
          return Response.json({ keys: Object.keys(body as object) });
        });
        r.post("/form", async (request) => {
          const form = await request.form();
          return Response.json({
            keys: Object.keys(form),
            proto: Object.getPrototypeOf(form) === null,
          });
        });
      }),
    );
    const json = async (body: string) =>
      (
        await fetch(`${handle.url}/json`, {
          method: "POST",
          body,
          headers: { "content-type": "application/json" },
        })
      ).json();
    assert.deepEqual(await json('{"__proto__":{"polluted":1},"a":1}'), { keys: ["a"] });
    assert.deepEqual(await json('{"a":{"__proto__":{"polluted":1}}}'), { keys: ["a"] });
    const form = await fetch(`${handle.url}/form`, {
      method: "POST",
      body: "__proto__[polluted]=1&__proto__=x&constructor[prototype][polluted]=1&constructor=y",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    const answer = (await form.json()) as { keys: string[]; proto: boolean };
    assert.equal(answer.proto, true, "the form record has a null prototype");
    assert.ok(answer.keys.includes("__proto__"), "__proto__ is a plain key");
    const probe: Record<string, unknown> = {};
    assert.equal(probe.polluted, undefined, "Object.prototype was polluted");
    assert.equal(Object.hasOwn(Object.prototype, "polluted"), false);
  });
});

describe("framework over a real socket: paths and routing", () => {
  it("%2F stays inside one parameter; malformed percent-encoding → 400 and the server keeps serving", async () => {
    await using handle = await serveApp(
      appWith((r) => {
        r.get("/files/{name}", (_request, params) => Response.json({ name: params.name }));
        r.get("/files/{dir}/{name}", (_request, params) => Response.json({ ...params }));
      }),
    );
    const response = await fetch(`${handle.url}/files/a%2Fb%20c`);
    assert.deepEqual(await response.json(), { name: "a/b c" });
    const client = new RawClient(handle.port);
    await client.write("GET /files/%zz HTTP/1.1\r\nHost: x\r\n\r\n");
    await client.until((t) => /\r\n\r\n[\s\S]*Bad Request/.test(t), "the 400");
    assert.match(client.received, /^HTTP\/1\.1 400 /);
    await client.write("GET /files/%E0%A4%A HTTP/1.1\r\nHost: x\r\n\r\n");
    const second = new RawClient(handle.port);
    await second.write("GET /files/%C3%A9 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    // RawClient reads latin1: "é" arrives as its two UTF-8 bytes.
    assert.ok(
      (await second.untilClosed()).endsWith(Buffer.from('{"name":"é"}').toString("latin1")),
    );
    client.destroy();
  });

  it("HEAD answers the GET headers with no body, on a connection that stays usable", async () => {
    await using handle = await serveApp(
      appWith((r) => r.get("/doc", () => Response.text("twelve bytes"))),
    );
    const client = new RawClient(handle.port);
    await client.write("HEAD /doc HTTP/1.1\r\nHost: x\r\n\r\n");
    await client.until((t) => t.includes("\r\n\r\n"), "the HEAD head");
    await client.write("GET /doc HTTP/1.1\r\nHost: x\r\n\r\n");
    const text = await client.until((t) => t.endsWith("twelve bytes"), "the GET response");
    const [head, rest] = text.split(/\r\n\r\n(?=HTTP\/1\.1)/);
    assert.match(head ?? "", /^HTTP\/1\.1 200 /);
    assert.match(head ?? "", /content-length: 12/i);
    assert.ok(head?.endsWith("\r\n\r\n") === false && !head.includes("twelve"), "HEAD had a body");
    assert.match(rest ?? "", /^HTTP\/1\.1 200 [\s\S]*\r\n\r\ntwelve bytes$/);
    client.destroy();
  });

  it("405 with Allow when only the method differs, 404 otherwise", async () => {
    await using handle = await serveApp(
      appWith((r) => {
        r.get("/item", () => Response.text("get"));
        r.put("/item", () => Response.text("put"));
      }),
    );
    const response = await fetch(`${handle.url}/item`, { method: "DELETE" });
    assert.equal(response.status, 405);
    const allow = (response.headers.get("allow") ?? "").split(/,\s*/).sort();
    assert.deepEqual(allow, ["GET", "HEAD", "PUT"]);
    await response.arrayBuffer();
    const missing = await fetch(`${handle.url}/nothing`);
    assert.equal(missing.status, 404);
    await missing.arrayBuffer();
  });
});

describe("framework over a real socket: failing handlers", () => {
  it("a handler that throws gets a 500 that leaks nothing; the keep-alive connection serves the next request", async () => {
    await using handle = await serveApp(
      appWith((r) => {
        r.get("/boom", () => {
          throw new Error("secret database password in /srv/app/db.ts");
        });
        r.get("/ok", () => Response.text("still here"));
      }),
    );
    const client = new RawClient(handle.port);
    await client.write("GET /boom HTTP/1.1\r\nHost: x\r\n\r\n");
    await client.until((t) => t.endsWith('{"detail":"Internal Server Error"}'), "the 500");
    assert.match(client.received, /^HTTP\/1\.1 500 /);
    assert.doesNotMatch(client.received, /secret|\/srv|db\.ts|at |Error:/);
    assert.doesNotMatch(client.received, /connection: close/i);
    await client.write("GET /ok HTTP/1.1\r\nHost: x\r\n\r\n");
    await client.until((t) => t.endsWith("still here"), "the next response");
    assert.equal(client.responses(), 2);
    assert.equal(client.closed, false);
    client.destroy();
  });

  it("a CR/LF header from a handler is a clean 500; one injected below the framework is an ASGIError logged by the server", async () => {
    class InjectingMiddleware extends ASGIMiddleware {
      override async call(scope: Scope, receive: Receive, send: Send): Promise<void> {
        if (scope.type !== "http" || scope.path !== "/middleware") {
          return this.app(scope, receive, send);
        }
        return this.app(scope, receive, (event) =>
          send(
            event.type === "http.response.start"
              ? {
                  ...event,
                  headers: [...(event.headers ?? []), ["x-evil", "a\r\nSet-Cookie: x=1"]],
                }
              : event,
          ),
        );
      }
    }
    const app = appWith((r) => {
      r.get("/handler", () => Response.text("no", 200, { "x-evil": "a\r\nSet-Cookie: x=1" }));
      r.get("/middleware", () => Response.text("no"));
      r.get("/ok", () => Response.text("ok"));
    }).addMiddleware(InjectingMiddleware);
    await using handle = await serveApp(app);
    for (const path of ["/handler", "/middleware"]) {
      const response = await fetch(`${handle.url}${path}`);
      assert.equal(response.status, 500, path);
      assert.equal(response.headers.get("set-cookie"), null);
      assert.doesNotMatch(await response.text(), /evil|Set-Cookie/i);
    }
    const logged = handle.logger.errors.map((entry) => entry.error);
    assert.ok(
      logged.some((error) => error instanceof ASGIError && error.code === "ASGI_INVALID_HEADER"),
      `no ASGI_INVALID_HEADER logged: ${logged.map(String).join("; ")}`,
    );
    assert.equal(await (await fetch(`${handle.url}/ok`)).text(), "ok");
  });
});

describe("framework over a real socket: disconnects and streaming", () => {
  it("request.signal aborts when the client disconnects mid-request", async () => {
    const waiting = gate();
    const aborted = gate<unknown>();
    await using handle = await serveApp(
      appWith((r) =>
        r.get("/wait", async (request) => {
          const signal = request.signal;
          waiting.open();
          await new Promise<void>((resolve) =>
            signal.addEventListener("abort", () => resolve(), { once: true }),
          );
          aborted.open(signal.reason);
          return Response.text("too late");
        }),
      ),
    );
    const client = new RawClient(handle.port);
    await client.write("GET /wait HTTP/1.1\r\nHost: x\r\n\r\n");
    await waiting.promise;
    client.destroy();
    const reason = await aborted.promise;
    assert.ok(reason instanceof Error, "the signal carries a reason");
    assert.equal(handle.logger.errors.length, 0, "a client leaving is not an app error");
  });

  it("request.signal aborts when the client leaves during the upload", async () => {
    const aborted = gate();
    await using handle = await serveApp(
      appWith((r) =>
        r.post("/upload", async (request) => {
          request.signal.addEventListener("abort", () => aborted.open(), { once: true });
          await request.body().catch(() => {});
          return Response.text("done");
        }),
      ),
    );
    const client = new RawClient(handle.port);
    await client.write("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\nabc");
    await new Promise((resolve) => setTimeout(resolve, 50));
    client.destroy();
    await aborted.promise;
  });

  it("a streaming response stops producing once the client goes away", async () => {
    let produced = 0;
    const finished = gate();
    const firstChunks = gate();
    await using handle = await serveApp(
      appWith((r) =>
        r.get("/stream", () =>
          Response.stream(
            (async function* () {
              try {
                for (let i = 0; i < 100_000; i++) {
                  produced++;
                  if (produced === 3) firstChunks.open();
                  yield `chunk ${i}\n`;
                  await new Promise((resolve) => setImmediate(resolve));
                }
              } finally {
                finished.open();
              }
            })(),
            200,
            { "content-type": "text/plain" },
          ),
        ),
      ),
    );
    const response = await fetch(`${handle.url}/stream`);
    const reader = response.body?.getReader();
    assert.ok(reader);
    const first = await reader.read();
    assert.match(Buffer.from(first.value ?? []).toString(), /^chunk 0/);
    await firstChunks.promise;
    await reader.cancel(); // fetch closes the connection
    await finished.promise; // the generator's finally ran: iteration stopped
    assert.ok(produced < 100_000, `the generator ran to the end (${produced})`);
    const settled = produced;
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(produced, settled, "nothing produced after the generator finished");
    assert.equal(
      handle.logger.errors.length,
      0,
      `logged: ${String(handle.logger.errors[0]?.message)}`,
    );
  });

  it("server-sent events arrive framed, one by one, through fetch's body reader", async () => {
    const next = gate();
    await using handle = await serveApp(
      appWith((r) =>
        r.get("/events", () =>
          Response.sse(
            (async function* () {
              yield { data: "hello", event: "greeting", id: "1" };
              await next.promise; // the client must see event 1 before event 2 exists
              yield { data: "two\nlines", id: "2" };
            })(),
          ),
        ),
      ),
    );
    const response = await fetch(`${handle.url}/events`);
    assert.equal(response.headers.get("content-type"), "text/event-stream");
    assert.equal(response.headers.get("cache-control"), "no-cache");
    const reader = response.body?.pipeThrough(new TextDecoderStream()).getReader();
    assert.ok(reader);
    let text = "";
    while (!text.includes("\n\n")) text += (await reader.read()).value ?? "";
    assert.equal(text, "event: greeting\nid: 1\ndata: hello\n\n");
    next.open();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    assert.equal(text, "event: greeting\nid: 1\ndata: hello\n\nid: 2\ndata: two\ndata: lines\n\n");
  });
});

describe("framework over a real socket: multipart limits", () => {
  function multipart(parts: Array<{ name: string; filename?: string; content: string }>) {
    const boundary = "----mtaio-boundary";
    let body = "";
    for (const part of parts) {
      body += `--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"`;
      if (part.filename !== undefined) body += `; filename="${part.filename}"`;
      body += `\r\n\r\n${part.content}\r\n`;
    }
    body += `--${boundary}--\r\n`;
    return { body, type: `multipart/form-data; boundary=${boundary}` };
  }

  it("too many parts, a field too large and a file over the body limit → 413; within limits → fields and files", async () => {
    await using handle = await serveApp(
      appWith(
        (r) =>
          r.post("/upload", async (request) => {
            const fields = await request.form();
            const files = await request.files();
            return Response.json({
              fields,
              files: files.map((file) => [file.name, file.filename, file.content.byteLength]),
            });
          }),
        { maxBodySize: 64 * 1024, multipart: { maxParts: 3, maxFieldSize: 100 } },
      ),
    );
    const send = (form: ReturnType<typeof multipart>) =>
      fetch(`${handle.url}/upload`, {
        method: "POST",
        body: form.body,
        headers: { "content-type": form.type },
      });
    const ok = await send(
      multipart([
        { name: "title", content: "hello" },
        { name: "doc", filename: "a.txt", content: "x".repeat(1000) },
      ]),
    );
    assert.deepEqual(await ok.json(), {
      fields: { title: "hello" },
      files: [["doc", "a.txt", 1000]],
    });
    const cases = {
      parts: multipart(Array.from({ length: 4 }, (_, i) => ({ name: `f${i}`, content: "v" }))),
      field: multipart([{ name: "big", content: "y".repeat(101) }]),
      file: multipart([{ name: "doc", filename: "big.bin", content: "z".repeat(65 * 1024) }]),
    };
    for (const [label, form] of Object.entries(cases)) {
      const response = await send(form);
      assert.equal(response.status, 413, label);
      await response.arrayBuffer();
    }
  });
});

describe("framework over a real socket: audit findings", () => {
  it("constructor.prototype in JSON → 400 and a naive deep merge cannot pollute Object.prototype", async () => {
    const merged: Record<string, unknown> = {};
    await using handle = await serveApp(
      appWith((r) =>
        r.post("/merge", async (request) => {
          naiveMerge(merged, await request.json());
          return Response.json({ ok: true });
        }),
      ),
    );
    try {
      for (const body of [
        '{"constructor":{"prototype":{"polluted":1}}}',
        '{"x":{"constructor":{"prototype":{"polluted":1}}}}',
        '{"\\u0063onstructor":{"prototype":{"polluted":1}}}',
      ]) {
        const response = await fetch(`${handle.url}/merge`, {
          method: "POST",
          body,
          headers: { "content-type": "application/json" },
        });
        assert.equal(response.status, 400, body);
        assert.deepEqual(await response.json(), {
          detail: "JSON body holds a forbidden constructor.prototype key",
        });
        assert.equal(Object.hasOwn(Object.prototype, "polluted"), false, body);
      }
    } finally {
      delete (Object.prototype as Record<string, unknown>).polluted;
    }
  });

  it("a handler's exception reaches the app logger; the 500 leaks nothing", async () => {
    const logged: Array<{ message: string; error: unknown }> = [];
    await using handle = await serveApp(
      appWith(
        (r) =>
          r.get("/boom", () => {
            throw new Error("secret in /srv/app.ts");
          }),
        { logger: { error: (message, error) => logged.push({ message, error }) } },
      ),
    );
    const response = await fetch(`${handle.url}/boom`);
    assert.equal(response.status, 500);
    assert.equal(await response.text(), '{"detail":"Internal Server Error"}');
    assert.equal(logged.length, 1);
    assert.match(logged[0]?.message ?? "", /GET \/boom/);
    assert.ok(logged[0]?.error instanceof Error && logged[0].error.message.includes("secret"));
  });

  it("an upload with one file over maxFileSize → 413 before the rest of the body is read", async () => {
    await using handle = await serveApp(
      appWith(
        (r) =>
          r.post("/upload", async (request) =>
            Response.json({ files: (await request.files()).length }),
          ),
        { maxBodySize: 1024 * 1024 * 1024, multipart: { maxFileSize: 64 * 1024 } },
      ),
      { bodyLimit: Number.POSITIVE_INFINITY },
    );
    const client = new RawClient(handle.port);
    await client.write(
      "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=zz\r\n" +
        `Content-Length: ${512 * 1024 * 1024}\r\n\r\n` +
        '--zz\r\nContent-Disposition: form-data; name="doc"; filename="big.bin"\r\n\r\n',
    );
    const pushed = await pushBody(client, PUSHED);
    const text = await client.untilClosed();
    assert.match(text, /^HTTP\/1\.1 413 /);
    assert.match(text, /"detail":"Multipart file too large"/);
    assert.ok(pushed < PUSHED, `the whole upload was read (${pushed} bytes accepted)`);
  });

  it("request.signal still aborts when the client leaves after the body failed with 413", {
    timeout: 10_000,
  }, async () => {
    const failed = gate<unknown>();
    const aborted = gate();
    await using handle = await serveApp(
      appWith(
        (r) =>
          r.post("/upload", async (request) => {
            const signal = request.signal;
            signal.addEventListener("abort", () => aborted.open(), { once: true });
            const error = await request.body().then(
              () => undefined,
              (e: unknown) => e,
            );
            failed.open(error);
            await aborted.promise; // long work that should stop when the client goes
            return Response.text("too late");
          }),
        { maxBodySize: 1024 },
      ),
      { bodyLimit: Number.POSITIVE_INFINITY },
    );
    const client = new RawClient(handle.port);
    await client.write(
      `POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n${"a".repeat(3000)}`,
    );
    const error = await failed.promise;
    assert.ok(error instanceof HTTPError && error.statusCode === 413, String(error));
    client.destroy();
    await aborted.promise;
  });
});
