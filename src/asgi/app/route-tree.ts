/**
 * The segment tree behind `Router`: routes filed by path segment, and the walk that finds the
 * route of a wire path together with its parameter values.
 *
 * A lookup returns everything it found (`RouteMatch`): nothing is left in shared state for the
 * caller to pick up, so two routers, or a handler that resolves another path while a lookup's
 * result is still in use, can never see each other's values.
 */
import { ASGIError, HTTPError } from "../../errors.js";
import { decodePathSegment } from "../path-decode.js";

/** How a parameter's wire segment becomes its value: `{id:int}` → number, else a string. */
export type Converter = "str" | "int" | "path";

/** A route template the router cannot build (caller error, raised at registration). */
export function invalidRoute(message: string): ASGIError {
  return new ASGIError(message, { code: "ASGI_INVALID_ROUTE" });
}

/** The path parameters of a match, by name, converted. */
export type RouteParams = Record<string, string | number>;

/** One route template's handlers by method, and the names and kinds of its parameters. */
export interface Route<H> {
  readonly handlers: Map<string, H>;
  readonly paramNames: readonly string[];
  readonly converters: readonly Converter[];
  /** The match of this route when it has no parameters: one object for every lookup. */
  readonly bare: RouteMatch<H>;
}

/** What a lookup found: the route, and the parameters the path gave it. */
export interface RouteMatch<H> {
  readonly route: Route<H>;
  readonly params: RouteParams;
}

const NO_PARAMS: RouteParams = Object.freeze(Object.create(null) as RouteParams);

/** A route as the tree files it: made once, at registration. */
class TreeRoute<H> implements Route<H> {
  readonly handlers = new Map<string, H>();
  readonly bare: RouteMatch<H> = { route: this, params: NO_PARAMS };
  constructor(
    readonly paramNames: readonly string[],
    readonly converters: readonly Converter[],
  ) {}
}

/** The match of `route` for the first `count` of `values` (the walk's parameter values). */
function matchOf<H>(route: Route<H>, values: string[] | null, count: number): RouteMatch<H> {
  if (count === 0 || values === null) return route.bare;
  // A plain object (fast properties): the names come from the route templates, which
  // registration keeps free of `__proto__`, never from the request.
  const params: RouteParams = {};
  for (let i = 0; i < count; i++) {
    const value = values[i] as string;
    params[route.paramNames[i] as string] = route.converters[i] === "int" ? Number(value) : value;
  }
  return { route, params };
}

/** A plain static template and its route, in a chain of templates that share a hash. */
interface ExactRoute<H> {
  readonly path: string;
  readonly route: Route<H>;
  next: ExactRoute<H> | undefined;
}

/** A static child of a node, in a chain of children whose segments share a hash. */
interface StaticChild<H> {
  readonly segment: string;
  readonly node: Node<H>;
  next: StaticChild<H> | undefined;
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
class Node<H> {
  /** Static children by segment hash (Smi keys: a lookup allocates nothing). */
  private readonly statics = new Map<number, StaticChild<H>>();
  param: { node: Node<H>; converter: Converter } | undefined;
  /** A `{x:path}` parameter here swallows the rest of the path. */
  rest: Route<H> | undefined;
  route: Route<H> | undefined;
  /** Trees included here with a prefix that ends at this node. */
  mounts: RouteTree<H>[] | undefined;

  /** The static child for `segment`, made on first use (route registration). */
  child(segment: string): Node<H> {
    const found = this.lookup(segment);
    if (found !== undefined) return found;
    const node = new Node<H>();
    const hash = segmentHash(segment, 0, segment.length);
    this.statics.set(hash, { segment, node, next: this.statics.get(hash) });
    return node;
  }

  /** True when the node has static children: most parameter nodes have none. */
  get hasStatics(): boolean {
    return this.statics.size > 0;
  }

  /** The static child for a decoded segment. */
  lookup(segment: string): Node<H> | undefined {
    let entry = this.statics.get(segmentHash(segment, 0, segment.length));
    for (; entry !== undefined; entry = entry.next) {
      if (entry.segment === segment) return entry.node;
    }
    return undefined;
  }

  /** The static child for the plain wire segment `raw[start, end)`, compared in place. */
  lookupIn(raw: string, start: number, end: number, hash: number): Node<H> | undefined {
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
 * tree itself walks the path in place, segment by segment; see `RouteTree.find`.)
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

/** The segments of a template or prefix (after its leading "/"). */
export function templateSegments(template: string): string[] {
  if (!template.startsWith("/")) throw invalidRoute(`Route path must start with "/": ${template}`);
  return template.split("/").slice(1);
}

/**
 * Routes on a segment tree (no regular expressions): static segments beat parameters, then a
 * `{x:path}` parameter takes the rest. `H` is what a route holds per method.
 */
export class RouteTree<H> {
  private readonly root = new Node<H>();
  /** Plain static templates → route: most requests resolve with one Map lookup. */
  private readonly exact = new Map<number, ExactRoute<H>>();

  /**
   * The route of `template` (made on first use), for the caller to add handlers to. Throws
   * `ASGIError` `ASGI_INVALID_ROUTE` for a template it cannot build.
   */
  add(template: string): Route<H> {
    let node = this.root;
    const paramNames: string[] = [];
    const converters: Converter[] = [];
    const segments = templateSegments(template);
    for (let i = 0; i < segments.length; i++) {
      const segment = segments[i] as string;
      if (segment.startsWith("{") && segment.endsWith("}")) {
        const [name, kind = "str"] = segment.slice(1, -1).split(":");
        if (kind !== "str" && kind !== "int" && kind !== "path") {
          throw invalidRoute(`Unknown converter ${kind} in ${template}`);
        }
        if (name === undefined || name.length === 0 || name === "__proto__") {
          throw invalidRoute(`Invalid parameter name in ${template}`);
        }
        paramNames.push(name);
        converters.push(kind);
        if (kind === "path") {
          if (i !== segments.length - 1) throw invalidRoute(`{${name}:path} must come last`);
          node.rest ??= new TreeRoute<H>(paramNames, converters);
          return node.rest;
        }
        if (node.param === undefined) node.param = { node: new Node(), converter: kind };
        else if (node.param.converter !== kind) {
          throw invalidRoute(`Conflicting parameter converters at ${template}`);
        }
        node = node.param.node;
      } else {
        node = node.child(segment);
      }
    }
    node.route ??= new TreeRoute<H>(paramNames, converters);
    if (isPlainStatic(template)) this.addExact(template, node.route);
    return node.route;
  }

  /**
   * Consults `tree` for paths under the static `prefix` ("" or "/" for the root) that match
   * no route of this tree; routes added to `tree` later are seen too.
   */
  include(prefix: string, tree: RouteTree<H>): void {
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
    if (node.mounts === undefined) node.mounts = [tree];
    else node.mounts.push(tree);
  }

  /**
   * The route of a wire path and its parameters; `null` when none matches. Throws
   * `HTTPError` 400 `HTTP_MALFORMED_PATH` for malformed percent-encoding. A plain static path
   * is one Map lookup: no walk, no decoding, no allocation.
   */
  lookup(rawPath: string): RouteMatch<H> | null {
    // segmentHash() and the plain-path test in one pass over the path, instead of two.
    let hash = 0;
    let plain = true;
    for (let i = 0; i < rawPath.length; i++) {
      const code = rawPath.charCodeAt(i);
      if (code === 0x25 || code > 0x7f) plain = false;
      hash = (Math.imul(hash, 31) + code) | 0;
    }
    if (plain) {
      for (let entry = this.exact.get(hash); entry !== undefined; entry = entry.next) {
        if (entry.path === rawPath) return entry.route.bare;
      }
    }
    const found = this.find(this.root, rawPath, plain, firstSegment(rawPath), null, 0);
    // A path that matches nothing is still checked whole, so malformed percent-encoding
    // anywhere in it is a 400, whichever segment the walk stopped at.
    if (found === null && !plain) splitRawPath(rawPath);
    return found;
  }

  /**
   * Walks the wire path from `start` (the offset of the current segment; past the end once
   * every segment is consumed) without splitting it first. In a plain path (no `%`, no
   * non-ASCII byte) a segment is hashed and compared where it lies, and sliced out only when a
   * parameter takes it; so a static route costs no string and no array at all. Otherwise a
   * segment is sliced and decoded when the walk reaches it; one that a failed branch decoded
   * is decoded again by the next branch, which is rare (a static child that leads nowhere)
   * and cheaper than keeping them. Parameter values go to `values[count…]`, an array made
   * when the first parameter takes a segment; a failed branch's slots are overwritten or lie
   * past the count of the route found.
   */
  private find(
    node: Node<H>,
    raw: string,
    plain: boolean,
    start: number,
    values: string[] | null,
    count: number,
  ): RouteMatch<H> | null {
    if (start > raw.length) {
      if (node.route !== undefined) return matchOf(node.route, values, count);
    } else {
      let end: number;
      /** The decoded segment; for a plain path only sliced out when a parameter takes it. */
      let segment: string | undefined;
      let child: Node<H> | undefined;
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
        const found = this.find(child, raw, plain, end + 1, values, count);
        if (found !== null) return found;
      }
      const param = node.param;
      // A non-empty wire segment decodes to a non-empty one (strict decoding, at least a byte).
      if (param !== undefined && end > start) {
        segment ??= raw.slice(start, end);
        if (param.converter !== "int" || INT.test(segment)) {
          // Made with its first value: a literal of one, which grows only for a second.
          if (values === null) values = [segment];
          else values[count] = segment;
          const found = this.find(param.node, raw, plain, end + 1, values, count + 1);
          if (found !== null) return found;
        }
      }
    }
    const mounts = node.mounts;
    if (mounts !== undefined) {
      for (const tree of mounts) {
        const found = tree.find(tree.root, raw, plain, start, values, count);
        if (found !== null) return found;
      }
    }
    if (node.rest !== undefined && start <= raw.length) {
      const rest = restOf(raw, start, plain);
      if (values === null) values = [rest];
      else values[count] = rest;
      return matchOf(node.rest, values, count + 1);
    }
    return null;
  }

  private addExact(path: string, route: Route<H>): void {
    const hash = segmentHash(path, 0, path.length);
    for (let entry = this.exact.get(hash); entry !== undefined; entry = entry.next) {
      if (entry.path === path) return; // the same route: its node is shared
    }
    this.exact.set(hash, { path, route, next: this.exact.get(hash) });
  }
}
