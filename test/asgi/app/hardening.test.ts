/**
 * Findings of the real-socket audit, checked in-process: constructor.prototype pollution
 * through JSON, logging of 500s, the per-file multipart limit and request.signal after a
 * failed body read.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { PartSizeGuard } from "../../../src/asgi/app/form.js";
import {
  type ApplicationLogger,
  ASGIApplication,
  HTTPError,
  Request,
  Response,
  Router,
  TestClient,
} from "../../../src/asgi/app/index.js";
import { jsonNestsDeeperThan } from "../../../src/asgi/app/request.js";
import type { HTTPScope, ReceiveEvent, SendEvent } from "../../../src/asgi/types.js";
import { ASGIError } from "../../../src/errors.js";
import { naiveMerge } from "../pollution-gadget.js";

function assertPrototypeClean(): void {
  const polluted = Object.hasOwn(Object.prototype, "polluted");
  // Clean up first, so that one failure does not spread to other tests.
  delete (Object.prototype as Record<string, unknown>).polluted;
  assert.equal(polluted, false, "Object.prototype was polluted");
}

function scopeFor(method: string, path: string, headers: Array<[string, string]>): HTTPScope {
  return {
    type: "http",
    asgi: { version: "3.0", spec_version: "2.4" },
    http_version: "1.1",
    method,
    scheme: "http",
    path,
    raw_path: null,
    query_string: new Uint8Array(0),
    root_path: "",
    headers,
    client: null,
    server: null,
  };
}

describe("JSON and forms cannot pollute prototypes through constructor.prototype", () => {
  const merged: Record<string, unknown> = {};
  const router = new Router()
    .post("/json", async (request) => {
      const body = await request.json();
      naiveMerge(merged, body);
      return Response.json({ body });
    })
    .post("/echo", async (request) => Response.json({ body: await request.json() }))
    .post("/form", async (request) => {
      const form = await request.form();
      naiveMerge(merged, form);
      return Response.json({ keys: Object.keys(form), proto: Object.getPrototypeOf(form) });
    });
  const client = new TestClient(new ASGIApplication({ logger: { error() {} } }).include(router));
  const postJSON = (body: string, path = "/json") =>
    client.post(path, { body, headers: { "content-type": "application/json" } });

  it("a constructor object holding prototype → 400 HTTP_FORBIDDEN_JSON_KEY, written out, escaped or nested", async () => {
    for (const body of [
      '{"constructor":{"prototype":{"polluted":1}}}',
      '{"constr\\u0075ctor":{"prototype":{"polluted":1}}}',
      '{"constructor":{"prot\\u006ftype":{"polluted":1}}}',
      '{"a":[{"b":{"constructor":{"prototype":{"polluted":1}}}}]}',
    ]) {
      const response = await postJSON(body);
      assertPrototypeClean();
      assert.equal(response.status, 400, body);
      assert.deepEqual(response.json(), {
        detail: "JSON body holds a forbidden constructor.prototype key",
      });
    }
  });

  it("the rejection is a typed HTTPError from request.json()", async () => {
    const scope = scopeFor("POST", "/", [["content-type", "application/json"]]);
    const body = Buffer.from('{"constructor":{"prototype":{"polluted":1}}}');
    const request = new Request(scope, async () => ({
      type: "http.request",
      body,
      more_body: false,
    }));
    await assert.rejects(
      request.json(),
      (error: unknown) =>
        error instanceof HTTPError &&
        error.statusCode === 400 &&
        error.code === "HTTP_FORBIDDEN_JSON_KEY",
    );
  });

  it("constructor as ordinary data is kept; __proto__ is still dropped", async () => {
    const plain = await postJSON(
      '{"constructor":"Ford","c":{"constructor":{"name":"x"}}}',
      "/echo", // a naive merge would walk into Object itself here: just echo
    );
    assertPrototypeClean();
    assert.equal(plain.status, 200);
    assert.deepEqual(plain.json(), {
      body: { constructor: "Ford", c: { constructor: { name: "x" } } },
    });
    const proto = await postJSON('{"__proto__":{"polluted":1},"a":{"__pr\\u006fto__":{"x":1}}}');
    assertPrototypeClean();
    assert.deepEqual(proto.json(), { body: { a: {} } });
  });

  it("form field names stay flat keys of a null-prototype record (urlencoded and multipart)", async () => {
    const url = await client.post("/form", {
      body: "constructor[prototype][polluted]=1&__proto__[polluted]=1&constructor=x&__proto__=y",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    assertPrototypeClean();
    assert.deepEqual(url.json(), {
      keys: ["constructor[prototype][polluted]", "__proto__[polluted]", "constructor", "__proto__"],
      proto: null,
    });
    const field = (name: string) =>
      `--b\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n1\r\n`;
    const multipart = await client.post("/form", {
      body: `${field("__proto__")}${field("constructor")}${field("constructor[prototype][polluted]")}--b--\r\n`,
      headers: { "content-type": "multipart/form-data; boundary=b" },
    });
    assertPrototypeClean();
    assert.deepEqual(multipart.json(), {
      keys: ["__proto__", "constructor", "constructor[prototype][polluted]"],
      proto: null,
    });
  });
});

describe("500s are logged, and the response leaks nothing", () => {
  function appWithLog(logged: Array<{ message: string; error: unknown }>) {
    const logger: ApplicationLogger = {
      error: (message, error) => logged.push({ message, error }),
    };
    const router = new Router()
      .get("/boom", () => {
        throw new Error("secret database password");
      })
      .get("/async-boom", async () => {
        throw new TypeError("secret token");
      })
      .get("/header", () => Response.text("no", 200, { "x-evil": "a\r\nSet-Cookie: x=1" }))
      .get("/denied", () => {
        throw new HTTPError(403, "Forbidden");
      });
    return new TestClient(new ASGIApplication({ logger }).include(router));
  }

  it("a throwing handler (sync or async) and a CR/LF header reach the logger with their request", async () => {
    const logged: Array<{ message: string; error: unknown }> = [];
    const client = appWithLog(logged);
    for (const path of ["/boom", "/async-boom", "/header"]) {
      const response = await client.get(path);
      assert.equal(response.status, 500);
      assert.equal(response.text(), '{"detail":"Internal Server Error"}');
      assert.equal(response.headers["set-cookie"], undefined);
    }
    assert.equal(logged.length, 3);
    assert.match(logged[0]?.message ?? "", /GET \/boom/);
    assert.ok(logged[0]?.error instanceof Error && logged[0].error.message.includes("secret"));
    assert.ok(logged[1]?.error instanceof TypeError);
    const headerError = logged[2]?.error;
    assert.ok(headerError instanceof ASGIError && headerError.code === "ASGI_INVALID_HEADER");
  });

  it("HTTPError is an answer, not a failure: nothing is logged", async () => {
    const logged: Array<{ message: string; error: unknown }> = [];
    assert.equal((await appWithLog(logged).get("/denied")).status, 403);
    assert.equal(logged.length, 0);
  });

  it("the default logger writes one line naming the request, then the stack, to console.error", async () => {
    const lines: unknown[][] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => lines.push(args);
    try {
      const app = new ASGIApplication().include(
        new Router().get("/fail/{x}", () => {
          throw new Error("kaboom");
        }),
      );
      const response = await new TestClient(app).get("/fail/a%0Ab");
      assert.equal(response.status, 500);
    } finally {
      console.error = original;
    }
    assert.equal(lines.length, 1);
    const text = String(lines[0]?.[0]);
    const [first, ...stack] = text.split("\n");
    assert.equal(first, "mtaio: unhandled error in GET /fail/a\\x0ab, answered 500");
    assert.match(stack[0] ?? "", /^Error: kaboom/);
    assert.ok(
      stack.some((line) => line.includes("hardening.test.ts")),
      "the stack is there",
    );
  });

  it("a logger that throws does not cost the client its response", async () => {
    const app = new ASGIApplication({
      logger: {
        error() {
          throw new Error("logger down");
        },
      },
    }).include(
      new Router().get("/", () => {
        throw new Error("x");
      }),
    );
    assert.equal((await new TestClient(app).get("/")).status, 500);
  });
});

describe("multipart: maxFileSize", () => {
  const multipart = (content: string) =>
    `--b\r\nContent-Disposition: form-data; name="t"\r\n\r\nhi\r\n` +
    `--b\r\nContent-Disposition: form-data; name="doc"; filename="a.bin"\r\n\r\n${content}\r\n--b--\r\n`;

  it("a file over the limit → 413 HTTP_FILE_TOO_LARGE; at the limit it is accepted", async () => {
    const app = new ASGIApplication({ multipart: { maxFileSize: 100 } }).include(
      new Router().post("/", async (request) => {
        const files = await request.files();
        return Response.json(files.map((file) => file.content.byteLength));
      }),
    );
    const client = new TestClient(app);
    const headers = { "content-type": "multipart/form-data; boundary=b" };
    const ok = await client.post("/", { body: multipart("x".repeat(100)), headers });
    assert.deepEqual(ok.json(), [100]);
    const big = await client.post("/", { body: multipart("x".repeat(101)), headers });
    assert.equal(big.status, 413);
    assert.deepEqual(big.json(), { detail: "Multipart file too large" });
    const scope = scopeFor("POST", "/", [["content-type", "multipart/form-data; boundary=b"]]);
    const body = Buffer.from(multipart("x".repeat(101)));
    const request = new Request(
      scope,
      async () => ({ type: "http.request", body, more_body: false }),
      { multipart: { maxFileSize: 100 } },
    );
    await assert.rejects(
      request.files(),
      (error: unknown) => error instanceof HTTPError && error.code === "HTTP_FILE_TOO_LARGE",
    );
  });

  it("a streamed upload is refused once one part passes the limit, without reading the rest", async () => {
    let consumed = 0;
    const head = Buffer.from(
      '--b\r\nContent-Disposition: form-data; name="doc"; filename="big.bin"\r\n\r\n',
    );
    const chunk = Buffer.alloc(1024, 0x78);
    const total = 2000; // 2 MB in 1 KiB events, far past maxFileSize
    const receive = async (): Promise<ReceiveEvent> => {
      consumed++;
      if (consumed === 1) return { type: "http.request", body: head, more_body: true };
      if (consumed <= total) return { type: "http.request", body: chunk, more_body: true };
      return { type: "http.request", body: Buffer.from("\r\n--b--\r\n"), more_body: false };
    };
    const sent: SendEvent[] = [];
    const app = new ASGIApplication({
      maxBodySize: 64 * 1024 * 1024,
      multipart: { maxFileSize: 32 * 1024, maxFieldSize: 1024 },
    }).include(
      new Router().post("/", async (request) => Response.json((await request.files()).length)),
    );
    await app.asgi(
      scopeFor("POST", "/", [["content-type", "multipart/form-data; boundary=b"]]),
      receive,
      async (event) => {
        sent.push(event);
      },
    );
    const start = sent[0];
    assert.ok(start?.type === "http.response.start" && start.status === 413);
    // 32 KiB + 16 KiB of room for part headers, then the guard trips.
    assert.ok(consumed < 60, `read ${consumed} of ${total} events before refusing`);
  });

  it("fuzz: the streaming guard accepts parts within the limit however the body is split, and trips past it", () => {
    const limits = { maxParts: 100, maxFieldSize: 10, maxFileSize: 50 };
    const allowance = 16 * 1024;
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 50 }), { minLength: 1, maxLength: 5 }),
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 20 }),
        fc.boolean(),
        (sizes, cuts, oversize) => {
          let text = "";
          for (const size of sizes) {
            text += `--bnd\r\nContent-Disposition: form-data; name="f"; filename="x"\r\n\r\n${"y".repeat(size)}\r\n`;
          }
          if (oversize) text += `--bnd\r\n\r\n${"z".repeat(50 + allowance + 1)}`;
          else text += "--bnd--\r\n";
          const body = Buffer.from(text);
          const guard = new PartSizeGuard("bnd", limits);
          let offset = 0;
          let tripped = false;
          try {
            for (let i = 0; offset < body.length; i++) {
              const size = cuts[i % cuts.length] as number;
              guard.feed(body.subarray(offset, offset + size));
              offset += size;
            }
          } catch (error) {
            assert.ok(error instanceof HTTPError && error.code === "HTTP_FILE_TOO_LARGE");
            tripped = true;
          }
          assert.equal(tripped, oversize);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("request.signal after a failed body read", () => {
  it("still aborts when the client leaves after a 413", async () => {
    const events: ReceiveEvent[] = [
      { type: "http.request", body: Buffer.alloc(2048), more_body: true },
      { type: "http.request", body: Buffer.alloc(2048), more_body: false },
      { type: "http.disconnect" },
    ];
    let release: () => void = () => {};
    const blocked = new Promise<void>((resolve) => (release = resolve));
    const receive = async (): Promise<ReceiveEvent> => {
      const event = events.shift();
      if (event?.type === "http.disconnect") await blocked; // the client leaves later
      return event ?? { type: "http.disconnect" };
    };
    const request = new Request(scopeFor("POST", "/", []), receive, { maxBodySize: 1024 });
    const signal = request.signal;
    await assert.rejects(
      request.body(),
      (error: unknown) => error instanceof HTTPError && error.statusCode === 413,
    );
    assert.equal(signal.aborted, false);
    const aborted = new Promise<void>((resolve) =>
      signal.addEventListener("abort", () => resolve(), { once: true }),
    );
    release();
    await aborted;
    assert.ok(signal.reason instanceof HTTPError);
    assert.equal(events.length, 0, "every event was consumed");
  });
});

describe("json(): nesting limit", () => {
  const JSON_TYPE = { "content-type": "application/json" };
  function client(options?: { maxJSONDepth?: number }): TestClient {
    const router = new Router();
    router.post("/", async (request) =>
      Response.json({ ok: (await request.json()) !== undefined }),
    );
    return new TestClient(new ASGIApplication(options).include(router));
  }
  const nested = (depth: number, open = "[", close = "]") =>
    `${open.repeat(depth)}${close.repeat(depth)}`;

  it("accepts the default 128 levels, refuses 129 with 400 HTTP_JSON_TOO_DEEP, and a deep attack", async () => {
    const c = client();
    assert.equal((await c.post("/", { body: nested(128), headers: JSON_TYPE })).status, 200);
    const deep = await c.post("/", { body: nested(129), headers: JSON_TYPE });
    assert.equal(deep.status, 400);
    assert.match(String((deep.json() as { detail: string }).detail), /deeper than 128/);
    // 100 000 levels: V8 parses it, a recursive walk of the result would not survive it.
    const attack = await c.post("/", { body: nested(100_000), headers: JSON_TYPE });
    assert.equal(attack.status, 400);
  });

  it("objects count like arrays; brackets inside strings and escaped quotes do not count", async () => {
    const c = client({ maxJSONDepth: 3 });
    const objects = '{"a":{"b":{"c":{}}}}';
    assert.equal((await c.post("/", { body: objects, headers: JSON_TYPE })).status, 400);
    const inStrings = '{"a":["[[[[{{{{", "\\"[[[[[", {"b":"}}]]\\\\"}]}';
    assert.equal((await c.post("/", { body: inStrings, headers: JSON_TYPE })).status, 200);
  });

  it("the error is a typed HTTPError from request.json()", async () => {
    const body = new TextEncoder().encode(nested(5));
    const scope = scopeFor("POST", "/", [["content-type", "application/json"]]);
    const request = new Request(
      scope,
      async () => ({ type: "http.request", body, more_body: false }),
      {
        maxJSONDepth: 4,
      },
    );
    await assert.rejects(request.json(), (error) => {
      assert.ok(error instanceof HTTPError);
      assert.equal(error.statusCode, 400);
      assert.equal(error.code, "HTTP_JSON_TOO_DEEP");
      return true;
    });
  });

  it("fuzz: the scan agrees with the real depth of any JSON value, for any limit", () => {
    const depthOf = (value: unknown): number =>
      typeof value === "object" && value !== null
        ? 1 + Math.max(0, ...Object.values(value).map(depthOf))
        : 0;
    fc.assert(
      fc.property(
        fc.jsonValue({ maxDepth: 8 }),
        fc.nat(10),
        fc.boolean(),
        (value, limit, pretty) => {
          const text = JSON.stringify(value, null, pretty ? 2 : undefined);
          assert.equal(jsonNestsDeeperThan(text, limit), depthOf(value) > limit);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
