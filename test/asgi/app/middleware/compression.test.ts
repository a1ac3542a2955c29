import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { describe, it } from "node:test";
import zlib from "node:zlib";
import { Response, TestClient } from "../../../../src/asgi/app/index.js";
import {
  CompressionMiddleware,
  negotiateEncoding,
} from "../../../../src/asgi/app/middleware/compression.js";
import type { ASGIApp, HTTPScope, SendEvent } from "../../../../src/asgi/types.js";
import { appOf } from "./helpers.js";

const big = "mtaio compresses this line. ".repeat(200);

function textApp(text: string, headers?: Record<string, string>) {
  return appOf(() => Response.text(text, 200, headers));
}

function httpScope(acceptEncoding: string): HTTPScope {
  return {
    type: "http",
    asgi: { version: "3.0", spec_version: "2.4" },
    http_version: "1.1",
    method: "GET",
    scheme: "http",
    path: "/",
    raw_path: null,
    query_string: new Uint8Array(0),
    root_path: "",
    headers: [["accept-encoding", acceptEncoding]],
    client: null,
    server: null,
  };
}

describe("negotiateEncoding", () => {
  it("picks the highest q-value, the server's order on ties, and honours q=0", () => {
    assert.equal(negotiateEncoding("gzip, br", ["br", "gzip"]), "br");
    assert.equal(negotiateEncoding("gzip;q=1, br;q=0.5", ["br", "gzip"]), "gzip");
    assert.equal(negotiateEncoding("br;q=0, gzip;q=0.1", ["br", "gzip"]), "gzip");
    assert.equal(negotiateEncoding("*;q=0.2, gzip;q=0", ["br", "gzip"]), "br");
    assert.equal(negotiateEncoding("identity", ["br", "gzip"]), undefined);
    assert.equal(negotiateEncoding("gzip;q=0", ["br", "gzip"]), undefined);
    assert.equal(negotiateEncoding("x-gzip", ["br", "gzip"]), "gzip");
    assert.equal(negotiateEncoding("gzip;q=7", ["gzip"]), undefined);
    assert.equal(negotiateEncoding("", ["gzip"]), undefined);
  });
});

describe("CompressionMiddleware", () => {
  it("gzips a whole body, with Content-Length and Vary", async () => {
    const app = textApp(big);
    app.addMiddleware(CompressionMiddleware);
    const response = await new TestClient(app).get("/", {
      headers: { "accept-encoding": "gzip" },
    });
    assert.equal(response.headers["content-encoding"], "gzip");
    assert.equal(response.headers.vary, "Accept-Encoding");
    assert.equal(response.headers["content-length"], String(response.body.byteLength));
    assert.ok(response.body.byteLength < Buffer.byteLength(big));
    assert.equal(zlib.gunzipSync(response.body).toString("utf8"), big);
  });

  it("weakens a strong ETag on a compressed body, and keeps a weak one", async () => {
    const client = (etag: string) => {
      const app = textApp(big, { etag });
      app.addMiddleware(CompressionMiddleware);
      return new TestClient(app).get("/", { headers: { "accept-encoding": "gzip" } });
    };
    assert.equal((await client('"v1"')).headers.etag, 'W/"v1"');
    assert.equal((await client('W/"v2"')).headers.etag, 'W/"v2"');
  });

  it("prefers Brotli when accepted equally", async () => {
    const app = textApp(big);
    app.addMiddleware(CompressionMiddleware);
    const response = await new TestClient(app).get("/", {
      headers: { "accept-encoding": "gzip, deflate, br" },
    });
    assert.equal(response.headers["content-encoding"], "br");
    assert.equal(zlib.brotliDecompressSync(response.body).toString("utf8"), big);
  });

  it("sends identity when the client accepts no offered coding", async () => {
    const app = textApp(big);
    app.addMiddleware(CompressionMiddleware);
    const client = new TestClient(app);
    for (const accept of [undefined, "identity", "gzip;q=0, br;q=0", "deflate"]) {
      const response = await client.get("/", {
        headers: accept === undefined ? {} : { "accept-encoding": accept },
      });
      assert.equal(response.headers["content-encoding"], undefined, String(accept));
      assert.equal(response.text(), big);
    }
  });

  it("leaves bodies under minimumSize alone", async () => {
    const app = textApp("x".repeat(99));
    app.addMiddleware(CompressionMiddleware, { minimumSize: 100 });
    const response = await new TestClient(app).get("/", {
      headers: { "accept-encoding": "gzip" },
    });
    assert.equal(response.headers["content-encoding"], undefined);
    assert.equal(response.headers["content-length"], "99");
    assert.equal(response.text(), "x".repeat(99));
  });

  it("never re-encodes an encoded body nor compresses server-sent events", async () => {
    const encoded = zlib.gzipSync(big);
    const pre = appOf(
      () =>
        new Response(encoded, 200, {
          "content-encoding": "gzip",
          "content-type": "text/plain",
        }),
    );
    pre.addMiddleware(CompressionMiddleware);
    const already = await new TestClient(pre).get("/", {
      headers: { "accept-encoding": "br, gzip" },
    });
    assert.equal(already.headers["content-encoding"], "gzip");
    assert.deepEqual(Buffer.from(already.body), encoded);

    const sse = appOf(() =>
      Response.sse(
        (async function* () {
          yield { data: big };
          yield { data: "second" };
        })(),
      ),
    );
    sse.addMiddleware(CompressionMiddleware);
    const events = await new TestClient(sse).get("/", {
      headers: { "accept-encoding": "gzip" },
    });
    assert.equal(events.headers["content-encoding"], undefined);
    assert.match(events.text(), /data: second/);
  });

  for (const encoding of ["gzip", "br"] as const) {
    it(`streams ${encoding} chunk by chunk: each flush decodes to all sent so far`, async () => {
      const received: Uint8Array[] = [];
      const decodedSoFar = () => {
        const all = Buffer.concat(received);
        return encoding === "gzip"
          ? zlib.gunzipSync(all, { finishFlush: zlib.constants.Z_SYNC_FLUSH }).toString()
          : zlib
              .brotliDecompressSync(all, {
                finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH,
              })
              .toString();
      };
      const parts = ["first part, ", "second part, ", "last part"];
      const seenAfterEachSend: string[] = [];
      const inner: ASGIApp = async (_scope, _receive, send) => {
        await send({
          type: "http.response.start",
          status: 200,
          headers: [
            ["content-type", "text/plain"],
            ["content-length", "35"],
          ],
        });
        for (const [index, part] of parts.entries()) {
          const last = index === parts.length - 1;
          await send({
            type: "http.response.body",
            body: Buffer.from(part),
            more_body: !last,
          });
          seenAfterEachSend.push(decodedSoFar());
        }
      };
      const middleware = new CompressionMiddleware(inner, { minimumSize: 10_000 });
      const events: SendEvent[] = [];
      await middleware.call(
        httpScope(encoding),
        async () => ({ type: "http.request", body: new Uint8Array(0), more_body: false }),
        async (event) => {
          events.push(event);
          if (event.type === "http.response.body" && event.body !== undefined) {
            received.push(event.body);
          }
        },
      );
      const start = events[0];
      assert.equal(start?.type, "http.response.start");
      const headers = start?.type === "http.response.start" ? (start.headers ?? []) : [];
      assert.deepEqual(
        headers.filter(([name]) => name === "content-encoding"),
        [["content-encoding", encoding]],
      );
      // The identity length no longer applies to a compressed, chunked body.
      assert.equal(
        headers.some(([name]) => name === "content-length"),
        false,
      );
      assert.deepEqual(seenAfterEachSend, [
        "first part, ",
        "first part, second part, ",
        "first part, second part, last part",
      ]);
      const last = events.at(-1);
      assert.equal(last?.type === "http.response.body" && last.more_body, false);
    });
  }

  it("passes a start without body through when the app ends early", async () => {
    const inner: ASGIApp = async (_scope, _receive, send) => {
      await send({ type: "http.response.start", status: 200, headers: [] });
    };
    const events: SendEvent[] = [];
    await new CompressionMiddleware(inner).call(
      httpScope("gzip"),
      async () => ({ type: "http.disconnect" }),
      async (event) => {
        events.push(event);
      },
    );
    assert.deepEqual(
      events.map((event) => event.type),
      ["http.response.start"],
    );
  });

  it("does not touch 204 responses or lifespan scopes", async () => {
    const app = appOf(() => new Response(undefined, 204));
    app.addMiddleware(CompressionMiddleware, { minimumSize: 0 });
    const client = new TestClient(app);
    await client.start();
    const response = await client.get("/", { headers: { "accept-encoding": "gzip" } });
    assert.equal(response.status, 204);
    assert.equal(response.headers["content-encoding"], undefined);
    await client.close();
  });
  it("passes HEAD through, keeping the identity Content-Length", async () => {
    const app = textApp(big);
    app.addMiddleware(CompressionMiddleware, { minimumSize: 0 });
    const response = await new TestClient(app).request("HEAD", "/", {
      headers: { "accept-encoding": "gzip" },
    });
    assert.equal(response.headers["content-encoding"], undefined);
    assert.equal(response.headers["content-length"], String(Buffer.byteLength(big)));
  });

  it("rethrows an app failure mid-stream without hanging", async () => {
    const inner: ASGIApp = async (_scope, _receive, send) => {
      await send({ type: "http.response.start", status: 200, headers: [] });
      await send({ type: "http.response.body", body: Buffer.from(big), more_body: true });
      throw new Error("app broke");
    };
    const events: SendEvent[] = [];
    await assert.rejects(
      new CompressionMiddleware(inner).call(
        httpScope("gzip"),
        async () => ({ type: "http.disconnect" }),
        async (event) => {
          events.push(event);
        },
      ),
      /app broke/,
    );
    // The start and the first flushed chunk went out; no final event pretends it completed.
    assert.deepEqual(
      events.map((event) => event.type === "http.response.body" && event.more_body),
      [false, true],
    );
  });

  it("stops when the client's send fails", async () => {
    let sends = 0;
    const inner: ASGIApp = async (_scope, _receive, send) => {
      await send({ type: "http.response.start", status: 200, headers: [] });
      for (let i = 0; i < 3; i++) {
        await send({ type: "http.response.body", body: Buffer.from(big), more_body: true });
      }
      await send({ type: "http.response.body", more_body: false });
    };
    await assert.rejects(
      new CompressionMiddleware(inner).call(
        httpScope("br"),
        async () => ({ type: "http.disconnect" }),
        async (event) => {
          if (event.type === "http.response.body" && ++sends === 2) throw new Error("gone");
        },
      ),
      /gone/,
    );
    assert.equal(sends, 2);
  });
});
