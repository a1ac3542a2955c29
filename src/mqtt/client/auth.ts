/** Enhanced authentication (MQTT 5 §4.12): answering the broker's AUTH challenges with the
 * caller's hook, and starting re-authentication (§4.12.1). */
import { MQTTError } from "../../errors.js";
import type { Properties } from "../codec/index.js";
import type { Connection } from "./connection.js";
import type { EnhancedAuth } from "./options.js";

/** AUTH reason codes (§3.15.2.1). */
const CONTINUE_AUTHENTICATION = 0x18;
const REAUTHENTICATE = 0x19;

/**
 * Handles an AUTH from the broker. `current` tells whether `connection` is still the live one
 * when the (possibly asynchronous) hook answers.
 */
export function answerAuth(
  connection: Connection,
  auth: EnhancedAuth | undefined,
  reasonCode: number,
  properties: Properties | undefined,
  current: () => boolean,
): void {
  if (!auth || properties?.authenticationMethod !== auth.method) {
    // §4.12 [MQTT-4.12.0-5]: the method must be the one the client chose.
    connection.fail(
      new MQTTError("the broker sent AUTH for a method we did not ask for", {
        code: "MQTT_PROTOCOL_ERROR",
        reasonCode: 0x82,
      }),
    );
    return;
  }
  if (reasonCode !== CONTINUE_AUTHENTICATION) return; // 0x00: re-authentication succeeded.
  Promise.resolve()
    .then(() => auth.onChallenge(properties.authenticationData, properties))
    .then(
      (data) => {
        if (!current()) return;
        connection.send({
          type: "auth",
          reasonCode: CONTINUE_AUTHENTICATION,
          properties: { authenticationMethod: auth.method, authenticationData: data },
        });
      },
      (error: unknown) =>
        connection.fail(
          new MQTTError("the authentication hook failed", {
            code: "MQTT_AUTH_FAILED",
            reasonCode: 0x87,
            cause: error,
          }),
        ),
    );
}

/** Starts re-authentication (AUTH 0x19, §4.12.1) on a live MQTT 5 connection. */
export function startReauthentication(
  connection: Connection | undefined,
  auth: EnhancedAuth | undefined,
  version: 4 | 5,
  data: Uint8Array | undefined,
): void {
  if (!auth || version !== 5 || !connection) {
    throw new MQTTError("re-authentication needs MQTT 5, an `auth` option and a connection", {
      code: "MQTT_UNSUPPORTED",
    });
  }
  connection.send({
    type: "auth",
    reasonCode: REAUTHENTICATE,
    properties: { authenticationMethod: auth.method, authenticationData: data ?? auth.data },
  });
}
