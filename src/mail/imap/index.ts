/** The IMAP client (RFC 9051 / RFC 3501): `AsyncIMAPClient` and its types. */
export type { IMAPTokenProvider } from "./auth.js";
export {
  AsyncIMAPClient,
  type IMAPMessage,
  type ListOptions,
  type StoreOptions,
} from "./client.js";
export type { PartDownload } from "./download.js";
export type * from "./types.js";
