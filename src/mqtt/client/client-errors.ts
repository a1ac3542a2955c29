/** The errors the client raises about its own state (not about the broker or the wire). */
import { MQTTError } from "../../errors.js";

export function closedError(): MQTTError {
  return new MQTTError("the client is closed", { code: "MQTT_CLIENT_CLOSED" });
}

export function notConnected(): MQTTError {
  return new MQTTError("not connected: call connect() first", { code: "MQTT_NOT_CONNECTED" });
}
