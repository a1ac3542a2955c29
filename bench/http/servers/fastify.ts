// Fastify.
import Fastify from "fastify";
import { HELLO_BYTES, PARAM_ROUTES, parseArgs, ready, STATIC_ROUTES } from "../common.js";

const { profile, port } = parseArgs();
const app = Fastify({ logger: false });
const hello = (_request: unknown, reply: { type(t: string): { send(b: Buffer): void } }) =>
  reply.type("application/json").send(HELLO_BYTES);

if (profile === "hello") app.get("/", hello);
if (profile === "routes") {
  app.addHook("onRequest", async (_request, reply) => {
    reply.header("x-mw-one", "1");
  });
  app.addHook("onRequest", async (_request, reply) => {
    reply.header("x-mw-two", "2");
  });
  for (const path of STATIC_ROUTES) app.get(path, hello);
  for (const path of PARAM_ROUTES) app.get(path.replace(/\{(\w+)\}/, ":$1"), hello);
}
if (profile === "echo") {
  app.post("/echo", async (request, reply) => {
    reply.type("application/json");
    return JSON.stringify(request.body);
  });
}
await app.listen({ port, host: "127.0.0.1" });
ready();
