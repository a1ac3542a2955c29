import { ASGIError, HTTPError } from "../../errors.js";
import { decodePathSegment } from "../server/path.js";
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
import type { WebSocket } from "./websocket.js";

/** `{id:int}` → number, `{rest:path}` / `{name}` → string, typed from the template. */
type ParamValue<Spec extends string> = Spec extends `${string}:int` ? number : string;
type ParamName<Spec extends string> = Spec extends `${infer Name}:${string}` ? Name : Spec;
/** A route template the router cannot build (caller error, raised at registration). */
function invalidRoute(message: string): ASGIError {
  return new ASGIError(message, { code: "ASGI_INVALID_ROUTE" });
}

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

type Converter = "str" | "int" | "path";

interface Route {
  handlers: Map<string, Handler>;
  paramNames: string[];
  converters: Converter[];
}

/** A plain static template and its route, in a chain of templates that share a hash. */
interface ExactRoute {
  readonly path: string;
  readonly route: Route;
  next: ExactRoute | undefined;
}

/** A static child of a node, in a chain of children whose segments share a hash. */
interface StaticChild {
  readonly segment: string;
  readonly node: Node;
  next: StaticChild | undefined;
}

/**
 * The hash a static child is filed under: computed over the decoded segment's UTF-16 code
 * units, so a plain wire segment (ASCII, no `%`: its own decoding) can be hashed in place as
 * the walk scans it, without slicing it out first.
 */
function segmentHash(text: string, start: number, end: number): number {
  let hash = 0;
  for (let i = start; i < end; i++) hash = (Math.imul(hash, 31) + text.charCodeAt(i)) | 0;
  return hash;
}

/** One node of the segment tree: static children first, then one parameter child. */
class Node {
  /** Static children by segment hash (Smi keys: a lookup allocates nothing). */
  private readonly statics = new Map<number, StaticChild>();
  param: { node: Node; converter: Converter } | undefined;
  /** A `{x:path}` parameter here swallows the rest of the path. */
  rest: Route | undefined;
  route: Route | undefined;
  /** Routers included here with a prefix that ends at this node (`include(router, {prefix})`). */
  mounts: Router[] | undefined;

  /** The static child for `segment`, made on first use (route registration). */
  child(segment: string): Node {
    const found = this.lookup(segment);
    if (found !== undefined) return found;
    const node = new Node();
    const hash = segmentHash(segment, 0, segment.length);
    this.statics.set(hash, { segment, node, next: this.statics.get(hash) });
    return node;
  }

  /** True when the node has static children: most parameter nodes have none. */
  get hasStatics(): boolean {
    return this.statics.size > 0;
  }

  /** The static child for a decoded segment. */
  lookup(segment: string): Node | undefined {
    let entry = this.statics.get(segmentHash(segment, 0, segment.length));
    for (; entry !== undefined; entry = entry.next) {
      if (entry.segment === segment) return entry.node;
    }
    return undefined;
  }

  /** The static child for the plain wire segment `raw[start, end)`, compared in place. */
  lookupIn(raw: string, start: number, end: number, hash: number): Node | undefined {
    let entry = this.statics.get(hash);
    for (; entry !== undefined; entry = entry.next) {
      const segment = entry.segment;
      if (segment.length === end - start && raw.startsWith(segment, start)) return entry.node;
    }
    return undefined;
  }
}

const INT = /^-?\d+$/;

function malformedPath(): HTTPError {
  return new HTTPError(400, "Malformed percent-encoding in path", {
    code: "HTTP_MALFORMED_PATH",
  });
}

/** One wire segment, percent-decoded (400 when malformed). */
function decodeSegment(piece: string): string {
  const decoded = decodePathSegment(piece);
  if (decoded === null) throw malformedPath();
  return decoded;
}

/**
 * Splits the wire path on "/" and decodes each segment once, so "%2F" stays inside one. The
 * result starts with the empty piece before the leading "/": segments are `[1..]`. (The
 * router itself walks the path in place, segment by segment; see `Router.find`.)
 */
export function splitRawPath(raw: string): string[] {
  const pieces: string[] = [];
  let start = 0;
  for (;;) {
    const slash = raw.indexOf("/", start);
    const piece = raw.slice(start, slash < 0 ? raw.length : slash);
    // The piece before the leading "/" is not a segment: nothing to decode.
    pieces.push(pieces.length === 0 ? piece : decodeSegment(piece));
    if (slash < 0) return pieces;
    start = slash + 1;
  }
}

/** Where the first segment of a wire path starts (past the end when it has none). */
function firstSegment(raw: string): number {
  if (raw.charCodeAt(0) === 0x2f) return 1; // origin-form, nearly always: no indexOf() call
  const slash = raw.indexOf("/");
  return slash < 0 ? raw.length + 1 : slash + 1;
}

/**
 * The decoded segments from `start` (just past a "/") to the end, joined by "/": a
 * `{x:path}` value.
 */
function restOf(raw: string, start: number, plain: boolean): string {
  const rest = raw.slice(start);
  return plain ? rest : splitRawPath(`/${rest}`).slice(1).join("/");
}

/** A template every request path that equals it (byte for byte) matches without decoding. */
function isPlainStatic(template: string): boolean {
  return !/[{%\u0080-\uffff]/.test(template);
}

function templateSegments(template: string): string[] {
  if (!template.startsWith("/")) throw invalidRoute(`Route path must start with "/": ${template}`);
  return template.split("/").slice(1);
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
  private readonly root = new Node();
  private readonly named = new Map<string, string>();
  /** Plain static templates → route: most requests resolve with one Map lookup. */
  private readonly exact = new Map<number, ExactRoute>();
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
    let node = this.root;
    const paramNames: string[] = [];
    const converters: Converter[] = [];
    let restRoute: Route | undefined;
    const segments = templateSegments(path);
    for (let i = 0; i < segments.length; i++) {
      const segment = segments[i] as string;
      if (segment.startsWith("{") && segment.endsWith("}")) {
        const [name, kind = "str"] = segment.slice(1, -1).split(":");
        if (kind !== "str" && kind !== "int" && kind !== "path") {
          throw invalidRoute(`Unknown converter ${kind} in ${path}`);
        }
        if (name === undefined || name.length === 0 || name === "__proto__") {
          throw invalidRoute(`Invalid parameter name in ${path}`);
        }
        paramNames.push(name);
        converters.push(kind);
        if (kind === "path") {
          if (i !== segments.length - 1) throw invalidRoute(`{${name}:path} must come last`);
          node.rest ??= { handlers: new Map(), paramNames, converters };
          restRoute = node.rest;
          break;
        }
        if (node.param === undefined) node.param = { node: new Node(), converter: kind };
        else if (node.param.converter !== kind) {
          throw invalidRoute(`Conflicting parameter converters at ${path}`);
        }
        node = node.param.node;
      } else {
        node = node.child(segment);
      }
    }
    if (restRoute === undefined && node.route === undefined) {
      node.route = { handlers: new Map(), paramNames, converters };
    }
    const route = (restRoute ?? node.route) as Route;
    for (const method of methods) route.handlers.set(method, handler as unknown as Handler);
    if (restRoute === undefined && isPlainStatic(path)) this.addExact(path, route);
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
    const route = this.lookup(rawPath);
    const handler = route?.handlers.get(WEBSOCKET);
    if (route === null || route === undefined || handler === undefined) return null;
    return { handler: handler as unknown as WebSocketHandler, params: paramsOf(route) };
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
    let node = this.root;
    if (prefix !== "" && prefix !== "/") {
      if (prefix.endsWith("/")) throw invalidRoute(`Prefix must not end with "/": ${prefix}`);
      for (const segment of templateSegments(prefix)) {
        if (segment.length === 0 || segment.includes("{")) {
          throw invalidRoute(`Prefix must be static, non-empty segments: ${prefix}`);
        }
        node = node.child(segment);
      }
    }
    if (node.mounts === undefined) node.mounts = [router];
    else node.mounts.push(router);
    this.included.push({ prefix: prefix === "/" ? "" : prefix, router });
    return this;
  }

  private contains(router: Router): boolean {
    return this.included.some(({ router: sub }) => sub === router || sub.contains(router));
  }

  /**
   * Walks the wire path from `start` (the offset of the current segment; past the end once
   * every segment is consumed) without splitting it first. In a plain path a segment is
   * hashed and compared where it lies, and sliced out only when a parameter takes it; so a
   * static route costs no string and no array at all. Otherwise a segment is sliced and
   * decoded when the walk reaches it; one that a failed branch decoded is decoded again by the
   * next branch, which is rare (a static child that leads nowhere) and cheaper than keeping
   * them. Parameter values go to `matched.values[count…]`; the route found leaves its count
   * in `matched.count`.
   */
  private find(
    node: Node,
    raw: string,
    plain: boolean,
    start: number,
    count: number,
  ): Route | null {
    if (start > raw.length) {
      if (node.route !== undefined) {
        matched.count = count;
        return node.route;
      }
    } else {
      let end: number;
      /** The decoded segment; for a plain path only sliced out when a parameter takes it. */
      let segment: string | undefined;
      let child: Node | undefined;
      if (!plain) {
        const slash = raw.indexOf("/", start);
        end = slash < 0 ? raw.length : slash;
        segment = decodeSegment(raw.slice(start, end));
        if (node.hasStatics) child = node.lookup(segment);
      } else if (node.hasStatics) {
        // One pass finds the segment's end and computes segmentHash() over it.
        let hash = 0;
        for (end = start; end < raw.length; end++) {
          const code = raw.charCodeAt(end);
          if (code === 0x2f) break;
          hash = (Math.imul(hash, 31) + code) | 0;
        }
        child = node.lookupIn(raw, start, end, hash);
      } else {
        // A plain segment under a parameter-only node: scanned here, as the branch above does
        // (a segment is short, and indexOf() is a builtin call).
        for (end = start; end < raw.length; end++) {
          if (raw.charCodeAt(end) === 0x2f) break;
        }
      }
      if (child !== undefined) {
        const found = this.find(child, raw, plain, end + 1, count);
        if (found !== null) return found;
      }
      const param = node.param;
      // A non-empty wire segment decodes to a non-empty one (strict decoding, at least a byte).
      if (param !== undefined && end > start) {
        segment ??= raw.slice(start, end);
        if (param.converter !== "int" || INT.test(segment)) {
          matched.values[count] = segment;
          const found = this.find(param.node, raw, plain, end + 1, count + 1);
          if (found !== null) return found;
        }
      }
    }
    const mounts = node.mounts;
    if (mounts !== undefined) {
      for (const router of mounts) {
        const found = router.find(router.root, raw, plain, start, count);
        if (found !== null) return found;
      }
    }
    if (node.rest !== undefined && start <= raw.length) {
      matched.values[count] = restOf(raw, start, plain);
      matched.count = count + 1;
      return node.rest;
    }
    return null;
  }

  /**
   * The route of a wire path that is not a plain static one, or `null`. A path that matches
   * nothing is still checked whole, so malformed percent-encoding anywhere in it is a 400,
   * whichever segment the walk stopped at. `plain`: the path has no `%` and no non-ASCII
   * byte, so its segments need no decoding.
   */
  private match(raw: string, plain: boolean): Route | null {
    const route = this.find(this.root, raw, plain, firstSegment(raw), 0);
    if (route === null && !plain) splitRawPath(raw);
    return route;
  }

  /**
   * The route of a wire path, its parameter values left in `matched`; `null` when none
   * matches. A plain static path is one Map lookup: no walk, no decoding, no values.
   */
  private lookup(rawPath: string): Route | null {
    // segmentHash() and isPlainPathText() in one pass: measurably cheaper than the two (a
    // third of a static lookup), and cheaper than V8's own hash of a fresh string.
    let hash = 0;
    let plain = true;
    for (let i = 0; i < rawPath.length; i++) {
      const code = rawPath.charCodeAt(i);
      if (code === 0x25 || code > 0x7f) plain = false;
      hash = (Math.imul(hash, 31) + code) | 0;
    }
    if (plain) {
      for (let entry = this.exact.get(hash); entry !== undefined; entry = entry.next) {
        if (entry.path === rawPath) {
          matched.count = 0;
          return entry.route;
        }
      }
    }
    return this.match(rawPath, plain);
  }

  private addExact(path: string, route: Route): void {
    const hash = segmentHash(path, 0, path.length);
    for (let entry = this.exact.get(hash); entry !== undefined; entry = entry.next) {
      if (entry.path === path) return; // the same route: its node is shared
    }
    this.exact.set(hash, { path, route, next: this.exact.get(hash) });
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
    const route = this.lookup(rawPath);
    if (route === null) return null;
    return { handler: handlerFor(route, method), params: paramsOf(route) };
  }

  /**
   * Dispatches `request` to its route; `null` when no route matches the path. Returns the
   * handler's own result, so a handler that answers synchronously costs no promise here.
   */
  dispatch(request: Request): Response | Promise<Response> | null {
    const route = this.lookup(request.routePath);
    if (route === null) return null;
    const handler = handlerFor(route, request.method);
    const params = paramsOf(route);
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

/**
 * The parameter values of the last route found, read by `paramsOf` right after the lookup
 * (nothing runs in between): one array for every lookup, so matching allocates none. Slots
 * past `count` hold values of earlier lookups and are never read.
 */
const matched: { values: string[]; count: number } = { values: [], count: 0 };
const NO_PARAMS: Record<string, string | number> = Object.freeze(
  Object.create(null) as Record<string, string | number>,
);

function handlerFor(route: Route, method: string): Handler {
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

function paramsOf(route: Route): Record<string, string | number> {
  const { values, count } = matched;
  if (count === 0) return NO_PARAMS;
  // A plain object (fast properties): the names come from the route templates, which
  // registration keeps free of `__proto__`, never from the request.
  const params: Record<string, string | number> = {};
  for (let i = 0; i < count; i++) {
    const value = values[i] as string;
    params[route.paramNames[i] as string] = route.converters[i] === "int" ? Number(value) : value;
  }
  return params;
}
