/**
 * The MQTT codec: bytes ↔ packets for MQTT 3.1.1 and 5.0, apart from any session or socket.
 * See docs/mqtt-codec.md.
 */
export { PacketDecoder, type PacketDecoderOptions } from "./decoder.js";
export { encodePacket } from "./encoder.js";
export { CodecErrorCode } from "./errors.js";
export * from "./packets.js";
export {
  ALLOWED_REASON_CODES,
  ConnectReturnCode,
  isFailure,
  ReasonCode,
  reasonCodeName,
} from "./reason-codes.js";
export {
  assertTopicFilter,
  assertTopicName,
  isValidTopicFilter,
  isValidTopicName,
  parseSharedSubscription,
  topicFilterProblem,
  topicMatches,
  topicNameProblem,
} from "./topics.js";
