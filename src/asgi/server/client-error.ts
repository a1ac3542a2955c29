/**
 * What the server does when Node's parser refuses the bytes on a connection, or a client is
 * too slow to send its request ('clientError').
 *
 * Node's default answer (when nothing listens) suits a connection that carries nothing else:
 * a canned 400 / 408 / 413 / 431 with `Connection: close`, then the socket is destroyed. But
 * the bad bytes may come after a request that is still being answered (pipelining): Node then
 * writes its 400 ahead of that request's response, so the client takes it for the answer to a
 * request the app did run, and destroys the socket under the response. Here, the requests
 * parsed before the bad bytes are answered in turn and the connection closes after the last
 * of them; the bad bytes get no answer of their own (RFC 9112 §9.6 lets a server close a
 * connection; a client retries what got no response).
 */
import { Buffer } from "node:buffer";
import { STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import { responseInFlight, stillParsing } from "./node-internals.js";
import { admitNoMore, refuseFurther } from "./pipeline.js";

const kHandled = Symbol("mtaio.clientErrorHandled");
interface HandledSocket extends Socket {
  [kHandled]?: true;
}

/** Node's status for each error it answers itself (`socketOnError` in _http_server.js). */
function statusFor(code: string | undefined): number {
  switch (code) {
    case "HPE_HEADER_OVERFLOW":
      return 431;
    case "HPE_CHUNK_EXTENSIONS_OVERFLOW":
      return 413;
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return 408;
    default:
      return 400;
  }
}

/** True for what concerns the request bytes (parser errors, timeouts), not the socket itself. */
function isRequestError(code: string | undefined): boolean {
  return code !== undefined && (code.startsWith("HPE_") || code === "ERR_HTTP_REQUEST_TIMEOUT");
}

/**
 * Handles a 'clientError' of `socket`; `onDropped` is told how many admitted requests waiting
 * on it will never run.
 */
export function handleClientError(
  error: Error & { code?: string },
  socket: Socket,
  onDropped: (count: number) => void,
): void {
  const handled = socket as HandledSocket;
  // The parser reports its error again for every later chunk: act once.
  if (handled[kHandled] === true) return;
  handled[kHandled] = true;
  const inFlight = responseInFlight(socket);
  // When the parser is still reading the request in flight, the error is in its own body (it
  // reads messages in order): that one cannot be answered, so the connection goes, as with Node.
  if (
    inFlight != null &&
    !stillParsing(inFlight.req, socket) &&
    socket.writable &&
    isRequestError(error.code)
  ) {
    // The requests parsed before the bad bytes are answered in turn; the last one closes.
    if (admitNoMore(socket)) return;
    if (!inFlight.headersSent) {
      inFlight.shouldKeepAlive = false; // its head says Connection: close; Node closes after it
    } else {
      inFlight.once("finish", () => socket.destroySoon());
    }
    return;
  }
  refuseFurther(socket, onDropped);
  // The canned answer goes out only where nothing of a response has been written yet.
  if (socket.writable && (inFlight == null || !inFlight.headersSent)) {
    const status = statusFor(error.code);
    socket.write(
      Buffer.from(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\n\r\n`),
    );
  }
  socket.destroy(error);
}
