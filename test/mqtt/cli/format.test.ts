/** What `mtaio mqtt sub` prints (formatMessage) and which exit code a failure gets. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { MQTTError } from "../../../src/errors.js";
import { describeFailure, ExitCode } from "../../../src/mqtt/cli/exit-codes.js";
import { formatMessage, type OutputOptions } from "../../../src/mqtt/cli/format.js";
import { MQTTMessage } from "../../../src/mqtt/index.js";

const plain: OutputOptions = { verbose: false, json: false, pretty: false, eol: true };
const at = new Date(Date.UTC(2026, 11, 7, 22, 50, 27, 123));

function text(message: MQTTMessage, options: Partial<OutputOptions>): string {
  return formatMessage(message, { ...plain, ...options }, at).toString("utf8");
}

const hello = new MQTTMessage({
  topic: "sensors/kitchen",
  payload: new TextEncoder().encode("21.5 °C"),
  qos: 1,
  retain: true,
  messageId: 42,
});

describe("formatMessage", () => {
  it("prints the payload, or topic and payload with -v, with a newline unless -N", () => {
    assert.equal(text(hello, {}), "21.5 °C\n");
    assert.equal(text(hello, { verbose: true }), "sensors/kitchen 21.5 °C\n");
    assert.equal(text(hello, { eol: false }), "21.5 °C");
  });

  it("writes a binary payload byte for byte", () => {
    const bytes = new Uint8Array([0, 0xff, 0x80, 10]);
    const out = formatMessage(new MQTTMessage({ topic: "b", payload: bytes }), plain, at);
    assert.deepEqual([...out], [0, 0xff, 0x80, 10, 10]);
  });

  it("expands -F fields, time fields and escapes; unknown ones stay as written", () => {
    assert.equal(
      text(hello, { format: "%t|%p|%q|%r|%m|%l|%x|%%|%Z|\\t|\\\\|@@|@Y|50%" }),
      "sensors/kitchen|21.5 °C|1|1|42|8|32312e3520c2b043|%|%Z|\t|\\|@|" +
        `${at.getFullYear()}|50%\n`,
    );
    assert.equal(text(hello, { format: "%X" }), "32312E3520C2B043\n");
    assert.match(text(hello, { format: "%I" }), /^2026-12-0[78]T\d\d:\d\d:27[+-]\d{4}\n$/);
    assert.equal(text(hello, { format: "%U" }), `${Math.floor(at.getTime() / 1000)}.123000000\n`);
  });

  it("prints MQTT 5 properties with %C %E %F %R %D %P %S", () => {
    const message = new MQTTMessage({
      topic: "t",
      payload: "{}",
      properties: {
        contentType: "application/json",
        messageExpiryInterval: 60,
        payloadFormatIndicator: 1,
        responseTopic: "r/t",
        correlationData: new TextEncoder().encode("c-1"),
        userProperties: [
          ["a", "1"],
          ["b", "2"],
        ],
        subscriptionIdentifiers: [3, 4],
      },
    });
    assert.equal(
      text(message, { format: "%C %E %F %R %D [%P] %S" }),
      "application/json 60 1 r/t c-1 [a:1 b:2] 3,4\n",
    );
  });

  it("prints JSON lines shaped like mosquitto_sub's; JSON payloads as values with --json", () => {
    const line = JSON.parse(text(hello, { json: true }));
    assert.deepEqual(line, {
      tst: "2026-12-07T22:50:27.123Z",
      topic: "sensors/kitchen",
      qos: 1,
      retain: 1,
      payloadlen: 8,
      payload: "21.5 °C",
    });
    const json = new MQTTMessage({
      topic: "j",
      payload: '{"a":[1,2]}',
      properties: {
        contentType: "application/json",
        userProperties: [
          ["k", "v"],
          ["twice", "1"],
          ["twice", "2"],
        ],
      },
    });
    const full = JSON.parse(text(json, { json: true }));
    assert.deepEqual(full.payload, { a: [1, 2] });
    assert.deepEqual(full.properties, {
      "content-type": "application/json",
      "user-properties": { k: "v", twice: ["1", "2"] },
    });
    // %j keeps the payload as text.
    const short = JSON.parse(text(json, { format: "%j" }));
    assert.equal(short.payload, '{"a":[1,2]}');
    assert.equal(short.properties["content-type"], "application/json");
  });

  it("carries a payload that is not UTF-8 as base64, and indents with --pretty", () => {
    const binary = new MQTTMessage({ topic: "b", payload: new Uint8Array([0xff, 0xfe]) });
    const line = JSON.parse(text(binary, { json: true }));
    assert.equal(line.payload, undefined);
    assert.equal(line.payload_base64, "//4=");
    const pretty = text(hello, { json: true, pretty: true });
    assert.match(pretty, /^\{\n {2}"tst": /);
    assert.equal(pretty.endsWith("}\n"), true);
  });
});

describe("exit codes", () => {
  const code = (error: unknown) => describeFailure(error).code;

  it("tells usage, connection, refusal, topic and timeout failures apart", () => {
    assert.equal(code(new MQTTError("x", { code: "MQTT_CLI_USAGE" })), ExitCode.USAGE);
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), {
      code: "ECONNREFUSED",
    });
    const failure = describeFailure(
      new MQTTError("cannot connect to mqtt://127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1", {
        code: "MQTT_CONNECTION_FAILED",
        cause: refused,
      }),
    );
    assert.equal(failure.code, ExitCode.CONNECTION);
    assert.match(failure.message, /^connection refused: /);
    assert.equal(
      code(new MQTTError("no", { code: "MQTT_CONNECT_REFUSED", reasonCode: 0x87 })),
      ExitCode.REFUSED,
    );
    assert.equal(
      code(new MQTTError("no", { code: "MQTT_SUBSCRIBE_FAILED", reasonCode: 0x8f })),
      ExitCode.BAD_TOPIC,
    );
    assert.equal(code(new MQTTError("bad", { code: "MQTT_INVALID_TOPIC" })), ExitCode.BAD_TOPIC);
    assert.equal(code(new MQTTError("slow", { code: "MQTT_TIMEOUT" })), ExitCode.TIMEOUT);
    assert.equal(
      code(new MQTTError("gone", { code: "MQTT_CONNECTION_LOST" })),
      ExitCode.CONNECTION,
    );
  });

  it("keeps the message on one line", () => {
    assert.equal(describeFailure(new Error("two\nlines")).message, "two lines");
  });
});

describe("arbitrary -F format strings (fuzz)", () => {
  it("never throw, and copy text without % @ \\ through unchanged", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (format) => {
        const out = text(hello, { format });
        if (!/[%@\\]/.test(format)) assert.equal(out, `${format}\n`);
      }),
      { numRuns: 2000 },
    );
  });
});
