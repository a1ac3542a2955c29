/**
 * HTTP/1.1 framing and limits over raw sockets. Each bad request is sent with a canary request
 * pipelined behind it in the same write: the bad one gets its status, the connection closes,
 * and the canary never reaches the app (RFC 9112 §9.6).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import type { ASGIApp, ReceiveEvent } from "../../../src/asgi/types.js";
import { gate, RawClient, sleep, start } from "./helpers.js";

const CANARY = "GET /canary HTTP/1.1\r\nHost: x\r\n\r\n";

/** An app that records the path of every request it sees, reads the body, answers `ok`. */
function recordingApp(seen: string[], bodies: number[] = []): ASGIApp {
  return async (scope, receive, send) => {
    if (scope.type !== "http") throw new Error("no lifespan");
    seen.push(scope.path);
    let size = 0;
    for (;;) {
      const event: ReceiveEvent = await receive();
      if (event.type !== "http.request") return; // disconnected (e.g. the body went over the limit)
      size += event.body.byteLength;
      if (!event.more_body) break;
    }
    bodies.push(size);
    await send({ type: "http.response.start", status: 200 });
    await send({ type: "http.response.body", body: Buffer.from(`ok ${scope.path}`) });
  };
}

/**
 * `count` short header lines, more than Node keeps in `rawHeaders` by default (its parser
 * drops the lines past about a thousand from it), yet under the 16 KiB head limit.
 */
function manyHeaders(count: number): string {
  return "a: b\r\n".repeat(count);
}

/** Sends `bad` + the canary in one write; returns what came back once the server closed. */
async function sendWithCanary(port: number, bad: string): Promise<string> {
  const client = new RawClient(port);
  await client.write(bad + CANARY);
  const text = await client.untilClosed();
  await sleep(20); // anything still queued on the connection would have run by now
  return text;
}

function statusLines(text: string): string[] {
  return [...text.matchAll(/HTTP\/1\.[01] \d{3}/g)].map((m) => m[0]);
}

describe("framing and limits (raw sockets, pipelined canary)", () => {
  describe("headers past Node's default header-count cap still frame the body", () => {
    it("413 for a Content-Length over the limit after 2 500 header lines", async () => {
      const seen: string[] = [];
      await using handle = await start(recordingApp(seen));
      const text = await sendWithCanary(
        handle.port,
        `POST /big HTTP/1.1\r\nHost: x\r\n${manyHeaders(2500)}Content-Length: 1073741824\r\n\r\n`,
      );
      assert.deepEqual(statusLines(text), ["HTTP/1.1 413"], text);
      assert.match(text, /connection: close/i);
      assert.deepEqual(seen, []);
    });

    it("501 for a hidden Transfer-Encoding: gzip, chunked", async () => {
      const seen: string[] = [];
      await using handle = await start(recordingApp(seen));
      const text = await sendWithCanary(
        handle.port,
        `POST /gz HTTP/1.1\r\nHost: x\r\n${manyHeaders(2500)}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n`,
      );
      assert.deepEqual(statusLines(text), ["HTTP/1.1 501"], text);
      assert.deepEqual(seen, []);
    });

    it("413 for a hidden chunked body that grows past the limit", async () => {
      const seen: string[] = [];
      await using handle = await start(recordingApp(seen), { bodyLimit: 1000 });
      const chunk = "a".repeat(600);
      const body = `258\r\n${chunk}\r\n258\r\n${chunk}\r\n0\r\n\r\n`;
      const text = await sendWithCanary(
        handle.port,
        `POST /chunked HTTP/1.1\r\nHost: x\r\n${manyHeaders(2500)}Transfer-Encoding: chunked\r\n\r\n${body}`,
      );
      assert.deepEqual(statusLines(text), ["HTTP/1.1 413"], text);
      assert.deepEqual(seen, ["/chunked"], "the canary never runs");
    });

    it("hands the app the body and every header line", async () => {
      const seen: string[] = [];
      const bodies: number[] = [];
      let headerCount = 0;
      const app = recordingApp(seen, bodies);
      await using handle = await start((scope, receive, send) => {
        if (scope.type === "http") headerCount = scope.headers.length;
        return app(scope, receive, send);
      });
      const client = new RawClient(handle.port);
      await client.write(
        `POST /ok HTTP/1.1\r\nHost: x\r\n${manyHeaders(2500)}Content-Length: 5\r\nConnection: close\r\n\r\nhello`,
      );
      const text = await client.untilClosed();
      assert.deepEqual(statusLines(text), ["HTTP/1.1 200"], text);
      assert.deepEqual(bodies, [5]);
      assert.equal(headerCount, 2503);
    });
  });

  describe("nothing pipelined behind a Connection: close response reaches the app", () => {
    const cases: Array<[string, string, string]> = [
      ["a missing Host in HTTP/1.1", "GET /a HTTP/1.1\r\n\r\n", "400"],
      ["malformed percent-encoding", "GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n", "400"],
      ["an overlong UTF-8 sequence", "GET /%C0%AF HTTP/1.1\r\nHost: x\r\n\r\n", "400"],
      [
        "Transfer-Encoding: gzip, chunked",
        "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
        "501",
      ],
      [
        "a Content-Length over the limit",
        "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n",
        "413",
      ],
      [
        "HTTP/1.0 with Transfer-Encoding: chunked and keep-alive",
        "POST /a HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        "400",
      ],
      ["two Host headers", "GET /a HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", "400"],
      ["two Host headers in HTTP/1.0", "GET /a HTTP/1.0\r\nHost: x\r\nHost: x\r\n\r\n", "400"],
      ["a Host with a space", "GET /a HTTP/1.1\r\nHost: a b\r\n\r\n", "400"],
      ["a Host with a path", "GET /a HTTP/1.1\r\nHost: evil.example/x\r\n\r\n", "400"],
      ["a Host with userinfo", "GET /a HTTP/1.1\r\nHost: user@x\r\n\r\n", "400"],
      ["a Host with a bad port", "GET /a HTTP/1.1\r\nHost: x:80a\r\n\r\n", "400"],
      ["a Host with an open IP literal", "GET /a HTTP/1.1\r\nHost: [::1\r\n\r\n", "400"],
    ];
    for (const [what, bad, status] of cases) {
      it(`${status} for ${what}`, async () => {
        const seen: string[] = [];
        await using handle = await start(recordingApp(seen));
        const text = await sendWithCanary(handle.port, bad);
        assert.deepEqual(statusLines(text), [`HTTP/1.1 ${status}`], text);
        assert.match(text, /connection: close/i);
        assert.deepEqual(seen, []);
      });
    }

    it("after the app's own Connection: close", async () => {
      const seen: string[] = [];
      await using handle = await start(async (scope, receive, send) => {
        if (scope.type !== "http") throw new Error("no lifespan");
        seen.push(scope.path);
        await receive();
        await send({
          type: "http.response.start",
          status: 200,
          headers: [["connection", "close"]],
        });
        await send({ type: "http.response.body", body: Buffer.from("bye") });
      });
      const text = await sendWithCanary(handle.port, "GET /first HTTP/1.1\r\nHost: x\r\n\r\n");
      assert.deepEqual(statusLines(text), ["HTTP/1.1 200"], text);
      assert.deepEqual(seen, ["/first"]);
    });

    it("after a response sent before its request body arrived", async () => {
      const seen: string[] = [];
      await using handle = await start(async (scope, _receive, send) => {
        if (scope.type !== "http") throw new Error("no lifespan");
        seen.push(scope.path);
        await send({ type: "http.response.start", status: 403 });
        await send({ type: "http.response.body", body: Buffer.from("no") });
      });
      const client = new RawClient(handle.port);
      // The body never comes in full: the canary is part of what the server must not read.
      await client.write(
        `POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nab${CANARY}`,
      );
      const text = await client.untilClosed();
      await sleep(20);
      assert.deepEqual(statusLines(text), ["HTTP/1.1 403"], text);
      assert.match(text, /connection: close/i);
      assert.deepEqual(seen, ["/upload"]);
    });

    it("after a GET whose chunked body the app ignores", async () => {
      const seen: string[] = [];
      await using handle = await start(async (scope, _receive, send) => {
        if (scope.type !== "http") throw new Error("no lifespan");
        seen.push(scope.path);
        await send({ type: "http.response.start", status: 200 });
        await send({ type: "http.response.body", body: Buffer.from("ok") });
      });
      const text = await sendWithCanary(
        handle.port,
        "GET /get HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
      );
      // The response went out before the server saw the end of the body: it closes.
      assert.deepEqual(statusLines(text), ["HTTP/1.1 200"], text);
      assert.match(text, /connection: close/i);
      assert.deepEqual(seen, ["/get"]);
    });

    it("behind a request still in flight: the bad one waits its turn, the canary never runs", async () => {
      const seen: string[] = [];
      const release = gate();
      const app = recordingApp(seen);
      await using handle = await start(async (scope, receive, send) => {
        if (scope.type === "http" && scope.path === "/slow") await release.promise;
        await app(scope, receive, send);
      });
      const client = new RawClient(handle.port);
      await client.write(
        `GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /%zz HTTP/1.1\r\nHost: x\r\n\r\n${CANARY}`,
      );
      await sleep(20);
      release.open();
      const text = await client.untilClosed();
      await sleep(20);
      assert.deepEqual(statusLines(text), ["HTTP/1.1 200", "HTTP/1.1 400"], text);
      assert.deepEqual(seen, ["/slow"]);
    });
  });

  describe("pipelined requests on a healthy connection", () => {
    it("run one at a time, in order", async () => {
      const events: string[] = [];
      const first = gate();
      await using handle = await start(async (scope, receive, send) => {
        if (scope.type !== "http") throw new Error("no lifespan");
        events.push(`start ${scope.path}`);
        await receive();
        if (scope.path === "/1") await first.promise;
        await send({ type: "http.response.start", status: 200 });
        await send({ type: "http.response.body", body: Buffer.from(`<${scope.path}>`) });
      });
      const client = new RawClient(handle.port);
      await client.write(
        "GET /1 HTTP/1.1\r\nHost: x\r\n\r\nPOST /2 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET /3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
      );
      await sleep(20);
      assert.deepEqual(events, ["start /1"], "/2 waits while /1 is in flight");
      first.open();
      const text = await client.untilClosed();
      assert.deepEqual(
        [...text.matchAll(/<(\/\d)>/g)].map((m) => m[1]),
        ["/1", "/2", "/3"],
      );
      assert.deepEqual(events, ["start /1", "start /2", "start /3"]);
    });

    it("accepts valid Host forms", async () => {
      const seen: string[] = [];
      await using handle = await start(recordingApp(seen));
      const hosts = [
        "example.com",
        "example.com:8080",
        "127.0.0.1:1",
        "[::1]:8000",
        "[v1.x]",
        "a%41b",
        "",
      ];
      const client = new RawClient(handle.port);
      await client.write(
        hosts.map((host, i) => `GET /${i} HTTP/1.1\r\nHost: ${host}\r\n\r\n`).join("") +
          "GET /old HTTP/1.0\r\n\r\n",
      );
      const text = await client.untilClosed();
      assert.equal(statusLines(text).length, hosts.length + 1, text);
      assert.deepEqual(seen, [...hosts.map((_, i) => `/${i}`), "/old"]);
    });

    it("drops nothing when the client sends Connection: close on the last request", async () => {
      const seen: string[] = [];
      await using handle = await start(recordingApp(seen));
      const client = new RawClient(handle.port);
      await client.write(
        "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
      );
      const text = await client.untilClosed();
      assert.equal(statusLines(text).length, 2, text);
      assert.deepEqual(seen, ["/a", "/b"]);
    });
  });

  it("fuzzed pipelines: the app sees exactly the requests before the first refused one", async () => {
    const seen: string[] = [];
    await using handle = await start(recordingApp(seen));
    const refused: Array<[string, string]> = [
      ["GET /r HTTP/1.1\r\n\r\n", "400"],
      ["GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n", "400"],
      ["GET /r HTTP/1.1\r\nHost: x\r\nHost: x\r\n\r\n", "400"],
      ["GET /r HTTP/1.1\r\nHost: x y\r\n\r\n", "400"],
      ["POST /r HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", "501"],
      ["POST /r HTTP/1.1\r\nHost: x\r\nContent-Length: 9999999\r\n\r\n", "413"],
    ];
    const request = fc.oneof(
      fc.integer({ min: 0, max: refused.length - 1 }).map((i) => ({ refused: refused[i] })),
      fc.constantFrom("GET", "POST").map((method) => ({ method })),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(request, { minLength: 1, maxLength: 6 }), async (requests) => {
        seen.length = 0;
        const expectedSeen: string[] = [];
        const expectedStatus: string[] = [];
        let wire = "";
        let stopped = false;
        requests.forEach((r, i) => {
          if ("refused" in r) {
            wire += r.refused[0];
            if (!stopped) expectedStatus.push(`HTTP/1.1 ${r.refused[1]}`);
            stopped = true;
            return;
          }
          wire +=
            r.method === "GET"
              ? `GET /${i} HTTP/1.1\r\nHost: x\r\n\r\n`
              : `POST /${i} HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc`;
          if (!stopped) {
            expectedSeen.push(`/${i}`);
            expectedStatus.push("HTTP/1.1 200");
          }
        });
        wire += "GET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
        if (!stopped) {
          expectedSeen.push("/last");
          expectedStatus.push("HTTP/1.1 200");
        }
        const client = new RawClient(handle.port);
        await client.write(wire);
        const text = await client.untilClosed();
        await sleep(5);
        assert.deepEqual(statusLines(text), expectedStatus, text);
        assert.deepEqual(seen, expectedSeen);
      }),
      { numRuns: 30 },
    );
  });

  describe("bytes Node's parser refuses", () => {
    it("answer the request in flight before them, then close (no 400 in its place)", async () => {
      const seen: string[] = [];
      const release = gate();
      const app = recordingApp(seen);
      await using handle = await start(async (scope, receive, send) => {
        if (scope.type === "http" && scope.path === "/a") await release.promise;
        await app(scope, receive, send);
      });
      const client = new RawClient(handle.port);
      await client.write(`GET /a HTTP/1.1\r\nHost: x\r\n\r\nGARBAGE\r\n\r\n${CANARY}`);
      await sleep(20);
      assert.equal(client.received, "", "nothing is written ahead of the response to /a");
      release.open();
      const text = await client.untilClosed();
      assert.deepEqual(statusLines(text), ["HTTP/1.1 200"], text);
      assert.match(text, /connection: close/i);
      assert.match(text, /ok \/a$/);
      assert.deepEqual(seen, ["/a"]);
    });

    it("answer every request parsed before them, in turn; the last one closes", async () => {
      const seen: string[] = [];
      const release = gate();
      const app = recordingApp(seen);
      await using handle = await start(async (scope, receive, send) => {
        if (scope.type === "http" && scope.path === "/a") await release.promise;
        await app(scope, receive, send);
      });
      const client = new RawClient(handle.port);
      await client.write(
        `GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\nGARBAGE\r\n\r\n${CANARY}`,
      );
      await sleep(20);
      release.open();
      const text = await client.untilClosed();
      assert.deepEqual(statusLines(text), ["HTTP/1.1 200", "HTTP/1.1 200"], text);
      const second = text.indexOf("ok /a") + 5;
      assert.match(text.slice(0, second), /connection: keep-alive/i);
      assert.match(text.slice(second), /connection: close/i);
      assert.match(text, /ok \/b$/);
      assert.deepEqual(seen, ["/a", "/b"]);
    });

    it("answer 400 and close when the request's own chunked body is malformed", async () => {
      const events: ReceiveEvent[] = [];
      const done = gate();
      await using handle = await start(async (scope, receive) => {
        if (scope.type !== "http") throw new Error("no lifespan");
        for (;;) {
          const event = await receive();
          events.push(event);
          if (event.type !== "http.request" || !event.more_body) break;
        }
        done.open();
      });
      const text = await sendWithCanary(
        handle.port,
        "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nzz\r\n",
      );
      assert.deepEqual(statusLines(text), ["HTTP/1.1 400"], text);
      await done.promise;
      assert.deepEqual(events.at(-1), { type: "http.disconnect" });
    });

    it("431 for a head over maxHeaderSize on an idle connection", async () => {
      const seen: string[] = [];
      await using handle = await start(recordingApp(seen), { maxHeaderSize: 1024 });
      const text = await sendWithCanary(
        handle.port,
        `GET /a HTTP/1.1\r\nHost: x\r\nx-big: ${"a".repeat(2000)}\r\n\r\n`,
      );
      assert.deepEqual(statusLines(text), ["HTTP/1.1 431"], text);
      assert.deepEqual(seen, []);
    });
  });

  it("lets close() finish with requests still waiting on a connection", async () => {
    const seen: string[] = [];
    const release = gate();
    const app = recordingApp(seen);
    const handle = await start(async (scope, receive, send) => {
      if (scope.type === "http" && scope.path === "/slow") await release.promise;
      await app(scope, receive, send);
    });
    const client = new RawClient(handle.port);
    await client.write(`GET /slow HTTP/1.1\r\nHost: x\r\n\r\n${CANARY}`);
    await sleep(20);
    const closed = handle.close();
    release.open();
    await closed;
    const text = await client.untilClosed();
    assert.deepEqual(statusLines(text), ["HTTP/1.1 200"], text);
    assert.match(text, /connection: close/i);
    assert.deepEqual(seen, ["/slow"], "the server said close: the canary is not processed");
    assert.equal(handle.logger.errors.length, 0, JSON.stringify(handle.logger.errors));
  });
});
