import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { execFileSync } from "node:child_process";
import { symlinkSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { StaticFiles, TestClient } from "../../../../src/asgi/app/index.js";
import type { HTTPScope, SendEvent } from "../../../../src/asgi/types.js";
import { ASGIError } from "../../../../src/errors.js";
import { HELLO, HELLO_MTIME, makeTree, type Tree } from "./fixtures.js";

function scopeFor(path: string, extra: Partial<HTTPScope> = {}): HTTPScope {
  return {
    type: "http",
    asgi: { version: "3.0", spec_version: "2.4" },
    http_version: "1.1",
    method: "GET",
    scheme: "http",
    path,
    raw_path: Buffer.from(path, "latin1"),
    query_string: new Uint8Array(0),
    root_path: "",
    headers: [],
    client: null,
    server: null,
    ...extra,
  };
}

describe("StaticFiles", () => {
  let tree: Tree;
  let client: TestClient;
  let etag: string;

  before(() => {
    tree = makeTree();
    client = new TestClient(new StaticFiles({ directory: tree.root }));
  });
  after(() => tree.remove());

  it("serves a file with its type, length and validators", async () => {
    const res = await client.get("/hello.txt");
    assert.equal(res.status, 200);
    assert.equal(res.text(), HELLO);
    assert.equal(res.headers["content-type"], "text/plain; charset=utf-8");
    assert.equal(res.headers["content-length"], String(Buffer.byteLength(HELLO)));
    assert.equal(res.headers["last-modified"], HELLO_MTIME.toUTCString());
    assert.equal(res.headers["accept-ranges"], "bytes");
    assert.match(res.headers.etag ?? "", /^"[0-9a-f]+-[0-9a-f]+"$/);
    assert.equal(res.headers["cache-control"], undefined);
    etag = res.headers.etag as string;
  });

  it("picks content types from the extension", async () => {
    const types: Record<string, string> = {
      "/style.CSS": "text/css; charset=utf-8",
      "/data.json": "application/json; charset=utf-8",
      "/image.png": "image/png",
      "/blob.unknownext": "application/octet-stream",
      "/noext": "application/octet-stream",
      "/docs/page.html": "text/html; charset=utf-8",
    };
    for (const [path, type] of Object.entries(types)) {
      const res = await client.get(path);
      assert.equal(res.status, 200, path);
      assert.equal(res.headers["content-type"], type, path);
    }
  });

  it("decodes UTF-8 names and serves an empty file", async () => {
    assert.equal((await client.get("/caf%C3%A9.txt")).text(), "accent");
    const empty = await client.get("/empty.txt");
    assert.equal(empty.status, 200);
    assert.equal(empty.headers["content-length"], "0");
    assert.equal(empty.body.byteLength, 0);
  });

  it("answers HEAD with the headers and no body", async () => {
    const res = await client.request("HEAD", "/hello.txt");
    assert.equal(res.status, 200);
    assert.equal(res.headers["content-length"], String(Buffer.byteLength(HELLO)));
    assert.equal(res.headers.etag, etag);
    assert.equal(res.body.byteLength, 0);
  });

  it("answers HEAD of a missing file with the 404 headers only", async () => {
    const res = await client.request("HEAD", "/nope.txt");
    assert.equal(res.status, 404);
    assert.equal(res.headers["content-length"], "9");
    assert.equal(res.body.byteLength, 0);
  });

  it("refuses other methods with 405 and Allow", async () => {
    for (const method of ["POST", "PUT", "DELETE", "OPTIONS"]) {
      const res = await client.request(method, "/hello.txt");
      assert.equal(res.status, 405, method);
      assert.equal(res.headers.allow, "GET, HEAD");
    }
  });

  it("404s for missing files and for directories outside HTML mode", async () => {
    for (const path of ["/nope.txt", "/docs", "/docs/", "/hello.txt/", "/", "/hello.txt/x"]) {
      const res = await client.get(path);
      assert.equal(res.status, 404, path);
      assert.equal(res.text(), "Not Found");
    }
  });

  it("answers 304 to a matching If-None-Match, in every form", async () => {
    for (const value of [etag, `W/${etag}`, `"nope", ${etag}`, "*"]) {
      const res = await client.get("/hello.txt", { headers: { "if-none-match": value } });
      assert.equal(res.status, 304, value);
      assert.equal(res.body.byteLength, 0);
      assert.equal(res.headers.etag, etag);
      assert.equal(res.headers["last-modified"], HELLO_MTIME.toUTCString());
      assert.equal(res.headers["content-length"], undefined);
      assert.equal(res.headers["content-type"], undefined);
    }
    const head = await client.request("HEAD", "/hello.txt", { headers: { "if-none-match": etag } });
    assert.equal(head.status, 304);
  });

  it("lets If-None-Match win over If-Modified-Since (RFC 9110 §13.2.2)", async () => {
    const future = new Date(Date.now() + 86_400_000).toUTCString();
    const res = await client.get("/hello.txt", {
      headers: { "if-none-match": '"other"', "if-modified-since": future },
    });
    assert.equal(res.status, 200);
    assert.equal(res.text(), HELLO);
  });

  it("answers 304 to If-Modified-Since at or after the mtime, 200 before", async () => {
    const at = await client.get("/hello.txt", {
      headers: { "if-modified-since": HELLO_MTIME.toUTCString() },
    });
    assert.equal(at.status, 304);
    const before = new Date(HELLO_MTIME.getTime() - 1000).toUTCString();
    const old = await client.get("/hello.txt", { headers: { "if-modified-since": before } });
    assert.equal(old.status, 200);
    const junk = await client.get("/hello.txt", { headers: { "if-modified-since": "yesterday" } });
    assert.equal(junk.status, 200);
  });

  it("serves single byte ranges with 206 and Content-Range", async () => {
    const size = tree.big.length;
    const cases: Array<[string, number, number]> = [
      ["bytes=0-4", 0, 4],
      ["bytes=100-199", 100, 199],
      [`bytes=${size - 10}-`, size - 10, size - 1],
      ["bytes=-3", size - 3, size - 1],
      [`bytes=5-${size + 500}`, 5, size - 1],
      [`bytes=-${size + 10}`, 0, size - 1],
      ["BYTES = 7-7", 7, 7],
    ];
    for (const [range, start, end] of cases) {
      const res = await client.get("/big.bin", { headers: { range } });
      assert.equal(res.status, 206, range);
      assert.equal(res.headers["content-range"], `bytes ${start}-${end}/${size}`, range);
      assert.equal(res.headers["content-length"], String(end - start + 1), range);
      assert.deepEqual(res.body, tree.big.subarray(start, end + 1), range);
    }
  });

  it("answers 416 with bytes */size to an unsatisfiable range", async () => {
    const size = tree.big.length;
    for (const range of [`bytes=${size}-`, `bytes=${size + 5}-${size + 9}`, "bytes=-0"]) {
      const res = await client.get("/big.bin", { headers: { range } });
      assert.equal(res.status, 416, range);
      assert.equal(res.headers["content-range"], `bytes */${size}`);
    }
    const empty = await client.get("/empty.txt", { headers: { range: "bytes=0-" } });
    assert.equal(empty.status, 416);
    assert.equal(empty.headers["content-range"], "bytes */0");
  });

  it("serves the whole file for several, malformed or non-byte ranges", async () => {
    for (const range of [
      "bytes=0-1,5-6",
      "bytes=5-2",
      "bytes=a-b",
      "items=0-1",
      "bytes=-",
      "0-1",
    ]) {
      const res = await client.get("/big.bin", { headers: { range } });
      assert.equal(res.status, 200, range);
      assert.equal(res.headers["content-range"], undefined);
      assert.equal(res.body.byteLength, tree.big.length, range);
    }
  });

  it("ignores Range on HEAD (RFC 9110 §14.2)", async () => {
    const res = await client.request("HEAD", "/big.bin", { headers: { range: "bytes=0-1" } });
    assert.equal(res.status, 200);
    assert.equal(res.headers["content-length"], String(tree.big.length));
  });

  it("applies Range only when If-Range still matches", async () => {
    const tag = (await client.request("HEAD", "/big.bin")).headers.etag as string;
    const lastModified = (await client.request("HEAD", "/big.bin")).headers["last-modified"];
    const same = await client.get("/big.bin", { headers: { range: "bytes=0-1", "if-range": tag } });
    assert.equal(same.status, 206);
    const byDate = await client.get("/big.bin", {
      headers: { range: "bytes=0-1", "if-range": lastModified as string },
    });
    assert.equal(byDate.status, 206);
    const stale = await client.get("/big.bin", {
      headers: { range: "bytes=0-1", "if-range": '"stale"' },
    });
    assert.equal(stale.status, 200);
    assert.equal(stale.body.byteLength, tree.big.length);
    const weak = await client.get("/big.bin", {
      headers: { range: "bytes=0-1", "if-range": `W/${tag}` },
    });
    assert.equal(weak.status, 200, "If-Range compares strongly");
  });

  it("sends Cache-Control from maxAge or cacheControl, on 200 and 304", async () => {
    const byAge = new TestClient(new StaticFiles({ directory: tree.root, maxAge: 3600 }));
    const res = await byAge.get("/hello.txt");
    assert.equal(res.headers["cache-control"], "public, max-age=3600");
    const notModified = await byAge.get("/hello.txt", { headers: { "if-none-match": etag } });
    assert.equal(notModified.status, 304);
    assert.equal(notModified.headers["cache-control"], "public, max-age=3600");
    const custom = new TestClient(
      new StaticFiles({ directory: tree.root, maxAge: 5, cacheControl: "no-cache" }),
    );
    assert.equal((await custom.get("/hello.txt")).headers["cache-control"], "no-cache");
  });

  it("streams in chunks, one send at a time (backpressure)", async () => {
    const chunkSize = 16 * 1024;
    const files = new StaticFiles({ directory: tree.root, chunkSize });
    const events: SendEvent[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const send = async (event: SendEvent) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      events.push(event);
      // A slow client: each send takes a few turns of the event loop to be taken.
      await new Promise((resolve) => setImmediate(resolve));
      inFlight--;
    };
    const receive = () => new Promise<never>(() => {});
    await files.asgi(scopeFor("/big.bin"), receive, send);
    assert.equal(maxInFlight, 1);
    const bodies = events.filter((e) => e.type === "http.response.body");
    assert.equal(bodies.length, Math.ceil(tree.big.length / chunkSize));
    assert.ok(bodies.slice(0, -1).every((e) => e.more_body === true));
    assert.notEqual(bodies.at(-1)?.more_body, true);
    const joined = Buffer.concat(bodies.map((e) => e.body ?? new Uint8Array(0)));
    assert.deepEqual(new Uint8Array(joined), tree.big);
  });

  it("stops reading when send() rejects (client gone)", async () => {
    const files = new StaticFiles({ directory: tree.root, chunkSize: 1024 });
    let bodies = 0;
    const send = async (event: SendEvent) => {
      if (event.type === "http.response.body" && ++bodies === 3) throw new Error("gone");
    };
    await assert.rejects(
      files.asgi(scopeFor("/big.bin"), () => new Promise<never>(() => {}), send),
      /gone/,
    );
    assert.equal(bodies, 3);
  });

  it("answers lifespan events when served on its own", async () => {
    await using lifespanClient = new TestClient(new StaticFiles({ directory: tree.root }));
    await lifespanClient.start();
    assert.equal((await lifespanClient.get("/hello.txt")).status, 200);
  });

  it("serves only regular files: a FIFO or a device is a 404", async () => {
    execFileSync("mkfifo", [join(tree.root, "pipe.txt")]);
    symlinkSync("/dev/zero", join(tree.root, "zero.bin"));
    const following = new TestClient(
      new StaticFiles({ directory: tree.root, followSymlinks: true }),
    );
    assert.equal((await following.get("/pipe.txt")).status, 404);
    assert.equal((await following.get("/zero.bin")).status, 404);
  });

  it("refuses a directory that does not exist", () => {
    assert.throws(
      () => new StaticFiles({ directory: `${tree.root}/missing` }),
      (error: unknown) => error instanceof ASGIError && error.code === "ASGI_STATIC_DIRECTORY",
    );
    assert.throws(
      () => new StaticFiles({ directory: `${tree.root}/hello.txt` }),
      (error: unknown) => error instanceof ASGIError && error.code === "ASGI_STATIC_DIRECTORY",
    );
  });
});

describe("StaticFiles html mode", () => {
  let tree: Tree;
  let client: TestClient;
  before(() => {
    tree = makeTree();
    client = new TestClient(new StaticFiles({ directory: tree.root, html: true }));
  });
  after(() => tree.remove());

  it("serves index.html for a directory path with a trailing slash", async () => {
    const res = await client.get("/docs/");
    assert.equal(res.status, 200);
    assert.equal(res.text(), "<h1>docs index</h1>");
    assert.equal(res.headers["content-type"], "text/html; charset=utf-8");
  });

  it("redirects a directory path without the slash", async () => {
    const res = await client.get("/docs?x=1");
    assert.equal(res.status, 307);
    assert.equal(res.headers.location, "/docs/");
    const rooted = await client.get("/");
    assert.equal(rooted.status, 404 /* no index.html at the root: the 404 page */);
  });

  it("never redirects off-site, even under a root_path ending in /", async () => {
    const files = new StaticFiles({ directory: tree.root, html: true });
    let location: string | undefined;
    const send = async (event: SendEvent) => {
      if (event.type === "http.response.start") {
        location = event.headers?.find(([name]) => name === "location")?.[1];
      }
    };
    await files.asgi(
      scopeFor("/docs", { root_path: "/" }),
      async () => ({ type: "http.disconnect" }),
      send,
    );
    assert.equal(location, "/docs/");
  });

  it("types a linked file by the name asked for", async () => {
    symlinkSync(join(tree.root, "docs", "page.html"), join(tree.root, "page.txt"));
    const res = await client.get("/page.txt");
    assert.equal(res.text(), "<p>page</p>");
    assert.equal(res.headers["content-type"], "text/plain; charset=utf-8");
  });

  it("serves 404.html with status 404 for what is missing", async () => {
    for (const path of ["/missing.txt", "/noindex/", "/%2e%2e/secret.txt"]) {
      const res = await client.get(path);
      assert.equal(res.status, 404, path);
      assert.equal(res.text(), "<h1>custom 404</h1>", path);
      assert.equal(res.headers["content-type"], "text/html; charset=utf-8");
    }
  });

  it("never answers 304 or 206 for the 404 page", async () => {
    const page = await client.get("/missing.txt", { headers: { range: "bytes=0-1" } });
    assert.equal(page.status, 404);
    assert.equal(page.text(), "<h1>custom 404</h1>");
    const tag = page.headers.etag as string;
    const again = await client.get("/missing.txt", { headers: { "if-none-match": tag } });
    assert.equal(again.status, 404);
  });
});
