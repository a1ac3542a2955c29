/**
 * The server's promises of the issue, checked over real sockets where the other server tests
 * leave a gap: keep-alive through fetch, unread uploads, backpressure through the framework's
 * streaming, slowloris heads (trickled, and during close()), graceful close with lifespan,
 * startup failure, workers through serve(), and the built CLI (dist/cli.js).
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { Agent, get } from "node:http";
import { get as httpsGet } from "node:https";
import { connect } from "node:net";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { ASGIApplication, Response, Router } from "../../src/asgi/app/index.js";
import { serve } from "../../src/asgi/server/index.js";
import type { ASGIApp, Send } from "../../src/asgi/types.js";
import { ASGIError } from "../../src/errors.js";
import { freePort, makeCertificates, serverSkip, tempDir } from "../servers/common.js";
import { gate, RawClient, recordingLogger, sleep, start } from "./server/helpers.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const distCLI = fileURLToPath(new URL("../../dist/cli.js", import.meta.url));
const distServer = new URL("../../dist/asgi/server/index.js", import.meta.url);
const built =
  existsSync(distCLI) && existsSync(distServer)
    ? false
    : "dist/ not built (npm run build; npm test builds it)";

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", () => resolve(true));
  });
}

/** Rejects if `promise` has not settled after `ms` (a guard against hangs, not a timing check). */
function guard<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
    }),
  ]);
}

const children = new Set<ChildProcess>();
after(() => {
  for (const child of children) child.kill("SIGKILL");
});

interface Spawned {
  child: ChildProcess;
  output: () => string;
  exit: Promise<number | null>;
}

function spawnNode(args: string[]): Spawned {
  const child = spawn(process.execPath, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  children.add(child);
  let output = "";
  child.stdout?.on("data", (data: Buffer) => {
    output += data.toString();
  });
  child.stderr?.on("data", (data: Buffer) => {
    output += data.toString();
  });
  const exit = once(child, "exit").then(([code]) => {
    children.delete(child);
    return code as number | null;
  });
  return { child, output: () => output, exit };
}

async function printedURL(run: Spawned): Promise<string> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const match = /(http:\/\/127\.0\.0\.1:\d+)/.exec(run.output());
    if (match?.[1]) return match[1];
    if (run.child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`no URL printed: ${run.output()}`);
    }
    await sleep(25);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("server over real sockets: connections", () => {
  it("fetch reuses one keep-alive connection for consecutive requests", async () => {
    await using handle = await start(async (scope, _receive, send) => {
      if (scope.type !== "http") throw new Error("no lifespan");
      await send({ type: "http.response.start", status: 200 });
      await send({ type: "http.response.body", body: Buffer.from(String(scope.client?.[1])) });
    });
    // fetch (undici) pools connections and may open a second while the first is released.
    const fetched = new Set<string>();
    for (let i = 0; i < 6; i++) fetched.add(await (await fetch(handle.url)).text());
    assert.ok(fetched.size < 6, `fetch used a new connection every time: ${[...fetched]}`);
    // node:http with one keep-alive socket: every request on the same connection.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const ports = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const text = await new Promise<string>((resolve, reject) =>
        get(handle.url, { agent }, (response) => {
          let body = "";
          response.setEncoding("latin1");
          response.on("data", (data: string) => {
            body += data;
          });
          response.on("end", () => resolve(body));
        }).on("error", reject),
      );
      ports.add(text);
    }
    agent.destroy();
    assert.equal(ports.size, 1, `client ports seen: ${[...ports].join(", ")}`);
  });

  it("an ignored large upload closes the connection after the response; an ignored small body keeps it", async () => {
    const app: ASGIApp = async (scope, _receive, send) => {
      if (scope.type !== "http") throw new Error("no lifespan");
      await send({ type: "http.response.start", status: 202 });
      await send({ type: "http.response.body", body: Buffer.from("ignored") });
    };
    await using handle = await start(app, { bodyLimit: Number.POSITIVE_INFINITY });
    const small = new RawClient(handle.port);
    await small.write("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
    await small.until((t) => t.endsWith("ignored"), "the first response");
    await small.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    await small.until((t) => t.split("ignored").length === 3, "the second response");
    assert.equal(small.closed, false);
    small.destroy();

    const big = new RawClient(handle.port);
    await big.write("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1073741824\r\n\r\n");
    const chunk = Buffer.alloc(1024 * 1024);
    let pushed = 0;
    while (pushed < 64 && !big.closed) {
      if (
        !(await big.write(chunk).then(
          () => true,
          () => false,
        ))
      )
        break;
      pushed++;
    }
    const text = await big.untilClosed();
    assert.match(text, /^HTTP\/1\.1 202 [\s\S]*connection: close/i);
    assert.ok(pushed < 64, `the server read and discarded the body (${pushed} MiB accepted)`);
  });

  it("requestTimeout bounds receiving the request, not a long response stream after it", async () => {
    await using handle = await start(
      async (scope, _receive, send) => {
        if (scope.type !== "http") throw new Error("no lifespan");
        await send({ type: "http.response.start", status: 200 });
        await send({ type: "http.response.body", body: Buffer.from("first "), more_body: true });
        await sleep(700); // well past requestTimeout, with Node's check running every 100 ms
        await send({ type: "http.response.body", body: Buffer.from("second") });
      },
      { headersTimeout: 200, requestTimeout: 300 },
    );
    assert.equal(await (await fetch(handle.url)).text(), "first second");
  });

  it("a slowloris head trickled a line at a time is cut off at headersTimeout (408)", async () => {
    await using handle = await start(
      async () => {
        throw new Error("the app must never run");
      },
      { headersTimeout: 300, requestTimeout: 1000, lifespan: "off" },
    );
    const client = new RawClient(handle.port);
    await client.write("GET / HTTP/1.1\r\nHost: x\r\n");
    let lines = 0;
    while (!client.closed && lines < 300) {
      await client.write(`X-Trickle-${lines}: y\r\n`).catch(() => {});
      lines++;
      await sleep(20);
    }
    assert.ok(lines < 300, "the trickling client was never cut off");
    assert.match(client.received, /^HTTP\/1\.1 408 /);
    assert.equal(handle.logger.errors.length, 0);
  });
});

describe("server over real sockets: malformed and ambiguous requests", () => {
  it("refuses request-smuggling shapes before the app runs, closing the connection", async () => {
    let called = 0;
    await using handle = await start(
      async (scope, receive, send) => {
        if (scope.type !== "http") throw new Error("no lifespan");
        called++;
        for (;;) {
          const event = await receive();
          if (event.type !== "http.request" || !event.more_body) break;
        }
        await send({ type: "http.response.start", status: 200 });
        await send({ type: "http.response.body", body: Buffer.from("served") });
      },
      { lifespan: "off" },
    );
    const cases: Record<string, [string, number]> = {
      "Content-Length and Transfer-Encoding": [
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        400,
      ],
      "two Content-Lengths": [
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde",
        400,
      ],
      "an unsupported transfer coding": [
        "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
        501,
      ],
      "chunked not last": [
        "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n",
        400,
      ],
      "obsolete line folding": ["GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n", 400],
      "bare LF line ends": ["GET / HTTP/1.1\nHost: x\n\n", 400],
      "NUL in a header value": ["GET / HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n", 400],
      "bare CR in a header value": ["GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n", 400],
      "a space in a header name": ["GET / HTTP/1.1\r\nHost: x\r\nX A: b\r\n\r\n", 400],
      "HTTP/1.1 without Host": ["GET / HTTP/1.1\r\n\r\n", 400],
    };
    for (const [label, [request, status]] of Object.entries(cases)) {
      const client = new RawClient(handle.port);
      await client.write(request);
      const text = await guard(client.untilClosed(), 5000, `closing after ${label}`);
      assert.match(text, new RegExp(`^HTTP/1\\.1 ${status} `), label);
    }
    assert.equal(called, 0, "the app saw none of them");
    // A malformed chunk size once the head was fine: 400, and the app sees a disconnect.
    const client = new RawClient(handle.port);
    await client.write(
      "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
    );
    assert.match(await client.untilClosed(), /^HTTP\/1\.1 400 /);
    const ok = await fetch(handle.url);
    assert.equal(await ok.text(), "served", "the server keeps serving");
    assert.deepEqual(
      handle.logger.errors.map((entry) => entry.message),
      [],
      "bad requests are not app errors",
    );
  });
});

describe("server over real sockets: head size", () => {
  it("a head over maxHeaderSize gets 431 without reaching the app; one under it is served", async () => {
    let called = 0;
    await using handle = await start(
      async (scope, _receive, send) => {
        if (scope.type !== "http") throw new Error("no lifespan");
        called++;
        await send({ type: "http.response.start", status: 200 });
        await send({ type: "http.response.body", body: Buffer.from("ok") });
      },
      { maxHeaderSize: 2048, lifespan: "off" },
    );
    const big = new RawClient(handle.port);
    await big.write(`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${"b".repeat(4096)}\r\n\r\n`);
    assert.match(await big.untilClosed(), /^HTTP\/1\.1 431 /);
    assert.equal(called, 0);
    const small = new RawClient(handle.port);
    await small.write(`GET / HTTP/1.1\r\nHost: x\r\nX-Small: ${"s".repeat(1024)}\r\n\r\n`);
    await small.until((t) => t.endsWith("ok"), "the response");
    assert.equal(called, 1);
    small.destroy();
  });
});

describe("server over real sockets: after the server's own 413", () => {
  it("an app that answers after http.disconnect gets ASGI_CLIENT_DISCONNECTED, not a protocol error", async () => {
    const outcome = gate<unknown>();
    await using handle = await start(
      async (scope, receive, send) => {
        if (scope.type !== "http") throw new Error("no lifespan");
        for (;;) {
          const event = await receive();
          if (event.type !== "http.request" || !event.more_body) break;
        }
        await send({ type: "http.response.start", status: 400 }).then(
          () => outcome.open("accepted"),
          (error: unknown) => outcome.open(error),
        );
      },
      { bodyLimit: 1000, lifespan: "off" },
    );
    const client = new RawClient(handle.port);
    await client.write(
      `POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n${"a".repeat(2048)}\r\n`,
    );
    assert.match(await client.untilClosed(), /^HTTP\/1\.1 413 /);
    const error = await outcome.promise;
    assert.ok(error instanceof ASGIError, String(error));
    assert.equal(error.code, "ASGI_CLIENT_DISCONNECTED");
    assert.deepEqual(handle.logger.errors, [], "not logged as an app error");
  });
});

describe("server over real sockets: fuzzed request framing", () => {
  it("answers or closes on any mix of methods, framing headers and bodies, and keeps serving", async () => {
    await using handle = await start(
      async (scope, receive, send) => {
        if (scope.type !== "http") throw new Error("no lifespan");
        let size = 0;
        for (;;) {
          const event = await receive();
          if (event.type !== "http.request") return; // the client went away
          size += event.body.byteLength;
          if (!event.more_body) break;
        }
        await send({ type: "http.response.start", status: 200 });
        await send({ type: "http.response.body", body: Buffer.from(`got ${size}`) });
      },
      { lifespan: "off", bodyLimit: 64, headersTimeout: 200, requestTimeout: 400 },
    );
    const line = fc.constantFrom(
      "Content-Length: 5",
      "Content-Length: 100",
      "Content-Length: -1",
      "Content-Length: 1e3",
      "Content-Length: 5, 5",
      "Transfer-Encoding: chunked",
      "Transfer-Encoding: CHUNKED ",
      "Transfer-Encoding: identity",
      "Expect: 100-continue",
      "Connection: close",
      "Connection: keep-alive, Upgrade",
      "Upgrade: websocket",
      "X-A: \u00e9",
      "X-B:",
      " folded",
    );
    const body = fc.constantFrom("", "hello", "5\r\nhello\r\n0\r\n\r\n", "zz\r\n", "x".repeat(100));
    const method = fc.constantFrom("GET", "POST", "HEAD", "PUT", "CONNECT", "OPTIONS", "G@T");
    // Sampled, then sent 10 connections at a time: most cases end by a timeout, and running
    // them one by one would make this slow (no shrinking, but each failure names its request).
    const requests = fc.sample(
      fc
        .tuple(method, fc.array(line, { maxLength: 4 }), body)
        .map(
          ([verb, lines, rest]) =>
            `${[`${verb} /fuzz HTTP/1.1`, "Host: x", ...lines].join("\r\n")}\r\n\r\n${rest}`,
        ),
      { numRuns: 60 },
    );
    const exchange = async (request: string) => {
      const client = new RawClient(handle.port);
      await client.write(request).catch(() => {});
      // Either a status line arrives, or the server closes the connection (a body it waits
      // for in vain is cut by requestTimeout).
      await guard(
        client.until((t) => /^HTTP\/1\.1 \d{3} /.test(t)).catch(() => client.received),
        5000,
        `an answer to ${JSON.stringify(request)}`,
      );
      assert.ok(
        client.received === "" || /^HTTP\/1\.1 \d{3} /.test(client.received),
        `${JSON.stringify(request)} → ${JSON.stringify(client.received.slice(0, 80))}`,
      );
      client.destroy();
    };
    for (let i = 0; i < requests.length; i += 10) {
      await Promise.all(requests.slice(i, i + 10).map(exchange));
    }
    assert.equal(await (await fetch(`${handle.url}/after`)).text(), "got 0");
    const appErrors = handle.logger.errors.filter((entry) => /Exception/.test(entry.message));
    assert.deepEqual(appErrors, [], "no request shape makes the app fail");
  });
});

describe("server over real sockets: backpressure", () => {
  it("a framework stream to a client that reads nothing waits on drain, with memory bounded", async () => {
    const MiB = 1024 * 1024;
    const total = 96;
    let produced = 0;
    let pendingSends = 0;
    const chunk = Buffer.alloc(MiB, 0x63);
    const app = new ASGIApplication().include(
      new Router().get("/big", () =>
        Response.stream(
          (async function* () {
            for (let i = 0; i < total; i++) {
              produced++;
              yield chunk;
            }
          })(),
        ),
      ),
    );
    // Counts send() calls that have not resolved: one stuck there means backpressure.
    const counting: ASGIApp = (scope, receive, send) =>
      app.asgi(scope, receive, ((event) => {
        pendingSends++;
        return send(event).finally(() => pendingSends--);
      }) as Send);
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on("warning", onWarning);
    const rssBefore = process.memoryUsage().rss;
    await using handle = await start(counting);
    const client = new RawClient(handle.port);
    client.socket.pause();
    await client.write("GET /big HTTP/1.1\r\nHost: x\r\n\r\n");
    // Wait until the producer is stuck in send() with the same count for a while.
    let stable = 0;
    let last = -1;
    while (stable < 10 && produced < total) {
      await sleep(20);
      stable = pendingSends === 1 && produced === last ? stable + 1 : 0;
      last = produced;
    }
    assert.ok(
      produced < total / 2,
      `send() did not wait for the reader (${produced} MiB produced)`,
    );
    const grown = process.memoryUsage().rss - rssBefore;
    assert.ok(grown < 64 * MiB, `RSS grew by ${Math.round(grown / MiB)} MiB`);
    let bytes = 0;
    client.socket.removeAllListeners("data");
    const ended = new Promise<void>((resolve) =>
      client.socket.on("data", (data: string) => {
        bytes += data.length;
        if (data.endsWith("0\r\n\r\n") && produced === total) resolve();
      }),
    );
    client.socket.resume();
    await guard(ended, 20_000, "the whole stream");
    assert.ok(bytes > total * MiB, "the whole body arrived once the client read");
    client.destroy();
    await sleep(10); // warnings are emitted on a later tick
    process.off("warning", onWarning);
    assert.deepEqual(warnings, [], "listeners piled up on the response (one per drain wait)");
  });
});

describe("server over real sockets: large whole bodies", () => {
  const MiB = 1024 * 1024;
  const body = Buffer.alloc(24 * MiB);
  for (let i = 0; i < body.length; i += 4096) body.writeUInt32BE(i, i);
  /** How the app's one send() of the whole body ended, for the current test. */
  let outcome = gate<unknown>();
  const app: ASGIApp = async (scope, _receive, send) => {
    if (scope.type !== "http") throw new Error("no lifespan");
    await send({ type: "http.response.start", status: 200 });
    await send({ type: "http.response.body", body }).then(
      () => outcome.open("sent"),
      (error: unknown) => outcome.open(error),
    );
  };

  it("arrives intact with its Content-Length", async () => {
    outcome = gate<unknown>();
    await using handle = await start(app);
    const response = await fetch(handle.url);
    assert.equal(response.headers.get("content-length"), String(body.length));
    assert.equal(response.headers.get("transfer-encoding"), null);
    const received = Buffer.from(await response.arrayBuffer());
    assert.equal(received.equals(body), true);
    assert.equal(await outcome.promise, "sent");
  });

  it("to a client that reads nothing: cut off after writeTimeout, send() rejects", async () => {
    outcome = gate<unknown>();
    await using handle = await start(app, { writeTimeout: 300 });
    const client = new RawClient(handle.port);
    client.socket.pause();
    await client.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    const error = await guard(outcome.promise, 10_000, "send() settling");
    assert.ok(error instanceof ASGIError, `send() ended with ${String(error)}`);
    assert.equal(error.code, "ASGI_CLIENT_DISCONNECTED");
    assert.match(String(handle.logger.errors[0]?.message), /read nothing/);
    client.destroy();
  });
});

describe("server over real sockets: lifespan and graceful close", () => {
  it("an ASGIApplication whose startup throws makes serve() reject with ASGI_LIFESPAN_STARTUP_FAILED, unbound", async () => {
    class Broken extends ASGIApplication {
      override async startup(): Promise<void> {
        throw new Error("cannot reach the database");
      }
    }
    const port = await freePort();
    await assert.rejects(
      serve(new Broken(), { port, logger: recordingLogger() }),
      (error: unknown) =>
        error instanceof ASGIError &&
        error.code === "ASGI_LIFESPAN_STARTUP_FAILED" &&
        /cannot reach the database/.test(error.message),
    );
    assert.equal(await refused(port), true, "nothing listens after a failed startup");
  });

  it("close(): in-flight request finishes, idle and half-sent-head sockets close, new connections refused, then shutdown", async () => {
    const log: string[] = [];
    const inside = gate();
    const release = gate();
    class App extends ASGIApplication {
      override async startup(): Promise<void> {
        log.push("startup");
      }
      override async shutdown(): Promise<void> {
        log.push("shutdown");
      }
    }
    const app = new App().include(
      new Router()
        .get("/fast", () => Response.text("fast"))
        .get("/slow", async () => {
          inside.open();
          await release.promise;
          log.push("slow done");
          return Response.text("slow");
        }),
    );
    const handle = await start(app.asgi);
    assert.deepEqual(log, ["startup"]);
    const idle = new RawClient(handle.port);
    await idle.write("GET /fast HTTP/1.1\r\nHost: x\r\n\r\n");
    await idle.until((t) => t.endsWith("fast"), "the warm-up response");
    const loris = new RawClient(handle.port);
    await loris.write("GET /fast HTTP/1.1\r\nHost: x\r\nX-Slow: "); // never finished
    const slow = fetch(`${handle.url}/slow`);
    await inside.promise;

    const closing = handle.close();
    await guard(idle.untilClosed(), 5000, "closing the idle keep-alive socket");
    await guard(loris.untilClosed(), 5000, "closing the socket with a half-sent head");
    assert.equal(loris.received, "", "the half-sent request got no response");
    assert.equal(await refused(handle.port), true, "no new connections while closing");
    assert.ok(!log.includes("shutdown"), "shutdown waits for the in-flight request");
    release.open();
    const response = await slow;
    assert.equal(response.headers.get("connection"), "close");
    assert.equal(await response.text(), "slow");
    await guard(closing, 5000, "close()");
    assert.deepEqual(log, ["startup", "slow done", "shutdown"]);
  });

  it("close() with only a slowloris connection open does not wait for it", async () => {
    const handle = await start(async (scope, _receive, send) => {
      if (scope.type !== "http") throw new Error("no lifespan");
      await send({ type: "http.response.start", status: 200 });
      await send({ type: "http.response.body", body: Buffer.from("ok") });
    });
    const loris = new RawClient(handle.port);
    await loris.write("GET / HTTP/1.1\r\nHost: x\r\n");
    await sleep(20); // let the server see the bytes
    await guard(handle.close(), 5000, "close()");
    await guard(loris.untilClosed(), 5000, "closing the slowloris socket");
  });
});

describe("server over real sockets: close() under TLS", {
  skip: serverSkip("openssl", "openssl"),
}, () => {
  it("cuts a connection that never starts its TLS handshake, and lets an HTTPS request in flight finish", async () => {
    const dir = await tempDir("asgi-tls-close");
    try {
      const certificates = await makeCertificates(dir.path);
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
      const silent = new RawClient(handle.port); // TCP only: no ClientHello ever
      await silent.write("");
      const answer = new Promise<string>((resolve, reject) => {
        httpsGet(
          `${handle.url.replace("http:", "https:")}/slow`,
          { ca: certificates.ca },
          (response) => {
            let body = "";
            response.setEncoding("utf8");
            response.on("data", (data: string) => {
              body += data;
            });
            response.on("end", () => resolve(body));
          },
        ).on("error", reject);
      });
      await inside.promise;
      const closing = handle.close();
      await guard(silent.untilClosed(), 5000, "closing the socket without a handshake");
      release.open();
      assert.equal(await answer, "slow https");
      await guard(closing, 5000, "close()");
    } finally {
      await dir.remove();
    }
  });
});

describe("server over real sockets: workers and the CLI", () => {
  it("serve({ workers: 2 }) forks two workers that both answer on one port; close() lets a request in flight finish", {
    skip: built,
  }, async () => {
    const dir = await tempDir("asgi-workers");
    try {
      const script = await dir.file(
        "workers.mjs",
        `import cluster from "node:cluster";
import { serve } from ${JSON.stringify(distServer.href)};
const handle = await serve(
  async (scope, _receive, send) => {
    if (scope.type !== "http") throw new Error("no lifespan");
    let text = "worker";
    if (scope.path === "/slow") {
      console.log("slow request started");
      await new Promise((resolve) => setTimeout(resolve, 300));
      text = "slow request finished";
    }
    await send({ type: "http.response.start", status: 200, headers: [["x-pid", String(process.pid)]] });
    await send({ type: "http.response.body", body: Buffer.from(text) });
  },
  { port: 0, workers: 2 },
);
if (cluster.isPrimary) {
  console.log("primary " + process.pid + " on " + handle.url + " with " + handle.workers);
  process.once("SIGTERM", () => void handle.close().then(() => process.exit(0)));
}
`,
      );
      const run = spawnNode([script]);
      const url = await printedURL(run);
      assert.match(run.output(), /with 2/);
      const pids = new Set<number>();
      for (let i = 0; i < 12 && pids.size < 2; i++) {
        const response = await fetch(url, { headers: { connection: "close" } });
        assert.equal(await response.text(), "worker");
        pids.add(Number(response.headers.get("x-pid")));
      }
      assert.equal(pids.size, 2, "both workers answered");
      assert.ok(!pids.has(run.child.pid ?? -1), "the primary does not serve");
      // Closing the primary is graceful in the workers: a request in flight still finishes.
      const slow = fetch(`${url}/slow`).then((response) => response.text());
      await guard(
        (async () => {
          while (!run.output().includes("slow request started")) await sleep(10);
        })(),
        10_000,
        "the slow request reaching a worker",
      );
      run.child.kill("SIGTERM");
      assert.equal(await slow, "slow request finished");
      assert.equal(await guard(run.exit, 10_000, "the primary's exit"), 0, run.output());
      for (const pid of pids) assert.equal(alive(pid), false, `worker ${pid} still runs`);
    } finally {
      await dir.remove();
    }
  });

  it("the built CLI (dist/cli.js): --host/--port, a timeout option, a usage error, --workers 2, SIGTERM", {
    skip: built,
  }, async () => {
    const dir = await tempDir("asgi-cli");
    try {
      await dir.file(
        "app.js",
        `export default async function app(scope, receive, send) {
  if (scope.type === "lifespan") {
    for (;;) {
      const event = await receive();
      if (event.type === "lifespan.startup") {
        scope.state.greeting = "hello from the CLI";
        await send({ type: "lifespan.startup.complete" });
      } else {
        await send({ type: "lifespan.shutdown.complete" });
        return;
      }
    }
  }
  await send({ type: "http.response.start", status: 200, headers: [["x-pid", String(process.pid)]] });
  await send({ type: "http.response.body", body: Buffer.from(scope.state.greeting + " " + scope.path) });
}
`,
      );
      await dir.file("package.json", '{"type":"module"}');
      const port = await freePort();
      const run = spawnNode([
        distCLI,
        "serve",
        `${dir.path}/app.js`,
        "--host",
        "127.0.0.1",
        "--port",
        String(port),
        "--keep-alive-timeout",
        "200",
      ]);
      const url = await printedURL(run);
      assert.equal(url, `http://127.0.0.1:${port}`);
      assert.equal(await (await fetch(`${url}/x`)).text(), "hello from the CLI /x");
      // --keep-alive-timeout reached the server: an idle connection goes (the default is 5 s).
      const idle = new RawClient(port);
      await idle.write("GET /idle HTTP/1.1\r\nHost: x\r\n\r\n");
      await idle.until((t) => t.endsWith("/idle"), "the response");
      await guard(idle.untilClosed(), 3000, "closing the idle connection");
      run.child.kill("SIGTERM");
      assert.equal(await guard(run.exit, 10_000, "the CLI's exit"), 0, run.output());
      assert.equal(await refused(port), true);

      // An option out of range is a usage error (exit 1), before anything binds.
      const bad = spawnNode([
        distCLI,
        "serve",
        `${dir.path}/app.js`,
        "--headers-timeout",
        "5000",
        "--request-timeout",
        "100",
      ]);
      assert.equal(await guard(bad.exit, 10_000, "the CLI's exit"), 1);
      assert.match(bad.output(), /headersTimeout \(5000\) must not exceed requestTimeout/);

      // --workers 2: two processes answer on the one port; SIGTERM takes them all down.
      const port2 = await freePort();
      const workers = spawnNode([
        distCLI,
        "serve",
        `${dir.path}/app.js`,
        "--port",
        String(port2),
        "--workers",
        "2",
      ]);
      const url2 = await printedURL(workers);
      assert.match(workers.output(), /2 workers/);
      const pids = new Set<number>();
      for (let i = 0; i < 12 && pids.size < 2; i++) {
        const response = await fetch(`${url2}/w`, { headers: { connection: "close" } });
        assert.equal(await response.text(), "hello from the CLI /w");
        pids.add(Number(response.headers.get("x-pid")));
      }
      assert.equal(pids.size, 2, "both workers answered");
      workers.child.kill("SIGTERM");
      assert.equal(await guard(workers.exit, 10_000, "the CLI's exit"), 0, workers.output());
      for (const pid of pids) assert.equal(alive(pid), false, `worker ${pid} still runs`);
    } finally {
      await dir.remove();
    }
  });
});
