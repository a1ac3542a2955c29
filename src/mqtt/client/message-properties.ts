/** Message properties on their way to the codec. */
import type { Properties } from "../codec/index.js";
import type { MessageProperties } from "./message.js";

/** Message properties as the codec takes them (subscription ids are inbound-only, §3.3.4). */
export function toProperties(properties: MessageProperties | undefined): Properties | undefined {
  if (!properties) return undefined;
  const { subscriptionIdentifiers: _ignored, ...rest } = properties;
  return rest as Properties;
}
