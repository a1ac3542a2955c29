// mtaio's server with a bare ASGI callable (no framework).
import { serve } from "../../../src/asgi/server/index.js";
import type { ASGIApp, ASGIHeaders, HTTPScope, Receive, Send } from "../../../src/asgi/types.js";
import { HELLO_MESSAGE, isBenchRoute, MIDDLEWARE_HEADERS, parseArgs, ready } from "../common.js";

const { profile, port } = parseArgs();
const JSON_HEADERS: ASGIHeaders = [["content-type", "application/json"]];

async function hello(send: Send, fresh = false): Promise<void> {
  await send({
    type: "http.response.start",
    status: 200,
    // Behind middleware that modifies the event, the header list must be this request's own.
    headers: fresh ? [["content-type", "application/json"]] : JSON_HEADERS,
  });
  const body = Buffer.from(JSON.stringify({ message: HELLO_MESSAGE }));
  await send({ type: "http.response.body", body });
}

/** An ASGI middleware that adds one response header, in place (Starlette's MutableHeaders). */
function addHeader(inner: ASGIApp, header: [string, string]): ASGIApp {
  return (scope, receive, send) =>
    inner(scope, receive, (event) => {
      if (event.type === "http.response.start") {
        event.headers ??= [];
        event.headers.push(header);
      }
      return send(event);
    });
}

const routes: ASGIApp = async (scope, _receive, send) => {
  const path = (scope as HTTPScope).path;
  if (isBenchRoute(path)) return hello(send, true);
  await send({ type: "http.response.start", status: 404 });
  await send({ type: "http.response.body" });
};

async function echo(receive: Receive, send: Send): Promise<void> {
  const chunks: Uint8Array[] = [];
  for (;;) {
    const event = await receive();
    if (event.type !== "http.request") return;
    chunks.push(event.body);
    if (!event.more_body) break;
  }
  const text = Buffer.concat(chunks).toString();
  await send({ type: "http.response.start", status: 200, headers: JSON_HEADERS });
  await send({ type: "http.response.body", body: Buffer.from(JSON.stringify(JSON.parse(text))) });
}

const apps: Record<typeof profile, ASGIApp> = {
  hello: async (scope, _receive, send) => {
    if (scope.type === "http") await hello(send);
  },
  routes: MIDDLEWARE_HEADERS.reduceRight<ASGIApp>(
    (inner, header) => addHeader(inner, header),
    async (scope, receive, send) => {
      if (scope.type === "http") await routes(scope, receive, send);
    },
  ),
  echo: async (scope, receive, send) => {
    if (scope.type === "http") await echo(receive, send);
  },
};

await serve(apps[profile], { port, lifespan: "off" });
ready();
