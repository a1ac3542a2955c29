/** SMTP client (RFC 5321 and extensions): `AsyncSMTPClient` and `SMTPPool`. */
export type { AuthMechanism, OAuth2TokenProvider } from "./auth.js";
export { AsyncSMTPClient, type LoginOptions } from "./client.js";
export type { DSNNotify, DSNOptions } from "./commands.js";
export { SMTPPool, type SMTPPoolOptions } from "./pool.js";
export type { SMTPReply } from "./reply.js";
export type {
  MessageBody,
  RejectedRecipient,
  SendableMessage,
  SendOptions,
  SendRawOptions,
  SendResult,
  SMTPConnectOptions,
  SMTPEnvelope,
  SMTPSecurity,
  SMTPSender,
} from "./types.js";
