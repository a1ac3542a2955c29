import { ASGIError, HTTPError } from "../../errors.js";
import { decodePathSegment } from "../server/path.js";
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
}

interface Match {
  route: Route;
  values: string[];
}

const INT = /^-?\d+$/;

/** Splits the wire path on "/" and decodes each segment once, so "%2F" stays inside one. */
export function splitRawPath(raw: string): string[] {
  const pieces = raw.split("/");
  const segments: string[] = [];
  for (let i = 1; i < pieces.length; i++) {
    const decoded = decodePathSegment(pieces[i] as string);
    if (decoded === null) {
      throw new HTTPError(400, "Malformed percent-encoding in path", {
        code: "HTTP_MALFORMED_PATH",
      });
    }
    segments.push(decoded);
  }
  return segments;
}

function templateSegments(template: string): string[] {
  if (!template.startsWith("/")) throw invalidRoute(`Route path must start with "/": ${template}`);
  return template.split("/").slice(1);
}

/** A router on a segment tree (no regular expressions): static segments beat parameters. */
export class Router {
  private readonly root = new Node();
  private readonly named = new Map<string, string>();

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
        paramNames.push(name as string);
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

  private find(node: Node, segments: string[], index: number, values: string[]): Match | null {
    if (index === segments.length) {
      if (node.route !== undefined) return { route: node.route, values };
    } else {
      const segment = segments[index] as string;
      const child = node.statics.get(segment);
      if (child !== undefined) {
        const found = this.find(child, segments, index + 1, values);
        if (found !== null) return found;
      }
      const param = node.param;
      if (param !== undefined && segment.length > 0) {
        if (param.converter !== "int" || INT.test(segment)) {
          values.push(segment);
          const found = this.find(param.node, segments, index + 1, values);
          if (found !== null) return found;
          values.pop();
        }
      }
    }
    if (node.rest !== undefined && index < segments.length) {
      return { route: node.rest, values: [...values, segments.slice(index).join("/")] };
    }
    return null;
  }

  /**
   * Resolves a request: the handler and its params, `405` (with `Allow`) when only the method
   * differs, or `null` when no route matches the path. HEAD falls back to GET.
   */
  resolve(
    method: string,
    rawPath: string,
  ): { handler: Handler; params: Record<string, string | number> } | null {
    const match = this.find(this.root, splitRawPath(rawPath), 0, []);
    if (match === null) return null;
    const { route, values } = match;
    const handler =
      route.handlers.get(method) ?? (method === "HEAD" ? route.handlers.get("GET") : undefined);
    if (handler === undefined) {
      const allow = [...route.handlers.keys()];
      if (route.handlers.has("GET") && !route.handlers.has("HEAD")) allow.push("HEAD");
      throw new HTTPError(405, "Method Not Allowed", {
        code: "HTTP_METHOD_NOT_ALLOWED",
        headers: { allow: allow.join(", ") },
      });
    }
    const params = Object.create(null) as Record<string, string | number>;
    for (let i = 0; i < values.length; i++) {
      const value = values[i] as string;
      params[route.paramNames[i] as string] = route.converters[i] === "int" ? Number(value) : value;
    }
    return { handler, params };
  }

  /** Dispatches `request` to its route; `null` when no route matches the path. */
  async dispatch(request: Request): Promise<Response | null> {
    const raw = request.scope.raw_path;
    const rawPath =
      raw === null
        ? encodeURI(request.path)
        : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString("latin1");
    const found = this.resolve(request.method, rawPath);
    if (found === null) return null;
    request.params = found.params;
    return found.handler(request, found.params);
  }

  /** Builds the path of a named route; each parameter is percent-encoded. */
  urlFor(name: string, params: Record<string, string | number> = {}): string {
    const template = this.named.get(name);
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
