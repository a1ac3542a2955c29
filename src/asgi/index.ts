/**
 * `mtaio/protocols/asgi`: ASGI 3.0 types, the server (`serve`) and the framework.
 *
 * @module mtaio/protocols/asgi
 */

export * from "./app/index.js";
export * from "./server/index.js";
export type * from "./types.js";
