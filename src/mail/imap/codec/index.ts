/**
 * The IMAP codec: bytes <-> IMAP responses and commands, no socket, no timers, no session
 * state (RFC 9051 IMAP4rev2 and RFC 3501 IMAP4rev1 servers).
 *
 * Choices the interface left open:
 * - IMAPValue (FETCH items without a type): atoms and numbers are strings, quoted strings are
 *   UTF-8-decoded strings, literals are their raw bytes (Uint8Array), NIL is null, lists are
 *   arrays; values following an unknown item's value before the next item name join it in
 *   one array.
 * - ENVELOPE groups (RFC 3501 §7.4.2) are flattened: the group start is an entry with only
 *   `group`, members carry `group` as well, the end marker is dropped.
 * - BODYSTRUCTURE `part`: a top-level multipart has "", a top-level single part "1"; the
 *   body of a message/rfc822 part P is "P.1" when single, and shares "P" when multipart.
 * - `binarySizes` is keyed by the section ("1.2"), not the whole item name.
 * - A known response code whose arguments do not parse gives no `code`; the text keeps the
 *   bracketed part, so nothing is lost and the connection survives a sloppy server.
 * - Literal values are copies; the chunks handed to a streamLiteral sink are views of the
 *   pushed bytes, valid during the call (copy them to keep them past it).
 * - Command dates are written in UTC; parseSequenceSet keeps the written order (COPYUID).
 */

export { formatIMAPDate, formatIMAPDateTime } from "./dates.js";
export {
  assertSafeText,
  type CommandPart,
  type EncodeOptions,
  encodeMailboxName,
  encodeString,
  joinCommandParts,
  LITERAL_MINUS_MAX,
  MAX_QUOTED,
  validateFlag,
} from "./encode.js";
export { DEFAULT_PARSER_LIMITS, type IMAPParserLimits } from "./limits.js";
export {
  type LiteralChunkSink,
  type LiteralStreamInfo,
  ResponseParser,
  type ResponseParserOptions,
} from "./response-parser.js";
export { compileSearch, type SearchCriteria } from "./search.js";
export {
  chunkSequenceSet,
  parseSequenceSet,
  sequenceSet,
  validateSequenceSetText,
} from "./sequence-set.js";
export type {
  Address,
  AppendUIDCode,
  BodyDisposition,
  BodyStructure,
  CapabilityCode,
  CopyUIDCode,
  Envelope,
  FetchAttributes,
  HighestModseqCode,
  IMAPResponse,
  IMAPValue,
  ModifiedCode,
  Namespace,
  NumberCode,
  OtherCode,
  PermanentFlagsCode,
  ResponseCode,
  StreamedLiteral,
  TaggedStatus,
  UntaggedStatus,
} from "./types.js";
export { decodeMailboxName, decodeModifiedUTF7, encodeModifiedUTF7 } from "./utf7.js";
