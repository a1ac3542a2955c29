/**
 * Topic name and topic filter rules (MQTT 5 §4.7, 3.1.1 §4.7). These check the structure only;
 * UTF-8 well-formedness, U+0000 and the 65535-byte limit are the encoder's job (§1.5.4).
 */
import { MQTTError } from "../../errors.js";
import { CodecErrorCode } from "./errors.js";

/** Why a topic name is invalid, or undefined when it is fine. */
export function topicNameProblem(topic: string): string | undefined {
  // §4.7.3: at least one character (an empty name is only allowed with a topic alias, which the
  // encoder/decoder check separately).
  if (topic.length === 0) return "a topic name must not be empty";
  // §4.7.1 / [MQTT-3.3.2-2]: wildcards are for subscriptions, never in a published topic.
  if (topic.includes("+") || topic.includes("#")) {
    return "a topic name must not contain the wildcards '+' or '#'";
  }
  if (topic.includes("\u0000")) return "a topic must not contain U+0000";
  return undefined;
}

/** Why a topic filter is invalid, or undefined when it is fine. */
export function topicFilterProblem(filter: string): string | undefined {
  if (filter.length === 0) return "a topic filter must not be empty"; // §4.7.3
  if (filter.includes("\u0000")) return "a topic filter must not contain U+0000";
  let levels = filter.split("/");
  const shared = parseSharedSubscription(filter);
  if (shared === null) {
    return "a shared subscription must be $share/{ShareName}/{filter} with a non-empty share name without '/', '+' or '#'";
  }
  if (shared !== undefined) levels = shared.topicFilter.split("/");
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i];
    // §4.7.1.2: '#' must be alone in its level and the last level.
    if (level.includes("#") && (level !== "#" || i !== levels.length - 1)) {
      return "'#' must occupy a whole level and be the last level of a topic filter";
    }
    // §4.7.1.3: '+' must occupy a whole level.
    if (level.includes("+") && level !== "+") {
      return "'+' must occupy a whole level of a topic filter";
    }
  }
  return undefined;
}

/**
 * Splits `$share/{ShareName}/{filter}` (MQTT 5 §4.8.2). Returns undefined when `filter` is not a
 * shared subscription, null when it starts with `$share/` but is malformed.
 */
export function parseSharedSubscription(
  filter: string,
): { shareName: string; topicFilter: string } | null | undefined {
  if (!filter.startsWith("$share/")) return undefined;
  const rest = filter.slice("$share/".length);
  const slash = rest.indexOf("/");
  if (slash <= 0) return null;
  const shareName = rest.slice(0, slash);
  const topicFilter = rest.slice(slash + 1);
  // [MQTT-4.8.2-1]/[MQTT-4.8.2-2]: ShareName is non-empty without '/', '+', '#'; a filter follows.
  if (shareName.includes("+") || shareName.includes("#") || topicFilter.length === 0) return null;
  return { shareName, topicFilter };
}

export function isValidTopicName(topic: string): boolean {
  return topicNameProblem(topic) === undefined;
}

export function isValidTopicFilter(filter: string): boolean {
  return topicFilterProblem(filter) === undefined;
}

/** Throws MQTTError (MQTT_INVALID_TOPIC, reason 0x90) for an invalid topic name. */
export function assertTopicName(topic: string): void {
  const problem = topicNameProblem(topic);
  if (problem !== undefined) {
    throw new MQTTError(`Invalid MQTT topic name ${JSON.stringify(topic)}: ${problem}`, {
      code: CodecErrorCode.INVALID_TOPIC,
      reasonCode: 0x90,
    });
  }
}

/** Throws MQTTError (MQTT_INVALID_TOPIC, reason 0x8F) for an invalid topic filter. */
export function assertTopicFilter(filter: string): void {
  const problem = topicFilterProblem(filter);
  if (problem !== undefined) {
    throw new MQTTError(`Invalid MQTT topic filter ${JSON.stringify(filter)}: ${problem}`, {
      code: CodecErrorCode.INVALID_TOPIC,
      reasonCode: 0x8f,
    });
  }
}

/**
 * Whether `topic` matches `filter` (§4.7). Shared subscriptions match on their inner filter.
 * Per §4.7.2, wildcards at the first level never match topics starting with '$'.
 */
export function topicMatches(filter: string, topic: string): boolean {
  const shared = parseSharedSubscription(filter);
  if (shared) filter = shared.topicFilter;
  if (topic.startsWith("$") && (filter.startsWith("+") || filter.startsWith("#"))) return false;
  const f = filter.split("/");
  const t = topic.split("/");
  for (let i = 0; i < f.length; i++) {
    if (f[i] === "#") return true; // also matches the parent level: "a/#" matches "a"
    if (i >= t.length) return false;
    if (f[i] !== "+" && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}
