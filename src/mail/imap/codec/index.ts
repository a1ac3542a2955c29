/** The IMAP codec: bytes <-> IMAP responses and commands, no socket, no session state. */

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
