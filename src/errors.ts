/**
 * `mtaio/exceptions`: the error hierarchy of mtaio.
 *
 * ```text
 * MTAIOError ← ProtocolError ← ASGIError ← HTTPError ← ValidationError
 *                            ← MQTTError
 *                            ← MailError ← SMTPError, IMAPError
 * ```
 *
 * Every error carries a stable, machine-readable `code` (UPPER_SNAKE, prefixed by area:
 * `ASGI_…`, `HTTP_…`, `MQTT_…`, `MAIL_…`, `SMTP_…`, `IMAP_…`) so callers branch on `code`,
 * never on message text, and `cause` when it wraps a lower-level error.
 *
 * @example
 * ```ts
 * import { MQTTError, MTAIOError } from "mtaio/exceptions";
 *
 * try {
 *   await client.connect();
 * } catch (error) {
 *   if (error instanceof MQTTError && error.code === "MQTT_CONNECT_REFUSED") retryLater();
 *   else if (error instanceof MTAIOError) console.error(error.code, error.message);
 *   else throw error;
 * }
 * ```
 *
 * @module mtaio/exceptions
 */

/** Options every error constructor takes. */
export interface MTAIOErrorOptions {
  /** Stable machine-readable code; each class has a default. */
  code?: string;
  /** The lower-level error this one wraps. */
  cause?: unknown;
}

/**
 * The root of every error mtaio raises: a stable `code` to branch on, a message a person
 * can act on, and `cause` when it wraps another error.
 *
 * @example
 * ```ts
 * try {
 *   await client.connect("mqtt://broker.local");
 * } catch (error) {
 *   if (error instanceof MTAIOError) console.error(error.code, error.message, error.cause);
 *   else throw error;
 * }
 * ```
 */
export class MTAIOError extends Error {
  /** Stable machine-readable identifier of the failure, e.g. `MQTT_MALFORMED_PACKET`. */
  readonly code: string;

  constructor(message: string, options: MTAIOErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code ?? "MTAIO_ERROR";
  }

  /** The subclass's name (`"SMTPError"`, `"MQTTError"`, …), as stack traces and logs show it. */
  override get name(): string {
    return this.constructor.name;
  }
}

/**
 * A failure of a network protocol: malformed input, a peer breaking the rules, a timeout.
 *
 * @example
 * ```ts
 * if (error instanceof ProtocolError) scheduleRetry(); // any protocol's failure
 * ```
 */
export class ProtocolError extends MTAIOError {
  constructor(message: string, options: MTAIOErrorOptions = {}) {
    super(message, { code: "PROTOCOL_ERROR", ...options });
  }
}

/**
 * A failure in the ASGI server or framework (bad app behaviour, bad response headers, …).
 *
 * @example
 * ```ts
 * if (error instanceof ASGIError && error.code === "ASGI_INVALID_ROUTE") fixTheTemplate();
 * ```
 */
export class ASGIError extends ProtocolError {
  constructor(message: string, options: MTAIOErrorOptions = {}) {
    super(message, { code: "ASGI_ERROR", ...options });
  }
}

export interface HTTPErrorOptions extends MTAIOErrorOptions {
  /** Extra response headers, e.g. `Allow` for a 405 or `WWW-Authenticate` for a 401. */
  headers?: Record<string, string>;
}

/**
 * Raised by handlers to answer with an HTTP error. `detail` is sent to the client as
 * `{"detail": …}`, so it must not contain anything private.
 *
 * @example
 * ```ts
 * router.get("/admin", (request) => {
 *   if (!request.headers.authorization) {
 *     throw new HTTPError(401, "Sign in first", { headers: { "www-authenticate": "Bearer" } });
 *   }
 *   return Response.json({ ok: true });
 * });
 * ```
 */
export class HTTPError extends ASGIError {
  /** The HTTP status the framework answers with. */
  readonly statusCode: number;
  /** Sent to the client as `{"detail": …}` (the message when no detail was given). */
  readonly detail: unknown;
  /** Extra response headers (e.g. `Allow`, `WWW-Authenticate`). */
  readonly headers: Record<string, string>;

  constructor(statusCode: number, detail?: unknown, options: HTTPErrorOptions = {}) {
    const text = typeof detail === "string" ? detail : `HTTP ${statusCode}`;
    super(text, { code: `HTTP_${statusCode}`, ...options });
    this.statusCode = statusCode;
    this.detail = detail ?? text;
    this.headers = options.headers ?? {};
  }
}

/**
 * Invalid input from the client (400 unless another 4xx status is given).
 *
 * @example
 * ```ts
 * const body = (await request.json()) as { name?: unknown };
 * if (typeof body.name !== "string") throw new ValidationError({ name: "a string is required" });
 * ```
 */
export class ValidationError extends HTTPError {
  constructor(
    detail: unknown = "Validation failed",
    statusCode = 400,
    options: HTTPErrorOptions = {},
  ) {
    super(statusCode, detail, { code: "HTTP_VALIDATION_ERROR", ...options });
  }
}

/**
 * An MQTT failure; `reasonCode` is the MQTT 5 reason code (or 3.1.1 return code) when there is one.
 *
 * @example
 * ```ts
 * try {
 *   await client.publish("a/b", "x", { qos: QoS.AT_LEAST_ONCE });
 * } catch (error) {
 *   if (error instanceof MQTTError && error.reasonCode === 0x87) console.error("not authorized");
 * }
 * ```
 */
export class MQTTError extends ProtocolError {
  /** The MQTT 5 reason code, or the 3.1.1 CONNACK return code, when the broker gave one. */
  readonly reasonCode: number | undefined;

  constructor(message: string, options: MTAIOErrorOptions & { reasonCode?: number } = {}) {
    super(message, { code: "MQTT_ERROR", ...options });
    this.reasonCode = options.reasonCode;
  }
}

/**
 * A mail failure (MIME composition or parsing, SMTP, IMAP).
 *
 * @example
 * ```ts
 * if (error instanceof MailError && error.code === "MAIL_HEADER_INJECTION") rejectInput();
 * ```
 */
export class MailError extends ProtocolError {
  constructor(message: string, options: MTAIOErrorOptions = {}) {
    super(message, { code: "MAIL_ERROR", ...options });
  }
}

export interface SMTPErrorOptions extends MTAIOErrorOptions {
  /** The three-digit SMTP reply code (RFC 5321 §4.2), when the server answered. */
  replyCode?: number;
  /** The RFC 3463 enhanced status code, e.g. `5.1.1`, when the server sent one. */
  enhancedStatus?: string;
  /** The server's reply text. */
  response?: string;
}

/**
 * An SMTP failure: a refused command, a broken reply, a timeout or a lost connection. When the
 * server answered, `replyCode`, `enhancedStatus` and `response` say what it said.
 *
 * @example
 * ```ts
 * try {
 *   await smtp.sendMessage(message);
 * } catch (error) {
 *   if (error instanceof SMTPError && error.replyCode === 552) console.error("too large");
 * }
 * ```
 */
export class SMTPError extends MailError {
  /** The three-digit reply code, when the server answered. */
  readonly replyCode: number | undefined;
  /** The RFC 3463 enhanced status code (e.g. `5.7.8`), when the server sent one. */
  readonly enhancedStatus: string | undefined;
  /** The server's reply text, when it answered. */
  readonly response: string | undefined;

  constructor(message: string, options: SMTPErrorOptions = {}) {
    super(message, { code: "SMTP_ERROR", ...options });
    this.replyCode = options.replyCode;
    this.enhancedStatus = options.enhancedStatus;
    this.response = options.response;
  }
}

export interface IMAPErrorOptions extends MTAIOErrorOptions {
  /** The server's tagged (or untagged BYE) response line, when there is one. */
  response?: string;
  /** `NO`, `BAD` or `BYE` when the server said so. */
  status?: string;
  /** The response code in brackets (`TRYCREATE`, `AUTHENTICATIONFAILED`, …), when there was one. */
  responseCode?: string;
}

/**
 * An IMAP failure: a `NO`/`BAD`/`BYE` response, a broken response, a timeout or a lost
 * connection.
 *
 * @example
 * ```ts
 * if (error instanceof IMAPError && error.status === "NO") console.error(error.response);
 * ```
 */
export class IMAPError extends MailError {
  /** The server's response line, when there is one. */
  readonly response: string | undefined;
  /** `NO`, `BAD` or `BYE` when the server said so. */
  readonly status: string | undefined;
  /** The response code in brackets (`TRYCREATE`, `AUTHENTICATIONFAILED`, …), when there was one. */
  readonly responseCode: string | undefined;

  constructor(message: string, options: IMAPErrorOptions = {}) {
    super(message, { code: "IMAP_ERROR", ...options });
    this.response = options.response;
    this.status = options.status;
    this.responseCode = options.responseCode;
  }
}
