/** Turns what a module exports into an ASGI callable (used by the CLI). */

import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { ASGIError } from "../../errors.js";
import type { ASGIApp } from "../types.js";

/** What `serve()` accepts besides a bare callable: an `ASGIApplication` or the like. */
export interface ASGIAppProvider {
  /** The ASGI 3.0 callable the server runs. */
  asgi: ASGIApp;
}

/**
 * An ASGI callable from a value: an `ASGIApplication` instance (anything with an `asgi`
 * function) gives its `asgi`, a function is taken as the callable itself.
 *
 * @example
 * ```ts
 * toASGIApp(new ASGIApplication()); // its bound `asgi` callable
 * toASGIApp(async (scope, receive, send) => {}); // the function itself
 * toASGIApp(42); // null
 * ```
 */
export function toASGIApp(value: unknown): ASGIApp | null {
  if (value !== null && (typeof value === "object" || typeof value === "function")) {
    const asgi = (value as { asgi?: unknown }).asgi;
    // bind: `asgi` may be a prototype method that relies on `this`.
    if (typeof asgi === "function") return (asgi as ASGIApp).bind(value);
  }
  if (typeof value === "function") return value as ASGIApp;
  return null;
}

/**
 * Imports a module and returns its app as an ASGI callable: `./app.js` takes the default
 * export, else the export named `app`; `./app.js:api` (uvicorn's `module:attribute`) takes the
 * export named `api`.
 *
 * @example
 * ```ts
 * const asgi = await loadApp("./dist/app.js:api"); // the export named `api`
 * await serve(asgi, { port: 8000 });
 * ```
 */
export async function loadApp(specifier: string): Promise<ASGIApp> {
  const named = /^(.+):([A-Za-z_$][\w$]*)$/.exec(specifier);
  // "C:app" is not a Windows drive letter followed by a name we would want to split off.
  const [file, exportName] =
    named && named[1].length > 1 ? [named[1], named[2]] : [specifier, null];
  const url = pathToFileURL(resolve(file)).href;
  let module: Record<string, unknown>;
  try {
    module = (await import(url)) as Record<string, unknown>;
  } catch (error) {
    throw new ASGIError(`Could not import ${file}: ${(error as Error)?.message ?? error}`, {
      code: "ASGI_APP_IMPORT_FAILED",
      cause: error,
    });
  }
  for (const key of exportName === null ? ["default", "app"] : [exportName]) {
    const app = toASGIApp(module[key]);
    if (app !== null) return app;
  }
  const wanted =
    exportName === null
      ? "export default (or export const app =)"
      : `export a value named ${exportName}:`;
  throw new ASGIError(
    `${file} exports no ASGI app: ${wanted} an ASGIApplication instance or an async ` +
      "(scope, receive, send) function.",
    { code: "ASGI_APP_NOT_FOUND" },
  );
}
