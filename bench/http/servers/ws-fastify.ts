// Fastify with @fastify/websocket, echoing each message.
import websocket from "@fastify/websocket";
import Fastify from "fastify";
import { WS_PATH, wsPort, wsReady } from "../websocket-common.js";

const app = Fastify({ logger: false });
await app.register(websocket);
app.get(WS_PATH, { websocket: true }, (socket) => {
  socket.on("message", (data, isBinary) => socket.send(data, { binary: isBinary }));
});
await app.listen({ port: wsPort(), host: "127.0.0.1" });
wsReady();
