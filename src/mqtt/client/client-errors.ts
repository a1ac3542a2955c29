/** The errors the client raises about its own state (not about the broker or the wire). */
import { MQTTError } from "../../errors.js";
import type { DeadlineErrorFactory } from "../../shared/deadline.js";

export function closedError(): MQTTError {
  return new MQTTError("the client is closed", { code: "MQTT_CLIENT_CLOSED" });
}

export function notConnected(): MQTTError {
  return new MQTTError("not connected: call connect() first", { code: "MQTT_NOT_CONNECTED" });
}

/** Errors of a wait bounded by `withDeadline` (src/shared/deadline.ts): "CONNACK timed out …". */
export function deadlineError(what: string, timeout: number): DeadlineErrorFactory {
  return (kind, cause) =>
    kind === "aborted"
      ? new MQTTError(`${what} aborted`, { code: "MQTT_ABORTED", cause })
      : new MQTTError(`${what} timed out after ${timeout} ms`, { code: "MQTT_TIMEOUT" });
}
