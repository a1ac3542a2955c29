/**
 * `StaticFiles`: an ASGI app that serves the files of one directory, mountable at a prefix
 * (`mount("/static", new StaticFiles({ directory: "public" }))`).
 */
import { realpathSync, type Stats, statSync } from "node:fs";
import { type FileHandle, open, realpath, stat } from "node:fs/promises";
import { basename, join, sep } from "node:path";
import { ASGIError } from "../../errors.js";
import type { ASGIApp, ASGIHeaders, HTTPScope, Receive, Scope, Send } from "../types.js";
import { answerLifespan, sendText } from "./plain-replies.js";
import {
  contentTypeFor,
  entityTag,
  ifRangeAllows,
  isNotModified,
  lastModified,
  parseRange,
} from "./static-http.js";
import { type StaticPath, staticPathOf } from "./static-path.js";

/** Options of `new StaticFiles()`. */
export interface StaticFilesOptions {
  /** The directory to serve; it must exist when the app is built. */
  directory: string;
  /**
   * HTML mode: a directory answers with its `index.html` (a request without the trailing
   * `/` is redirected to it first), and a missing file with the root's `404.html`, if any.
   * Default `false`: directories are 404.
   */
  html?: boolean;
  /**
   * Follow symbolic links wherever they point. Default `false`: a link is served only when
   * its target, resolved, is inside the directory; one that leads out of it is a 404.
   */
  followSymlinks?: boolean;
  /** `Cache-Control` for every file answer (200, 206, 304). Wins over `maxAge`. */
  cacheControl?: string;
  /** Seconds: sends `Cache-Control: public, max-age=<maxAge>`. */
  maxAge?: number;
  /** Bytes read from disk per body event. Default 64 KiB. */
  chunkSize?: number;
}

const DEFAULT_CHUNK = 64 * 1024;
const ALLOW = "GET, HEAD";
const NO_BODY = new Uint8Array(0);

/** A file found for a request: where it is and what the request asked of it. */
interface Found extends Located {
  status: number;
}

/** A path inside the root and what stat() says of it. */
interface Located {
  /** The path to open (resolved, unless `followSymlinks`). */
  file: string;
  /** The name asked for: its extension gives the type, even through a link. */
  name: string;
  stats: Stats;
}

function header(scope: HTTPScope, name: string): string | undefined {
  for (const [key, value] of scope.headers) if (key === name) return value;
  return undefined;
}

/** A short plain-text answer (404, 405, 416, redirects); its body is left out for HEAD. */
function plain(
  scope: HTTPScope,
  send: Send,
  status: number,
  text: string,
  headers: ASGIHeaders = [],
): Promise<void> {
  return sendText(send, status, text, headers, scope.method === "HEAD");
}

/**
 * Serves the files under one directory: `GET` and `HEAD`, with `ETag` / `Last-Modified` and
 * 304 answers (RFC 9110 §13), single byte ranges (206, 416), content types from the file
 * extension, and bodies streamed from disk one chunk per `send()`, each awaited (the
 * server's backpressure). Paths that try to leave the directory (`..`, encoded separators,
 * backslashes, NUL, symlinks out of it) are answered 404, like a missing file.
 * `files.asgi` is the ASGI callable.
 *
 * @example
 * ```ts
 * const files = new StaticFiles({ directory: "public", html: true, maxAge: 3600 });
 * await serve(mount("/static", files, app.asgi), { port: 8000 });
 * ```
 */
export class StaticFiles {
  /** The directory served, with every symlink in it resolved. */
  readonly directory: string;
  private readonly html: boolean;
  private readonly followSymlinks: boolean;
  private readonly cacheControl: string | undefined;
  private readonly chunkSize: number;
  /** The ASGI 3.0 callable, bound once. */
  readonly asgi: ASGIApp;

  constructor(options: StaticFilesOptions) {
    let directory: string;
    try {
      directory = realpathSync(options.directory);
      if (!statSync(directory).isDirectory()) throw new Error("not a directory");
    } catch (error) {
      throw new ASGIError(`StaticFiles: ${options.directory} is not a directory`, {
        code: "ASGI_STATIC_DIRECTORY",
        cause: error,
      });
    }
    this.directory = directory;
    this.html = options.html ?? false;
    this.followSymlinks = options.followSymlinks ?? false;
    this.cacheControl =
      options.cacheControl ??
      (options.maxAge === undefined ? undefined : `public, max-age=${Math.floor(options.maxAge)}`);
    this.chunkSize = Math.max(1, options.chunkSize ?? DEFAULT_CHUNK);
    this.asgi = (scope, receive, send) => this.call(scope, receive, send);
  }

  private async call(scope: Scope, receive: Receive, send: Send): Promise<void> {
    if (scope.type === "lifespan") return answerLifespan(receive, send);
    if (scope.type !== "http") return;
    if (scope.method !== "GET" && scope.method !== "HEAD") {
      return plain(scope, send, 405, "Method Not Allowed", [["allow", ALLOW]]);
    }
    const path = staticPathOf(scope);
    const found = path === null ? null : await this.lookup(path, scope, send);
    if (found === undefined) return; // answered (a redirect)
    if (found === null) {
      const page = this.html ? await this.regularFile(join(this.directory, "404.html")) : null;
      if (page === null) return plain(scope, send, 404, "Not Found");
      return this.sendFile(scope, send, { ...page, status: 404 });
    }
    return this.sendFile(scope, send, found);
  }

  /**
   * The file a safe path names: `null` when there is none to serve, `undefined` when the
   * request was answered here (HTML mode's redirect to the directory's `/` form).
   */
  private async lookup(path: StaticPath, scope: HTTPScope, send: Send) {
    const target = join(this.directory, ...path.segments);
    const stats = await this.statInside(target);
    if (stats === null) return null;
    if (stats.stats.isFile() && !path.trailingSlash) return { ...stats, status: 200 };
    if (!stats.stats.isDirectory() || !this.html) return null;
    if (!path.trailingSlash) {
      // index.html's relative links resolve against the directory only with a trailing `/`.
      // root_path without a trailing `/`: a Location starting `//` would leave the site.
      const root = encodeURI(scope.root_path.replace(/\/+$/, ""));
      const location = `${root}/${path.segments
        .map((segment) => `${encodeURIComponent(segment)}/`)
        .join("")}`;
      await plain(scope, send, 307, "Temporary Redirect", [["location", location]]);
      return undefined;
    }
    const index = await this.regularFile(join(stats.file, "index.html"));
    return index === null ? null : { ...index, status: 200 };
  }

  /** A regular file inside the root, or `null`. */
  private async regularFile(target: string): Promise<Located | null> {
    const found = await this.statInside(target);
    return found?.stats.isFile() ? found : null;
  }

  /**
   * Stats `target` and checks that it is inside the root. Without `followSymlinks` the
   * path is resolved first, and what it resolves to must be the root or below it; the file
   * is then opened by that resolved path, with no link left in it to follow.
   */
  private async statInside(target: string): Promise<Located | null> {
    try {
      const file = this.followSymlinks ? target : await realpath(target);
      if (file !== this.directory && !file.startsWith(this.directory + sep)) return null;
      return { file, name: basename(target), stats: await stat(file) };
    } catch {
      return null; // ENOENT, ENOTDIR, EACCES, ELOOP…: nothing to serve
    }
  }

  /** The validators and caching headers every answer about the file carries. */
  private validators(stats: Stats): ASGIHeaders {
    const headers: ASGIHeaders = [
      ["etag", entityTag(stats)],
      ["last-modified", lastModified(stats)],
    ];
    if (this.cacheControl !== undefined) headers.push(["cache-control", this.cacheControl]);
    return headers;
  }

  private async sendFile(scope: HTTPScope, send: Send, found: Found): Promise<void> {
    const { stats } = found;
    const validators = this.validators(stats);
    if (
      found.status === 200 &&
      isNotModified(header(scope, "if-none-match"), header(scope, "if-modified-since"), stats)
    ) {
      // 304 carries the validators and Cache-Control, no content headers (RFC 9110 §15.4.5).
      await send({ type: "http.response.start", status: 304, headers: validators });
      await send({ type: "http.response.body", body: NO_BODY });
      return;
    }
    const size = stats.size;
    // Range applies to GET only (RFC 9110 §14.2), and not to an error page.
    const range =
      found.status === 200 &&
      scope.method === "GET" &&
      ifRangeAllows(header(scope, "if-range"), stats)
        ? parseRange(header(scope, "range"), size)
        : ({ kind: "full" } as const);
    if (range.kind === "unsatisfiable") {
      return plain(scope, send, 416, "Range Not Satisfiable", [
        ["content-range", `bytes */${size}`],
      ]);
    }
    const headers: ASGIHeaders = [["content-type", contentTypeFor(found.name)], ...validators];
    if (found.status === 200) headers.push(["accept-ranges", "bytes"]);
    let start = 0;
    let end = size - 1;
    let status = found.status;
    if (range.kind === "partial") {
      ({ start, end } = range.range);
      status = 206;
      headers.push(["content-range", `bytes ${start}-${end}/${size}`]);
    }
    headers.push(["content-length", String(end - start + 1)]);
    if (scope.method === "HEAD") {
      await send({ type: "http.response.start", status, headers });
      await send({ type: "http.response.body", body: NO_BODY });
      return;
    }
    // Opened before the status line goes out: a file that vanished since stat() is a 404.
    let handle: FileHandle;
    try {
      handle = await open(found.file, "r");
    } catch {
      return plain(scope, send, 404, "Not Found");
    }
    try {
      await send({ type: "http.response.start", status, headers });
      await this.streamBody(handle, start, end - start + 1, send);
    } finally {
      await handle.close();
    }
  }

  /**
   * Sends `length` bytes from `start`, one chunk per `http.response.body`, each send awaited
   * so the file is read no faster than the client takes it. A file that shrank meanwhile ends
   * the stream early; the server then sees a body shorter than its Content-Length and aborts.
   */
  private async streamBody(handle: FileHandle, start: number, length: number, send: Send) {
    let position = start;
    let remaining = length;
    if (remaining <= 0) {
      await send({ type: "http.response.body", body: NO_BODY });
      return;
    }
    while (remaining > 0) {
      const size = Math.min(this.chunkSize, remaining);
      const buffer = new Uint8Array(size);
      const { bytesRead } = await handle.read(buffer, 0, size, position);
      if (bytesRead === 0) throw new ASGIError("StaticFiles: file shrank while being sent");
      position += bytesRead;
      remaining -= bytesRead;
      await send({
        type: "http.response.body",
        body: bytesRead === size ? buffer : buffer.subarray(0, bytesRead),
        more_body: remaining > 0,
      });
    }
  }
}
