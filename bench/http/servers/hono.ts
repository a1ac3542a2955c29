// Hono on @hono/node-server.
import { serve } from "@hono/node-server";
import { type Context, Hono } from "hono";
import { HELLO_MESSAGE, PARAM_ROUTES, parseArgs, ready, STATIC_ROUTES } from "../common.js";

const { profile, port } = parseArgs();
const app = new Hono();
const hello = (c: Context) => c.json({ message: HELLO_MESSAGE });

if (profile === "hello") app.get("/", hello);
if (profile === "routes") {
  // Headers set before next() join the handler's response; set after, Hono has to rebuild it.
  app.use(async (c, next) => {
    c.header("x-mw-one", "1");
    await next();
  });
  app.use(async (c, next) => {
    c.header("x-mw-two", "2");
    await next();
  });
  for (const path of STATIC_ROUTES) app.get(path, hello);
  for (const path of PARAM_ROUTES) app.get(path.replace(/\{(\w+)\}/, ":$1"), hello);
}
if (profile === "echo") {
  app.post("/echo", async (c) => {
    const body = await c.req.json();
    return c.body(JSON.stringify(body), 200, { "content-type": "application/json" });
  });
}
serve({ fetch: app.fetch, port, hostname: "127.0.0.1" }, ready);
