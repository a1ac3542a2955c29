/**
 * The connection, framing and lifespan suites again, with every fallback of
 * src/asgi/server/node-internals.ts forced: the server must behave the same without Node's
 * private fields (keep-alive, pipelining, refused bytes, timeouts, close()).
 */
import { forceNodeFallbacks } from "../../../src/asgi/server/node-internals.js";

forceNodeFallbacks({
  responseLink: false,
  parserLink: false,
  closingMark: false,
  tlsParent: false,
});
// Imported after the switch: their servers start in their tests, with the fallbacks in force.
await import("./connection.test.js");
await import("./framing.test.js");
await import("./lifespan.test.js");
