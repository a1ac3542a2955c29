/**
 * `Router`, the public face of the route tree (route-tree.ts): templates and methods in,
 * handlers and typed parameters out, named routes and included routers.
 */
import { ASGIError, HTTPError } from "../../errors.js";
import {
  callableOf,
  checkPrefix,
  MOUNT_REST,
  type Mountable,
  MountedResponse,
  mountedWebSocketHandler,
} from "./mount.js";
import type { Request } from "./request.js";
import type { Response } from "./response.js";
import { invalidRoute, type Route, RouteTree } from "./route-tree.js";
import type { WebSocket } from "./websocket.js";

/** `{id:int}` → number, `{rest:path}` / `{name}` → string, typed from the template. */
type ParamValue<Spec extends string> = Spec extends `${string}:int` ? number : string;
type ParamName<Spec extends string> = Spec extends `${infer Name}:${string}` ? Name : Spec;
/**
 * The typed parameters of a route template: `"/users/{id:int}/{name}"` gives
 * `{ id: number; name: string }`; `{rest:path}` matches the rest of the path as a string.
 */
export type PathParams<Template extends string> =
  Template extends `${string}{${infer Spec}}${infer Rest}`
    ? { [K in ParamName<Spec>]: ParamValue<Spec> } & PathParams<Rest>
    : Record<never, never>;

/**
 * A route handler: the request and its typed path parameters in, a response (or its promise) out.
 */
export type Handler<P = Record<string, string | number>> = (
  request: Request,
  params: P,
) => Response | Promise<Response>;

/** A WebSocket route's handler: the connection and the typed path parameters. */
export type WebSocketHandler<P = Record<string, string | number>> = (
  websocket: WebSocket,
  params: P,
) => Promise<void> | void;

/** The method name WebSocket routes are filed under (never a real HTTP method). */
const WEBSOCKET = "WEBSOCKET";
/** The method name of a handler that answers every HTTP method (a mount; never a real one). */
const ANY_METHOD = "*";

/** Options of `router.route()`. */
export interface RouteOptions {
  /** Methods the handler answers (any case). Default `["GET"]`. */
  methods?: string[];
  /** A name for `urlFor(name, params)`, so templates can change without breaking links. */
  name?: string;
}

/** Options of `router.include()` and `app.include()`. */
export interface IncludeOptions {
  /** Static path segments the included routes live under, e.g. `"/api/v1"`. */
  prefix?: string;
}

/**
 * A router on a segment tree (no regular expressions): static segments beat parameters.
 *
 * @example
 * ```ts
 * const router = new Router()
 *   .get("/users/{id:int}", (_request, { id }) => Response.json({ id }), { name: "user" })
 *   .get("/files/{path:path}", (_request, { path }) => Response.text(path));
 * app.include(router, { prefix: "/api" }); // GET /api/users/7 → {"id":7}
 * ```
 */
export class Router {
  private readonly tree = new RouteTree<Handler>();
  private readonly named = new Map<string, string>();
  /** Included routers with their prefixes, for `urlFor`. */
  private readonly included: Array<{ prefix: string; router: Router }> = [];

  /**
   * Adds a route: a path template with `{name}`, `{id:int}` or a last `{rest:path}` parameter,
   * its handler, and the methods it answers. Static segments win over parameters. Throws
   * `ASGIError` `ASGI_INVALID_ROUTE` for a template it cannot build.
   *
   * @example
   * ```ts
   * const router = new Router();
   * router.route("/items/{id:int}", (_request, { id }) => Response.json({ id }), {
   *   methods: ["GET", "HEAD"],
   *   name: "item",
   * });
   * router.urlFor("item", { id: 7 }); // "/items/7"
   * ```
   */
  route<T extends string>(
    path: T,
    handler: Handler<PathParams<T>>,
    options: RouteOptions = {},
  ): this {
    const methods = (options.methods ?? ["GET"]).map((m) => m.toUpperCase());
    const route = this.tree.add(path);
    for (const method of methods) route.handlers.set(method, handler as unknown as Handler);
    if (options.name !== undefined) this.named.set(options.name, path);
    return this;
  }

  /**
   * Adds a WebSocket route: `handler` gets a `WebSocket` (accept it, then receive and send)
   * and the typed path parameters. An HTTP request to the same path gets 405.
   *
   * @example
   * ```ts
   * router.websocket("/ws/{room}", async (ws, { room }) => {
   *   await ws.accept();
   *   for await (const message of ws) await ws.sendText(`${room}: ${message.text ?? ""}`);
   * });
   * ```
   */
  websocket<T extends string>(
    path: T,
    handler: WebSocketHandler<PathParams<T>>,
    options: { name?: string } = {},
  ): this {
    return this.route(path, handler as unknown as Handler<PathParams<T>>, {
      ...options,
      methods: [WEBSOCKET],
    });
  }

  /**
   * The WebSocket handler of a wire path and its parameters, or `null`.
   *
   * @property handler - the route's WebSocket handler.
   * @property params - the path parameters, converted (`{id:int}` as a number).
   */
  resolveWebSocket(
    rawPath: string,
  ): { handler: WebSocketHandler; params: Record<string, string | number> } | null {
    const match = this.tree.lookup(rawPath);
    const handler = match?.route.handlers.get(WEBSOCKET);
    if (match === null || handler === undefined) return null;
    return { handler: handler as unknown as WebSocketHandler, params: match.params };
  }

  /**
   * Adds a `GET` route (see {@link Router.route}).
   *
   * @example
   * ```ts
   * router.get("/users/{id:int}", (_request, { id }) => Response.json({ id }));
   * ```
   */
  get<T extends string>(path: T, handler: Handler<PathParams<T>>, options: { name?: string } = {}) {
    return this.route(path, handler, { ...options, methods: ["GET"] });
  }
  /**
   * Adds a `POST` route (see {@link Router.route}).
   *
   * @example
   * ```ts
   * router.post("/echo", async (request) => Response.json(await request.json()));
   * ```
   */
  post<T extends string>(
    path: T,
    handler: Handler<PathParams<T>>,
    options: { name?: string } = {},
  ) {
    return this.route(path, handler, { ...options, methods: ["POST"] });
  }
  /** Adds a `PUT` route (see {@link Router.route}). */
  put<T extends string>(path: T, handler: Handler<PathParams<T>>, options: { name?: string } = {}) {
    return this.route(path, handler, { ...options, methods: ["PUT"] });
  }
  /** Adds a `PATCH` route (see {@link Router.route}). */
  patch<T extends string>(
    path: T,
    handler: Handler<PathParams<T>>,
    options: { name?: string } = {},
  ) {
    return this.route(path, handler, { ...options, methods: ["PATCH"] });
  }
  /** Adds a `DELETE` route (see {@link Router.route}). */
  delete<T extends string>(
    path: T,
    handler: Handler<PathParams<T>>,
    options: { name?: string } = {},
  ) {
    return this.route(path, handler, { ...options, methods: ["DELETE"] });
  }

  /**
   * Hands every HTTP request (any method) and WebSocket at or below `prefix` (`/static` and
   * `/static/…`) to another ASGI app: an `ASGIApplication`, a `StaticFiles`,
   * `fromFetchHandler(…)`, any ASGI callable (Starlette's `Mount`). As the ASGI spec says, the app sees the full `path`, and
   * `root_path` extended by the mount point; an `ASGIApplication`'s routes are matched below
   * its `root_path`, so they are written without the prefix. A mount is a route like
   * `prefix/{rest:path}`: a more specific route of this router wins, a parameter does not.
   * Throws `ASGIError` `ASGI_INVALID_MOUNT` for a prefix that is not `/` and plain segments.
   *
   * @example
   * ```ts
   * const api = new ASGIApplication().include(new Router().get("/users", listUsers));
   * const router = new Router()
   *   .mount("/api", api) // GET /api/users → api's "/users", root_path "/api"
   *   .mount("/static", new StaticFiles({ directory: "public" }));
   * ```
   */
  mount(prefix: string, app: Mountable): this {
    checkPrefix(prefix);
    const asgi = callableOf(app);
    const handler: Handler = (request, params) => new MountedResponse(asgi, request, params);
    const websocket = mountedWebSocketHandler(asgi) as unknown as Handler;
    for (const template of [prefix, `${prefix}/{${MOUNT_REST}:path}`]) {
      this.route(template, handler, { methods: [ANY_METHOD] });
      this.route(template, websocket, { methods: [WEBSOCKET] });
    }
    return this;
  }

  /**
   * Includes another router's routes under a static prefix (`router.include(api, { prefix:
   * "/api" })` serves api's `/users` at `/api/users`). The included router is consulted when
   * a request reaches the prefix and no route of this router matches; routes added to it
   * later are seen too. Its named routes work with this router's `urlFor`.
   */
  include(router: Router, options: IncludeOptions = {}): this {
    if (router === this || router.contains(this)) {
      throw invalidRoute("A router cannot include itself (directly or through another router)");
    }
    const prefix = options.prefix ?? "";
    this.tree.include(prefix, router.tree);
    this.included.push({ prefix: prefix === "/" ? "" : prefix, router });
    return this;
  }

  private contains(router: Router): boolean {
    return this.included.some(({ router: sub }) => sub === router || sub.contains(router));
  }

  /**
   * Resolves a request: the handler and its params, `405` (with `Allow`) when only the method
   * differs, or `null` when no route matches the path. HEAD falls back to GET.
   *
   * @property handler - the route's handler for the method (or the 405 answer).
   * @property params - the path parameters, converted (`{id:int}` as a number).
   */
  resolve(
    method: string,
    rawPath: string,
  ): { handler: Handler; params: Record<string, string | number> } | null {
    const match = this.tree.lookup(rawPath);
    if (match === null) return null;
    return { handler: handlerFor(match.route, method), params: match.params };
  }

  /**
   * Dispatches `request` to its route; `null` when no route matches the path. Returns the
   * handler's own result, so a handler that answers synchronously costs no promise here.
   */
  dispatch(request: Request): Response | Promise<Response> | null {
    const match = this.tree.lookup(request.routePath);
    if (match === null) return null;
    const handler = handlerFor(match.route, request.method);
    const params = match.params;
    request.params = params;
    return handler(request, params);
  }

  private templateFor(name: string): string | undefined {
    const own = this.named.get(name);
    if (own !== undefined) return own;
    for (const { prefix, router } of this.included) {
      const template = router.templateFor(name);
      if (template !== undefined) return prefix + template;
    }
    return undefined;
  }

  /** Builds the path of a named route; each parameter is percent-encoded. */
  urlFor(name: string, params: Record<string, string | number> = {}): string {
    const template = this.templateFor(name);
    if (template === undefined)
      throw new ASGIError(`No route named ${name}`, { code: "ASGI_UNKNOWN_ROUTE" });
    return template.replace(/\{([^}:]+)(?::([a-z]+))?\}/g, (_all, key: string, kind?: string) => {
      const value = params[key];
      if (value === undefined)
        throw new ASGIError(`urlFor(${name}): missing parameter ${key}`, {
          code: "ASGI_MISSING_ROUTE_PARAM",
        });
      const text = String(value);
      return kind === "path"
        ? text.split("/").map(encodeURIComponent).join("/")
        : encodeURIComponent(text);
    });
  }
}

function handlerFor(route: Route<Handler>, method: string): Handler {
  const handler =
    route.handlers.get(method) ??
    (method === "HEAD" ? route.handlers.get("GET") : undefined) ??
    route.handlers.get(ANY_METHOD);
  if (handler !== undefined) return handler;
  const allow = [...route.handlers.keys()].filter((name) => name !== WEBSOCKET);
  if (allow.length === 0) {
    // Only a WebSocket route here: for HTTP the path does not exist.
    throw new HTTPError(404, "Not Found", { code: "HTTP_NOT_FOUND" });
  }
  if (route.handlers.has("GET") && !route.handlers.has("HEAD")) allow.push("HEAD");
  throw new HTTPError(405, "Method Not Allowed", {
    code: "HTTP_METHOD_NOT_ALLOWED",
    headers: { allow: allow.join(", ") },
  });
}
