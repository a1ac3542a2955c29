// mtaio's server with ASGIApplication and a router.websocket() echo route.
import { ASGIApplication, Router } from "../../../src/asgi/app/index.js";
import { serve } from "../../../src/asgi/server/index.js";
import { WS_PATH, wsPort, wsReady } from "../websocket-common.js";

const router = new Router();
router.websocket(WS_PATH, async (ws) => {
  await ws.accept();
  for await (const message of ws) {
    if (message.text !== undefined) await ws.sendText(message.text);
    else await ws.sendBytes(message.bytes);
  }
});
const app = new ASGIApplication().include(router);

await serve(app.asgi, { port: wsPort(), lifespan: "off" });
wsReady();
