/**
 * SASL for the mail clients (SMTP AUTH, RFC 4954; IMAP AUTHENTICATE, RFC 9051 §6.2.2):
 * mechanisms, their selection and a protocol-neutral exchange driver.
 */
export * from "./choose.js";
export * from "./exchange.js";
export * from "./mechanisms.js";
export type * from "./types.js";
