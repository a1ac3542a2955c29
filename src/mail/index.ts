/**
 * `mtaio/protocols/mail`: MIME (MailMessage, Attachment) and the SMTP and IMAP clients.
 *
 * @module mtaio/protocols/mail
 */

export * from "./imap/index.js";
export * from "./mime/index.js";
export type { MailSecurity, MailTLSOptions } from "./net/index.js";
export type { OAuth2Mechanism, PasswordMechanism, SASLMechanismName } from "./sasl/index.js";
export * from "./smtp/index.js";
