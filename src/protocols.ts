/**
 * `mtaio/protocols`: every protocol class in one import, as in the reference. Each name is
 * documented in the module of its protocol; this entry point re-exports them all.
 *
 * @module mtaio/protocols
 */
export * from "./asgi/index.js";
export * from "./mail/index.js";
export * from "./mqtt/index.js";
