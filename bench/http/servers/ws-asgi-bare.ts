// mtaio's server with a bare ASGI callable (no framework) echoing each message.
import { serve } from "../../../src/asgi/server/index.js";
import type { ASGIApp } from "../../../src/asgi/types.js";
import { wsPort, wsReady } from "../websocket-common.js";

const app: ASGIApp = async (scope, receive, send) => {
  if (scope.type !== "websocket") return;
  await receive(); // websocket.connect
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

await serve(app, { port: wsPort(), lifespan: "off" });
wsReady();
