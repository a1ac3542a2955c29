/**
 * AsyncSMTPClient and SMTPPool against real sinks started from temp configs on free loopback
 * ports: Postfix's smtp-sink (pipelining, DSN, several messages per connection, pool, dropped
 * connections) and aiosmtpd (STARTTLS and implicit TLS on a test certificate, AUTH, rejected
 * recipients, a server that drops the connection, SIZE, SMTPUTF8).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { MailError, SMTPError } from "../../../src/errors.js";
import { AsyncSMTPClient, SMTPPool } from "../../../src/mail/smtp/index.js";
import { type Aiosmtpd, PYTHON, startAiosmtpd } from "../../servers/aiosmtpd.js";
import { serverSkip } from "../../servers/common.js";
import { SMTP_SINK, type SmtpSink, startSmtpSink } from "../../servers/smtp-sink.js";

const plain = { security: "none" as const };

function raw(subject: string, body = "Hello from mtaio.\r\n"): string {
  return `From: a@example.com\r\nTo: b@example.com\r\nSubject: ${subject}\r\nMessage-ID: <${subject}@mtaio.test>\r\n\r\n${body}`;
}

describe("SMTP client against Postfix smtp-sink", {
  skip: serverSkip(SMTP_SINK, "postfix"),
}, () => {
  let sink: SmtpSink;
  before(async () => {
    sink = await startSmtpSink({ dump: true });
  });
  after(async () => {
    await sink?.stop();
  });

  it("sends several messages over one connection with DSN parameters", async () => {
    await using client = new AsyncSMTPClient();
    await client.connect("127.0.0.1", sink.port, plain);
    assert.ok(client.capabilities.has("PIPELINING"));
    for (let i = 0; i < 3; i++) {
      const result = await client.sendRaw(
        { from: "a@example.com", to: ["b@example.com", "c+tag@example.com"] },
        raw(`multi-${i}`, `line one\n.line two with a leading dot\r\n`),
        { dsn: { notify: ["FAILURE", "DELAY"], ret: "HDRS", envid: "env-1" } },
      );
      assert.deepEqual(result.accepted, ["b@example.com", "c+tag@example.com"]);
      assert.equal(result.messageId, `<multi-${i}@mtaio.test>`);
    }
    const dumps = (await sink.messages()).filter((m) => m.includes("Subject: multi-"));
    assert.equal(dumps.length, 3);
    const first = dumps.find((m) => m.includes("multi-0"));
    assert.ok(first);
    assert.match(first, /X-Mail-Args: <a@example.com> RET=HDRS ENVID=env-1/);
    assert.match(
      first,
      /X-Rcpt-Args: <c\+tag@example.com> NOTIFY=FAILURE,DELAY ORCPT=rfc822;c\+2Btag@example.com/,
    );
    // The sink un-stuffs the dot: the body arrives as written, with CRLF line ends.
    assert.match(first, /\nline one\n\.line two with a leading dot\n/);
  });

  it("spreads messages over a pool of connections", async () => {
    await using pool = new SMTPPool({
      host: "127.0.0.1",
      port: sink.port,
      connections: 3,
      ...plain,
    });
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        pool.sendRaw({ from: "a@example.com", to: ["p@example.com"] }, raw(`pool-${i}`)),
      ),
    );
    assert.ok(results.every((r) => r.accepted.length === 1));
    const dumps = (await sink.messages()).filter((m) => m.includes("Subject: pool-"));
    assert.equal(dumps.length, 12);
  });

  it("applies a pool rate limit without losing messages", async () => {
    await using pool = new SMTPPool({
      host: "127.0.0.1",
      port: sink.port,
      connections: 2,
      rateLimit: { messages: 2, intervalMs: 100 },
      ...plain,
    });
    const results = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        pool.sendRaw({ from: "a@example.com", to: ["r@example.com"] }, raw(`rate-${i}`)),
      ),
    );
    assert.equal(results.length, 5);
    assert.equal((await sink.messages()).filter((m) => m.includes("Subject: rate-")).length, 5);
  });
});

describe("SMTP client against smtp-sink that drops and refuses", {
  skip: serverSkip(SMTP_SINK, "postfix"),
}, () => {
  it("reports a connection the server drops at MAIL as SMTP_CONNECTION_CLOSED", async () => {
    const sink = await startSmtpSink({ args: ["-q", "MAIL"] });
    try {
      const client = new AsyncSMTPClient();
      await client.connect("127.0.0.1", sink.port, plain);
      await assert.rejects(
        client.sendRaw({ from: "a@example.com", to: ["b@example.com"] }, raw("dropped")),
        (e: unknown) => e instanceof SMTPError && e.code === "SMTP_CONNECTION_CLOSED",
      );
      await client.close();
    } finally {
      await sink.stop();
    }
  });

  it("reconnects by itself after the server timed out the idle connection", async () => {
    // -t 1: smtp-sink hangs up on a client that sends nothing for a second.
    const sink = await startSmtpSink({ args: ["-t", "1"] });
    try {
      await using client = new AsyncSMTPClient();
      await client.connect("127.0.0.1", sink.port, plain);
      const envelope = { from: "a@example.com", to: ["b@example.com"] };
      assert.deepEqual((await client.sendRaw(envelope, raw("before-idle"))).accepted, [
        "b@example.com",
      ]);
      await new Promise((resolve) => setTimeout(resolve, 1600));
      assert.equal(client.connected, false);
      assert.deepEqual((await client.sendRaw(envelope, raw("after-idle"))).accepted, [
        "b@example.com",
      ]);
      assert.equal(client.connected, true);
    } finally {
      await sink.stop();
    }
  });

  it("turns a hard-rejected RCPT into SMTP_RECIPIENTS_REJECTED with reply and enhanced codes", async () => {
    const sink = await startSmtpSink({ args: ["-f", "RCPT"] });
    try {
      await using client = new AsyncSMTPClient();
      await client.connect("127.0.0.1", sink.port, plain);
      await assert.rejects(
        client.sendRaw({ from: "a@example.com", to: ["b@example.com"] }, raw("refused")),
        (e: unknown) => {
          assert.ok(e instanceof SMTPError);
          assert.equal(e.code, "SMTP_RECIPIENTS_REJECTED");
          assert.equal(e.replyCode, 500);
          assert.equal(e.enhancedStatus, "5.3.0");
          return true;
        },
      );
    } finally {
      await sink.stop();
    }
  });
});

describe("SMTP client against aiosmtpd (STARTTLS, AUTH)", {
  skip: serverSkip(PYTHON, "python3-aiosmtpd"),
}, () => {
  let server: Aiosmtpd;
  before(async () => {
    server = await startAiosmtpd({ sizeLimit: 200_000 });
  });
  after(async () => {
    await server?.stop();
  });

  it("upgrades with STARTTLS on a verified certificate, logs in, and reports rejected recipients", async () => {
    await using client = new AsyncSMTPClient();
    await client.connect("localhost", server.port, { tls: { ca: server.certificates.ca } });
    assert.equal(client.secure, true);
    await client.login(server.user, server.password);
    assert.equal(client.username, server.user);
    const result = await client.sendRaw(
      {
        from: "a@example.com",
        to: ["bob@example.com", "reject-me@example.com", "carol@example.com"],
      },
      raw("starttls"),
    );
    assert.deepEqual(result.accepted, ["bob@example.com", "carol@example.com"]);
    assert.equal(result.rejected.length, 1);
    assert.equal(result.rejected[0].recipient, "reject-me@example.com");
    assert.equal(result.rejected[0].replyCode, 550);
    assert.equal(result.rejected[0].enhancedStatus, "5.1.1");
    const saved = (await server.messages()).find((m) => m.raw.includes("Subject: starttls"));
    assert.ok(saved);
    assert.deepEqual(saved.to, ["bob@example.com", "carol@example.com"]);
  });

  it("refuses the server's certificate when the CA is not trusted", async () => {
    const client = new AsyncSMTPClient();
    await assert.rejects(client.connect("localhost", server.port), { code: "SMTP_TLS_FAILED" });
  });

  it("fails AUTH with a wrong password as SMTP_AUTH_FAILED (535)", async () => {
    await using client = new AsyncSMTPClient();
    await client.connect("localhost", server.port, { tls: { ca: server.certificates.ca } });
    await assert.rejects(client.login(server.user, "wrong"), (e: unknown) => {
      assert.ok(e instanceof SMTPError);
      assert.equal(e.code, "SMTP_AUTH_FAILED");
      assert.equal(e.replyCode, 535);
      return true;
    });
  });

  it("sends with AUTH LOGIN, SMTPUTF8 addresses and survives a server that drops the connection", async () => {
    await using client = new AsyncSMTPClient();
    await client.connect("localhost", server.port, { tls: { ca: server.certificates.ca } });
    await client.login(server.user, server.password, { mechanism: "LOGIN" });
    const utf8 = await client.sendRaw(
      { from: "送信者@example.com", to: ["受信者@example.com"] },
      raw("utf8"),
      { eightBit: true },
    );
    assert.deepEqual(utf8.accepted, ["受信者@example.com"]);
    const saved = (await server.messages()).find((m) => m.raw.includes("Subject: utf8"));
    assert.ok(saved);
    assert.equal(saved.from, "送信者@example.com");
    assert.ok(saved.mailOptions.includes("SMTPUTF8"));

    await assert.rejects(
      client.sendRaw({ from: "a@example.com", to: ["drop-me@example.com"] }, raw("dropped")),
      (e: unknown) =>
        e instanceof MailError && /^SMTP_(SERVICE_UNAVAILABLE|CONNECTION_CLOSED)$/.test(e.code),
    );
    // The next message reconnects and logs in again by itself.
    const after = await client.sendRaw(
      { from: "a@example.com", to: ["dave@example.com"] },
      raw("after-drop"),
    );
    assert.deepEqual(after.accepted, ["dave@example.com"]);
  });

  it("checks the server's SIZE limit before sending", async () => {
    await using client = new AsyncSMTPClient();
    await client.connect("localhost", server.port, { tls: { ca: server.certificates.ca } });
    await assert.rejects(
      client.sendRaw(
        { from: "a@example.com", to: ["b@example.com"] },
        raw("big", "x".repeat(300_000)),
      ),
      { code: "SMTP_MESSAGE_TOO_LARGE" },
    );
  });
});

describe("SMTP client against aiosmtpd with implicit TLS", {
  skip: serverSkip(PYTHON, "python3-aiosmtpd"),
}, () => {
  it("connects with security: 'tls' and delivers", async () => {
    const server = await startAiosmtpd({ mode: "tls" });
    try {
      await using client = new AsyncSMTPClient();
      await client.connect("localhost", server.port, {
        security: "tls",
        tls: { ca: server.certificates.ca },
      });
      assert.equal(client.secure, true);
      await client.login(server.user, server.password);
      const result = await client.sendRaw(
        { from: "a@example.com", to: ["b@example.com"] },
        raw("implicit"),
      );
      assert.deepEqual(result.accepted, ["b@example.com"]);
      assert.equal((await server.messages()).length, 1);
    } finally {
      await server.stop();
    }
  });
});
