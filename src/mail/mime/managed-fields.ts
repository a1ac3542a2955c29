/**
 * Header fields a `MailMessage` manages itself: each has a property of its own or is rebuilt on
 * every render. Rendering refuses them in `headers`; parsing does not copy them into `headers`.
 */
export const MANAGED_FIELDS: ReadonlySet<string> = new Set([
  "from",
  "to",
  "cc",
  "bcc",
  "reply-to",
  "subject",
  "date",
  "message-id",
  "mime-version",
  "content-type",
  "content-transfer-encoding",
  "content-disposition",
  "content-id",
]);
