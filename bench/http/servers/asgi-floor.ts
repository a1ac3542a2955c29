// Diagnostic, not a contender: mtaio's server with the least app work it allows, answering
// through the direct responder (src/asgi/fast-path.ts) as the framework does, with the same bytes
// as the others (the routes profile's two headers added by the app, not by middleware). What
// it costs over raw node:http is the server's own share (scope, exchange, checks); what the
// framework (asgi-app) costs over it is the framework's share.
import {
  DIRECT_RECEIVE,
  DIRECT_SEND,
  type DirectReceive,
  type DirectSend,
} from "../../../src/asgi/fast-path.js";
import { serve } from "../../../src/asgi/server/index.js";
import type { ASGIApp, ASGIHeaders, HTTPScope } from "../../../src/asgi/types.js";
import { HELLO_MESSAGE, isBenchRoute, MIDDLEWARE_HEADERS, parseArgs, ready } from "../common.js";

const { profile, port } = parseArgs();

const JSON_TYPE: [string, string] = ["content-type", "application/json"];

function answer(send: DirectSend, text: string, extra: ASGIHeaders = []): Promise<void> {
  const responder = send[DIRECT_SEND];
  if (responder === undefined) throw new Error("not mtaio's own send()");
  const length = Buffer.byteLength(text);
  const headers: ASGIHeaders = [JSON_TYPE, ...extra, ["content-length", String(length)]];
  return responder.sendText(200, headers, text, length);
}

const app: ASGIApp = (scope, receive, send) => {
  if (scope.type !== "http") return Promise.resolve();
  if (profile === "hello") return answer(send, JSON.stringify({ message: HELLO_MESSAGE }));
  if (profile === "routes") {
    const path = (scope as HTTPScope).path;
    if (isBenchRoute(path)) {
      return answer(send, JSON.stringify({ message: HELLO_MESSAGE }), MIDDLEWARE_HEADERS);
    }
    return answer(send, "null");
  }
  // echo: the body is in the first event when it came with the head (see exchange.ts run()).
  const event = (receive as DirectReceive)[DIRECT_RECEIVE]?.receiveNow();
  if (event?.type !== "http.request" || event.more_body) throw new Error("body not buffered");
  const text = Buffer.from(event.body).toString();
  return answer(send, JSON.stringify(JSON.parse(text)));
};

await serve(app, { port, lifespan: "off" });
ready();
