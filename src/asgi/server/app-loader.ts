/** Turns what a module exports into an ASGI callable (used by the CLI). */

import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { ASGIError } from "../../errors.js";
import type { ASGIApp } from "../types.js";

/**
 * An ASGI callable from a value: an `ASGIApplication` instance (anything with an `asgi`
 * function) gives its `asgi`, a function is taken as the callable itself.
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

/** Imports `specifier` (a path) and returns its default export, or its `app` export, as ASGI. */
export async function loadApp(specifier: string): Promise<ASGIApp> {
  const url = pathToFileURL(resolve(specifier)).href;
  let module: Record<string, unknown>;
  try {
    module = (await import(url)) as Record<string, unknown>;
  } catch (error) {
    throw new ASGIError(`Could not import ${specifier}: ${(error as Error)?.message ?? error}`, {
      code: "ASGI_APP_IMPORT_FAILED",
      cause: error,
    });
  }
  for (const key of ["default", "app"]) {
    const app = toASGIApp(module[key]);
    if (app !== null) return app;
  }
  throw new ASGIError(
    `${specifier} exports no ASGI app: export default (or export const app =) an ASGIApplication ` +
      "instance or an async (scope, receive, send) function.",
    { code: "ASGI_APP_NOT_FOUND" },
  );
}
