/**
 * The two answers several parts of the framework give without an app behind them: a short
 * plain-text response, and lifespan events acknowledged with nothing to set up.
 */
import { Buffer } from "node:buffer";
import type { ASGIHeaders, Receive, Send } from "../types.js";

const NO_BODY = new Uint8Array(0);

/**
 * Sends a whole plain-text response: status, the given headers, and `text` as the body (left
 * out for a HEAD request, `Content-Length` still saying what GET would carry).
 */
export async function sendText(
  send: Send,
  status: number,
  text: string,
  headers: ASGIHeaders = [],
  omitBody = false,
): Promise<void> {
  const body = Buffer.from(text, "utf8");
  await send({
    type: "http.response.start",
    status,
    headers: [
      ["content-type", "text/plain; charset=utf-8"],
      ["content-length", String(body.byteLength)],
      ...headers,
    ],
  });
  await send({ type: "http.response.body", body: omitBody ? NO_BODY : body, more_body: false });
}

/** Lifespan with nothing to set up: each event is acknowledged so the server goes on. */
export async function answerLifespan(receive: Receive, send: Send): Promise<void> {
  for (;;) {
    const event = await receive();
    if (event.type === "lifespan.startup") await send({ type: "lifespan.startup.complete" });
    else if (event.type === "lifespan.shutdown") {
      await send({ type: "lifespan.shutdown.complete" });
      return;
    }
  }
}
