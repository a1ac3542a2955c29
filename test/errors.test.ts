import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  ASGIError,
  HTTPError,
  IMAPError,
  MailError,
  MQTTError,
  MTAIOError,
  ProtocolError,
  SMTPError,
  ValidationError,
} from "../src/errors.js";

describe("error hierarchy", () => {
  it("places every protocol error under ProtocolError and MTAIOError", () => {
    for (const error of [
      new ASGIError("a"),
      new MQTTError("m"),
      new MailError("x"),
      new SMTPError("s"),
      new IMAPError("i"),
      new HTTPError(404),
      new ValidationError("bad"),
    ]) {
      assert.ok(error instanceof ProtocolError, error.name);
      assert.ok(error instanceof MTAIOError, error.name);
      assert.ok(error instanceof Error, error.name);
    }
    assert.ok(new SMTPError("s") instanceof MailError);
    assert.ok(new ValidationError() instanceof HTTPError);
    assert.ok(new HTTPError(418) instanceof ASGIError);
  });

  it("gives each class a stable default code and keeps an explicit one", () => {
    assert.equal(new ASGIError("a").code, "ASGI_ERROR");
    assert.equal(new MQTTError("m").code, "MQTT_ERROR");
    assert.equal(new MailError("x").code, "MAIL_ERROR");
    assert.equal(new SMTPError("s").code, "SMTP_ERROR");
    assert.equal(new IMAPError("i").code, "IMAP_ERROR");
    assert.equal(new HTTPError(404).code, "HTTP_404");
    assert.equal(new ValidationError().code, "HTTP_VALIDATION_ERROR");
    assert.equal(new MQTTError("m", { code: "MQTT_TIMEOUT" }).code, "MQTT_TIMEOUT");
  });

  it("carries cause, name and protocol details", () => {
    const cause = new Error("socket closed");
    const error = new SMTPError("rejected", { replyCode: 550, enhancedStatus: "5.1.1", cause });
    assert.equal(error.cause, cause);
    assert.equal(error.name, "SMTPError");
    assert.equal(error.replyCode, 550);
    assert.equal(error.enhancedStatus, "5.1.1");
    assert.equal(new MQTTError("nope", { reasonCode: 0x87 }).reasonCode, 0x87);
    const http = new HTTPError(405, "Method Not Allowed", { headers: { allow: "GET" } });
    assert.equal(http.statusCode, 405);
    assert.deepEqual(http.headers, { allow: "GET" });
    assert.equal(new ValidationError({ field: "x" }).statusCode, 400);
  });
});
