import { ASGIError, HTTPError } from "../../errors.js";
import { decodePathSegment, isPlainPathText } from "../server/path.js";
import type { Request } from "./request.js";
import type { Response } from "./response.js";

/** `{id:int}` → number, `{rest:path}` / `{name}` → string, typed from the template. */
type ParamValue<Spec extends string> = Spec extends `${string}:int` ? number : string;
type ParamName<Spec extends string> = Spec extends `${infer Name}:${string}` ? Name : Spec;
/** A route template the router cannot build (caller error, raised at registration). */
function invalidRoute(message: string): ASGIError {
  return new ASGIError(message, { code: "ASGI_INVALID_ROUTE" });
}

export type PathParams<Template extends string> =
  Template extends `${string}{${infer Spec}}${infer Rest}`
    ? { [K in ParamName<Spec>]: ParamValue<Spec> } & PathParams<Rest>
    : Record<never, never>;

export type Handler<P = Record<string, string | number>> = (
  request: Request,
  params: P,
) => Response | Promise<Response>;

export interface RouteOptions {
  methods?: string[];
  name?: string;
}

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

/** One node of the segment tree: static children first, then one parameter child. */
class Node {
  readonly statics = new Map<string, Node>();
  param: { node: Node; converter: Converter } | undefined;
  /** A `{x:path}` parameter here swallows the rest of the path. */
  rest: Route | undefined;
  route: Route | undefined;
  /** Routers included here with a prefix that ends at this node (`include(router, {prefix})`). */
  mounts: Router[] | undefined;
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

/** A router on a segment tree (no regular expressions): static segments beat parameters. */
export class Router {
  private readonly root = new Node();
  private readonly named = new Map<string, string>();
  /** Plain static templates → route: most requests resolve with one Map lookup. */
  private readonly exact = new Map<string, Route>();
  /** Included routers with their prefixes, for `urlFor`. */
  private readonly included: Array<{ prefix: string; router: Router }> = [];

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
        let child = node.statics.get(segment);
        if (child === undefined) {
          child = new Node();
          node.statics.set(segment, child);
        }
        node = child;
      }
    }
    if (restRoute === undefined && node.route === undefined) {
      node.route = { handlers: new Map(), paramNames, converters };
    }
    const route = (restRoute ?? node.route) as Route;
    for (const method of methods) route.handlers.set(method, handler as unknown as Handler);
    if (restRoute === undefined && isPlainStatic(path)) this.exact.set(path, route);
    if (options.name !== undefined) this.named.set(options.name, path);
    return this;
  }

  get<T extends string>(path: T, handler: Handler<PathParams<T>>, options: { name?: string } = {}) {
    return this.route(path, handler, { ...options, methods: ["GET"] });
  }
  post<T extends string>(
    path: T,
    handler: Handler<PathParams<T>>,
    options: { name?: string } = {},
  ) {
    return this.route(path, handler, { ...options, methods: ["POST"] });
  }
  put<T extends string>(path: T, handler: Handler<PathParams<T>>, options: { name?: string } = {}) {
    return this.route(path, handler, { ...options, methods: ["PUT"] });
  }
  patch<T extends string>(
    path: T,
    handler: Handler<PathParams<T>>,
    options: { name?: string } = {},
  ) {
    return this.route(path, handler, { ...options, methods: ["PATCH"] });
  }
  delete<T extends string>(
    path: T,
    handler: Handler<PathParams<T>>,
    options: { name?: string } = {},
  ) {
    return this.route(path, handler, { ...options, methods: ["DELETE"] });
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
        let child = node.statics.get(segment);
        if (child === undefined) {
          child = new Node();
          node.statics.set(segment, child);
        }
        node = child;
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
   * every segment is consumed) without splitting it first: a segment is sliced and decoded
   * only when the walk reaches it, so a path costs no array and no string per segment beyond
   * the one being matched. A segment that a failed branch decoded is decoded again by the
   * next branch; branches fail rarely (a static child that leads nowhere), so this is cheaper
   * than keeping them.
   */
  private find(
    node: Node,
    raw: string,
    plain: boolean,
    start: number,
    values: string[],
  ): Route | null {
    if (start > raw.length) {
      if (node.route !== undefined) return node.route;
    } else {
      const slash = raw.indexOf("/", start);
      const end = slash < 0 ? raw.length : slash;
      const piece = raw.slice(start, end);
      const segment = plain ? piece : decodeSegment(piece);
      const child = node.statics.get(segment);
      if (child !== undefined) {
        const found = this.find(child, raw, plain, end + 1, values);
        if (found !== null) return found;
      }
      const param = node.param;
      if (param !== undefined && segment.length > 0) {
        if (param.converter !== "int" || INT.test(segment)) {
          values.push(segment);
          const found = this.find(param.node, raw, plain, end + 1, values);
          if (found !== null) return found;
          values.pop();
        }
      }
    }
    const mounts = node.mounts;
    if (mounts !== undefined) {
      for (const router of mounts) {
        const found = router.find(router.root, raw, plain, start, values);
        if (found !== null) return found;
      }
    }
    if (node.rest !== undefined && start <= raw.length) {
      values.push(restOf(raw, start, plain));
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
  private match(raw: string, plain: boolean, values: string[]): Route | null {
    const route = this.find(this.root, raw, plain, firstSegment(raw), values);
    if (route === null && !plain) splitRawPath(raw);
    return route;
  }

  /**
   * Resolves a request: the handler and its params, `405` (with `Allow`) when only the method
   * differs, or `null` when no route matches the path. HEAD falls back to GET.
   */
  resolve(
    method: string,
    rawPath: string,
  ): { handler: Handler; params: Record<string, string | number> } | null {
    let values = NO_VALUES;
    let route: Route | null | undefined = this.exact.get(rawPath);
    if (route === undefined) {
      values = [];
      route = this.match(rawPath, isPlainPathText(rawPath), values);
      if (route === null) return null;
    }
    return { handler: handlerFor(route, method), params: paramsOf(route, values) };
  }

  /**
   * Dispatches `request` to its route; `null` when no route matches the path. Returns the
   * handler's own result, so a handler that answers synchronously costs no promise here.
   */
  dispatch(request: Request): Response | Promise<Response> | null {
    const rawPath = request.rawPath;
    // A plain static path is one Map lookup: no split, no decoding, no parameter values.
    let values = NO_VALUES;
    let route: Route | null | undefined = this.exact.get(rawPath);
    if (route === undefined) {
      values = [];
      route = this.match(rawPath, isPlainPathText(rawPath), values);
      if (route === null) return null;
    }
    const handler = handlerFor(route, request.method);
    const params = paramsOf(route, values);
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

const NO_VALUES: string[] = [];
const NO_PARAMS: Record<string, string | number> = Object.freeze(
  Object.create(null) as Record<string, string | number>,
);

function handlerFor(route: Route, method: string): Handler {
  const handler =
    route.handlers.get(method) ?? (method === "HEAD" ? route.handlers.get("GET") : undefined);
  if (handler !== undefined) return handler;
  const allow = [...route.handlers.keys()];
  if (route.handlers.has("GET") && !route.handlers.has("HEAD")) allow.push("HEAD");
  throw new HTTPError(405, "Method Not Allowed", {
    code: "HTTP_METHOD_NOT_ALLOWED",
    headers: { allow: allow.join(", ") },
  });
}

function paramsOf(route: Route, values: string[]): Record<string, string | number> {
  if (values.length === 0) return NO_PARAMS;
  // A plain object (fast properties): the names come from the route templates, which
  // registration keeps free of `__proto__`, never from the request.
  const params: Record<string, string | number> = {};
  for (let i = 0; i < values.length; i++) {
    const value = values[i] as string;
    params[route.paramNames[i] as string] = route.converters[i] === "int" ? Number(value) : value;
  }
  return params;
}
