// Fastify.
import Fastify, { type FastifyReply, type FastifyRequest } from "fastify";
import { HELLO_MESSAGE, PARAM_ROUTES, parseArgs, ready, STATIC_ROUTES } from "../common.js";

const { profile, port } = parseArgs();
const app = Fastify({ logger: false });
// Fastify at its fastest: a response schema, so fast-json-stringify serialises the object.
const helloRoute = {
  schema: {
    response: { 200: { type: "object", properties: { message: { type: "string" } } } },
  },
  handler: (_request: FastifyRequest, reply: FastifyReply) => {
    reply.send({ message: HELLO_MESSAGE });
  },
};
const hello = (path: string) => app.route({ method: "GET", url: path, ...helloRoute });

if (profile === "hello") hello("/");
if (profile === "routes") {
  app.addHook("onRequest", async (_request, reply) => {
    reply.header("x-mw-one", "1");
  });
  app.addHook("onRequest", async (_request, reply) => {
    reply.header("x-mw-two", "2");
  });
  for (const path of STATIC_ROUTES) hello(path);
  for (const path of PARAM_ROUTES) hello(path.replace(/\{(\w+)\}/, ":$1"));
}
if (profile === "echo") {
  app.post("/echo", async (request, reply) => {
    reply.type("application/json");
    return JSON.stringify(request.body);
  });
}
await app.listen({ port, host: "127.0.0.1" });
ready();
