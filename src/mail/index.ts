/**
 * `mtaio/protocols/mail`: MIME (MailMessage, Attachment) and the SMTP and IMAP clients.
 *
 * @module mtaio/protocols/mail
 */
export * from "./mime/index.js";
export * from "./smtp/index.js";
export * from "./imap/index.js";
