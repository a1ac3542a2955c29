/**
 * The WebSocket server's write-side limits and permessage-deflate, over real sockets: a client
 * that never reads pauses an app that awaits its sends (backpressure) and is dropped after
 * `writeTimeout`; an app that does not await meets `websocketMaxBufferedBytes`; both tell the
 * app `websocket.disconnect` 1006 and reject the send. permessage-deflate is opt-in
 * (`websocketPerMessageDeflate`) and the message size limit applies to the inflated size.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { connect, type Socket } from "node:net";
import { after, describe, it } from "node:test";
import WebSocket from "ws";
import { serve } from "../../../src/asgi/server/index.js";
import {
  resolveOptions,
  type ServeOptions,
  type ServerHandle,
} from "../../../src/asgi/server/options.js";
import type { ASGIApp, ReceiveEvent } from "../../../src/asgi/types.js";

const servers: ServerHandle[] = [];
const quiet = { error: () => {}, info: () => {} };

async function start(app: ASGIApp, options: ServeOptions = {}): Promise<ServerHandle> {
  const server = await serve(app, { port: 0, lifespan: "off", logger: quiet, ...options });
  servers.push(server);
  return server;
}

/**
 * A client that completes the handshake and then reads nothing: its socket is paused, so the
 * kernel's buffers fill and the server's writes stop draining.
 */
async function nonReadingClient(port: number): Promise<{ socket: Socket; closed: Promise<void> }> {
  const socket = connect(port, "127.0.0.1");
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  socket.on("error", () => {});
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  socket.write(
    "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  await new Promise<void>((resolve, reject) => {
    let head = "";
    const onData = (chunk: Buffer) => {
      head += chunk.toString("latin1");
      if (!head.includes("\r\n\r\n")) return;
      socket.off("data", onData);
      socket.pause();
      if (head.startsWith("HTTP/1.1 101")) resolve();
      else reject(new Error(`handshake refused: ${head}`));
    };
    socket.on("data", onData);
  });
  return { socket, closed };
}

interface Outcome {
  sent: number;
  sendError?: { code?: string; message: string };
  disconnect?: ReceiveEvent;
}

/** What a flooder reports: once its sends have ended, and once it saw the disconnect. */
interface Flood {
  app: ASGIApp;
  sendsEnded: Promise<Outcome>;
  finished: Promise<Outcome>;
}

/**
 * Accepts, then sends 64 KiB messages until a send rejects or `cap` have gone; with
 * `awaitSends` false it fires them all in one turn without waiting. Then reads until the
 * disconnect.
 */
function flooder(cap: number, awaitSends: boolean): Flood {
  let sendsEnded: (outcome: Outcome) => void = () => {};
  let finished: (outcome: Outcome) => void = () => {};
  const flood = {
    sendsEnded: new Promise<Outcome>((resolve) => {
      sendsEnded = resolve;
    }),
    finished: new Promise<Outcome>((resolve) => {
      finished = resolve;
    }),
  };
  const app: ASGIApp = async (scope, receive, send) => {
    if (scope.type !== "websocket") return;
    await receive();
    await send({ type: "websocket.accept" });
    const outcome: Outcome = { sent: 0 };
    const bytes = new Uint8Array(64 * 1024);
    const record = (error: unknown) => {
      outcome.sendError ??= error as { code?: string; message: string };
    };
    if (awaitSends) {
      try {
        while (outcome.sent < cap) {
          await send({ type: "websocket.send", bytes });
          outcome.sent++;
        }
      } catch (error) {
        record(error);
      }
    } else {
      const sends: Array<Promise<void>> = [];
      for (let i = 0; i < cap; i++) {
        sends.push(
          send({ type: "websocket.send", bytes }).then(() => {
            outcome.sent++;
          }, record),
        );
      }
      await Promise.all(sends);
    }
    sendsEnded(outcome);
    for (;;) {
      const event = await receive();
      if (event.type === "websocket.disconnect") {
        outcome.disconnect = event;
        break;
      }
    }
    finished(outcome);
  };
  return { app, ...flood };
}

after(async () => {
  await Promise.all(servers.map((server) => server.close()));
});

describe("serve(): WebSocket write limits", () => {
  it("websocketMaxBufferedBytes defaults to 16 MiB, takes Infinity and refuses a negative", () => {
    assert.equal(resolveOptions({}, 1).websocketMaxBufferedBytes, 16 * 1024 * 1024);
    assert.equal(
      resolveOptions({ websocketMaxBufferedBytes: Infinity }, 1).websocketMaxBufferedBytes,
      Infinity,
    );
    assert.throws(() => resolveOptions({ websocketMaxBufferedBytes: -1 }, 1), RangeError);
    assert.equal(resolveOptions({}, 1).websocketPerMessageDeflate, false);
  });

  it("pauses an app that awaits its sends to a client that never reads, then drops it after writeTimeout", async () => {
    // 2 000 × 64 KiB = 125 MiB: far more than the kernel's socket buffers hold, so an app
    // that was not paused would get there.
    const cap = 2000;
    const flood = flooder(cap, true);
    const server = await start(flood.app, { writeTimeout: 300 });
    const client = await nonReadingClient(server.port);
    const sent = (await flood.sendsEnded).sent;
    assert.ok(sent < cap, `the app was never paused (${sent} sends went through)`);
    const outcome = await flood.finished;
    assert.ok(outcome.sent > 0);
    assert.equal(outcome.sendError?.code, "ASGI_WEBSOCKET_CLOSED");
    assert.match(outcome.sendError?.message ?? "", /write timeout/);
    assert.deepEqual(outcome.disconnect, {
      type: "websocket.disconnect",
      code: 1006,
      reason: "write timeout",
    });
    // The server dropped the TCP connection: reading what the kernel held reaches the end.
    client.socket.resume();
    await client.closed;
  });

  it("drops a connection whose unsent bytes pass websocketMaxBufferedBytes (an app that does not await)", async () => {
    const cap = 200; // 12.5 MiB fired in one turn, against a 1 MiB limit
    const flood = flooder(cap, false);
    const server = await start(flood.app, {
      websocketMaxBufferedBytes: 1024 * 1024,
      writeTimeout: 600_000,
    });
    const client = await nonReadingClient(server.port);
    assert.ok((await flood.sendsEnded).sent < cap, "every send went through");
    const outcome = await flood.finished;
    assert.equal(outcome.sendError?.code, "ASGI_WEBSOCKET_CLOSED");
    assert.deepEqual(outcome.disconnect, {
      type: "websocket.disconnect",
      code: 1006,
      reason: "write buffer limit exceeded",
    });
    client.socket.resume();
    await client.closed;
  });

  it("a client that reads gets every message an awaiting app sends, past the high-water mark", async () => {
    const count = 100;
    const server = await start(async (scope, receive, send) => {
      if (scope.type !== "websocket") return;
      await receive();
      await send({ type: "websocket.accept" });
      for (let i = 0; i < count; i++) {
        await send({ type: "websocket.send", bytes: new Uint8Array(64 * 1024).fill(i) });
      }
      await send({ type: "websocket.close", code: 1000 });
    });
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws`);
    const received: number[] = [];
    ws.on("message", (data: Buffer) => {
      assert.equal(data.length, 64 * 1024);
      received.push(data[0] as number);
    });
    const code = await new Promise<number>((resolve) => ws.once("close", resolve));
    assert.equal(code, 1000);
    assert.deepEqual(
      received,
      Array.from({ length: count }, (_, i) => i),
    );
  });
});

describe("serve(): permessage-deflate", () => {
  const echo: ASGIApp = async (scope, receive, send) => {
    if (scope.type !== "websocket") return;
    await receive();
    await send({ type: "websocket.accept" });
    for (;;) {
      const event = await receive();
      if (event.type !== "websocket.receive") return;
      await send(
        event.text !== undefined
          ? { type: "websocket.send", text: event.text }
          : { type: "websocket.send", bytes: event.bytes },
      );
    }
  };

  function open(url: string): Promise<WebSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { perMessageDeflate: true });
      ws.once("open", () => resolve(ws));
      ws.once("error", reject);
    });
  }

  function reply(ws: WebSocket, message: string | Buffer): Promise<Buffer> {
    return new Promise((resolve) => {
      ws.once("message", (data: Buffer) => resolve(data));
      ws.send(message);
    });
  }

  it("is off by default: a client's offer is declined and messages still flow", async () => {
    const server = await start(echo);
    const ws = await open(`ws://127.0.0.1:${server.port}/ws`);
    assert.equal(ws.extensions, "");
    assert.equal((await reply(ws, "plain")).toString(), "plain");
    ws.close();
  });

  it("websocketPerMessageDeflate negotiates it; compressed messages echo intact both ways", async () => {
    const server = await start(echo, { websocketPerMessageDeflate: true });
    const ws = await open(`ws://127.0.0.1:${server.port}/ws`);
    assert.match(ws.extensions, /^permessage-deflate/);
    const text = "compress me ".repeat(20_000);
    assert.equal((await reply(ws, text)).toString(), text);
    const bytes = randomBytes(50_000);
    assert.ok((await reply(ws, bytes)).equals(bytes));
    // The wire carried far less than the text: the socket's byte counters say so.
    const socket = (ws as unknown as { _socket: Socket })._socket;
    assert.ok(socket.bytesWritten < text.length, `${socket.bytesWritten} bytes written`);
    ws.close();
  });

  it("the message size limit applies to the inflated size (a small compressed bomb closes 1009)", async () => {
    const events: ReceiveEvent[] = [];
    const server = await start(
      async (scope, receive, send) => {
        if (scope.type !== "websocket") return;
        await receive();
        await send({ type: "websocket.accept" });
        for (;;) {
          const event = await receive();
          events.push(event);
          if (event.type === "websocket.disconnect") return;
        }
      },
      { websocketPerMessageDeflate: true, websocketMaxMessageSize: 64 * 1024 },
    );
    const ws = await open(`ws://127.0.0.1:${server.port}/ws`);
    const closed = new Promise<number>((resolve) => ws.once("close", resolve));
    ws.send(Buffer.alloc(10 * 1024 * 1024)); // 10 MiB of zeros: about 10 KiB deflated
    assert.equal(await closed, 1009);
    const socket = (ws as unknown as { _socket: Socket })._socket;
    assert.ok(socket.bytesWritten < 64 * 1024, "the bomb was small on the wire");
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(events, [{ type: "websocket.disconnect", code: 1009 }]);
  });
});
