// mtaio's framework (ASGIApplication + Router + two ASGIMiddleware) on mtaio's server.
// Written against the API contract (shared/API.md); exits with status 3 when the framework
// is not in this tree yet, and the runner reports it as missing.
import { serve, toASGIApp } from "../../../src/asgi/server/index.js";
import type { ASGIApp, Receive, Scope, Send } from "../../../src/asgi/types.js";
import {
  HELLO_MESSAGE,
  MIDDLEWARE_HEADERS,
  PARAM_ROUTES,
  parseArgs,
  ready,
  STATIC_ROUTES,
} from "../common.js";

const { profile, port } = parseArgs();

interface BenchResponse {
  send(send: Send): Promise<void>;
}
interface BenchRequest {
  json(): Promise<unknown>;
}
type Handler = (request: BenchRequest) => BenchResponse | Promise<BenchResponse>;
interface BenchRouter {
  get(path: string, handler: Handler): unknown;
  post(path: string, handler: Handler): unknown;
}
interface BenchApp {
  include(router: BenchRouter): unknown;
  addMiddleware(middleware: unknown, options?: unknown): unknown;
  asgi: ASGIApp;
}
interface Framework {
  ASGIApplication: new () => BenchApp;
  Router: new () => BenchRouter;
  Response: { json(content: unknown, statusCode?: number): BenchResponse };
  ASGIMiddleware: new (...args: never[]) => { app: ASGIApp };
}

const framework = (await import("../../../src/asgi/app/index.js")) as unknown as Partial<Framework>;
if (!framework.ASGIApplication || !framework.Router || !framework.Response) {
  process.stderr.write("mtaio framework (src/asgi/app) not available yet\n");
  process.exit(3);
}
const { ASGIApplication, Router, Response, ASGIMiddleware } = framework as Framework;

const app = new ASGIApplication();
const router = new Router();
const hello: Handler = () => Response.json({ message: HELLO_MESSAGE });

if (profile === "hello") router.get("/", hello);
if (profile === "routes") {
  for (const path of STATIC_ROUTES) router.get(path, hello);
  for (const path of PARAM_ROUTES) router.get(path, hello);
  for (const header of MIDDLEWARE_HEADERS) {
    // An ASGIMiddleware (API contract: `this.app` and `call(scope, receive, send)`) that adds
    // its header to the start event in place, as Starlette's `MutableHeaders(scope=message)`
    // does: the framework sends fresh events, which middleware may modify.
    class AddHeader extends ASGIMiddleware {
      async call(scope: Scope, receive: Receive, send: Send): Promise<void> {
        await this.app(scope, receive, (event) => {
          if (event.type === "http.response.start") {
            event.headers ??= [];
            event.headers.push(header);
          }
          return send(event);
        });
      }
    }
    app.addMiddleware(AddHeader);
  }
}
if (profile === "echo")
  router.post("/echo", async (request) => Response.json(await request.json()));
app.include(router);

// toASGIApp binds `asgi`, in case it is a prototype method.
const asgi = toASGIApp(app);
if (asgi === null) throw new Error("ASGIApplication has no asgi callable");
await serve(asgi, { port, lifespan: "off" });
ready();
