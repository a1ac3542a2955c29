/** What the broker said about its limits in CONNACK, and the defaults before it says anything. */
import type { Properties } from "../codec/index.js";
import type { QoS } from "./qos.js";

/** What the broker told us in CONNACK about itself (MQTT 5 §3.2.2.3). */
export interface BrokerLimits {
  maximumPacketSize: number;
  topicAliasMaximum: number;
  maximumQoS: QoS;
  retainAvailable: boolean;
}

/** Before any CONNACK, and from a 3.1.1 broker (which announces nothing): no limits. */
export const NO_LIMITS: BrokerLimits = Object.freeze({
  maximumPacketSize: Number.POSITIVE_INFINITY,
  topicAliasMaximum: 0,
  maximumQoS: 2,
  retainAvailable: true,
});

/** The limits a CONNACK's properties announce; absent ones are no limit. */
export function brokerLimits(p: Properties): BrokerLimits {
  return {
    maximumPacketSize: p.maximumPacketSize ?? Number.POSITIVE_INFINITY,
    topicAliasMaximum: p.topicAliasMaximum ?? 0,
    maximumQoS: p.maximumQoS ?? 2,
    retainAvailable: p.retainAvailable ?? true,
  };
}
