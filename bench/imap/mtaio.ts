/**
 * Slot for mtaio's AsyncIMAPClient (src/mail/imap/, issue 20) in the IMAP benchmark: null until
 * the client exists, and run.ts prints "mtaio: not yet". To fill it in, export a BenchClient
 * (types.ts) that, like imapflow.ts, connects with `security: "none"`, logs in and selects
 * `target.mailbox` in prepare(), and in run():
 *   - envelope:   streams ENVELOPE + FLAGS + UID of every message, counting messages and
 *                 adding each decoded subject's length to `bytes`;
 *   - bodies:     streams every message's source parsed to MailMessage, `bytes` += textContent length;
 *   - attachment: downloadPart(1, "2") consumed as a stream, `bytes` += chunk lengths.
 */
import type { BenchClient } from "./types.js";

export const mtaio: BenchClient | null = null;
