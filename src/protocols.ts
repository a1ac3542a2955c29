/** `mtaio/protocols`: every protocol class in one import, as in the reference. */
export * from "./asgi/index.js";
export * from "./mail/index.js";
export * from "./mqtt/index.js";
