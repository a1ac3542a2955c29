/** The IMAP client (RFC 9051 / RFC 3501): `AsyncIMAPClient` and its types. */
export type { IMAPTokenProvider } from "./auth.js";
export { AsyncIMAPClient, type IMAPMessage } from "./client.js";
export type { PartDownload } from "./download.js";
export type { MailboxListener } from "./mailbox-state.js";
export type * from "./types.js";
