/**
 * The reference example: an application with a router and a logging middleware, served on
 * http://127.0.0.1:8000 by mtaio's own ASGI server. Run it with `npm start`.
 */
import {
  ASGIApplication,
  ASGIMiddleware,
  type Request,
  Response,
  Router,
} from "../src/asgi/app/index.js";
import { serve } from "../src/asgi/server/index.js";
import type { Receive, Scope, Send } from "../src/asgi/types.js";

/** Logs each request's method, path and duration. */
export class LoggingMiddleware extends ASGIMiddleware {
  override async call(scope: Scope, receive: Receive, send: Send): Promise<void> {
    if (scope.type !== "http") return this.app(scope, receive, send);
    const started = performance.now();
    try {
      await this.app(scope, receive, send);
    } finally {
      const ms = (performance.now() - started).toFixed(1);
      console.log(`${scope.method} ${scope.path} ${ms} ms`);
    }
  }
}

export const users = new Router()
  .get("/users/{user_id}", (_request, params) => Response.json({ user_id: params.user_id }))
  .post("/users", async (request) => Response.json(await request.json(), 201));

export class App extends ASGIApplication {
  override async handleRequest(request: Request): Promise<Response> {
    if (request.path === "/") return Response.json({ message: "mtaioへようこそ" });
    return super.handleRequest(request);
  }
}

export function createApp(): App {
  const app = new App();
  app.include(users);
  app.addMiddleware(LoggingMiddleware);
  return app;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const server = await serve(createApp(), { host: "127.0.0.1", port: 8000 });
  console.log(`mtaio example listening on ${server.url}`);
  const stop = () => void server.close();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}
