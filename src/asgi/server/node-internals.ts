/**
 * Every field of Node's HTTP and TLS machinery that is not public API, read or written here
 * and nowhere else in the server.
 *
 * The server uses four of them, each for something the public API cannot tell or do:
 * - `socket._httpMessage`: the response Node is writing on a connection, so that `close()`
 *   cuts only connections that carry none, and a parser error after a pipelined request is
 *   answered in turn (client-error.ts);
 * - `socket.parser.incoming`: the request Node's parser still holds, so that a request whose
 *   body is read whole can be released without Node's end-of-stream steps (exchange.ts), and
 *   a parser error can be placed inside or after the request in flight;
 * - `res._last`: Node's mark on a response whose head says `Connection: close` for any
 *   reason, so that nothing pipelined behind it is processed (pipeline.ts);
 * - `tlsSocket._parent`: the TCP socket a TLS connection wraps, so that `close()` tracks a
 *   connection as one socket through its handshake.
 *
 * A Node release may rename or drop any of them. So each is checked once, on the first
 * request (and the first TLS connection) the server gets, where the server would read it:
 * real objects, so no synthetic probe runs Node's code with shapes it never sees otherwise.
 * Each has a fallback built on public API alone that keeps the behaviour and costs a little
 * more per request. Tests force the fallbacks (`forceNodeFallbacks()`) to run them over real
 * sockets.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { Socket } from "node:net";
import { TLSSocket } from "node:tls";

/** Which private fields this Node has, each meaning what the server relies on. */
export interface NodeInternalsSupport {
  /** `socket._httpMessage` is the response being written on the socket (null when none). */
  responseLink: boolean;
  /** `socket.parser.incoming` is the request the parser is reading, and may be cleared. */
  parserLink: boolean;
  /** `res._last` is true once the response's head says `Connection: close`. */
  closingMark: boolean;
  /** `tlsSocket._parent` is the TCP socket a server-side TLS socket wraps. */
  tlsParent: boolean;
}

/** A connection as Node's HTTP server sets it up (private fields, each maybe missing). */
interface NodeSocket extends Socket {
  _httpMessage?: ServerResponse | null;
  parser?: { incoming?: IncomingMessage | null } | null;
  _parent?: Socket | null;
  [kResponses]?: ServerResponse[];
}

interface NodeResponse extends ServerResponse {
  _last?: boolean;
}

/** The fallback's own record of a connection's open responses, in request order. */
const kResponses = Symbol("mtaio.openResponses");

// What the server may use: each false until the first request shows it (or when a test
// forces the fallback). Before that request no response exists, so the fallbacks are exact.
let responseLink = false;
let parserLink = false;
let closingMark = false;
/** null until the first TLS connection shows it. */
let tlsParent: boolean | null = null;
let probed = false;
/** Fallbacks a test forced; they stay forced across probes. */
let forced: Partial<NodeInternalsSupport> = {};

/**
 * Checks the HTTP fields on the first request: Node has just made `req` and `res` for it, so
 * its parser still holds `req` and, the connection carrying no earlier request, `res` is the
 * response attached to the socket. `_last` is a flag every outgoing message starts with.
 */
function probe(req: IncomingMessage, res: ServerResponse): void {
  probed = true;
  const socket = req.socket as NodeSocket;
  const parser = socket.parser;
  responseLink = socket._httpMessage === res && forced.responseLink !== false;
  parserLink = parser != null && parser.incoming === req && forced.parserLink !== false;
  closingMark = typeof (res as NodeResponse)._last === "boolean" && forced.closingMark !== false;
}

/** What the checks found (and no test forced off); `null` for what is not checked yet. */
export function nodeInternalsSupport(): {
  [K in keyof NodeInternalsSupport]: boolean | null;
} {
  if (!probed) return { responseLink: null, parserLink: null, closingMark: null, tlsParent };
  return { responseLink, parserLink, closingMark, tlsParent };
}

/**
 * For tests: use the public-API fallback for each field set to `false` here (`{}` restores
 * what the checks find). Takes effect from the next request and TLS connection on; a test
 * flips it before it starts its servers.
 */
export function forceNodeFallbacks(fallbacks: Partial<NodeInternalsSupport>): void {
  forced = { ...fallbacks };
  probed = false;
  responseLink = false;
  parserLink = false;
  closingMark = false;
  tlsParent = null;
}

// ---- the response in flight on a connection (socket._httpMessage) ----------------------------

/**
 * Called for every request the server gets, first thing: checks the fields on the first one.
 * The fallback then keeps its own list of the connection's responses that have not finished,
 * in request order, as Node attaches them one at a time.
 */
export function noteRequest(req: IncomingMessage, res: ServerResponse): void {
  if (!probed) probe(req, res);
  if (responseLink) return;
  const own = req.socket as NodeSocket;
  const open = own[kResponses];
  if (open === undefined) own[kResponses] = [res];
  else open.push(res);
  let done = false;
  const forget = () => {
    if (done) return;
    done = true;
    const list = own[kResponses];
    const at = list === undefined ? -1 : list.indexOf(res);
    if (at >= 0) list?.splice(at, 1);
  };
  // Node detaches a response from its socket on 'finish'; 'close' also covers one that was cut.
  res.once("finish", forget);
  res.once("close", forget);
}

/** The response Node is writing on `socket` (or will write next), null when none. */
export function responseInFlight(socket: Socket): ServerResponse | null {
  const own = socket as NodeSocket;
  if (responseLink) return own._httpMessage ?? null;
  return own[kResponses]?.[0] ?? null;
}

// ---- the request Node's parser holds (socket.parser.incoming) -------------------------------

/**
 * Lets Node's HTTP parser forget a request whose body nobody will read any more (it has none,
 * or it was read whole); false when that is not possible here (the fallback, another server),
 * and then Node ends the request itself, as usual.
 *
 * Node keeps the request it is parsing as `parser.incoming` and lets go of it (its
 * clearIncoming sets `parser.incoming = null`) only once the request has ended: after the
 * parser's message-complete callback pushed the end of the stream, something read it, 'end'
 * was emitted, and the request was destroyed and emitted 'close'. Done here, the parser skips
 * those end-of-stream steps, which nobody observes for an ASGI request and which are a large
 * share of a small request's cost. No byte is dropped: there is no body left to parse, and a
 * Content-Length message has no trailers.
 *
 * Without it, a request whose Content-Length body was read before the parser saw the end of
 * the message (over a socket, its message-complete callback runs a turn later) would never
 * end unless the caller resumes it, and each idle keep-alive connection would hold its last
 * request, with all it references, until its next request.
 */
export function releaseFromParser(req: IncomingMessage): boolean {
  if (!parserLink) return false;
  const parser = (req.socket as NodeSocket | null)?.parser;
  if (parser == null || parser.incoming !== req) return false;
  parser.incoming = null;
  return true;
}

/**
 * True while Node's parser has not finished reading `req`. (`req.complete` alone does not tell
 * when releaseFromParser() is in use: it releases a request before Node marks it complete.
 * Without the parser link nothing is released early, and `req.complete` is exact.)
 */
export function stillParsing(req: IncomingMessage, socket: Socket): boolean {
  if (req.complete) return false;
  if (!parserLink) return true;
  return (socket as NodeSocket).parser?.incoming === req;
}

// ---- a response that closes its connection (res._last) -------------------------------------

/** True when `value` (a Connection header) lists the `close` option (RFC 9110 §7.6.1). */
function listsClose(value: string): boolean {
  for (const option of value.split(",")) {
    if (option.trim().toLowerCase() === "close") return true;
  }
  return false;
}

/**
 * Called with the flat `[name, value, …]` headers just before `res.writeHead`. With the
 * fallback, an app's own `Connection: close` is turned into `res.shouldKeepAlive = false`
 * (public), which Node reads the same way, so closesConnection() can tell without `_last`.
 * The head on the wire is the same: Node writes the app's Connection header as given.
 */
export function noteResponseHeaders(res: ServerResponse, flat: readonly string[]): void {
  if (closingMark) return;
  for (let i = 0; i < flat.length; i += 2) {
    const name = flat[i] as string;
    if (
      name.length === 10 &&
      name.toLowerCase() === "connection" &&
      listsClose(flat[i + 1] ?? "")
    ) {
      res.shouldKeepAlive = false;
    }
  }
}

/** True when the head of `res` says `Connection: close` (Node's `_last`, for any reason). */
export function closesConnection(res: ServerResponse): boolean {
  if (!res.shouldKeepAlive) return true;
  return closingMark && (res as NodeResponse)._last === true;
}

// ---- the TCP socket under a TLS one (tlsSocket._parent) -------------------------------------

/**
 * The TCP socket that `tlsSocket` (a server-side TLS connection) wraps, among `candidates`
 * (the connections tracked so far), or null. The fallback matches the two ends' addresses,
 * which a TLS socket reports from the socket it wraps.
 */
export function wrappedSocketOf(tlsSocket: Socket, candidates: Set<Socket>): Socket | null {
  if (tlsParent === null) {
    // The first TLS connection: its parent must be the TCP socket tracked at 'connection'.
    const parent = (tlsSocket as NodeSocket)._parent;
    tlsParent = parent instanceof Socket && candidates.has(parent) && forced.tlsParent !== false;
  }
  if (tlsParent) return (tlsSocket as NodeSocket)._parent ?? null;
  for (const socket of candidates) {
    if (
      socket !== tlsSocket &&
      !(socket instanceof TLSSocket) &&
      socket.remotePort === tlsSocket.remotePort &&
      socket.remoteAddress === tlsSocket.remoteAddress &&
      socket.localPort === tlsSocket.localPort
    ) {
      return socket;
    }
  }
  return null;
}
