/**
 * The server's use of Node's private fields (src/asgi/server/node-internals.ts): this Node has
 * each of them, and each fallback, forced, keeps the behaviour over real sockets: keep-alive,
 * pipelining order, a parser error behind a request in flight, close() with idle, busy and
 * half-sent connections, with and without TLS.
 */
import assert from "node:assert/strict";
import { request as httpsRequest } from "node:https";
import { after, before, describe, it } from "node:test";
import {
  forceNodeFallbacks,
  type NodeInternalsSupport,
  nodeInternalsSupport,
} from "../../../src/asgi/server/node-internals.js";
import type { ASGIApp, ReceiveEvent } from "../../../src/asgi/types.js";
import {
  makeCertificates,
  serverSkip,
  type TempDir,
  type TestCertificates,
  tempDir,
} from "../../servers/common.js";
import { gate, RawClient, sleep, start } from "./helpers.js";

const ALL_FALLBACKS: Partial<NodeInternalsSupport> = {
  responseLink: false,
  parserLink: false,
  closingMark: false,
  tlsParent: false,
};

const MODES: Array<[string, Partial<NodeInternalsSupport>]> = [
  ["Node's private fields", {}],
  ["the socket._httpMessage fallback", { responseLink: false }],
  ["the parser.incoming fallback", { parserLink: false }],
  ["the res._last fallback", { closingMark: false }],
  ["the tlsSocket._parent fallback", { tlsParent: false }],
  ["every fallback", ALL_FALLBACKS],
];

function statusLines(text: string): string[] {
  return [...text.matchAll(/HTTP\/1\.[01] \d{3}/g)].map((m) => m[0]);
}

/**
 * Records each request's path and client port, reads the body whole, answers `ok <path> <n>`
 * (n: body bytes). `/close` answers with the app's own `Connection: close`; a path in `gated`
 * waits for its gate first.
 */
function recordingApp(seen: string[], gated: Map<string, Promise<void>> = new Map()): ASGIApp {
  return async (scope, receive, send) => {
    if (scope.type !== "http") throw new Error("no lifespan");
    seen.push(`${scope.path} ${scope.client?.[1]}`);
    await gated.get(scope.path);
    let size = 0;
    for (;;) {
      const event: ReceiveEvent = await receive();
      if (event.type !== "http.request") return;
      size += event.body.byteLength;
      if (!event.more_body) break;
    }
    const headers: Array<[string, string]> =
      scope.path === "/close" ? [["connection", "close"]] : [];
    await send({ type: "http.response.start", status: 200, headers });
    await send({ type: "http.response.body", body: Buffer.from(`ok ${scope.path} ${size}`) });
  };
}

/** Rejects when `promise` has not settled after `ms`. */
function guard<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Starts a server, answers one request (the fields are checked on the first), stops it. */
async function oneRequest(): Promise<void> {
  await using handle = await start(recordingApp([]));
  const client = new RawClient(handle.port);
  await client.write("GET /probe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  await client.untilClosed();
}

it("this Node has every private field the server relies on (a Node upgrade must keep them)", async () => {
  forceNodeFallbacks({});
  assert.deepEqual(nodeInternalsSupport(), {
    responseLink: null,
    parserLink: null,
    closingMark: null,
    tlsParent: null,
  });
  await oneRequest();
  assert.deepEqual(nodeInternalsSupport(), {
    responseLink: true,
    parserLink: true,
    closingMark: true,
    tlsParent: null, // checked on the first TLS connection, below
  });
});

it("a forced fallback is reported, and cleared again", async () => {
  forceNodeFallbacks({ responseLink: false, closingMark: false });
  await oneRequest();
  assert.deepEqual(nodeInternalsSupport(), {
    responseLink: false,
    parserLink: true,
    closingMark: false,
    tlsParent: null,
  });
  forceNodeFallbacks({});
  await oneRequest();
  assert.equal(nodeInternalsSupport().responseLink, true);
});

for (const [name, fallbacks] of MODES) {
  describe(`server with ${name}`, () => {
    before(() => forceNodeFallbacks(fallbacks));
    after(() => forceNodeFallbacks({}));

    it("keeps a connection alive across requests, bodies included", async () => {
      const seen: string[] = [];
      await using handle = await start(recordingApp(seen));
      const client = new RawClient(handle.port);
      await client.write("GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
      await client.until((t) => t.endsWith("ok /a 0"), "the first response");
      await client.write("POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
      await client.until((t) => t.endsWith("ok /b 5"), "the second response");
      await client.write("GET /c HTTP/1.1\r\nHost: x\r\n\r\n");
      const text = await client.until((t) => t.endsWith("ok /c 0"), "the third response");
      assert.equal(client.closed, false);
      assert.equal((text.match(/connection: keep-alive/gi) ?? []).length, 3, text);
      const ports = new Set(seen.map((line) => line.split(" ")[1]));
      assert.equal(ports.size, 1, `one connection: ${seen.join(", ")}`);
      client.destroy();
    });

    it("answers pipelined requests in order, and processes nothing after a Connection: close", async () => {
      const seen: string[] = [];
      const slow = gate();
      await using handle = await start(recordingApp(seen, new Map([["/a", slow.promise]])));
      const client = new RawClient(handle.port);
      await client.write(
        "GET /a HTTP/1.1\r\nHost: x\r\n\r\n" +
          "POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nxyz" +
          "GET /close HTTP/1.1\r\nHost: x\r\n\r\n" +
          "GET /canary HTTP/1.1\r\nHost: x\r\n\r\n",
      );
      await sleep(20);
      assert.equal(client.received, "", "nothing is written before the first response");
      slow.open();
      const text = await guard(client.untilClosed(), 5000, "the connection to close");
      await sleep(20);
      assert.deepEqual(statusLines(text), ["HTTP/1.1 200", "HTTP/1.1 200", "HTTP/1.1 200"]);
      const order = [...text.matchAll(/ok (\S+) (\d+)/g)].map((m) => `${m[1]} ${m[2]}`);
      assert.deepEqual(order, ["/a 0", "/b 3", "/close 0"]);
      assert.deepEqual(
        seen.map((line) => line.split(" ")[0]),
        ["/a", "/b", "/close"],
        "the canary behind the close never reaches the app",
      );
    });

    it("answers the request in flight before bytes the parser refuses, then closes", async () => {
      const seen: string[] = [];
      const slow = gate();
      await using handle = await start(recordingApp(seen, new Map([["/a", slow.promise]])));
      const client = new RawClient(handle.port);
      await client.write("GET /a HTTP/1.1\r\nHost: x\r\n\r\nGARBAGE\r\n\r\n");
      await sleep(20);
      assert.equal(client.received, "", "no 400 is written ahead of the response to /a");
      slow.open();
      const text = await guard(client.untilClosed(), 5000, "the connection to close");
      assert.deepEqual(statusLines(text), ["HTTP/1.1 200"], text);
      assert.match(text, /connection: close/i);
      assert.match(text, /ok \/a 0$/);
    });

    it("answers 400 and closes when the request's own body is malformed", async () => {
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
      const client = new RawClient(handle.port);
      await client.write(
        "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nzz\r\n",
      );
      const text = await guard(client.untilClosed(), 5000, "the connection to close");
      assert.deepEqual(statusLines(text), ["HTTP/1.1 400"], text);
      await done.promise;
      assert.deepEqual(events.at(-1), { type: "http.disconnect" });
    });

    it("close(): cuts idle and half-sent connections at once, lets a busy one finish", async () => {
      const seen: string[] = [];
      const slow = gate();
      const handle = await start(recordingApp(seen, new Map([["/slow", slow.promise]])));
      const idle = new RawClient(handle.port);
      await idle.write("GET /warm HTTP/1.1\r\nHost: x\r\n\r\n");
      await idle.until((t) => t.endsWith("ok /warm 0"), "the warm-up response");
      const loris = new RawClient(handle.port);
      await loris.write("GET /a HTTP/1.1\r\nHost: x\r\nX-Slow: ");
      const busy = new RawClient(handle.port);
      await busy.write("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
      // A keep-alive connection that already had its response, with another request behind.
      const second = new RawClient(handle.port);
      await second.write("GET /one HTTP/1.1\r\nHost: x\r\n\r\n");
      await second.until((t) => t.endsWith("ok /one 0"), "the first response on it");
      await sleep(20);
      const closing = handle.close();
      await guard(idle.untilClosed(), 5000, "closing the idle connection");
      await guard(loris.untilClosed(), 5000, "closing the half-sent head");
      await guard(second.untilClosed(), 5000, "closing the idle second connection");
      assert.equal(loris.received, "");
      assert.equal(busy.closed, false, "the busy connection is not cut");
      slow.open();
      const text = await guard(busy.untilClosed(), 5000, "the busy response");
      assert.match(text, /^HTTP\/1\.1 200/);
      assert.match(text, /connection: close/i);
      assert.match(text, /ok \/slow 0$/);
      await guard(closing, 5000, "close()");
    });

    it("close(): a response still being written is not cut", async () => {
      const started = gate();
      const finish = gate();
      const handle = await start(async (scope, _receive, send) => {
        if (scope.type !== "http") throw new Error("no lifespan");
        await send({ type: "http.response.start", status: 200 });
        await send({ type: "http.response.body", body: Buffer.from("part 1;"), more_body: true });
        started.open();
        await finish.promise;
        await send({ type: "http.response.body", body: Buffer.from("part 2") });
      });
      const client = new RawClient(handle.port);
      await client.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
      await started.promise;
      await client.until((t) => t.includes("part 1;"), "the first part");
      const closing = handle.close();
      await sleep(30);
      assert.equal(client.closed, false, "the streaming response is not cut");
      finish.open();
      const text = await guard(client.untilClosed(), 5000, "the end of the stream");
      assert.match(text, /part 1;.*part 2/s);
      await guard(closing, 5000, "close()");
    });
  });
}

describe("close() under TLS, with and without the tlsSocket._parent fallback", {
  skip: serverSkip("openssl", "openssl"),
}, () => {
  let dir: TempDir;
  let certificates: TestCertificates;
  before(async () => {
    dir = await tempDir("asgi-node-internals");
    certificates = await makeCertificates(dir.path);
  });
  after(async () => {
    forceNodeFallbacks({});
    await dir?.remove();
  });

  for (const [name, fallbacks] of [
    ["Node's private fields", {}],
    ["every fallback", ALL_FALLBACKS],
  ] as const) {
    it(`with ${name}: cuts a connection with no handshake, lets an HTTPS request finish`, async () => {
      forceNodeFallbacks(fallbacks);
      const inside = gate();
      const release = gate();
      const handle = await start(
        async (scope, _receive, send) => {
          if (scope.type !== "http") throw new Error("no lifespan");
          inside.open();
          await release.promise;
          await send({ type: "http.response.start", status: 200 });
          await send({ type: "http.response.body", body: Buffer.from(`slow ${scope.scheme}`) });
        },
        { tls: { key: certificates.key, cert: certificates.cert } },
      );
      const silent = new RawClient(handle.port);
      await silent.write("");
      const answer = new Promise<string>((resolve, reject) => {
        httpsRequest(`${handle.url}/slow`, { ca: certificates.ca }, (response) => {
          let body = "";
          response.setEncoding("utf8");
          response.on("data", (data: string) => {
            body += data;
          });
          response.on("end", () => resolve(body));
        })
          .on("error", reject)
          .end();
      });
      await inside.promise;
      const closing = handle.close();
      await guard(silent.untilClosed(), 5000, "closing the socket without a handshake");
      release.open();
      assert.equal(await answer, "slow https");
      await guard(closing, 5000, "close()");
      assert.equal(nodeInternalsSupport().tlsParent, name === "every fallback" ? false : true);
    });
  }
});
