/** The IMAP codec: bytes <-> IMAP responses and commands, no socket, no session state. */
export { DEFAULT_PARSER_LIMITS, type IMAPParserLimits } from "./limits.js";
export {
  type LiteralChunkSink,
  type LiteralStreamInfo,
  ResponseParser,
  type ResponseParserOptions,
} from "./response-parser.js";
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
