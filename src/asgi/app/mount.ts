/**
 * Running an ASGI app under a path prefix: `mount()` and the `Mount` middleware.
 *
 * What the mounted app sees follows the current ASGI HTTP spec (and Starlette ≥ 0.35,
 * asgiref's WSGI adapter, Hypercorn's dispatcher): `path` and `raw_path` stay the full
 * request path, and `root_path` grows by the prefix. The app finds its own part of the path
 * as `path` minus `root_path` (what WSGI calls PATH_INFO = path − SCRIPT_NAME), and builds
 * links with `root_path` in front.
 */
import { ASGIError } from "../../errors.js";
import type { ASGIApp, HTTPScope, Receive, Scope, Send, WebSocketScope } from "../types.js";
import { ASGIMiddleware } from "./middleware.js";
import { answerLifespan, sendText } from "./plain-replies.js";
import type { Request } from "./request.js";
import { Response } from "./response.js";
import { pathBelowRoot } from "./root-path.js";

/** Something `mount()` can run: an ASGI callable, or an object with one (`app.asgi`). */
export type Mountable =
  | ASGIApp
  | {
      /** The object's ASGI callable (an `ASGIApplication`'s or a `StaticFiles`'). */
      asgi: ASGIApp;
    };

export function callableOf(app: Mountable): ASGIApp {
  return typeof app === "function" ? app : app.asgi;
}

async function notFound(scope: Scope, receive: Receive, send: Send): Promise<void> {
  // No app behind the mount to start: answer the lifespan events so the server goes on.
  if (scope.type === "lifespan") return answerLifespan(receive, send);
  // A WebSocket nobody takes: returning without accepting refuses it (403).
  if (scope.type === "websocket") return;
  return sendText(send, 404, "Not Found");
}

/**
 * Checks a mount prefix: `/` then static segments, no trailing `/`, nothing to decode.
 * Throws `ASGIError` `ASGI_INVALID_MOUNT` otherwise (a programming error, at startup).
 */
export function checkPrefix(prefix: string): string {
  const ok =
    prefix.startsWith("/") &&
    !prefix.endsWith("/") &&
    prefix
      .split("/")
      .slice(1)
      .every((segment) => /^[A-Za-z0-9._~!$&'()*+,;=:@-]+$/.test(segment));
  if (!ok || prefix.split("/").some((segment) => segment === "." || segment === "..")) {
    throw new ASGIError(
      `Mount prefix must be "/" and plain segments, without a trailing "/": ${prefix}`,
      { code: "ASGI_INVALID_MOUNT" },
    );
  }
  return prefix;
}

/** `root_path` without a trailing `/`, so a prefix appends to it cleanly. */
function rootOf(scope: HTTPScope | WebSocketScope): string {
  const root = scope.root_path;
  return root.endsWith("/") ? root.slice(0, -1) : root;
}

/**
 * The path below the app's own mount point: `path` minus `root_path` when it starts with
 * it (the current spec), else `path` (a server that already stripped it).
 */
function routePath(scope: HTTPScope | WebSocketScope): string {
  return pathBelowRoot(scope.path, scope.root_path ?? "");
}

/** True when `path` is `prefix` itself or below it (`/static` matches `/static/x`, not `/staticx`). */
function isUnder(path: string, prefix: string): boolean {
  return path.startsWith(prefix) && (path.length === prefix.length || path[prefix.length] === "/");
}

/**
 * An ASGI app that runs `app` for requests and WebSockets at or below `prefix`, with `root_path` extended
 * by the prefix, and `fallback` (default: a plain 404) for the rest and for lifespan events.
 * Mounted apps get no lifespan events of their own, as in Starlette.
 *
 * @example
 * ```ts
 * const app = new ASGIApplication().include(api);
 * const files = new StaticFiles({ directory: "public" });
 * await serve(mount("/static", files, app), { port: 8000 });
 * // GET /static/app.css → files sees path "/static/app.css", root_path "/static"
 * ```
 */
export function mount(prefix: string, app: Mountable, fallback?: Mountable): ASGIApp {
  checkPrefix(prefix);
  const mounted = callableOf(app);
  const rest = fallback === undefined ? notFound : callableOf(fallback);
  return (scope, receive, send) => {
    if (
      (scope.type === "http" || scope.type === "websocket") &&
      isUnder(routePath(scope), prefix)
    ) {
      return mounted({ ...scope, root_path: rootOf(scope) + prefix }, receive, send);
    }
    return rest(scope, receive, send);
  };
}

/** Options of the `Mount` middleware. */
export interface MountOptions {
  /** The path prefix, e.g. `"/static"`. */
  prefix: string;
  /** The app run for requests at or below the prefix. */
  app: Mountable;
}

/**
 * `mount()` as middleware, for an `ASGIApplication`: requests at or below `prefix` go to the
 * mounted app, everything else (lifespan included) to the application.
 *
 * @example
 * ```ts
 * app.addMiddleware(Mount, { prefix: "/static", app: new StaticFiles({ directory: "public" }) });
 * ```
 */
export class Mount extends ASGIMiddleware<MountOptions> {
  private readonly dispatch: ASGIApp;

  constructor(app: ASGIApp, options?: MountOptions) {
    super(app, options);
    if (options === undefined) {
      throw new ASGIError("Mount needs { prefix, app }", { code: "ASGI_INVALID_MOUNT" });
    }
    this.dispatch = mount(options.prefix, options.app, app);
  }

  override call(scope: Scope, receive: Receive, send: Send): Promise<void> {
    return this.dispatch(scope, receive, send);
  }
}

/** @internal The route parameter a `router.mount()` route keeps the rest of the path in. */
export const MOUNT_REST = "__mount_rest";

/**
 * @internal The scope a `router.mount()` app gets: `root_path` extended by the part of the
 * path the route matched (the mount point: the path below `root_path` minus the rest the
 * route's `{rest:path}` took, itself decoded the same way, so the lengths agree).
 */
export function mountedScope<S extends HTTPScope | WebSocketScope>(
  scope: S,
  params: Record<string, string | number>,
): S {
  const below = routePath(scope);
  const rest = params[MOUNT_REST] as string | undefined;
  const mountPoint = rest === undefined ? below : below.slice(0, below.length - rest.length - 1);
  return { ...scope, root_path: rootOf(scope) + mountPoint };
}

const kMountedApp = Symbol("mtaio.mountedApp");

/**
 * @internal The WebSocket route handler that stands for a mounted app: `ASGIApplication`
 * recognises it (see `mountedAppOf`) and hands the connection's own scope, receive and send
 * to the app instead of making a `WebSocket` for it.
 */
export function mountedWebSocketHandler(app: ASGIApp): () => never {
  const handler = () => {
    throw new ASGIError("A mounted app's WebSocket route is run by ASGIApplication only", {
      code: "ASGI_INVALID_MOUNT",
    });
  };
  return Object.assign(handler, { [kMountedApp]: app });
}

/** @internal The app behind a `mountedWebSocketHandler`, or `undefined` for a plain handler. */
export function mountedAppOf(handler: unknown): ASGIApp | undefined {
  return (handler as { [kMountedApp]?: ASGIApp })[kMountedApp];
}

/**
 * @internal What a `router.mount()` route answers: sending it runs the mounted app on the
 * request (see `mountedScope`), with the request's own `receive`. The mounted app writes the
 * whole response; this object only notes when it has started (`started`), so an error after
 * that is not answered.
 */
export class MountedResponse extends Response {
  constructor(
    private readonly app: ASGIApp,
    private readonly request: Request,
    private readonly params: Record<string, string | number>,
  ) {
    super();
  }

  override send(send: Send, _includeBody = true): Promise<void> {
    // HEAD: the mounted app sees the method and answers it itself; the server sends no body.
    const child = mountedScope(this.request.scope, this.params);
    const tracked: Send = (event) => {
      if (event.type === "http.response.start") this.started = true;
      return send(event);
    };
    try {
      return Promise.resolve(this.app(child, () => this.request.receive(), tracked));
    } catch (error) {
      return Promise.reject(error);
    }
  }
}
