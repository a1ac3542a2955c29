/** `mtaio/protocols/asgi`: ASGI 3.0 types, the server (`serve`) and the framework. */
export type * from "./types.js";
export * from "./server/index.js";
export * from "./app/index.js";
