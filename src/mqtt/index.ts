/**
 * `mtaio/protocols/mqtt`: the MQTT 3.1.1 / 5.0 client.
 *
 * @module mtaio/protocols/mqtt
 */
export { MQTTError } from "../errors.js";
export type { BackoffOptions } from "./client/backoff.js";
export { type MessageHandler, MQTTClient } from "./client/client.js";
export { FileStore, type FileStoreOptions } from "./client/file-store.js";
export { type MessageProperties, MQTTMessage, type MQTTMessageInit } from "./client/message.js";
export type { MessageFilter } from "./client/message-stream.js";
export type {
  ConnectOptions,
  ConnectResult,
  DisconnectOptions,
  EnhancedAuth,
  FailoverConnectOptions,
  MQTTClientEvents,
  MQTTClientOptions,
  PublishOptions,
  PublishResult,
  ReconnectOptions,
  RequestOptions,
  ServerAddress,
  SubscribeOptions,
  SubscribeResult,
  UnsubscribeOptions,
  WillOptions,
} from "./client/options.js";
export { QoS } from "./client/qos.js";
export {
  MemoryStore,
  type MQTTStore,
  type StoredPublish,
  type StoredSession,
} from "./client/store.js";
export { topicMatches } from "./client/topic-match.js";
