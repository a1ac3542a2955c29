/**
 * MQTT Quality of Service levels (MQTT 5.0 §4.3, MQTT 3.1.1 §4.3).
 *
 * @example
 * ```ts
 * await client.publish("alerts/fire", "1", { qos: QoS.EXACTLY_ONCE });
 * ```
 */
export const QoS = {
  /** Fire and forget: delivered at most once, no acknowledgement (§4.3.1). */
  AT_MOST_ONCE: 0,
  /** PUBLISH → PUBACK: delivered at least once, duplicates possible (§4.3.2). */
  AT_LEAST_ONCE: 1,
  /** PUBLISH → PUBREC → PUBREL → PUBCOMP: delivered exactly once (§4.3.3). */
  EXACTLY_ONCE: 2,
} as const;

export type QoS = (typeof QoS)[keyof typeof QoS];

export function isQoS(value: unknown): value is QoS {
  return value === 0 || value === 1 || value === 2;
}
