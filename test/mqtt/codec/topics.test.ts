import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MQTTError } from "../../../src/errors.js";
import {
  assertTopicFilter,
  assertTopicName,
  isValidTopicFilter,
  isValidTopicName,
  parseSharedSubscription,
  topicMatches,
} from "../../../src/mqtt/codec/index.js";

describe("topic names (§4.7)", () => {
  it("accepts names with spaces, leading slashes, empty levels and '$'", () => {
    for (const t of ["a", "/", "a//b", " a b ", "$SYS/x", "ü/😀"])
      assert.ok(isValidTopicName(t), t);
  });
  it("refuses wildcards, U+0000 and the empty name", () => {
    for (const t of ["", "+", "a/#", "a+b", "a\u0000"]) assert.equal(isValidTopicName(t), false, t);
    assert.throws(
      () => assertTopicName("a/+"),
      (e: unknown) => {
        assert.ok(e instanceof MQTTError);
        assert.equal(e.code, "MQTT_INVALID_TOPIC");
        assert.equal(e.reasonCode, 0x90);
        return true;
      },
    );
  });
});

describe("topic filters (§4.7.1)", () => {
  it("accepts valid wildcard placement", () => {
    for (const f of ["#", "+", "a/#", "+/+", "/+", "a/+/c", "$share/g/a/#", "+/tennis/#"]) {
      assert.ok(isValidTopicFilter(f), f);
    }
  });
  it("refuses misplaced wildcards and malformed shared subscriptions", () => {
    for (const f of [
      "",
      "a#",
      "a/#/b",
      "a+",
      "+a/b",
      "##",
      "$share/",
      "$share/g",
      "$share//t",
      "$share/g+/t",
      "$share/g/a/#/b",
    ]) {
      assert.equal(isValidTopicFilter(f), false, f);
    }
    assert.throws(() => assertTopicFilter("a/#/b"), { code: "MQTT_INVALID_TOPIC" });
  });
  it("splits shared subscriptions (§4.8.2)", () => {
    assert.deepEqual(parseSharedSubscription("$share/g/a/b"), {
      shareName: "g",
      topicFilter: "a/b",
    });
    assert.equal(parseSharedSubscription("a/b"), undefined);
    assert.equal(parseSharedSubscription("$share/g"), null);
  });
});

describe("topic matching (§4.7)", () => {
  const cases: [string, string, boolean][] = [
    ["sport/tennis/player1/#", "sport/tennis/player1", true],
    ["sport/tennis/player1/#", "sport/tennis/player1/ranking", true],
    ["sport/#", "sport", true],
    ["sport/tennis/+", "sport/tennis/player1", true],
    ["sport/tennis/+", "sport/tennis/player1/ranking", false],
    ["sport/+", "sport", false],
    ["sport/+", "sport/", true],
    ["+/+", "/finance", true],
    ["/+", "/finance", true],
    ["+", "/finance", false],
    ["#", "$SYS/x", false],
    ["+/monitor", "$SYS/monitor", false],
    ["$SYS/#", "$SYS/monitor", true],
    ["$share/g/a/+", "a/b", true],
  ];
  for (const [filter, topic, expected] of cases) {
    it(`${filter} ${expected ? "matches" : "does not match"} ${topic}`, () => {
      assert.equal(topicMatches(filter, topic), expected);
    });
  }
});
