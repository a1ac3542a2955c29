/**
 * One access-log line per HTTP request in Apache's "combined" format (or "common"), which log
 * analysers (GoAccess, AWStats, fail2ban) read as is:
 * `host ident user [time] "request line" status bytes "referer" "user-agent"`.
 */
import { Buffer } from "node:buffer";
import type { HTTPScope, Receive, Scope, Send } from "../../types.js";
import { ASGIMiddleware } from "../middleware.js";
import { headerValue, requestTarget } from "./shared.js";

/** Where the lines go: a function, or anything with `write(text)` (a stream, a file). */
export type AccessLogSink = ((line: string) => void) | AccessLogStream;

/** A stream-like sink, e.g. `process.stdout` or a file stream. */
export interface AccessLogStream {
  /** Gets each line with its trailing newline. */
  write(text: string): unknown;
}

/** Options of {@link AccessLogMiddleware}. */
export interface AccessLogOptions {
  /** Where each line goes (without a trailing newline for a function). Default stdout. */
  log?: AccessLogSink;
  /** `"combined"` (default) or `"common"` (without referer and user agent). */
  format?: "combined" | "common";
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** `%t`: `[10/Oct/2000:13:55:36 +0000]`, in UTC. */
function formatTime(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return (
    `[${pad(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:` +
    `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000]`
  );
}

/**
 * Escapes as Apache does for `%r` and `%i`: `"` and `\` backslashed, bytes outside printable
 * ASCII as `\xhh`, so a client cannot forge a second log line or break the quoting.
 *
 * @example
 * ```ts
 * escapeLogField('curl "x"\nfake line'); // 'curl \\"x\\"\\x0afake line'
 * ```
 */
export function escapeLogField(value: string): string {
  let out = "";
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code === 0x22 || code === 0x5c) out += `\\${value[i]}`;
    else if (code < 0x20 || code >= 0x7f) {
      // Header values are latin1 (one byte per char); wider chars come from decoded paths.
      for (const byte of Buffer.from(value[i] as string, code > 0xff ? "utf8" : "latin1")) {
        out += `\\x${byte.toString(16).padStart(2, "0")}`;
      }
    } else out += value[i];
  }
  return out;
}

/** `%u`: the user of HTTP Basic authentication (RFC 7617), or `-`. */
function basicUser(scope: HTTPScope): string {
  const authorization = headerValue(scope.headers, "authorization");
  if (authorization === undefined || !/^basic /i.test(authorization)) return "-";
  const decoded = Buffer.from(authorization.slice(6).trim(), "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  const user = colon === -1 ? "" : decoded.slice(0, colon);
  return user.length === 0 ? "-" : escapeLogField(user).replace(/ /g, "\\x20");
}

/**
 * Writes one line per HTTP request once its response is complete (or the app failed: then
 * status 500 unless a response had started, and the error is rethrown).
 *
 * @example
 * ```ts
 * app.addMiddleware(AccessLogMiddleware, { log: (line) => logger.info(line) });
 * // 127.0.0.1 - - [07/Dec/2026:23:24:00 +0000] "GET /items?page=2 HTTP/1.1" 200 512 "-" "curl/8.5.0"
 * ```
 */
export class AccessLogMiddleware extends ASGIMiddleware<AccessLogOptions> {
  override async call(scope: Scope, receive: Receive, send: Send): Promise<void> {
    if (scope.type !== "http") return this.app(scope, receive, send);
    const started = new Date();
    let status = 0;
    let bytes = 0;
    try {
      await this.app(scope, receive, (event) => {
        if (event.type === "http.response.start") status = event.status;
        else if (event.type === "http.response.body") bytes += event.body?.byteLength ?? 0;
        return send(event);
      });
    } catch (error) {
      if (status === 0) status = 500;
      throw error;
    } finally {
      this.write(this.format(scope, started, status, bytes));
    }
  }

  private format(scope: HTTPScope, started: Date, status: number, bytes: number): string {
    const host = scope.client === null ? "-" : scope.client[0];
    const request = escapeLogField(
      `${scope.method} ${requestTarget(scope)} HTTP/${scope.http_version}`,
    );
    let line =
      `${host} - ${basicUser(scope)} ${formatTime(started)} "${request}" ` +
      `${status === 0 ? "-" : status} ${bytes === 0 ? "-" : bytes}`;
    if (this.options.format !== "common") {
      const referer = headerValue(scope.headers, "referer");
      const agent = headerValue(scope.headers, "user-agent");
      line +=
        ` "${referer === undefined ? "-" : escapeLogField(referer)}"` +
        ` "${agent === undefined ? "-" : escapeLogField(agent)}"`;
    }
    return line;
  }

  private write(line: string): void {
    const sink = this.options.log;
    if (sink === undefined) process.stdout.write(`${line}\n`);
    else if (typeof sink === "function") sink(line);
    else sink.write(`${line}\n`);
  }
}
