/** Public option and result types of MQTTClient, and how `connect()` arguments are read. */
import type { ConnectionOptions } from "node:tls";
import type { ClientOptions as WebSocketClientOptions } from "ws";
import { MQTTError } from "../../errors.js";
import type { Properties } from "../codec/index.js";
import type { BackoffOptions } from "./backoff.js";
import type { MessageProperties } from "./message.js";
import type { QoS } from "./qos.js";
import type { MQTTStore } from "./store.js";
import { defaultPort, type TransportProtocol } from "./transport.js";

/**
 * The Will message (MQTT 5.0 §3.1.3.2): what the broker publishes for us if we vanish
 * without a DISCONNECT.
 */
export interface WillOptions {
  /** The topic the will is published to. */
  topic: string;
  /** The will payload (a string is sent as UTF-8). Default: empty. */
  payload?: string | Uint8Array;
  /** QoS of the will. Default 0. */
  qos?: QoS;
  /** Publish the will as a retained message. Default false. */
  retain?: boolean;
  /**
   * MQTT 5 will properties, e.g. `willDelayInterval`, `messageExpiryInterval`.
   *
   * @property willDelayInterval - seconds the broker waits before publishing the will (§3.1.3.2.2).
   */
  properties?: MessageProperties & { willDelayInterval?: number };
}

/** Enhanced authentication (MQTT 5.0 §4.12), e.g. SCRAM or Kerberos. */
export interface EnhancedAuth {
  /** The authentication method name (MQTT 5.0 §3.1.2.11.9), e.g. `"SCRAM-SHA-256"`. */
  method: string;
  /** Initial data sent in CONNECT. */
  data?: Uint8Array;
  /** Called for each AUTH challenge (reason 0x18); returns the answer to send. */
  onChallenge(
    data: Uint8Array | undefined,
    properties: Properties,
  ): Uint8Array | undefined | Promise<Uint8Array | undefined>;
}

export interface ReconnectOptions extends BackoffOptions {
  /** Give up after this many failed attempts in a row (default: never). */
  maxAttempts?: number;
}

/** Options of `new MQTTClient(options)`; every one has a default. */
export interface MQTTClientOptions {
  /** Client identifier. MQTT 5 default: "" (the broker assigns one); 3.1.1: a random id. */
  clientId?: string;
  /** 4 (MQTT 3.1.1) or 5 (MQTT 5.0, default). */
  protocolVersion?: 4 | 5;
  /** Keep alive in seconds (default 60; 0 turns it off). The broker may override (MQTT 5). */
  keepalive?: number;
  /** Clean start on the first connection (default true). */
  clean?: boolean;
  /** MQTT 5: seconds the broker keeps the session after a disconnect (default 0). */
  sessionExpiryInterval?: number;
  /**
   * Refuse to resume a broker session this client holds no state for (default false).
   *
   * By default a client created with `clean: false` resumes whatever session the broker kept
   * for its client id, starting from empty state (as MQTT.js, Paho and `mosquitto_sub -c` do):
   * the messages queued while it was away are delivered. With `true`, Session Present 1 is
   * accepted only when the client has a `store` or connected before in this session;
   * otherwise `connect()` rejects with `MQTT_UNEXPECTED_SESSION` and closes the connection
   * (MQTT 5 §3.2.2.1.1 [MQTT-3.2.2-4]) — for callers who must never continue flows that an
   * earlier, stateless client left half-done.
   */
  requireKnownSession?: boolean;
  /** The Will message the broker publishes if the connection drops without a DISCONNECT. */
  will?: WillOptions;
  /** On by default; `false` turns automatic reconnection off. */
  reconnect?: boolean | ReconnectOptions;
  /**
   * MQTT 5 server redirection (§4.11): how many redirections in a row (CONNACK or DISCONNECT
   * 0x9C Use another server / 0x9D Server moved with a Server Reference) the client follows
   * before it fails with `MQTT_REDIRECT_LOOP` (default 5; 0 follows none).
   */
  maxRedirects?: number;
  /** Where in-flight QoS 1/2 state lives (default: memory; see FileStore). */
  store?: MQTTStore;
  /** MQTT 5: how many unacknowledged QoS 1/2 messages we accept at once (default 65535). */
  receiveMaximum?: number;
  /** Largest packet we accept, bytes (default 16 MiB); larger ones end the connection. */
  maximumPacketSize?: number;
  /** Drop a QoS 2 PUBLISH the broker re-sends after releasing it (DUP, same id, topic and
   * payload) — a Mosquitto 2.0 behaviour that would otherwise deliver twice (default true). */
  dedupeRedeliveries?: boolean;
  /** MQTT 5: how many topic aliases the broker may use towards us (default 64). */
  topicAliasMaximum?: number;
  /** MQTT 5: use topic aliases for outgoing messages when the broker allows (default false). */
  outgoingTopicAliases?: boolean;
  /** MQTT 5: ask for Response Information in CONNACK (used by `request()`). */
  requestResponseInformation?: boolean;
  /** MQTT 5 user properties sent in CONNECT. */
  userProperties?: Array<[string, string]>;
  /** MQTT 5 enhanced authentication (§4.12). */
  auth?: EnhancedAuth;
  /** Default timeout of every operation, ms (default 30 000; 0 = none). */
  timeout?: number;
  /** How long to wait for a PINGRESP before the connection counts as dead (default 10 000). */
  pingTimeout?: number;
  /** Messages waiting to be sent (offline, or beyond the broker's Receive Maximum) before
   * `publish` rejects with MQTT_QUEUE_FULL (default 10 000). */
  queueLimit?: number;
  /** Messages a `messages()` iterator buffers before socket reading pauses (default 1 000). */
  highWaterMark?: number;
}

/** Options of `client.connect()`: credentials and transport. */
export interface ConnectOptions {
  /** The user name sent in CONNECT (also read from a URL's `user@`). */
  username?: string;
  /** The password sent in CONNECT (also read from a URL's `user:password@`). */
  password?: string | Uint8Array;
  /** Node TLS options (ca, cert, key, servername, …); verification stays on by default. */
  tls?: ConnectionOptions;
  /** Use TLS on a host/port connect (implied by mqtts:// and wss://). */
  secure?: boolean;
  /** "mqtt" (TCP, default), "mqtts", "ws" or "wss" for a host/port connect. */
  protocol?: TransportProtocol;
  /** WebSocket path (default "/mqtt"). */
  path?: string;
  /** Extra `ws` options (headers, …). */
  websocket?: WebSocketClientOptions;
  /** Aborts the connect attempt; it then rejects with `MQTT_ABORTED`. */
  signal?: AbortSignal;
  /** Ms for the whole connect (transport + CONNACK); default: the client's `timeout`. */
  timeout?: number;
}

/** One member of a broker list (`connect({ servers })`). */
export interface ServerAddress {
  /** Host name or IP address (or a URL, read as `connect(url)` reads one). */
  host: string;
  /** Default: the protocol's port (1883, 8883, 80, 443). */
  port?: number;
  /** Default: the `protocol` of the connect options, else "mqtt" (or "mqtts" with `tls`). */
  protocol?: TransportProtocol;
  /** WebSocket path (default: the connect options' `path`, else "/mqtt"). */
  path?: string;
}

/**
 * Options of `connect({ servers })`: several brokers (a cluster, or a primary/backup pair).
 * `connect()` tries each member once and resolves with the first that accepts; a lost
 * connection moves on to the next member (see docs/mqtt.md, "Several brokers").
 */
export interface FailoverConnectOptions extends ConnectOptions {
  /** The members, as `{ host, port?, protocol?, path? }` or URLs (`mqtt://b:1884`). */
  servers: ReadonlyArray<ServerAddress | string>;
  /** "in-order" (default): the list as given; "random": a new shuffle every round. */
  serverOrder?: "in-order" | "random";
}

/** What `connect()` resolves to: the broker's CONNACK. */
export interface ConnectResult {
  /** The broker still had a session for this client id (MQTT 5.0 §3.2.2.1.1). */
  sessionPresent: boolean;
  /** The CONNACK reason code (0 on success). */
  reasonCode: number;
  /** The identifier in use (the broker's choice when it assigned one). */
  clientId: string;
  /** CONNACK properties (MQTT 5). */
  properties: Properties;
}

/** Options of `client.subscribe()`. */
export interface SubscribeOptions {
  /** The largest QoS the broker may deliver with. Default 0. */
  qos?: QoS;
  /** MQTT 5: do not receive our own publications. */
  noLocal?: boolean;
  /** MQTT 5: keep the RETAIN flag as published. */
  retainAsPublished?: boolean;
  /** MQTT 5: 0 send retained (default), 1 only for a new subscription, 2 never. */
  retainHandling?: 0 | 1 | 2;
  /** MQTT 5: subscription identifier, 1…268435455. */
  subscriptionIdentifier?: number;
  /** MQTT 5 user properties sent in SUBSCRIBE. */
  userProperties?: Array<[string, string]>;
  /** Aborts waiting for the SUBACK. */
  signal?: AbortSignal;
  /** Milliseconds to wait for the SUBACK. Default: the client's `timeout`. */
  timeout?: number;
}

/** One topic filter's outcome in a SUBACK. */
export interface SubscribeResult {
  /** The topic filter this result is for. */
  topic: string;
  /** Granted QoS (0–2) or a failure reason code (≥ 0x80, MQTT 5 §3.9.3). */
  reasonCode: number;
  /** The granted QoS, or undefined when the subscription failed. */
  qos: QoS | undefined;
}

/** Options of `client.unsubscribe()`. */
export interface UnsubscribeOptions {
  /** MQTT 5 user properties sent in UNSUBSCRIBE. */
  userProperties?: Array<[string, string]>;
  /** Aborts waiting for the UNSUBACK. */
  signal?: AbortSignal;
  /** Milliseconds to wait for the UNSUBACK. Default: the client's `timeout`. */
  timeout?: number;
}

/** Options of `client.publish()`. */
export interface PublishOptions {
  /** 0 at most once, 1 at least once, 2 exactly once. Default 0. */
  qos?: QoS;
  /** Ask the broker to keep this as the topic's retained message. Default false. */
  retain?: boolean;
  /** MQTT 5 message properties (content type, expiry, response topic, user properties, …). */
  properties?: MessageProperties;
  /** Stops waiting (the promise rejects with `MQTT_ABORTED`); a flow already started completes. */
  signal?: AbortSignal;
  /** Ms until the returned promise rejects (the QoS flow itself still completes). */
  timeout?: number;
}

/** What `publish()` resolves to once the QoS flow completes. */
export interface PublishResult {
  /** 0 for QoS 0; PUBACK/PUBREC reason code otherwise (below 0x80: success). */
  reasonCode: number;
  /** The packet identifier used (QoS 1 and 2), else undefined. */
  messageId: number | undefined;
  /** PUBACK/PUBREC properties (MQTT 5), when the broker sent any. */
  properties?: Properties;
}

/** Options of `client.request()`: a publish that waits for the matching response (MQTT 5). */
export interface RequestOptions extends PublishOptions {
  /** Where the responder should answer (default: a per-client response topic the client
   * subscribes to itself; a topic given here must already be subscribed by the caller). */
  responseTopic?: string;
}

/** Options of `client.disconnect()`. */
export interface DisconnectOptions {
  /** MQTT 5 reason code (default 0; 4 = disconnect with will message). */
  reasonCode?: number;
  /** MQTT 5: change the session expiry on the way out. */
  sessionExpiryInterval?: number;
  /** MQTT 5 reason string: a human-readable note for the broker's log. */
  reasonString?: string;
  /** MQTT 5 user properties sent in DISCONNECT. */
  userProperties?: Array<[string, string]>;
}

/** The events of `client.on(event, listener)` and the value each listener receives. */
export interface MQTTClientEvents {
  /** Every successful CONNACK (first and reconnects). */
  connect: ConnectResult;
  /**
   * A reconnect attempt is scheduled.
   *
   * @property attempt - the attempt number, from 1.
   * @property delay - milliseconds until the attempt.
   */
  reconnect: { attempt: number; delay: number };
  /**
   * The connection was lost.
   *
   * @property error - why, when known.
   */
  offline: { error: Error | undefined };
  /** An asynchronous failure (connection loss, broker error, a handler that threw). */
  error: Error;
  /**
   * The broker sent DISCONNECT (MQTT 5).
   *
   * @property reasonCode - the broker's reason code (§3.14.2.1).
   * @property properties - the DISCONNECT properties (reason string, server reference, …).
   */
  disconnect: { reasonCode: number; properties: Properties };
  /** The client stopped for good (close(), disconnect(), or reconnection gave up). */
  close: undefined;
}

export interface Endpoint {
  protocol: TransportProtocol;
  host: string;
  port: number;
  path?: string;
  username?: string;
  password?: string | Uint8Array;
}

const PROTOCOLS: Record<string, TransportProtocol> = {
  "mqtt:": "mqtt",
  "tcp:": "mqtt",
  "mqtts:": "mqtts",
  "ssl:": "mqtts",
  "tls:": "mqtts",
  "ws:": "ws",
  "wss:": "wss",
};

/** Reads the `servers` of `connect({ servers })`: one endpoint per member. */
export function parseServers(options: FailoverConnectOptions): Endpoint[] {
  const { servers } = options;
  if (!Array.isArray(servers) || servers.length === 0) {
    throw new MQTTError("connect({ servers }) needs at least one server", {
      code: "MQTT_INVALID_ARGUMENT",
    });
  }
  return servers.map((server: ServerAddress | string) => {
    if (typeof server === "string") return parseEndpoint(server, undefined, options);
    if (typeof server !== "object" || server === null) {
      throw new MQTTError("each server is a URL or { host, port?, protocol? }", {
        code: "MQTT_INVALID_ARGUMENT",
      });
    }
    return parseEndpoint(server.host, server.port, {
      ...options,
      protocol: server.protocol ?? options.protocol,
      path: server.path ?? options.path,
    });
  });
}

/** Reads `connect(host, port?, options?)` / `connect(url, options?)`. */
export function parseEndpoint(
  hostOrUrl: string,
  port: number | undefined,
  options: ConnectOptions,
): Endpoint {
  if (typeof hostOrUrl !== "string" || hostOrUrl.length === 0) {
    throw new MQTTError("connect() needs a host name or URL", { code: "MQTT_INVALID_ARGUMENT" });
  }
  if (/^[a-z]+:\/\//i.test(hostOrUrl)) {
    let url: URL;
    try {
      url = new URL(hostOrUrl);
    } catch (cause) {
      throw new MQTTError(`invalid broker URL ${hostOrUrl}`, {
        code: "MQTT_INVALID_ARGUMENT",
        cause,
      });
    }
    const protocol = PROTOCOLS[url.protocol];
    if (!protocol) {
      throw new MQTTError(`unsupported URL scheme ${url.protocol} (use mqtt, mqtts, ws or wss)`, {
        code: "MQTT_INVALID_ARGUMENT",
      });
    }
    const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
    return {
      protocol,
      host,
      port: port ?? (url.port ? Number(url.port) : defaultPort(protocol)),
      path: protocol === "ws" || protocol === "wss" ? url.pathname + url.search : undefined,
      username: url.username ? decodeURIComponent(url.username) : undefined,
      password: url.password ? decodeURIComponent(url.password) : undefined,
    };
  }
  const protocol: TransportProtocol =
    options.protocol ?? (options.secure || options.tls ? "mqtts" : "mqtt");
  const resolvedPort = port ?? defaultPort(protocol);
  if (!Number.isInteger(resolvedPort) || resolvedPort <= 0 || resolvedPort > 65535) {
    throw new MQTTError(`invalid port ${port}`, { code: "MQTT_INVALID_ARGUMENT" });
  }
  return { protocol, host: hostOrUrl, port: resolvedPort, path: options.path };
}
