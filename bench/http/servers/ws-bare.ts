// The `ws` package alone: a WebSocketServer on its own node:http server, echoing each message.
import { WebSocketServer } from "ws";
import { WS_PATH, wsPort, wsReady } from "../websocket-common.js";

const server = new WebSocketServer({ port: wsPort(), host: "127.0.0.1", path: WS_PATH });
server.on("connection", (ws) => {
  ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary }));
});
await new Promise((resolve) => server.once("listening", resolve));
wsReady();
