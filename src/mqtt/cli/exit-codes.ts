/**
 * Exit codes of `mtaio mqtt pub|sub` and the one-line message for each failure. A script tells
 * what went wrong from the code alone; a person reads the line on stderr.
 */
import { MQTTError } from "../../errors.js";

export const ExitCode = {
  /** Everything was sent / received as asked. */
  OK: 0,
  /** Bad command line: unknown flag, bad value, missing topic, unreadable file. */
  USAGE: 1,
  /** No connection: refused, unreachable, DNS, TLS handshake, or the connection was lost. */
  CONNECTION: 2,
  /** The broker said no: CONNACK refusal (bad credentials, not authorised), refused
   * subscription or publication. */
  REFUSED: 3,
  /** A topic name or filter that MQTT does not allow (locally or by the broker). */
  BAD_TOPIC: 4,
  /** `-W` ran out, or the broker did not answer in time. */
  TIMEOUT: 5,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** A command-line mistake: reported with the usage hint, exit code 1. */
export function usageError(message: string): MQTTError {
  return new MQTTError(message, { code: "MQTT_CLI_USAGE" });
}

/** An operation that ran out of time: `-W` in `sub`. */
export function timeoutError(message: string): MQTTError {
  return new MQTTError(message, { code: "MQTT_TIMEOUT" });
}

/** Reason codes that mean "not allowed" rather than "malformed" (MQTT 5 §2.4, 3.1.1 §3.2.2.3). */
const TOPIC_REASONS = new Set([0x8f, 0x90]);

/** Maps an error from the client (or the CLI itself) to its exit code and a one-line message. */
export function describeFailure(error: unknown): { code: ExitCode; message: string } {
  if (!(error instanceof MQTTError)) {
    const message = error instanceof Error ? error.message : String(error);
    return { code: ExitCode.CONNECTION, message: oneLine(message) };
  }
  const message = oneLine(explain(error));
  switch (error.code) {
    case "MQTT_CLI_USAGE":
    case "MQTT_INVALID_ARGUMENT":
      return { code: ExitCode.USAGE, message };
    case "MQTT_INVALID_TOPIC":
      return { code: ExitCode.BAD_TOPIC, message };
    case "MQTT_TIMEOUT":
      return { code: ExitCode.TIMEOUT, message };
    case "MQTT_CONNECT_REFUSED":
    case "MQTT_SUBSCRIBE_FAILED":
    case "MQTT_PUBLISH_REFUSED":
    case "MQTT_QOS_NOT_SUPPORTED":
    case "MQTT_RETAIN_NOT_SUPPORTED":
    case "MQTT_AUTH_FAILED":
      return {
        code:
          error.reasonCode !== undefined && TOPIC_REASONS.has(error.reasonCode)
            ? ExitCode.BAD_TOPIC
            : ExitCode.REFUSED,
        message,
      };
    default:
      return { code: ExitCode.CONNECTION, message };
  }
}

/** The client's messages are already specific; a refused or unreachable socket gets the
 * words a shell user expects ("connection refused"). */
function explain(error: MQTTError): string {
  const cause = error.cause as NodeJS.ErrnoException | undefined;
  if (error.code === "MQTT_CONNECTION_FAILED" && cause?.code === "ECONNREFUSED") {
    return `connection refused: ${error.message}`;
  }
  if (error.code === "MQTT_CONNECTION_FAILED" && cause?.code === "ENOTFOUND") {
    return `unknown host: ${error.message}`;
  }
  return error.message;
}

function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, " ").trim();
}
