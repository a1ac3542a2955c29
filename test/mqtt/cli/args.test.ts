/** The command lines of `mtaio mqtt pub|sub` on their own: flags, -D properties, -L URLs,
 * and the usage errors (MQTT_CLI_USAGE) for what does not make sense. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { MQTTError } from "../../../src/errors.js";
import {
  type PubConfig,
  parseBrokerUrl,
  parsePubArgs,
  parseSubArgs,
  type SubConfig,
} from "../../../src/mqtt/cli/args.js";
import { tokenize } from "../../../src/mqtt/cli/argv.js";
import { parseProperties } from "../../../src/mqtt/cli/properties.js";

function pub(...argv: string[]): PubConfig {
  const parsed = parsePubArgs(argv);
  assert.equal(parsed.help, false);
  return (parsed as { config: PubConfig }).config;
}

function sub(...argv: string[]): SubConfig {
  const parsed = parseSubArgs(argv);
  assert.equal(parsed.help, false);
  return (parsed as { config: SubConfig }).config;
}

function usage(run: () => unknown, pattern: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof MQTTError);
    assert.equal(error.code, "MQTT_CLI_USAGE");
    assert.match(error.message, pattern);
    return true;
  });
}

describe("mtaio mqtt pub arguments", () => {
  it("reads mosquitto_pub's flags", () => {
    const config = pub(
      ...["-h", "broker", "-p", "1884", "-t", "a/b", "-m", "hello", "-q", "2", "-r"],
      ...["-i", "me", "-u", "user", "-P", "secret", "-k", "30", "-V", "mqttv311"],
    );
    assert.deepEqual(config.servers, [{ protocol: "mqtt", host: "broker", port: 1884 }]);
    assert.equal(config.topic, "a/b");
    assert.deepEqual(config.source, { kind: "message", text: "hello" });
    assert.equal(config.qos, 2);
    assert.equal(config.retain, true);
    assert.equal(config.clientId, "me");
    assert.equal(config.username, "user");
    assert.equal(config.password, "secret");
    assert.equal(config.keepalive, 30);
    assert.equal(config.protocolVersion, 4);
    assert.equal(config.clean, true);
  });

  it("has mosquitto's defaults: localhost:1883, QoS 0, MQTT 5 (mtaio's default)", () => {
    const config = pub("-t", "x", "-n");
    assert.deepEqual(config.servers, [{ protocol: "mqtt", host: "localhost", port: 1883 }]);
    assert.equal(config.qos, 0);
    assert.equal(config.protocolVersion, 5);
    assert.deepEqual(config.source, { kind: "null" });
    assert.equal(config.keepalive, 60);
  });

  it("takes values that start with a dash, and --long=value", () => {
    assert.deepEqual(pub("-t", "x", "-m", "-1").source, { kind: "message", text: "-1" });
    assert.deepEqual(pub("--topic=x", "--message=a=b").source, { kind: "message", text: "a=b" });
  });

  it("wants exactly one payload source", () => {
    usage(() => pub("-t", "x"), /exactly one of -m/);
    usage(() => pub("-t", "x", "-m", "a", "-n"), /only one of/);
    assert.deepEqual(pub("-t", "x", "-f", "/tmp/f").source, { kind: "file", path: "/tmp/f" });
    assert.deepEqual(pub("-t", "x", "-s").source, { kind: "stdin" });
    assert.deepEqual(pub("-t", "x", "-l").source, { kind: "lines" });
  });

  it("refuses unknown flags, missing values, stray words and bad numbers", () => {
    usage(() => pub("-t", "x", "-m", "a", "--bogus"), /unknown option --bogus/);
    usage(() => pub("-t", "x", "-m", "a", "-Z"), /unknown option -Z/);
    usage(() => pub("-t", "x", "-m"), /-m\/--message needs a value/);
    usage(() => pub("-t", "x", "-m", "a", "extra"), /unexpected argument 'extra'/);
    usage(() => pub("-t", "x", "-m", "a", "-q", "3"), /-q must be 0, 1 or 2/);
    usage(() => pub("-t", "x", "-m", "a", "-p", "70000"), /--port must be a whole number/);
    usage(() => pub("-t", "x", "-m", "a", "-k", "1.5"), /--keepalive/);
    usage(() => pub("-m", "a"), /needs a topic/);
    usage(() => pub("-t", "x", "-m", "a", "-V", "mqttv31"), /3\.1 is not supported/);
    usage(() => pub("-t", "x", "-m", "a", "-V", "6"), /-V must be/);
    usage(() => pub("-t", "x", "-m", "a", "-r", "--retain=yes"), /takes no value/);
  });

  it("-c keeps the session: needs -i, and on MQTT 5 sets an endless session expiry", () => {
    usage(() => pub("-t", "x", "-n", "-c"), /needs a fixed client id/);
    const v5 = pub("-t", "x", "-n", "-c", "-i", "me");
    assert.equal(v5.clean, false);
    assert.equal(v5.sessionExpiryInterval, 0xffffffff);
    assert.equal(pub("-t", "x", "-n", "-c", "-i", "me", "-x", "60").sessionExpiryInterval, 60);
    assert.equal(
      pub("-t", "x", "-n", "-c", "-i", "me", "-V", "mqttv311").sessionExpiryInterval,
      undefined,
    );
    usage(() => pub("-t", "x", "-n", "-x", "5", "-V", "mqttv311"), /needs MQTT 5/);
  });

  it("reads a will, and refuses will options without --will-topic", () => {
    const config = pub(
      ...["-t", "x", "-n", "--will-topic", "w/t", "--will-payload", "gone"],
      ...["--will-qos", "1", "--will-retain"],
    );
    assert.deepEqual(config.will, { topic: "w/t", payload: "gone", qos: 1, retain: true });
    usage(() => pub("-t", "x", "-n", "--will-payload", "gone"), /need --will-topic/);
  });

  it("turns TLS on with --cafile/--cert/--key and moves the default port to 8883", () => {
    const config = pub("-t", "x", "-n", "--cafile", "ca.pem", "--insecure");
    assert.deepEqual(config.servers, [{ protocol: "mqtts", host: "localhost", port: 8883 }]);
    assert.deepEqual(config.tls, {
      caFile: "ca.pem",
      certFile: undefined,
      keyFile: undefined,
      insecure: true,
    });
    usage(() => pub("-t", "x", "-n", "--cert", "c.pem"), /--cert and --key go together/);
    usage(
      () => pub("-L", "mqtt://host/x", "-n", "--cafile", "ca.pem"),
      /need an mqtts:\/\/ or wss:\/\/ URL/,
    );
  });

  it("takes the broker, credentials and topic from -L", () => {
    const config = pub("-L", "mqtts://al%40ice:pa%3Ass@example.com:8884/a/b", "-m", "x");
    assert.deepEqual(config.servers, [
      { protocol: "mqtts", host: "example.com", port: 8884, path: undefined },
    ]);
    assert.equal(config.username, "al@ice");
    assert.equal(config.password, "pa:ss");
    assert.equal(config.topic, "a/b");
    assert.equal(pub("-L", "mqtt://h/u", "-t", "over", "-n").topic, "over");
    usage(() => pub("-L", "mqtt://h/x", "-h", "other", "-n"), /either -L URL or -h\/-p/);
    usage(() => pub("-t", "x", "-n", "-P", "secret"), /-P needs -u/);
  });

  it("takes several brokers: repeated -h, comma lists, host:port, repeated -L", () => {
    const hosts = pub(
      "-h",
      "a,b:1999",
      "-h",
      "[::1]:2000",
      "-h",
      "fe80::2",
      "-p",
      "1884",
      "-t",
      "x",
      "-n",
    );
    assert.deepEqual(hosts.servers, [
      { protocol: "mqtt", host: "a", port: 1884 },
      { protocol: "mqtt", host: "b", port: 1999 },
      { protocol: "mqtt", host: "::1", port: 2000 },
      { protocol: "mqtt", host: "fe80::2", port: 1884 },
    ]);
    const tls = pub("-h", "a,b", "--cafile", "ca.pem", "-t", "x", "-n");
    assert.deepEqual(
      tls.servers.map((s) => `${s.protocol}://${s.host}:${s.port}`),
      ["mqtts://a:8883", "mqtts://b:8883"],
    );
    const urls = pub("-L", "mqtt://u:p@a:1/t", "-L", "ws://b:2/mqtt", "-m", "x");
    assert.deepEqual(urls.servers, [
      { protocol: "mqtt", host: "a", port: 1, path: undefined },
      { protocol: "ws", host: "b", port: 2, path: "/mqtt" },
    ]);
    assert.equal(urls.topic, "t");
    assert.equal(urls.username, "u");
    usage(() => pub("-L", "mqtt://a/t1", "-L", "mqtt://b/t2", "-n"), /different topics/);
    usage(() => pub("-h", "a,,b", "-t", "x", "-n"), /not a host name/);
    usage(() => pub("-h", "a:0", "-t", "x", "-n"), /port in 'a:0'/);
    usage(() => pub("-h", "a:x", "-t", "x", "-n"), /port in 'a:x'/);
  });

  it("reads MQTT 5 properties for publish, connect, will and disconnect", () => {
    const config = pub(
      ...["-t", "x", "-m", "{}", "-D", "publish", "content-type", "application/json"],
      ...["-D", "publish", "user-property", "k", "v", "-D", "publish", "user-property", "k", "w"],
      ...["-D", "publish", "message-expiry-interval", "60"],
      ...["-D", "publish", "payload-format-indicator", "1"],
      ...["-D", "publish", "response-topic", "r/t", "-D", "publish", "correlation-data", "c1"],
      ...[
        "-D",
        "connect",
        "session-expiry-interval",
        "30",
        "-D",
        "will",
        "will-delay-interval",
        "5",
      ],
      ...["-D", "disconnect", "reason-string", "bye"],
    );
    assert.deepEqual(config.properties.publish, {
      contentType: "application/json",
      userProperties: [
        ["k", "v"],
        ["k", "w"],
      ],
      messageExpiryInterval: 60,
      payloadFormatIndicator: 1,
      responseTopic: "r/t",
      correlationData: new Uint8Array([0x63, 0x31]),
    });
    assert.deepEqual(config.properties.connect, { sessionExpiryInterval: 30 });
    assert.deepEqual(config.properties.will, { willDelayInterval: 5 });
    assert.deepEqual(config.properties.disconnect, { reasonString: "bye" });
  });

  it("refuses -D on MQTT 3.1.1, for the wrong command, or with a bad value", () => {
    usage(
      () => pub("-t", "x", "-n", "-V", "mqttv311", "-D", "publish", "content-type", "a"),
      /need MQTT 5/,
    );
    usage(() => pub("-t", "x", "-n", "-D", "subscribe", "user-property", "a", "b"), /subscribe/);
    usage(() => pub("-t", "x", "-n", "-D", "publish", "session-expiry-interval", "1"), /not a/);
    usage(() => pub("-t", "x", "-n", "-D", "publish", "colour", "red"), /unknown property/);
    usage(
      () => pub("-t", "x", "-n", "-D", "publish", "message-expiry-interval", "-1"),
      /whole number/,
    );
    usage(() => pub("-t", "x", "-n", "-D", "publish", "payload-format-indicator", "2"), /0 to 1/);
    usage(() => pub("-t", "x", "-n", "-D", "publish", "user-property", "a"), /needs command/);
    usage(() => pub("-t", "x", "-n", "-D", "publish", "content-type", "a\u0000b"), /NUL/);
  });
});

describe("mtaio mqtt sub arguments", () => {
  it("reads repeatable -t and -T, output options and limits", () => {
    const config = sub(
      ...["-t", "a/#", "-t", "b/+", "-T", "a/secret", "-v", "-C", "3", "-W", "10", "-N"],
      ...["-q", "1", "-R", "-E"],
    );
    assert.deepEqual(config.topics, ["a/#", "b/+"]);
    assert.deepEqual(config.filterOut, ["a/secret"]);
    assert.equal(config.verbose, true);
    assert.equal(config.count, 3);
    assert.equal(config.timeout, 10);
    assert.equal(config.eol, false);
    assert.equal(config.qos, 1);
    assert.equal(config.noRetained, true);
    assert.equal(config.exitAfterSubscribe, true);
  });

  it("takes a filter from -L plus any -t, and a WebSocket path from ws:// URLs", () => {
    const config = sub("-L", "mqtt://h:1999/a/#", "-t", "b");
    assert.deepEqual(config.topics, ["a/#", "b"]);
    assert.equal(config.servers[0].port, 1999);
    const ws = sub("-L", "ws://[::1]:9001/custom/path", "-t", "b");
    assert.deepEqual(ws.servers, [
      { protocol: "ws", host: "::1", port: 9001, path: "/custom/path" },
    ]);
    assert.deepEqual(ws.topics, ["b"]);
  });

  it("refuses contradictions", () => {
    usage(() => sub(), /at least one -t/);
    usage(() => sub("-t", "a", "-F", "%t", "--json"), /-F or --json/);
    usage(() => sub("-t", "a", "-R", "--retained-only"), /contradict/);
    usage(() => sub("-t", "a", "-C", "0"), /--count/);
    usage(() => sub("-t", "a", "-D", "publish", "content-type", "x"), /unused command/);
    usage(() => sub("-t", "a", "-V", "311", "--retain-as-published"), /needs MQTT 5/);
  });

  it("reads subscribe properties", () => {
    const config = sub(
      ...["-t", "a", "-D", "subscribe", "subscription-identifier", "7"],
      ...["-D", "subscribe", "user-property", "who", "me"],
    );
    assert.deepEqual(config.properties.subscribe, {
      subscriptionIdentifier: 7,
      userProperties: [["who", "me"]],
    });
  });

  it("answers --help without needing a topic", () => {
    assert.deepEqual(parseSubArgs(["--help"]), { help: true });
    assert.deepEqual(parsePubArgs(["--help"]), { help: true });
  });
});

describe("broker URLs (-L)", () => {
  it("keeps # and + in the topic (not a URL fragment) and applies default ports", () => {
    assert.deepEqual(parseBrokerUrl("mqtt://localhost/a/#"), {
      protocol: "mqtt",
      host: "localhost",
      port: 1883,
      username: undefined,
      password: undefined,
      topic: "a/#",
      path: undefined,
    });
    assert.equal(parseBrokerUrl("mqtts://h").port, 8883);
    assert.equal(parseBrokerUrl("wss://h").port, 443);
    assert.equal(parseBrokerUrl("mqtt://h").topic, undefined);
  });

  it("refuses other schemes and missing hosts", () => {
    usage(() => parseBrokerUrl("http://h/x"), /must be an mqtt:\/\//);
    usage(() => parseBrokerUrl("localhost:1883"), /must be an mqtt:\/\//);
    usage(() => parseBrokerUrl("mqtt:///x"), /no host|cannot read/);
  });
});

describe("the tokenizer and -D", () => {
  it("keeps the last of a repeated value and every -D in order", () => {
    const tokens = tokenize(
      ["-q", "1", "-q", "2", "-D", "a", "b", "c", "-D", "a", "user-property", "n", "v"],
      [
        { long: "qos", short: "q", kind: "value" },
        { long: "property", short: "D", kind: "property" },
      ],
    );
    assert.equal(tokens.values.get("qos"), "2");
    assert.deepEqual(tokens.properties, [
      ["a", "b", "c"],
      ["a", "user-property", "n", "v"],
    ]);
  });

  it("gives user properties to each command separately", () => {
    const properties = parseProperties(
      [
        ["connect", "user-property", "a", "1"],
        ["publish", "user-property", "b", "2"],
      ],
      ["connect", "publish"],
    );
    assert.deepEqual(properties.connect.userProperties, [["a", "1"]]);
    assert.deepEqual(properties.publish.userProperties, [["b", "2"]]);
  });
});

describe("arbitrary command lines (fuzz)", () => {
  it("end in a config or an MQTT_CLI_USAGE error, never anything else", () => {
    const word = fc.oneof(
      fc.constantFrom("-t", "-m", "-D", "-q", "-L", "-C", "-W", "-F", "-c", "-i", "--json"),
      fc.constantFrom("publish", "connect", "user-property", "content-type", "1", "a/#", "-"),
      fc.string({ maxLength: 8 }),
    );
    fc.assert(
      fc.property(fc.boolean(), fc.array(word, { maxLength: 12 }), (isPub, argv) => {
        try {
          (isPub ? parsePubArgs : parseSubArgs)(argv);
        } catch (error) {
          assert.ok(error instanceof MQTTError, String(error));
          assert.equal(error.code, "MQTT_CLI_USAGE", error.message);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
