import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  ASGIApplication,
  HTTPError,
  Request,
  Response,
  TestClient,
} from "../../../src/asgi/app/index.js";
import type { HTTPScope, ReceiveEvent } from "../../../src/asgi/types.js";

function echo(
  read: (request: Request) => Promise<unknown>,
  options?: ConstructorParameters<typeof ASGIApplication>[0],
): TestClient {
  const app = new (class extends ASGIApplication {
    override async handleRequest(request: Request): Promise<Response> {
      return Response.json(await read(request));
    }
  })(options);
  return new TestClient(app);
}

function multipart(boundary: string, parts: string[]): string {
  return `${parts.map((part) => `--${boundary}\r\n${part}\r\n`).join("")}--${boundary}--\r\n`;
}

describe("Request", () => {
  it("queryAll returns every value of a repeated key in order, decoded; [] when absent", async () => {
    const client = echo(async (r) => ({
      tags: r.queryAll("tag"),
      flag: r.queryAll("flag"),
      none: r.queryAll("none"),
      last: r.query.tag,
    }));
    const res = await client.get("/?tag=a&x=1&tag=b+c&tag=%E3%81%82&flag");
    assert.deepEqual(res.json(), { tags: ["a", "b c", "あ"], flag: [""], none: [], last: "あ" });
    assert.equal((await client.get("/?tag=%zz")).status, 400);
  });

  it("reads a body sent in several chunks, and one chunk without copying it", async () => {
    const chunks = [Buffer.from('{"a":'), Buffer.from("[1,2]}")];
    const scope: HTTPScope = {
      type: "http",
      asgi: { version: "3.0", spec_version: "2.4" },
      http_version: "1.1",
      method: "POST",
      scheme: "http",
      path: "/",
      raw_path: null,
      query_string: new Uint8Array(0),
      root_path: "",
      headers: [["content-type", "application/json"]],
      client: null,
      server: null,
    };
    let index = 0;
    const receive = async (): Promise<ReceiveEvent> => ({
      type: "http.request",
      body: chunks[index++] ?? new Uint8Array(0),
      more_body: index < chunks.length,
    });
    assert.deepEqual(await new Request(scope, receive).json(), { a: [1, 2] });
    const one = Buffer.from("\ufeff[3]"); // a leading BOM is dropped, as TextDecoder does
    const single = new Request(scope, async () => ({
      type: "http.request",
      body: one,
      more_body: false,
    }));
    assert.equal(await single.body(), one);
    assert.deepEqual(await single.json(), [3]);
  });

  it("json() drops __proto__ keys also when spelled with \\u escapes", async () => {
    const client = echo(async (r) => {
      const value = (await r.json()) as Record<string, unknown>;
      return { keys: Object.keys(value), own: Object.getOwnPropertyNames(value) };
    });
    const res = await client.post("/", {
      body: '{"\\u005f_proto__":{"polluted":1},"b":2}',
      headers: { "content-type": "application/json" },
    });
    assert.deepEqual(res.json(), { keys: ["b"], own: ["b"] });
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it("exposes method, path, raw query, parsed query (last wins, null prototype) and headers", async () => {
    const client = echo(async (r) => ({
      method: r.method,
      path: r.path,
      queryString: r.queryString,
      query: { ...r.query },
      proto: Object.getPrototypeOf(r.query),
      headers: r.headers["x-multi"],
    }));
    const res = await client.get("/a%20b?x=1&x=2&y=%E3%81%82&__proto__=z", {
      headers: { "X-Multi": "v" },
    });
    assert.deepEqual(res.json(), {
      method: "GET",
      path: "/a b",
      queryString: "x=1&x=2&y=%E3%81%82&__proto__=z",
      query: { x: "2", y: "あ", ["__proto__"]: "z" },
      proto: null,
      headers: "v",
    });
  });

  it("joins repeated headers with a comma", () => {
    const scope = {
      type: "http",
      method: "GET",
      path: "/",
      raw_path: null,
      query_string: new Uint8Array(0),
      headers: [
        ["accept", "a"],
        ["accept", "b"],
      ],
    } as unknown as HTTPScope;
    const request = new Request(scope, async () => ({ type: "http.disconnect" }));
    assert.equal(request.headers.accept, "a, b");
  });

  it("reads a chunked body once and caches it; aborts the signal on disconnect", async () => {
    const events: ReceiveEvent[] = [
      { type: "http.request", body: new TextEncoder().encode("ab"), more_body: true },
      { type: "http.request", body: new TextEncoder().encode("c"), more_body: false },
      { type: "http.disconnect" },
    ];
    const scope = { type: "http", headers: [] } as unknown as HTTPScope;
    const request = new Request(scope, async () => events.shift() as ReceiveEvent);
    assert.equal(await request.text(), "abc");
    assert.equal(await request.text(), "abc");
    assert.equal(request.signal.aborted, false);
    await request.receive();
    assert.equal(request.signal.aborted, true);
  });

  it("signal aborts on a disconnect after the body without the handler reading", async () => {
    let disconnect: (() => void) | undefined;
    const events: Array<() => Promise<ReceiveEvent>> = [
      async () => ({ type: "http.request", body: new TextEncoder().encode("x"), more_body: false }),
      () => new Promise((resolve) => (disconnect = () => resolve({ type: "http.disconnect" }))),
    ];
    const scope = { type: "http", headers: [] } as unknown as HTTPScope;
    const request = new Request(scope, () => (events.shift() as () => Promise<ReceiveEvent>)());
    const signal = request.signal;
    const aborted = new Promise((resolve) => signal.addEventListener("abort", resolve));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(signal.aborted, false);
    assert.equal(await request.text(), "x");
    disconnect?.();
    await aborted;
    assert.equal(signal.aborted, true);
  });

  it("limits the body size with 413", async () => {
    const client = echo(async (r) => (await r.body()).byteLength, { maxBodySize: 10 });
    assert.equal((await client.post("/", { body: "0123456789" })).json(), 10);
    const res = await client.post("/", { body: "0123456789x" });
    assert.equal(res.status, 413);
  });

  it("json(): 415 for other types, 400 when malformed, no prototype pollution", async () => {
    const client = echo(async (r) => {
      const value = (await r.json()) as Record<string, unknown>;
      return {
        keys: Object.keys(value),
        polluted: ({} as Record<string, unknown>).polluted ?? null,
      };
    });
    const ok = await client.post("/", {
      body: '{"__proto__":{"polluted":1},"a":{"__proto__":{"polluted":2}}}',
      headers: { "content-type": "application/json" },
    });
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.json(), { keys: ["a"], polluted: null });
    const wrong = await client.post("/", { body: "{}", headers: { "content-type": "text/plain" } });
    assert.equal(wrong.status, 415);
    const bad = await client.post("/", {
      body: "{nope",
      headers: { "content-type": "application/json" },
    });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.json(), { detail: "Malformed JSON body" });
  });

  it("json(): the media type is matched without case, parameters or spaces", async () => {
    const client = echo(async (r) => r.json());
    for (const type of [
      "application/json",
      "Application/JSON",
      "application/json; charset=utf-8",
      " application/json ",
      "application/problem+json",
    ]) {
      const res = await client.post("/", { body: "[1]", headers: { "content-type": type } });
      assert.equal(res.status, 200, type);
      assert.deepEqual(res.json(), [1], type);
    }
    for (const type of ["application/jsonx", "text/json", "application/json\u00e0", ""]) {
      const res = await client.post("/", { body: "[1]", headers: { "content-type": type } });
      assert.equal(res.status, 415, JSON.stringify(type));
    }
  });

  it("json(), text() and body() of one request agree, in any order", async () => {
    const client = echo(async (r) => {
      const parsed = await r.json();
      const text = await r.text();
      const bytes = await r.body();
      return { parsed, text, length: bytes.byteLength, again: await r.json() };
    });
    const res = await client.post("/", {
      body: '{"a":1}',
      headers: { "content-type": "application/json" },
    });
    assert.deepEqual(res.json(), { parsed: { a: 1 }, text: '{"a":1}', length: 7, again: { a: 1 } });
  });

  it("form(): urlencoded, multipart fields and files; 415 otherwise", async () => {
    const client = echo(async (r) => {
      const form = await r.form();
      const files = r.headers["content-type"]?.startsWith("multipart") ? await r.files() : [];
      return {
        form: { ...form },
        proto: Object.getPrototypeOf(form),
        files: files.map((f) => [
          f.name,
          f.filename,
          f.contentType,
          new TextDecoder().decode(f.content),
        ]),
      };
    });
    const url = await client.post("/", { form: { a: "1 2", b: "あ" } });
    assert.deepEqual(url.json(), { form: { a: "1 2", b: "あ" }, proto: null, files: [] });
    const body = multipart("XyZ", [
      'Content-Disposition: form-data; name="title"\r\n\r\nhello\r\nworld',
      'Content-Disposition: form-data; name="doc"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\nfile body',
    ]);
    const mp = await client.post("/", {
      body,
      headers: { "content-type": 'multipart/form-data; boundary="XyZ"' },
    });
    assert.equal(mp.status, 200);
    assert.deepEqual(mp.json(), {
      form: { title: "hello\r\nworld" },
      proto: null,
      files: [["doc", "a.txt", "text/plain", "file body"]],
    });
    const other = await client.post("/", { body: "x", headers: { "content-type": "text/plain" } });
    assert.equal(other.status, 415);
  });

  it("multipart limits → 413, broken framing → 400", async () => {
    const client = echo(async (r) => ({ ...(await r.form()) }), {
      multipart: { maxParts: 2, maxFieldSize: 4 },
    });
    const headers = { "content-type": "multipart/form-data; boundary=b" };
    const field = (name: string, value: string) =>
      `Content-Disposition: form-data; name="${name}"\r\n\r\n${value}`;
    const many = multipart("b", [field("a", "1"), field("b", "2"), field("c", "3")]);
    assert.equal((await client.post("/", { body: many, headers })).status, 413);
    const big = multipart("b", [field("a", "12345")]);
    assert.equal((await client.post("/", { body: big, headers })).status, 413);
    const broken = '--b\r\nContent-Disposition: form-data; name="a"\r\n\r\nno end';
    assert.equal((await client.post("/", { body: broken, headers })).status, 400);
  });

  it("body errors are HTTPError instances", async () => {
    const scope = {
      type: "http",
      headers: [["content-type", "text/plain"]],
    } as unknown as HTTPScope;
    const request = new Request(scope, async () => ({
      type: "http.request",
      body: new Uint8Array(0),
      more_body: false,
    }));
    await assert.rejects(
      request.json(),
      (e: unknown) => e instanceof HTTPError && e.statusCode === 415,
    );
  });
});

describe("Request.queryString", () => {
  it("maps every byte to one char, 0x80–0x9F included (not windows-1252)", () => {
    const scope: HTTPScope = {
      type: "http",
      asgi: { version: "3.0", spec_version: "2.4" },
      http_version: "1.1",
      method: "GET",
      scheme: "http",
      path: "/",
      raw_path: null,
      query_string: new Uint8Array([0x61, 0x3d, 0x80, 0x9f, 0xff]),
      root_path: "",
      headers: [],
      client: null,
      server: null,
    };
    const request = new Request(scope, async () => ({ type: "http.disconnect" }) as ReceiveEvent);
    assert.deepEqual(
      [...request.queryString].map((c) => c.charCodeAt(0)),
      [0x61, 0x3d, 0x80, 0x9f, 0xff],
    );
  });
});
