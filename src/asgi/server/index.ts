/** The ASGI server: `serve()` runs any ASGI 3.0 app on Node's HTTP server. */

export { decodePathSegment } from "../path-decode.js";
export { type ASGIAppProvider, loadApp, toASGIApp } from "./app-loader.js";
export type {
  LifespanMode,
  ServeOptions,
  ServerHandle,
  ServerLogger,
  ServeTLSOptions,
} from "./options.js";
export { serve } from "./serve.js";
export {
  type FetchHandler,
  type ToFetchHandlerOptions,
  toFetchHandler,
} from "./to-fetch-handler.js";
