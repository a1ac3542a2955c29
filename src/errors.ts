/**
 * The error hierarchy of mtaio (see shared API contract, "Errors"):
 *
 *   MTAIOError ← ProtocolError ← ASGIError ← HTTPError ← ValidationError
 *                              ← MQTTError
 *                              ← MailError ← SMTPError, IMAPError
 *
 * Every error carries a stable, machine-readable `code` (UPPER_SNAKE, prefixed by area:
 * `ASGI_…`, `HTTP_…`, `MQTT_…`, `MAIL_…`, `SMTP_…`, `IMAP_…`) so callers branch on `code`,
 * never on message text, and `cause` when it wraps a lower-level error.
 */

export interface MTAIOErrorOptions {
  /** Stable machine-readable code; each class has a default. */
  code?: string;
  /** The lower-level error this one wraps. */
  cause?: unknown;
}

export class MTAIOError extends Error {
  /** Stable machine-readable identifier of the failure, e.g. `MQTT_MALFORMED_PACKET`. */
  readonly code: string;

  constructor(message: string, options: MTAIOErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code ?? "MTAIO_ERROR";
  }

  override get name(): string {
    return this.constructor.name;
  }
}

/** A failure of a network protocol: malformed input, a peer breaking the rules, a timeout. */
export class ProtocolError extends MTAIOError {
  constructor(message: string, options: MTAIOErrorOptions = {}) {
    super(message, { code: "PROTOCOL_ERROR", ...options });
  }
}

/** A failure in the ASGI server or framework (bad app behaviour, bad response headers, …). */
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
 */
export class HTTPError extends ASGIError {
  readonly statusCode: number;
  readonly detail: unknown;
  readonly headers: Record<string, string>;

  constructor(statusCode: number, detail?: unknown, options: HTTPErrorOptions = {}) {
    const text = typeof detail === "string" ? detail : `HTTP ${statusCode}`;
    super(text, { code: `HTTP_${statusCode}`, ...options });
    this.statusCode = statusCode;
    this.detail = detail ?? text;
    this.headers = options.headers ?? {};
  }
}

/** Invalid input from the client (400 unless another 4xx status is given). */
export class ValidationError extends HTTPError {
  constructor(
    detail: unknown = "Validation failed",
    statusCode = 400,
    options: HTTPErrorOptions = {},
  ) {
    super(statusCode, detail, { code: "HTTP_VALIDATION_ERROR", ...options });
  }
}

/** An MQTT failure; `reasonCode` is the MQTT 5 reason code (or 3.1.1 return code) when there is one. */
export class MQTTError extends ProtocolError {
  readonly reasonCode: number | undefined;

  constructor(message: string, options: MTAIOErrorOptions & { reasonCode?: number } = {}) {
    super(message, { code: "MQTT_ERROR", ...options });
    this.reasonCode = options.reasonCode;
  }
}

/** A mail failure (MIME composition or parsing, SMTP, IMAP). */
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

export class SMTPError extends MailError {
  readonly replyCode: number | undefined;
  readonly enhancedStatus: string | undefined;
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

export class IMAPError extends MailError {
  readonly response: string | undefined;
  readonly status: string | undefined;
  readonly responseCode: string | undefined;

  constructor(message: string, options: IMAPErrorOptions = {}) {
    super(message, { code: "IMAP_ERROR", ...options });
    this.response = options.response;
    this.status = options.status;
    this.responseCode = options.responseCode;
  }
}
