/**
 * The one `withDeadline` (src/shared/deadline.ts) that MQTT, SMTP and IMAP share, and the two
 * error factories that keep each protocol's codes and messages.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MailError, MQTTError } from "../../src/errors.js";
import { deadlineError as netDeadlineError } from "../../src/mail/net/index.js";
import { deadlineError as mqttDeadlineError } from "../../src/mqtt/client/client-errors.js";
import { type DeadlineFailure, withDeadline } from "../../src/shared/deadline.js";

const seen: Array<[DeadlineFailure, unknown]> = [];
const record = (kind: DeadlineFailure, cause?: unknown) => {
  seen.push([kind, cause]);
  return new Error(kind);
};

describe("withDeadline", () => {
  it("resolves with the operation's value and cleans up once", async () => {
    let cleanups = 0;
    const value = await withDeadline<number>(1000, undefined, record, (resolve) => {
      setTimeout(() => resolve(42), 5);
      return () => cleanups++;
    });
    assert.equal(value, 42);
    assert.equal(cleanups, 1);
  });

  it("cleans up once when the operation settles synchronously", async () => {
    let cleanups = 0;
    await assert.rejects(
      withDeadline<number>(1000, undefined, record, (_, reject) => {
        reject(new Error("at once"));
        return () => cleanups++;
      }),
      { message: "at once" },
    );
    assert.equal(cleanups, 1);
  });

  it("rejects with the factory's timeout error and ignores a late settle", async () => {
    let late: ((n: number) => void) | undefined;
    let cleanups = 0;
    await assert.rejects(
      withDeadline<number>(20, undefined, record, (resolve) => {
        late = resolve;
        return () => cleanups++;
      }),
      { message: "timeout" },
    );
    late?.(1);
    assert.equal(cleanups, 1);
  });

  it("rejects on abort with the signal's reason as cause; never starts if already aborted", async () => {
    seen.length = 0;
    const controller = new AbortController();
    const waiting = withDeadline<void>(0, controller.signal, record, () => () => {});
    controller.abort("stop");
    await assert.rejects(waiting, { message: "aborted" });
    assert.deepEqual(seen, [["aborted", "stop"]]);
    let started = false;
    await assert.rejects(
      withDeadline<void>(0, AbortSignal.abort("gone"), record, () => {
        started = true;
        return () => {};
      }),
      { message: "aborted" },
    );
    assert.equal(started, false);
  });

  it("has no timeout for 0 or a non-finite value", async () => {
    for (const timeout of [0, Number.POSITIVE_INFINITY, Number.NaN]) {
      const value = await withDeadline<string>(timeout, undefined, record, (resolve) => {
        setTimeout(() => resolve("late but fine"), 30);
        return () => {};
      });
      assert.equal(value, "late but fine");
    }
  });

  it("keeps MQTT's codes and messages", async () => {
    const timeout = mqttDeadlineError("CONNACK", 5)("timeout");
    assert.ok(timeout instanceof MQTTError);
    assert.equal(timeout.code, "MQTT_TIMEOUT");
    assert.equal(timeout.message, "CONNACK timed out after 5 ms");
    const aborted = mqttDeadlineError("subscribe", 5)("aborted", "why");
    assert.ok(aborted instanceof MQTTError);
    assert.equal(aborted.code, "MQTT_ABORTED");
    assert.equal(aborted.message, "subscribe aborted");
    assert.equal(aborted.cause, "why");
  });

  it("keeps the mail net layer's messages through the protocol's factory", () => {
    const factory = netDeadlineError(
      (kind, message, cause) => new MailError(message, { code: kind, cause }),
      "waiting for the greeting",
      100,
    );
    const timeout = factory("timeout") as MailError;
    assert.equal(timeout.code, "timeout");
    assert.equal(timeout.message, "waiting for the greeting: no answer within 100 ms");
    const aborted = factory("aborted", "why") as MailError;
    assert.equal(aborted.message, "waiting for the greeting: aborted");
    assert.equal(aborted.cause, "why");
  });
});
