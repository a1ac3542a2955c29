import { ASGIApplication, type Request, Response } from "../../../../src/asgi/app/index.js";

/** An application whose every request is answered by `handler`. */
export function appOf(
  handler: (request: Request) => Response | Promise<Response>,
): ASGIApplication {
  return new (class extends ASGIApplication {
    override async handleRequest(request: Request): Promise<Response> {
      return handler(request);
    }
  })();
}

/** An application that answers "ok" to everything. */
export function okApp(): ASGIApplication {
  return appOf(() => Response.text("ok"));
}
