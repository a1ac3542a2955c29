/** The ASGI framework: application, request/response, router, middleware and test client. */
export { HTTPError, ValidationError } from "../../errors.js";
export {
  type ApplicationLogger,
  type ApplicationOptions,
  ASGIApplication,
} from "./application.js";
export type { CookieOptions } from "./cookie.js";
export type { MultipartLimits, UploadedFile } from "./form.js";
export {
  type FetchStyleHandler,
  type FromFetchHandlerOptions,
  fromFetchHandler,
} from "./from-fetch-handler.js";
export {
  AccessLogMiddleware,
  type AccessLogOptions,
  type AccessLogSink,
  type AccessLogStream,
  escapeLogField,
} from "./middleware/access-log.js";
export {
  type CompressionEncoding,
  CompressionMiddleware,
  type CompressionOptions,
  negotiateEncoding,
} from "./middleware/compression.js";
export { CORSMiddleware, type CORSOptions } from "./middleware/cors.js";
export {
  HTTPSRedirectMiddleware,
  type HTTPSRedirectOptions,
} from "./middleware/https-redirect.js";
export {
  RequestIdMiddleware,
  type RequestIdOptions,
  requestIdOf,
} from "./middleware/request-id.js";
export {
  type SessionData,
  SessionMiddleware,
  type SessionOptions,
  sessionOf,
} from "./middleware/session.js";
export {
  TrustedHostMiddleware,
  type TrustedHostOptions,
} from "./middleware/trusted-host.js";
export { ASGIMiddleware, type MiddlewareClass } from "./middleware.js";
export { Mount, type Mountable, type MountOptions, mount } from "./mount.js";
export { Request, type RequestOptions as RequestParsingOptions } from "./request.js";
export {
  type BodyChunk,
  Response,
  type ResponseHeadersInit,
  type ServerSentEvent,
} from "./response.js";
export {
  type Handler,
  type IncludeOptions,
  type PathParams,
  type RouteOptions,
  Router,
  type WebSocketHandler,
} from "./router.js";
export { StaticFiles, type StaticFilesOptions } from "./static-files.js";
export { TestClient, type TestRequestOptions, type TestResponse } from "./test-client.js";
export {
  TestWebSocket,
  type TestWebSocketOptions,
  TestWebSocketRefused,
} from "./test-websocket.js";
export {
  WebSocket,
  type WebSocketAcceptOptions,
  type WebSocketBinaryMessage,
  WebSocketDisconnect,
  type WebSocketMessage,
  type WebSocketTextMessage,
} from "./websocket.js";
