/**
 * Transport plumbing shared by the SMTP and IMAP clients (no protocol logic lives here):
 * opening (plain, implicit TLS), `MailConnection` (line/literal reads, writes, STARTTLS, raw
 * mode), the security defaulting and the error-factory types each protocol fills in.
 */
export {
  type MailSocket,
  type MailTLSOptions,
  type OpenOptions,
  openConnection,
  type UpgradeOptions,
  upgradeToTLS,
} from "./connect.js";
export {
  type DataHandlers,
  MailConnection,
  type MailConnectionOptions,
  type StartTLSOptions,
} from "./connection.js";
export { deadlineError, type NetErrorFactory, type NetFailure } from "./errors.js";
export { LineReader, type LineReaderOptions } from "./line-reader.js";
export { IMPLICIT_TLS_PORTS, type MailSecurity, resolveSecurity } from "./security.js";
export { writeWithBackpressure } from "./write.js";
