/** The `ASGIError`s the server raises, with their stable codes. */
import { ASGIError } from "../../errors.js";

/** A response header name or value the wire cannot carry (CR, LF, NUL, a non-token name, …). */
export function invalidHeader(cause: unknown): ASGIError {
  const detail = cause instanceof Error ? `: ${cause.message}` : "";
  return new ASGIError(
    `Invalid response header in http.response.start${detail}. Header names must be RFC 9110 ` +
      "tokens and values must not contain CR, LF or NUL.",
    { code: "ASGI_INVALID_HEADER", cause },
  );
}

export function invalidStatus(status: unknown, cause: unknown): ASGIError {
  return new ASGIError(
    `Invalid status ${String(status)} in http.response.start: use an integer 100–999.`,
    { code: "ASGI_INVALID_STATUS", cause },
  );
}

/** The app sent an event the ASGI HTTP protocol does not allow at this point. */
export function unexpectedMessage(message: string): ASGIError {
  return new ASGIError(message, { code: "ASGI_UNEXPECTED_MESSAGE" });
}

/**
 * `send()` after the client went away (ASGI HTTP spec 2.4: "send() on a closed connection
 * should raise"). The server does not log it as an application error.
 */
export function clientDisconnected(): ASGIError {
  return new ASGIError(
    "The connection closed before the response was complete: the client went away, or the " +
      "server already answered the request itself (413 for a body over the limit).",
    {
      code: "ASGI_CLIENT_DISCONNECTED",
    },
  );
}

export function isClientDisconnected(error: unknown): boolean {
  return error instanceof ASGIError && error.code === "ASGI_CLIENT_DISCONNECTED";
}
