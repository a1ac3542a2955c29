/** MIME composition and parsing: `MailMessage`, `Attachment`, address helpers. */
export { Attachment } from "./attachment.js";
export { MIME_ERROR_CODES } from "./errors.js";
export { MailMessage } from "./message.js";
export type { HeaderField, MimePart, ParsedMessage } from "./parse/index.js";
export { headerFields, parseMessage } from "./parse/index.js";
export type {
  AddressInput,
  AttachmentContent,
  AttachmentInit,
  Envelope,
  MailAddress,
  MailMessageInit,
  ParseOptions,
  RenderOptions,
} from "./types.js";
