/** Transport plumbing shared by the SMTP and IMAP clients (no protocol logic lives here). */
export { type MailSocket, type MailTLSOptions, openConnection, upgradeToTLS } from "./connect.js";
export { withDeadline } from "./deadline.js";
export type { NetErrorFactory, NetFailure } from "./errors.js";
export { LineReader, type LineReaderOptions } from "./line-reader.js";
export { writeWithBackpressure } from "./write.js";
