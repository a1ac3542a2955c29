import assert from "node:assert/strict";
import { connect } from "node:net";
import { describe, it } from "node:test";
import { serve } from "../../../src/asgi/server/index.js";
import type { ASGIApp } from "../../../src/asgi/types.js";
import { ASGIError } from "../../../src/errors.js";
import { gate, RawClient, recordingLogger, start, textApp } from "./helpers.js";

/** An app with lifespan support that records what happens, in order. */
function lifespanApp(log: string[], fail?: "startup"): ASGIApp {
  return async (scope, receive, send) => {
    if (scope.type === "lifespan") {
      for (;;) {
        const event = await receive();
        log.push(event.type);
        if (event.type === "lifespan.startup") {
          if (fail === "startup") {
            await send({ type: "lifespan.startup.failed", message: "no database" });
            return;
          }
          scope.state!.db = { name: "db" };
          scope.state!.counter = 0;
          await send({ type: "lifespan.startup.complete" });
        } else if (event.type === "lifespan.shutdown") {
          await send({ type: "lifespan.shutdown.complete" });
          return;
        }
      }
    }
    log.push(`request ${scope.path}`);
    const state = scope.state!;
    state.counter = (state.counter as number) + 1; // per-request copy: must not leak back
    await send({ type: "http.response.start", status: 200 });
    await send({
      type: "http.response.body",
      body: Buffer.from(`${(state.db as { name: string }).name} ${state.counter}`),
    });
  };
}

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

describe("lifespan", () => {
  it("runs startup before serving, copies state into each request, and shuts down on close", async () => {
    const log: string[] = [];
    const handle = await start(lifespanApp(log));
    assert.deepEqual(log, ["lifespan.startup"]);
    assert.equal(await (await fetch(`${handle.url}/a`)).text(), "db 1");
    assert.equal(
      await (await fetch(`${handle.url}/b`)).text(),
      "db 1",
      "state is a copy per request",
    );
    await handle.close();
    assert.deepEqual(log, ["lifespan.startup", "request /a", "request /b", "lifespan.shutdown"]);
  });

  it("makes serve() reject when startup fails, without listening", async () => {
    const log: string[] = [];
    await assert.rejects(
      serve(lifespanApp(log, "startup"), { port: 0, logger: recordingLogger() }),
      (error: unknown) =>
        error instanceof ASGIError &&
        error.code === "ASGI_LIFESPAN_STARTUP_FAILED" &&
        /no database/.test(error.message),
    );
  });

  it("serves an app that does not support lifespan (auto) but refuses it with lifespan: on", async () => {
    const noLifespan = textApp("plain");
    await using handle = await start(noLifespan);
    assert.equal(await (await fetch(handle.url)).text(), "plain");
    await assert.rejects(
      serve(noLifespan, { port: 0, lifespan: "on", logger: recordingLogger() }),
      {
        code: "ASGI_LIFESPAN_STARTUP_FAILED",
      },
    );
  });

  it("never calls the app with a lifespan scope when lifespan is off", async () => {
    const types: string[] = [];
    await using handle = await start(
      async (scope, receive, send) => {
        types.push(scope.type);
        await receive();
        await send({ type: "http.response.start", status: 200 });
        await send({ type: "http.response.body" });
      },
      { lifespan: "off" },
    );
    await fetch(handle.url);
    assert.deepEqual(types, ["http"]);
  });
});

describe("graceful close", () => {
  it("stops accepting, finishes the in-flight request, closes idle sockets, then shuts down", async () => {
    const log: string[] = [];
    const release = gate();
    const inside = gate();
    const inner = lifespanApp(log);
    const handle = await start(async (scope, receive, send) => {
      if (scope.type === "http" && scope.path === "/slow") {
        inside.open();
        await release.promise;
      }
      await inner(scope, receive, send);
    });
    const idle = new RawClient(handle.port);
    await idle.write("GET /warm HTTP/1.1\r\nHost: x\r\n\r\n");
    await idle.until((t) => t.endsWith("db 1"), "the warm-up response");

    const busy = new RawClient(handle.port);
    await busy.write("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
    await inside.promise;

    const closed = handle.close();
    await idle.untilClosed(); // the idle keep-alive socket goes at once
    assert.equal(await refused(handle.port), true, "no new connections");
    assert.ok(!log.includes("lifespan.shutdown"), "shutdown waits for the in-flight request");
    release.open();
    const text = await busy.untilClosed();
    assert.match(text, /^HTTP\/1\.1 200 /);
    assert.match(text, /connection: close/i);
    assert.ok(text.endsWith("db 1"));
    await closed;
    assert.equal(log.at(-1), "lifespan.shutdown");
    assert.equal(handle.close(), handle.close(), "close() is idempotent");
  });

  it("cuts in-flight requests off after shutdownTimeout", async () => {
    const inside = gate();
    const handle = await start(
      async (scope) => {
        if (scope.type !== "http") throw new Error("no lifespan");
        inside.open();
        await new Promise(() => {}); // never answers
      },
      { shutdownTimeout: 200 },
    );
    const client = new RawClient(handle.port);
    await client.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    await inside.promise;
    const closing = handle.close();
    await client.untilClosed();
    await Promise.race([
      closing,
      new Promise((_, reject) => setTimeout(() => reject(new Error("close() hung")), 5000).unref()),
    ]);
  });
});
