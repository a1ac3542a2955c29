/**
 * fast-check generators of valid packets in the decoder's canonical form (what the decoder
 * returns for the encoder's output): acks/DISCONNECT/AUTH carry `reasonCode`, MQTT 5
 * subscriptions carry every option, `properties` appear only when non-empty, binary fields
 * are plain Uint8Arrays.
 */
import fc from "fast-check";
import type {
  Packet,
  Properties,
  ProtocolVersion,
  QoSLevel,
  Subscription,
} from "../../../src/mqtt/codec/index.js";
import { ALLOWED_REASON_CODES } from "../../../src/mqtt/codec/index.js";
import type { PropertyContext } from "../../../src/mqtt/codec/properties.js";

/** fc.record with a normal prototype, so deepStrictEqual compares with decoded packets. */
function record<T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> {
  return fc.record(model, { noNullPrototype: true });
}

const LONE_SURROGATE = /\p{Surrogate}/u;

/** Any MQTT UTF-8 string: any code point but U+0000 (lone surrogates cannot be UTF-8). */
export const mqttString = (maxLength = 12) =>
  fc
    .string({
      unit: fc.oneof(
        fc.constant("a"),
        fc.constant("/"),
        fc.string({ unit: "binary", minLength: 1, maxLength: 1 }),
      ),
      maxLength,
    })
    .filter((s) => !s.includes("\u0000") && !LONE_SURROGATE.test(s));

export const topicName = mqttString(16).filter(
  (s) => s.length > 0 && !s.includes("+") && !s.includes("#"),
);

const level = mqttString(6).filter((s) => !/[+#/]/.test(s));
export const topicFilter = fc
  .tuple(fc.array(fc.oneof(level, fc.constant("+")), { minLength: 1, maxLength: 4 }), fc.boolean())
  .map(([levels, hash]) => (hash ? [...levels, "#"] : levels).join("/"))
  .filter((f) => f.length > 0);

const qos = fc.constantFrom<QoSLevel>(0, 1, 2);
const packetId = fc.integer({ min: 1, max: 65535 });
const bytes = (maxLength = 32) => fc.uint8Array({ maxLength });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const pair = fc.tuple(mqttString(), mqttString());

const PROPERTY_ARBS: Record<keyof Properties, fc.Arbitrary<unknown>> = {
  payloadFormatIndicator: fc.constantFrom(0, 1),
  messageExpiryInterval: u32,
  contentType: mqttString(),
  responseTopic: topicName,
  correlationData: bytes(8),
  subscriptionIdentifiers: fc.array(fc.integer({ min: 1, max: 268_435_455 }), {
    minLength: 1,
    maxLength: 3,
  }),
  sessionExpiryInterval: u32,
  assignedClientIdentifier: mqttString(),
  serverKeepAlive: u16,
  authenticationMethod: mqttString(),
  authenticationData: bytes(8),
  requestProblemInformation: fc.boolean(),
  willDelayInterval: u32,
  requestResponseInformation: fc.boolean(),
  responseInformation: mqttString(),
  serverReference: mqttString(),
  reasonString: mqttString(),
  receiveMaximum: fc.integer({ min: 1, max: 0xffff }),
  topicAliasMaximum: u16,
  topicAlias: fc.integer({ min: 1, max: 0xffff }),
  maximumQoS: fc.constantFrom(0, 1),
  retainAvailable: fc.boolean(),
  userProperties: fc.array(pair, { minLength: 1, maxLength: 3 }),
  maximumPacketSize: fc.integer({ min: 1, max: 0xffffffff }),
  wildcardSubscriptionAvailable: fc.boolean(),
  subscriptionIdentifiersAvailable: fc.boolean(),
  sharedSubscriptionAvailable: fc.boolean(),
};

/** Which properties each context may carry (MQTT 5 §2.2.2.2), restated for the tests. */
export const ALLOWED_PROPERTIES: Record<PropertyContext, (keyof Properties)[]> = {
  connect: [
    "sessionExpiryInterval",
    "authenticationMethod",
    "authenticationData",
    "requestProblemInformation",
    "requestResponseInformation",
    "receiveMaximum",
    "topicAliasMaximum",
    "userProperties",
    "maximumPacketSize",
  ],
  connack: [
    "sessionExpiryInterval",
    "assignedClientIdentifier",
    "serverKeepAlive",
    "authenticationMethod",
    "authenticationData",
    "responseInformation",
    "serverReference",
    "reasonString",
    "receiveMaximum",
    "topicAliasMaximum",
    "maximumQoS",
    "retainAvailable",
    "userProperties",
    "maximumPacketSize",
    "wildcardSubscriptionAvailable",
    "subscriptionIdentifiersAvailable",
    "sharedSubscriptionAvailable",
  ],
  publish: [
    "payloadFormatIndicator",
    "messageExpiryInterval",
    "contentType",
    "responseTopic",
    "correlationData",
    "subscriptionIdentifiers",
    "topicAlias",
    "userProperties",
  ],
  will: [
    "payloadFormatIndicator",
    "messageExpiryInterval",
    "contentType",
    "responseTopic",
    "correlationData",
    "willDelayInterval",
    "userProperties",
  ],
  puback: ["reasonString", "userProperties"],
  pubrec: ["reasonString", "userProperties"],
  pubrel: ["reasonString", "userProperties"],
  pubcomp: ["reasonString", "userProperties"],
  subscribe: ["subscriptionIdentifiers", "userProperties"],
  suback: ["reasonString", "userProperties"],
  unsubscribe: ["userProperties"],
  unsuback: ["reasonString", "userProperties"],
  pingreq: [],
  pingresp: [],
  disconnect: ["sessionExpiryInterval", "serverReference", "reasonString", "userProperties"],
  auth: ["authenticationMethod", "authenticationData", "reasonString", "userProperties"],
};

/** Optional properties for `context`; undefined when the generated record is empty. */
export function properties(context: PropertyContext): fc.Arbitrary<Properties | undefined> {
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const key of ALLOWED_PROPERTIES[context]) {
    model[key] =
      key === "subscriptionIdentifiers" && context === "subscribe"
        ? fc.integer({ min: 1, max: 268_435_455 }).map((n) => [n])
        : PROPERTY_ARBS[key];
  }
  return fc.record(model, { requiredKeys: [], noNullPrototype: true }).map((p) => {
    // Authentication Data needs an Authentication Method (§3.1.2.11.10).
    if (p.authenticationMethod === undefined) delete p.authenticationData;
    return Object.keys(p).length > 0 ? (p as Properties) : undefined;
  });
}

/** Sets `properties` only when defined, as the decoder does. */
function withProps<T extends object>(packet: T, props: Properties | undefined): T {
  return props === undefined ? packet : { ...packet, properties: props };
}

function codes(type: keyof typeof ALLOWED_REASON_CODES, version: ProtocolVersion) {
  const v5 = [...ALLOWED_REASON_CODES[type]!];
  return version === 5 ? fc.constantFrom(...v5) : fc.constant(0);
}

export function packet(version: ProtocolVersion): fc.Arbitrary<Packet> {
  const v5 = version === 5;
  const p = (context: PropertyContext) => (v5 ? properties(context) : fc.constant(undefined));

  const will = record({
    topic: topicName,
    payload: bytes(),
    qos,
    retain: fc.boolean(),
    props: p("will"),
  }).map(({ props, ...w }) => withProps(w, props));

  const connect = record({
    clientId: mqttString(),
    clean: fc.boolean(),
    keepalive: u16,
    username: fc.option(mqttString(), { nil: undefined }),
    password: fc.option(bytes(), { nil: undefined }),
    will: fc.option(will, { nil: undefined }),
    props: p("connect"),
  }).map(({ props, username, password, will, ...c }) => {
    const packet: Packet = { type: "connect", protocolVersion: version, ...c };
    // 3.1.1: an empty client id needs clean session; a password needs a user name.
    if (!v5 && c.clientId === "") packet.clean = true;
    if (will !== undefined) packet.will = will;
    if (username !== undefined) packet.username = username;
    if (password !== undefined && (v5 || username !== undefined)) packet.password = password;
    return withProps(packet, props);
  });

  const connack = record({
    sessionPresent: fc.boolean(),
    reasonCode: v5 ? codes("connack", 5) : fc.integer({ min: 0, max: 5 }),
    props: p("connack"),
  }).map(({ props, sessionPresent, reasonCode }) =>
    withProps(
      {
        type: "connack" as const,
        sessionPresent: sessionPresent && reasonCode === 0,
        reasonCode,
      },
      props,
    ),
  );

  const publish = record({
    topic: topicName,
    payload: bytes(64),
    qos,
    retain: fc.boolean(),
    dup: fc.boolean(),
    packetId,
    props: p("publish"),
    emptyTopic: fc.boolean(),
  }).map(({ props, packetId, emptyTopic, ...m }) => {
    const packet: Packet = { type: "publish", ...m, dup: m.qos > 0 && m.dup };
    if (m.qos > 0) packet.packetId = packetId;
    // MQTT 5 §3.3.2.3.4: with a topic alias the topic name may be empty.
    if (emptyTopic && props?.topicAlias !== undefined) packet.topic = "";
    return withProps(packet, props);
  });

  const ack = (type: "puback" | "pubrec" | "pubrel" | "pubcomp") =>
    record({ packetId, reasonCode: codes(type, version), props: p(type) }).map(({ props, ...a }) =>
      withProps({ type, ...a }, props),
    );

  const subscription: fc.Arbitrary<Subscription> = v5
    ? record({
        topicFilter,
        qos,
        noLocal: fc.boolean(),
        retainAsPublished: fc.boolean(),
        retainHandling: fc.constantFrom<0 | 1 | 2>(0, 1, 2),
      })
    : record({ topicFilter, qos });

  const subscribe = record({
    packetId,
    subscriptions: fc.array(subscription, { minLength: 1, maxLength: 4 }),
    props: p("subscribe"),
  }).map(({ props, ...s }) => withProps({ type: "subscribe" as const, ...s }, props));

  const suback = record({
    packetId,
    reasonCodes: fc.array(v5 ? codes("suback", 5) : fc.constantFrom(0, 1, 2, 0x80), {
      minLength: 1,
      maxLength: 4,
    }),
    props: p("suback"),
  }).map(({ props, ...s }) => withProps({ type: "suback" as const, ...s }, props));

  const unsubscribe = record({
    packetId,
    topicFilters: fc.array(topicFilter, { minLength: 1, maxLength: 4 }),
    props: p("unsubscribe"),
  }).map(({ props, ...u }) => withProps({ type: "unsubscribe" as const, ...u }, props));

  const unsuback = record({
    packetId,
    reasonCodes: v5
      ? fc.array(codes("unsuback", 5), { minLength: 1, maxLength: 4 })
      : fc.constant<number[]>([]),
    props: p("unsuback"),
  }).map(({ props, ...u }) => withProps({ type: "unsuback" as const, ...u }, props));

  const disconnect = record({
    reasonCode: codes("disconnect", version),
    props: p("disconnect"),
  }).map(({ props, reasonCode }) => withProps({ type: "disconnect" as const, reasonCode }, props));

  const arbs: fc.Arbitrary<Packet>[] = [
    connect,
    connack,
    publish,
    ack("puback"),
    ack("pubrec"),
    ack("pubrel"),
    ack("pubcomp"),
    subscribe,
    suback,
    unsubscribe,
    unsuback,
    fc.constant({ type: "pingreq" as const }),
    fc.constant({ type: "pingresp" as const }),
    disconnect,
  ];
  if (v5) {
    arbs.push(
      record({ reasonCode: codes("auth", 5), props: p("auth") }).map(({ props, reasonCode }) =>
        withProps({ type: "auth" as const, reasonCode }, props),
      ),
    );
  }
  return fc.oneof(...arbs);
}

/** Splits `bytes` into chunks at the given (sorted, deduplicated) cut points. */
export function splitAt(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let from = 0;
  for (const c of points) {
    chunks.push(bytes.subarray(from, c));
    from = c;
  }
  chunks.push(bytes.subarray(from));
  return chunks;
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
