import { Buffer } from "node:buffer";
import { MQTTError } from "../../errors.js";
import { topicFilterProblem, topicNameProblem } from "../codec/topics.js";

/**
 * Topic filter matching for routing received messages to `messages(filter)` iterators
 * (MQTT 5.0 §4.7). `$share/{group}/{filter}` subscriptions match like `{filter}` (§4.8.2), and
 * topics starting with `$` are not matched by filters starting with a wildcard (§4.7.2).
 */
export function stripSharePrefix(filter: string): string {
  if (!filter.startsWith("$share/")) return filter;
  const slash = filter.indexOf("/", 7);
  return slash < 0 ? filter : filter.slice(slash + 1);
}

/**
 * Whether a topic name matches a topic filter (MQTT 5.0 §4.7): `+` one level, `#` the rest,
 * `$share/group/` prefixes ignored, and `$`-topics never matched by a leading wildcard.
 *
 * @example
 * ```ts
 * topicMatches("sensors/+/temperature", "sensors/kitchen/temperature"); // true
 * topicMatches("#", "$SYS/broker/uptime"); // false
 * ```
 */
export function topicMatches(filter: string, topic: string): boolean {
  filter = stripSharePrefix(filter);
  if (filter === topic) return true;
  if (topic.startsWith("$") && (filter[0] === "+" || filter[0] === "#")) return false;
  const f = filter.split("/");
  const t = topic.split("/");
  for (let i = 0; i < f.length; i++) {
    const level = f[i];
    if (level === "#") return true;
    if (i >= t.length) return false;
    if (level !== "+" && level !== t[i]) return false;
  }
  return f.length === t.length;
}

/** Topic names: no wildcards, no U+0000, 1…65535 UTF-8 bytes (§4.7.1, §1.5.4). */
export function assertTopicName(topic: string): void {
  const problem =
    typeof topic !== "string"
      ? "a topic name must be a string"
      : (topicNameProblem(topic) ??
        // Each UTF-16 unit is at most 3 UTF-8 bytes: only long topics need counting.
        (topic.length > 21845 && Buffer.byteLength(topic, "utf8") > 65535
          ? "longer than 65535 bytes"
          : undefined));
  if (problem) {
    throw new MQTTError(`invalid topic name "${String(topic)}": ${problem}`, {
      code: "MQTT_INVALID_TOPIC",
      reasonCode: 0x90,
    });
  }
}

/** Filters: "#" only last and alone in its level, "+" alone in its level, valid $share (§4.7, §4.8.2). */
export function assertTopicFilter(filter: string): void {
  const problem =
    typeof filter !== "string"
      ? "a topic filter must be a string"
      : (topicFilterProblem(filter) ??
        (Buffer.byteLength(filter, "utf8") > 65535 ? "longer than 65535 bytes" : undefined));
  if (problem) {
    throw new MQTTError(`invalid topic filter "${String(filter)}": ${problem}`, {
      code: "MQTT_INVALID_TOPIC",
      reasonCode: 0x8f,
    });
  }
}
