/**
 * The command lines of `mtaio mqtt pub` and `mtaio mqtt sub`, with the flags of
 * `mosquitto_pub` / `mosquitto_sub` where they overlap. Pure: argv in, a checked config out;
 * every mistake is an MQTTError `MQTT_CLI_USAGE` naming the flag. Files are not read here.
 */
import type { TransportProtocol } from "../client/transport.js";
import { type OptionSpec, type Tokens, tokenize } from "./argv.js";
import { usageError } from "./exit-codes.js";
import {
  type CommandProperties,
  hasProperties,
  type PropertyCommand,
  parseProperties,
} from "./properties.js";

export interface TLSConfig {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  /** Skip the host name check (the chain is still verified), as mosquitto's --insecure. */
  insecure: boolean;
}

export interface WillConfig {
  topic: string;
  payload: string;
  qos: 0 | 1 | 2;
  retain: boolean;
}

/** One broker to connect to. */
export interface BrokerAddress {
  protocol: TransportProtocol;
  host: string;
  port: number;
  /** WebSocket path (ws:// and wss:// URLs). */
  path?: string;
}

/** What both tools need to connect. */
export interface ConnectionConfig {
  /**
   * The brokers, in the order they are tried (repeated -h / -L, or -h a,b): the first that
   * accepts is used. Never empty.
   */
  servers: BrokerAddress[];
  clientId?: string;
  idPrefix?: string;
  username?: string;
  password?: string;
  keepalive: number;
  clean: boolean;
  protocolVersion: 4 | 5;
  sessionExpiryInterval?: number;
  tls?: TLSConfig;
  will?: WillConfig;
  properties: CommandProperties;
  qos: 0 | 1 | 2;
  quiet: boolean;
}

export type PayloadSource =
  | { kind: "message"; text: string }
  | { kind: "file"; path: string }
  | { kind: "stdin" }
  | { kind: "lines" }
  | { kind: "null" };

export interface PubConfig extends ConnectionConfig {
  topic: string;
  source: PayloadSource;
  retain: boolean;
  repeat: number;
  repeatDelay: number;
}

export interface SubConfig extends ConnectionConfig {
  topics: string[];
  filterOut: string[];
  verbose: boolean;
  /** Exit after this many printed messages. */
  count?: number;
  /** Seconds after connecting until sub stops (exit code 5). */
  timeout?: number;
  eol: boolean;
  format?: string;
  json: boolean;
  pretty: boolean;
  /** -R: do not print retained ("stale") messages. */
  noRetained: boolean;
  /** --retained-only: print retained messages, exit at the first live one. */
  retainedOnly: boolean;
  /** -E: exit once the subscriptions are acknowledged. */
  exitAfterSubscribe: boolean;
  retainAsPublished: boolean;
}

export type Parsed<T> = { help: true } | { help: false; config: T };

const COMMON: OptionSpec[] = [
  { long: "host", short: "h", kind: "list" },
  { long: "port", short: "p", kind: "value" },
  { long: "url", short: "L", kind: "list" },
  { long: "id", short: "i", kind: "value" },
  { long: "id-prefix", short: "I", kind: "value" },
  { long: "username", short: "u", kind: "value" },
  { long: "pw", short: "P", kind: "value" },
  { long: "keepalive", short: "k", kind: "value" },
  { long: "disable-clean-session", short: "c", kind: "flag" },
  { long: "protocol-version", short: "V", kind: "value" },
  { long: "qos", short: "q", kind: "value" },
  { long: "property", short: "D", kind: "property" },
  { long: "session-expiry-interval", short: "x", kind: "value" },
  { long: "cafile", kind: "value" },
  { long: "cert", kind: "value" },
  { long: "key", kind: "value" },
  { long: "insecure", kind: "flag" },
  { long: "tls-use-os-certs", kind: "flag" },
  { long: "will-topic", kind: "value" },
  { long: "will-payload", kind: "value" },
  { long: "will-qos", kind: "value" },
  { long: "will-retain", kind: "flag" },
  { long: "quiet", kind: "flag" },
  { long: "help", kind: "flag" },
];

const PUB: OptionSpec[] = [
  ...COMMON,
  { long: "topic", short: "t", kind: "value" },
  { long: "message", short: "m", kind: "value" },
  { long: "file", short: "f", kind: "value" },
  { long: "stdin-line", short: "l", kind: "flag" },
  { long: "stdin-file", short: "s", kind: "flag" },
  { long: "null-message", short: "n", kind: "flag" },
  { long: "retain", short: "r", kind: "flag" },
  { long: "repeat", kind: "value" },
  { long: "repeat-delay", kind: "value" },
];

const SUB: OptionSpec[] = [
  ...COMMON,
  { long: "topic", short: "t", kind: "list" },
  { long: "filter-out", short: "T", kind: "list" },
  { long: "verbose", short: "v", kind: "flag" },
  { long: "count", short: "C", kind: "value" },
  { long: "timeout", short: "W", kind: "value" },
  { long: "no-eol", short: "N", kind: "flag" },
  { long: "format", short: "F", kind: "value" },
  { long: "json", short: "j", kind: "flag" },
  { long: "pretty", kind: "flag" },
  { long: "no-retained", short: "R", kind: "flag" },
  { long: "retained-only", kind: "flag" },
  { long: "exit-after-subscribe", short: "E", kind: "flag" },
  { long: "retain-as-published", kind: "flag" },
];

export function parsePubArgs(argv: readonly string[]): Parsed<PubConfig> {
  const tokens = tokenize(argv, PUB);
  if (tokens.flags.has("help")) return { help: true };
  const connection = connectionConfig(tokens, ["connect", "publish", "will", "disconnect"]);
  const topic = tokens.values.get("topic") ?? connection.urlTopic;
  if (topic === undefined) throw usageError("pub needs a topic (-t topic or -L URL/topic)");
  const sources: PayloadSource[] = [];
  const text = tokens.values.get("message");
  if (text !== undefined) sources.push({ kind: "message", text });
  const path = tokens.values.get("file");
  if (path !== undefined) sources.push({ kind: "file", path });
  if (tokens.flags.has("stdin-file")) sources.push({ kind: "stdin" });
  if (tokens.flags.has("stdin-line")) sources.push({ kind: "lines" });
  if (tokens.flags.has("null-message")) sources.push({ kind: "null" });
  if (sources.length !== 1) {
    throw usageError(
      sources.length === 0
        ? "pub needs exactly one of -m message, -f file, -s, -l or -n"
        : "give only one of -m, -f, -s, -l and -n",
    );
  }
  const repeat = integer(tokens, "repeat", 1, 2 ** 31 - 1) ?? 1;
  const repeatDelay = decimal(tokens, "repeat-delay") ?? 0;
  if (repeat > 1 && (sources[0].kind === "lines" || sources[0].kind === "stdin")) {
    throw usageError("--repeat works with -m, -f and -n, not with stdin");
  }
  return {
    help: false,
    config: {
      ...connection.config,
      topic,
      source: sources[0],
      retain: tokens.flags.has("retain"),
      repeat,
      repeatDelay,
    },
  };
}

export function parseSubArgs(argv: readonly string[]): Parsed<SubConfig> {
  const tokens = tokenize(argv, SUB);
  if (tokens.flags.has("help")) return { help: true };
  const connection = connectionConfig(tokens, ["connect", "subscribe", "will", "disconnect"]);
  const topics = [
    ...(connection.urlTopic !== undefined ? [connection.urlTopic] : []),
    ...(tokens.lists.get("topic") ?? []),
  ];
  if (topics.length === 0) throw usageError("sub needs at least one -t topic filter");
  const format = tokens.values.get("format");
  const json = tokens.flags.has("json");
  if (format !== undefined && json) throw usageError("give -F or --json, not both");
  const noRetained = tokens.flags.has("no-retained");
  const retainedOnly = tokens.flags.has("retained-only");
  if (noRetained && retainedOnly) throw usageError("-R and --retained-only contradict each other");
  const retainAsPublished = tokens.flags.has("retain-as-published");
  if (retainAsPublished && connection.config.protocolVersion !== 5) {
    throw usageError("--retain-as-published needs MQTT 5 (-V mqttv5)");
  }
  return {
    help: false,
    config: {
      ...connection.config,
      topics,
      filterOut: tokens.lists.get("filter-out") ?? [],
      verbose: tokens.flags.has("verbose"),
      count: integer(tokens, "count", 1, 2 ** 31 - 1),
      timeout: integer(tokens, "timeout", 1, 2 ** 31 / 1000),
      eol: !tokens.flags.has("no-eol"),
      format,
      json,
      pretty: tokens.flags.has("pretty"),
      noRetained,
      retainedOnly,
      exitAfterSubscribe: tokens.flags.has("exit-after-subscribe"),
      retainAsPublished,
    },
  };
}

function connectionConfig(
  tokens: Tokens,
  commands: PropertyCommand[],
): { config: ConnectionConfig; urlTopic?: string } {
  const version = protocolVersion(tokens.values.get("protocol-version"));
  const properties = parseProperties(tokens.properties, commands);
  if (version === 4 && hasProperties(properties)) {
    throw usageError("-D properties need MQTT 5 (-V mqttv5)");
  }
  const urls = tokens.lists.get("url") ?? [];
  const hosts = tokens.lists.get("host") ?? [];
  if (urls.length > 0 && (hosts.length > 0 || tokens.values.has("port"))) {
    throw usageError("give either -L URL or -h/-p, not both");
  }
  const targets = urls.map(parseBrokerUrl);
  const tls = tlsConfig(tokens);
  if (tls) {
    const plain = urls.find(
      (_, i) => targets[i].protocol === "mqtt" || targets[i].protocol === "ws",
    );
    if (plain !== undefined) {
      throw usageError(`TLS options need an mqtts:// or wss:// URL, not ${plain}`);
    }
  }
  const topics = new Set(targets.flatMap((t) => (t.topic === undefined ? [] : [t.topic])));
  if (topics.size > 1) throw usageError("the -L URLs name different topics");
  const servers: BrokerAddress[] =
    targets.length > 0
      ? targets.map(({ protocol, host, port, path }) => ({ protocol, host, port, path }))
      : hostList(hosts, tls ? "mqtts" : "mqtt", integer(tokens, "port", 1, 65535));

  const clientId = tokens.values.get("id");
  const idPrefix = tokens.values.get("id-prefix");
  if (clientId !== undefined && idPrefix !== undefined) throw usageError("give -i or -I, not both");
  for (const [what, value] of [
    ["client id", clientId],
    ["client id prefix", idPrefix],
    ["user name", tokens.values.get("username")],
  ] as const) {
    if (value?.includes("\u0000")) throw usageError(`the ${what} must not contain a NUL character`);
  }
  const clean = !tokens.flags.has("disable-clean-session");
  if (!clean && clientId === undefined) {
    throw usageError("-c (keep the session) needs a fixed client id: -i id");
  }
  let sessionExpiryInterval = integer(tokens, "session-expiry-interval", 0, 0xffffffff);
  if (sessionExpiryInterval !== undefined && version === 4) {
    throw usageError("-x (session expiry) needs MQTT 5 (-V mqttv5)");
  }
  // mosquitto: -c on MQTT 5 keeps the session for ever unless -x says otherwise.
  if (!clean && version === 5) sessionExpiryInterval ??= 0xffffffff;
  const keepalive = integer(tokens, "keepalive", 0, 65535) ?? 60;
  const password = tokens.values.get("pw");
  // With several -L URLs, the first that carries credentials gives them.
  const credentials = targets.find((t) => t.username !== undefined);
  const username = tokens.values.get("username") ?? credentials?.username;
  if (password !== undefined && username === undefined) {
    throw usageError("-P needs -u (MQTT sends no password without a user name)");
  }
  return {
    config: {
      servers,
      clientId,
      idPrefix,
      username,
      password: password ?? credentials?.password,
      keepalive,
      clean,
      protocolVersion: version,
      sessionExpiryInterval,
      tls,
      will: willConfig(tokens),
      properties,
      qos: qos(tokens.values.get("qos"), "-q") ?? 0,
      quiet: tokens.flags.has("quiet"),
    },
    urlTopic: [...topics][0],
  };
}

/**
 * The brokers of -h: each -h may list several, comma-separated, and each entry may carry its
 * own port (`host:port`, `[v6]:port`; a bare IPv6 address has none). -p (or the default port
 * of the transport) applies to the entries without one.
 */
function hostList(
  values: readonly string[],
  protocol: TransportProtocol,
  port: number | undefined,
): BrokerAddress[] {
  const fallback = port ?? (protocol === "mqtts" ? 8883 : 1883);
  const entries = values.flatMap((value) => value.split(",")).map((entry) => entry.trim());
  if (entries.length === 0) return [{ protocol, host: "localhost", port: fallback }];
  return entries.map((entry) => {
    let host = entry;
    let own: string | undefined;
    const bracketed = /^\[([^\]]*)\](?::(.*))?$/.exec(entry);
    if (bracketed) [, host, own] = bracketed;
    else if (entry.indexOf(":") === entry.lastIndexOf(":") && entry.includes(":")) {
      [host, own] = entry.split(":");
    }
    if (host === "" || /[\s\u0000-\u001f\u007f/]/.test(host)) {
      throw usageError(`-h: '${entry}' is not a host name, host:port or [IPv6]:port`);
    }
    if (own !== undefined && !(/^\d+$/.test(own) && Number(own) >= 1 && Number(own) <= 65535)) {
      throw usageError(`-h: the port in '${entry}' must be a whole number from 1 to 65535`);
    }
    return { protocol, host, port: own === undefined ? fallback : Number(own) };
  });
}

function protocolVersion(value: string | undefined): 4 | 5 {
  switch (value) {
    case undefined:
    case "5":
    case "mqttv5":
      return 5;
    case "311":
    case "mqttv311":
      return 4;
    case "31":
    case "mqttv31":
      throw usageError("MQTT 3.1 is not supported; use -V mqttv311 or -V mqttv5");
    default:
      throw usageError(`-V must be mqttv5 or mqttv311, not '${value}'`);
  }
}

function tlsConfig(tokens: Tokens): TLSConfig | undefined {
  const caFile = tokens.values.get("cafile");
  const certFile = tokens.values.get("cert");
  const keyFile = tokens.values.get("key");
  const insecure = tokens.flags.has("insecure");
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw usageError("--cert and --key go together");
  }
  const wanted =
    caFile !== undefined ||
    certFile !== undefined ||
    insecure ||
    tokens.flags.has("tls-use-os-certs");
  return wanted ? { caFile, certFile, keyFile, insecure } : undefined;
}

function willConfig(tokens: Tokens): WillConfig | undefined {
  const topic = tokens.values.get("will-topic");
  const payload = tokens.values.get("will-payload");
  const willQos = qos(tokens.values.get("will-qos"), "--will-qos");
  const retain = tokens.flags.has("will-retain");
  if (topic === undefined) {
    if (payload !== undefined || willQos !== undefined || retain) {
      throw usageError("--will-payload, --will-qos and --will-retain need --will-topic");
    }
    return undefined;
  }
  return { topic, payload: payload ?? "", qos: willQos ?? 0, retain };
}

function qos(value: string | undefined, flag: string): 0 | 1 | 2 | undefined {
  if (value === undefined) return undefined;
  if (value !== "0" && value !== "1" && value !== "2") {
    throw usageError(`${flag} must be 0, 1 or 2, not '${value}'`);
  }
  return Number(value) as 0 | 1 | 2;
}

function integer(tokens: Tokens, name: string, min: number, max: number): number | undefined {
  const value = tokens.values.get(name);
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!/^\d+$/.test(value) || number < min || number > max) {
    throw usageError(`--${name} must be a whole number from ${min} to ${max}, not '${value}'`);
  }
  return number;
}

function decimal(tokens: Tokens, name: string): number | undefined {
  const value = tokens.values.get(name);
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !Number.isFinite(number)) {
    throw usageError(`--${name} must be a number of seconds, not '${value}'`);
  }
  return number;
}

export interface BrokerUrl {
  protocol: TransportProtocol;
  host: string;
  port: number;
  username?: string;
  password?: string;
  /** mqtt(s):// only: the path is the topic, as in mosquitto's -L. */
  topic?: string;
  /** ws(s):// only: the path is the WebSocket path (default /mqtt). */
  path?: string;
}

const SCHEMES: Record<string, TransportProtocol> = {
  mqtt: "mqtt",
  mqtts: "mqtts",
  ws: "ws",
  wss: "wss",
};

const DEFAULT_PORTS: Record<TransportProtocol, number> = {
  mqtt: 1883,
  mqtts: 8883,
  ws: 80,
  wss: 443,
};

/**
 * `-L mqtt(s)://[user[:pass]@]host[:port]/topic` (mosquitto's form) and
 * `ws(s)://[user[:pass]@]host[:port][/path]`. The path is split off by hand: a topic such as
 * `a/#` would otherwise be read as a URL fragment.
 */
export function parseBrokerUrl(url: string): BrokerUrl {
  const match = /^([a-z]+):\/\/([^/]*)(\/.*)?$/i.exec(url);
  const protocol = match ? SCHEMES[match[1].toLowerCase()] : undefined;
  if (!match || !protocol) {
    throw usageError(`-L must be an mqtt://, mqtts://, ws:// or wss:// URL, not '${url}'`);
  }
  let authority: URL;
  try {
    authority = new URL(`x://${match[2]}`);
  } catch {
    throw usageError(`-L: cannot read the host in '${url}'`);
  }
  if (!authority.hostname) throw usageError(`-L: no host in '${url}'`);
  const rest = match[3] ?? "";
  const websocket = protocol === "ws" || protocol === "wss";
  return {
    protocol,
    host: authority.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: authority.port ? Number(authority.port) : DEFAULT_PORTS[protocol],
    username: authority.username ? decodeURIComponent(authority.username) : undefined,
    password: authority.password ? decodeURIComponent(authority.password) : undefined,
    topic: websocket || rest.length <= 1 ? undefined : rest.slice(1),
    path: websocket ? rest || undefined : undefined,
  };
}
