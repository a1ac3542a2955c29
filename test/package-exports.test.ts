/**
 * The published entry points (package.json `exports` → dist/) carry the public names of the
 * API contract. `npm test` builds dist/ before the tests run; the package imports itself by
 * name (Node's package self-reference), exactly as a user's code would.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { describe, it } from "node:test";

const built = existsSync(new URL("../dist/protocols.js", import.meta.url));

describe("package entry points", {
  skip: built ? false : "dist/ not built (npm run build)",
}, () => {
  it("mtaio/protocols exports every protocol class of the reference", async () => {
    const protocols = await import("mtaio/protocols");
    for (const name of [
      "ASGIApplication",
      "Request",
      "Response",
      "Router",
      "ASGIMiddleware",
      "TestClient",
      "serve",
      "MQTTClient",
      "MQTTMessage",
      "QoS",
      "AsyncSMTPClient",
      "AsyncIMAPClient",
      "MailMessage",
      "Attachment",
    ]) {
      assert.equal(
        typeof (protocols as Record<string, unknown>)[name],
        name === "QoS" ? "object" : "function",
        name,
      );
    }
    assert.equal(protocols.QoS.AT_MOST_ONCE, 0);
    assert.equal(protocols.QoS.AT_LEAST_ONCE, 1);
    assert.equal(protocols.QoS.EXACTLY_ONCE, 2);
  });

  it("mtaio/exceptions exports the error hierarchy", async () => {
    const errors = await import("mtaio/exceptions");
    assert.ok(new errors.ASGIError("x") instanceof errors.ProtocolError);
    assert.ok(new errors.MQTTError("x") instanceof errors.ProtocolError);
    assert.ok(new errors.SMTPError("x") instanceof errors.MailError);
    assert.ok(new errors.IMAPError("x") instanceof errors.MailError);
    assert.ok(new errors.ValidationError() instanceof errors.HTTPError);
    assert.ok(new errors.ProtocolError("x") instanceof errors.MTAIOError);
  });

  it("the finer entry points load one protocol each", async () => {
    const asgi = await import("mtaio/protocols/asgi");
    const mqtt = await import("mtaio/protocols/mqtt");
    const mail = await import("mtaio/protocols/mail");
    assert.equal(typeof asgi.ASGIApplication, "function");
    assert.equal(typeof asgi.serve, "function");
    assert.equal(typeof mqtt.MQTTClient, "function");
    assert.equal("ASGIApplication" in mqtt, false);
    assert.equal(typeof mail.AsyncSMTPClient, "function");
    assert.equal(typeof mail.AsyncIMAPClient, "function");
    assert.equal(typeof mail.MailMessage, "function");
    assert.equal("MQTTClient" in mail, false);
  });

  it("errors thrown by the protocols are the classes of mtaio/exceptions", async () => {
    const { Response } = await import("mtaio/protocols");
    const { ASGIError } = await import("mtaio/exceptions");
    assert.throws(() => Response.text("x", 200, { "x-bad": "a\r\nb" }), ASGIError);
  });
});
