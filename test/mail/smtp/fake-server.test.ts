/**
 * Faults and protocol details a real server won't show on demand, against a scripted peer:
 * STARTTLS response injection, broken and endless replies, disconnects, 421, timeouts, aborts,
 * pipelining, BDAT, the SASL exchanges.
 */
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { MailError, type SMTPError } from "../../../src/errors.js";
import { AsyncSMTPClient } from "../../../src/mail/smtp/index.js";
import {
  makeCertificates,
  type TempDir,
  type TestCertificates,
  tempDir,
} from "../../servers/common.js";
import { type FakeServer, greet, type ScriptedPeer, startFakeServer } from "./fake-server.js";

const plain = { security: "none" as const, commandTimeoutMs: 3000, greetingTimeoutMs: 3000 };
const envelope = { from: "a@example.com", to: ["b@example.com"] };

/** Accepts one transaction (pipelined MAIL/RCPT/DATA) and returns the body. */
async function acceptMessage(peer: ScriptedPeer, recipients = 1): Promise<Buffer> {
  const mail = await peer.line();
  assert.match(mail, /^MAIL FROM:/);
  for (let i = 0; i < recipients; i++) assert.match(await peer.line(), /^RCPT TO:/);
  assert.equal(await peer.line(), "DATA");
  peer.send(`250 2.1.0 ok\r\n${"250 2.1.5 ok\r\n".repeat(recipients)}354 go\r\n`);
  const body = await peer.data();
  peer.send("250 2.0.0 queued as ABC123\r\n");
  return body;
}

/** Accepts one BDAT transaction (pipelined MAIL/RCPT, then BDAT chunks). */
async function acceptMessageBdat(peer: ScriptedPeer): Promise<void> {
  await peer.line();
  await peer.line();
  peer.send("250 ok\r\n250 ok\r\n");
  for (;;) {
    const match = /^BDAT (\d+)( LAST)?$/.exec(await peer.line());
    assert.ok(match);
    await peer.bytes(Number(match[1]));
    peer.send(match[2] ? "250 2.0.0 queued\r\n" : "250 2.0.0 chunk ok\r\n");
    if (match[2]) return;
  }
}

async function expectSMTPError(promise: Promise<unknown>, code: string): Promise<SMTPError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof MailError, `expected a MailError, got ${String(error)}`);
    assert.equal(error.code, code, (error as Error).message);
    return error as SMTPError;
  }
  assert.fail(`expected ${code}`);
}

describe("AsyncSMTPClient against a scripted server", () => {
  let dir: TempDir;
  let certs: TestCertificates;
  const servers: FakeServer[] = [];
  const serve = async (script: Parameters<typeof startFakeServer>[0]) => {
    const server = await startFakeServer(script);
    servers.push(server);
    return server;
  };

  before(async () => {
    dir = await tempDir("smtp-fake");
    certs = await makeCertificates(dir.path);
  });
  after(async () => {
    for (const s of servers) await s.stop();
    await dir.remove();
  });

  it("rejects a reply injected after the 220 to STARTTLS (RFC 3207 §5) and never handshakes", async () => {
    let handshakeAttempted = false;
    const server = await serve(async (peer) => {
      await greet(peer, ["STARTTLS", "PIPELINING"]);
      assert.equal(await peer.line(), "STARTTLS");
      peer.send("220 2.0.0 Ready to start TLS\r\n250-injected.example\r\n250 AUTH PLAIN\r\n");
      await peer.startTLS(certs.cert, certs.key).then(
        () => {
          handshakeAttempted = true;
        },
        () => {},
      );
    });
    const client = new AsyncSMTPClient();
    await expectSMTPError(
      client.connect("localhost", server.port, { tls: { ca: certs.ca }, commandTimeoutMs: 3000 }),
      "SMTP_STARTTLS_INJECTION",
    );
    assert.equal(handshakeAttempted, false);
    assert.equal(client.connected, false);
  });

  it("fails closed when STARTTLS is required but not offered, and sends nothing else", async () => {
    const server = await serve(async (peer) => {
      await greet(peer, ["PIPELINING", "AUTH PLAIN"]);
      await peer.line().catch(() => "");
    });
    const client = new AsyncSMTPClient();
    await expectSMTPError(client.connect("127.0.0.1", server.port), "SMTP_STARTTLS_UNAVAILABLE");
    assert.deepEqual(
      server.received.filter((l) => !l.startsWith("EHLO")),
      [],
    );
  });

  it("upgrades with STARTTLS, forgets the plaintext capabilities and says EHLO again", async () => {
    const server = await serve(async (peer) => {
      await greet(peer, ["STARTTLS", "AUTH PLAIN"]);
      assert.equal(await peer.line(), "STARTTLS");
      peer.send("220 2.0.0 go ahead\r\n");
      await peer.startTLS(certs.cert, certs.key);
      assert.match(await peer.line(), /^EHLO /);
      peer.send("250-fake.test\r\n250-PIPELINING\r\n250 AUTH LOGIN\r\n");
      await peer.line().catch(() => "");
    });
    await using client = new AsyncSMTPClient();
    await client.connect("localhost", server.port, { tls: { ca: certs.ca } });
    assert.equal(client.secure, true);
    assert.deepEqual(client.capabilities.get("AUTH"), ["LOGIN"]);
    assert.equal(client.capabilities.has("STARTTLS"), false);
    assert.equal(server.received.filter((l) => l.startsWith("EHLO")).length, 2);
  });

  it("refuses an untrusted certificate by default", async () => {
    const server = await serve(async (peer) => {
      await greet(peer, ["STARTTLS"]);
      await peer.line();
      peer.send("220 go ahead\r\n");
      await peer.startTLS(certs.cert, certs.key).catch(() => {});
    });
    const client = new AsyncSMTPClient();
    await expectSMTPError(client.connect("localhost", server.port), "SMTP_TLS_FAILED");
  });

  it("caps an endless reply line and closes instead of buffering it", async () => {
    const server = await serve(async (peer) => {
      peer.send(`220-${"x".repeat(100_000)}`);
      await peer.line().catch(() => "");
    });
    const client = new AsyncSMTPClient();
    await expectSMTPError(client.connect("127.0.0.1", server.port, plain), "SMTP_REPLY_TOO_LARGE");
  });

  it("reports a malformed reply and a rejected greeting with typed errors", async () => {
    const broken = await serve(async (peer) => {
      peer.send("hello, I am not SMTP\r\n");
      await peer.line().catch(() => "");
    });
    await expectSMTPError(
      new AsyncSMTPClient().connect("127.0.0.1", broken.port, plain),
      "SMTP_MALFORMED_REPLY",
    );
    const busy = await serve(async (peer) => {
      peer.send("554 5.7.1 go away\r\n");
    });
    const error = await expectSMTPError(
      new AsyncSMTPClient().connect("127.0.0.1", busy.port, plain),
      "SMTP_GREETING_REJECTED",
    );
    assert.equal(error.replyCode, 554);
    assert.equal(error.enhancedStatus, "5.7.1");
  });

  it("times out a silent greeting", async () => {
    const server = await serve(async (peer) => {
      await peer.line().catch(() => "");
    });
    await expectSMTPError(
      new AsyncSMTPClient().connect("127.0.0.1", server.port, { ...plain, greetingTimeoutMs: 150 }),
      "SMTP_TIMEOUT",
    );
  });

  it("falls back to HELO and sends without pipelining", async () => {
    const server = await serve(async (peer) => {
      peer.send("220 old.test SMTP\r\n");
      assert.match(await peer.line(), /^EHLO /);
      peer.send("502 5.5.2 what?\r\n");
      assert.match(await peer.line(), /^HELO /);
      peer.send("250 old.test\r\n");
      assert.equal(await peer.line(), "MAIL FROM:<a@example.com>");
      peer.send("250 ok\r\n");
      assert.equal(await peer.line(), "RCPT TO:<b@example.com>");
      peer.send("250 ok\r\n");
      assert.equal(await peer.line(), "DATA");
      peer.send("354 go\r\n");
      await peer.data();
      peer.send("250 ok\r\n");
      assert.equal(await peer.line(), "QUIT");
      peer.send("221 bye\r\n");
    });
    const client = new AsyncSMTPClient();
    await client.connect("127.0.0.1", server.port, plain);
    const result = await client.sendRaw(envelope, "Subject: x\r\n\r\nbody\r\n");
    assert.deepEqual(result.accepted, ["b@example.com"]);
    await client.close();
    assert.equal(server.received.at(-1), "QUIT");
  });

  it("pipelines MAIL, every RCPT and DATA in one go (RFC 2920)", async () => {
    const server = await serve(async (peer) => {
      await greet(peer);
      // Answer nothing until all four commands are in: a client waiting for each reply would stall.
      const body = await acceptMessage(peer, 3);
      assert.equal(body.toString(), "Subject: x\r\n\r\n..dot\r\n");
    });
    await using client = new AsyncSMTPClient();
    await client.connect("127.0.0.1", server.port, plain);
    const result = await client.sendRaw(
      { from: "a@example.com", to: ["b@x.org", "c@x.org", "d@x.org"] },
      "Subject: x\n\n.dot",
    );
    assert.equal(result.accepted.length, 3);
    assert.equal(result.response, "queued as ABC123");
  });

  it("keeps bare LF/CR and '\\r\\n.\\r\\n' inside the body from ending DATA (no smuggling)", async () => {
    let body: Buffer = Buffer.alloc(0);
    const server = await serve(async (peer) => {
      await greet(peer);
      body = await acceptMessage(peer);
      const next = await peer.line();
      assert.equal(next, "QUIT");
    });
    const client = new AsyncSMTPClient();
    await client.connect("127.0.0.1", server.port, plain);
    await client.sendRaw(
      envelope,
      "Subject: x\r\n\r\nhi\n.\nMAIL FROM:<evil@x>\r\n.\r\nRCPT TO:<victim@y>\r.\rDATA\r\n",
    );
    await client.close();
    assert.equal(
      body.toString(),
      "Subject: x\r\n\r\nhi\r\n..\r\nMAIL FROM:<evil@x>\r\n..\r\nRCPT TO:<victim@y>\r\n..\r\nDATA\r\n",
    );
    assert.ok(!server.received.some((l) => l.includes("evil") || l.includes("victim")));
  });

  it("refuses CR/LF in an address before anything reaches the wire", async () => {
    const server = await serve(async (peer) => {
      await greet(peer);
      await peer.line().catch(() => "");
    });
    await using client = new AsyncSMTPClient();
    await client.connect("127.0.0.1", server.port, plain);
    await assert.rejects(
      client.sendRaw({ from: "a@example.com", to: ["b@example.com>\r\nRCPT TO:<evil@x.org"] }, "x"),
      (e: unknown) => e instanceof MailError && e.code === "SMTP_INVALID_ARGUMENT",
    );
    assert.ok(!server.received.some((l) => l.startsWith("MAIL") || l.includes("evil")));
  });

  it("reports rejected recipients per recipient; all rejected throws and the next send starts with RSET", async () => {
    const server = await serve(async (peer) => {
      await greet(peer);
      for (let i = 0; i < 5; i++) await peer.line();
      peer.send("250 ok\r\n250 ok\r\n550 5.1.1 no such user\r\n250 ok\r\n354 go\r\n");
      await peer.data();
      peer.send("250 ok\r\n");
      // Second message: every recipient rejected; DATA refused.
      await peer.line();
      await peer.line();
      await peer.line();
      peer.send("250 ok\r\n550 5.1.1 nope\r\n554 5.5.1 no valid recipients\r\n");
      // Third: RSET comes first, pipelined with the new transaction.
      assert.equal(await peer.line(), "RSET");
      peer.send("250 flushed\r\n");
      await acceptMessage(peer);
    });
    await using client = new AsyncSMTPClient();
    await client.connect("127.0.0.1", server.port, plain);
    const result = await client.sendRaw(
      { from: "a@example.com", to: ["ok@x.org", "bad@x.org", "ok2@x.org"] },
      "x",
    );
    assert.deepEqual(result.accepted, ["ok@x.org", "ok2@x.org"]);
    assert.deepEqual(result.rejected, [
      { recipient: "bad@x.org", replyCode: 550, enhancedStatus: "5.1.1", message: "no such user" },
    ]);
    const error = await expectSMTPError(
      client.sendRaw({ from: "a@example.com", to: ["bad@x.org"] }, "x"),
      "SMTP_RECIPIENTS_REJECTED",
    );
    assert.equal(error.replyCode, 550);
    assert.equal(error.enhancedStatus, "5.1.1");
    const third = await client.sendRaw(envelope, "x");
    assert.deepEqual(third.accepted, ["b@example.com"]);
  });

  it("reconnects when the server closed the idle connection, and when it answers 421", async () => {
    const server = await serve(async (peer, index) => {
      await greet(peer);
      if (index === 0) {
        // Idle timeout: close right after the greeting exchange.
        await new Promise((r) => setTimeout(r, 30));
        peer.close();
        return;
      }
      if (index === 1) {
        await acceptMessage(peer);
        // Next transaction: the server is shutting down.
        await peer.line();
        peer.send("421 4.3.2 shutting down\r\n");
        peer.close();
        return;
      }
      await acceptMessage(peer);
    });
    await using client = new AsyncSMTPClient();
    await client.connect("127.0.0.1", server.port, plain);
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual((await client.sendRaw(envelope, "one")).accepted, ["b@example.com"]);
    assert.deepEqual((await client.sendRaw(envelope, "two")).accepted, ["b@example.com"]);
    assert.equal(server.connections, 3);
  });

  it("does not retry when the connection drops in the middle of the body", async () => {
    const server = await serve(async (peer) => {
      await greet(peer);
      for (let i = 0; i < 3; i++) await peer.line();
      peer.send("250 ok\r\n250 ok\r\n354 go\r\n");
      await peer.bytes(10);
      peer.close();
    });
    const client = new AsyncSMTPClient();
    await client.connect("127.0.0.1", server.port, plain);
    await expectSMTPError(
      client.sendRaw(envelope, Buffer.alloc(200_000, 0x61)),
      "SMTP_CONNECTION_CLOSED",
    );
    assert.equal(server.connections, 1);
    await client.close();
  });

  it("aborts a send with an AbortSignal", async () => {
    const server = await serve(async (peer) => {
      await greet(peer);
      await peer.line().catch(() => "");
      await new Promise((r) => setTimeout(r, 5000));
    });
    const client = new AsyncSMTPClient();
    await client.connect("127.0.0.1", server.port, plain);
    await expectSMTPError(
      client.sendRaw(envelope, "x", { signal: AbortSignal.timeout(100) }),
      "SMTP_ABORTED",
    );
    await client.close();
  });

  it("checks SIZE before sending anything", async () => {
    const server = await serve(async (peer) => {
      await greet(peer, ["PIPELINING", "SIZE 100"]);
      await peer.line().catch(() => "");
    });
    await using client = new AsyncSMTPClient();
    await client.connect("127.0.0.1", server.port, plain);
    const error = await expectSMTPError(
      client.sendRaw(envelope, Buffer.alloc(500, 0x61)),
      "SMTP_MESSAGE_TOO_LARGE",
    );
    assert.equal(error.replyCode, 552);
    assert.ok(!server.received.some((l) => l.startsWith("MAIL")));
  });

  it("uses BDAT when CHUNKING is offered (RFC 3030)", async () => {
    let body = "";
    const server = await serve(async (peer) => {
      await greet(peer, ["PIPELINING", "CHUNKING", "SIZE 1000000"]);
      assert.equal(await peer.line(), "MAIL FROM:<a@example.com> SIZE=14");
      await peer.line();
      peer.send("250 ok\r\n250 ok\r\n");
      const bdat = await peer.line();
      const match = /^BDAT (\d+) LAST$/.exec(bdat);
      assert.ok(match, bdat);
      body = (await peer.bytes(Number(match[1]))).toString();
      peer.send("250 2.0.0 Message accepted\r\n");
    });
    await using client = new AsyncSMTPClient();
    await client.connect("127.0.0.1", server.port, plain);
    const result = await client.sendRaw(envelope, "Subject: x\n\n.a");
    assert.equal(result.response, "Message accepted");
    assert.equal(body, "Subject: x\r\n\r\n.a\r\n");
  });

  it("stops reading the body when the server refuses a BDAT chunk, then resets", async () => {
    const server = await serve(async (peer) => {
      await greet(peer, ["PIPELINING", "CHUNKING"]);
      await peer.line();
      await peer.line();
      peer.send("250 ok\r\n250 ok\r\n");
      for (;;) {
        const match = /^BDAT (\d+)( LAST)?$/.exec(await peer.line());
        if (!match) break;
        await peer.bytes(Number(match[1]));
        peer.send("552 5.3.4 Message too big for system\r\n");
        if (match[2]) break;
      }
      assert.equal(server.received.at(-1), "RSET");
      peer.send("250 flushed\r\n");
      await acceptMessageBdat(peer);
    });
    let produced = 0;
    async function* body() {
      for (let i = 0; i < 200; i++) {
        produced++;
        yield Buffer.alloc(64 * 1024, 0x61);
      }
    }
    await using client = new AsyncSMTPClient();
    await client.connect("127.0.0.1", server.port, plain);
    const error = await expectSMTPError(client.sendRaw(envelope, body()), "SMTP_MESSAGE_REJECTED");
    assert.equal(error.replyCode, 552);
    assert.ok(produced < 200, `the whole body was read (${produced} chunks)`);
    assert.deepEqual((await client.sendRaw(envelope, "small")).accepted, ["b@example.com"]);
  });

  it("never sends credentials in plaintext unless allowed", async () => {
    const server = await serve(async (peer) => {
      await greet(peer, ["AUTH PLAIN LOGIN"]);
      await peer.line().catch(() => "");
    });
    await using client = new AsyncSMTPClient();
    await client.connect("127.0.0.1", server.port, plain);
    await expectSMTPError(client.login("user", "secret"), "SMTP_AUTH_INSECURE");
    assert.ok(!server.received.some((l) => l.startsWith("AUTH")));
  });

  it("authenticates with CRAM-MD5 (RFC 2195), preferred on a plaintext connection", async () => {
    const server = await serve(async (peer) => {
      await greet(peer, ["AUTH PLAIN LOGIN CRAM-MD5"]);
      assert.equal(await peer.line(), "AUTH CRAM-MD5");
      const challenge = "<1896.697170952@postoffice.example.net>";
      peer.send(`334 ${Buffer.from(challenge).toString("base64")}\r\n`);
      const answer = Buffer.from(await peer.line(), "base64").toString();
      const expected = createHmac("md5", "tanstaaftanstaaf").update(challenge).digest("hex");
      peer.send(answer === `joe ${expected}` ? "235 2.7.0 ok\r\n" : "535 5.7.8 bad\r\n");
      await peer.line().catch(() => "");
    });
    await using client = new AsyncSMTPClient();
    await client.connect("127.0.0.1", server.port, { ...plain, allowPlaintextAuth: true });
    await client.login("joe", "tanstaaftanstaaf");
    assert.equal(client.username, "joe");
  });

  it("authenticates with LOGIN and reports a failed PLAIN with its reply code", async () => {
    const server = await serve(async (peer) => {
      await greet(peer, ["AUTH PLAIN LOGIN"]);
      assert.equal(await peer.line(), "AUTH LOGIN");
      peer.send("334 VXNlcm5hbWU6\r\n");
      assert.equal(Buffer.from(await peer.line(), "base64").toString(), "user");
      peer.send("334 UGFzc3dvcmQ6\r\n");
      assert.equal(Buffer.from(await peer.line(), "base64").toString(), "pässword");
      peer.send("235 2.7.0 ok\r\n");
      const plainAuth = await peer.line();
      assert.equal(
        Buffer.from(plainAuth.split(" ")[2], "base64").toString(),
        "\u0000user\u0000wrong",
      );
      peer.send("535 5.7.8 Authentication credentials invalid\r\n");
      await peer.line().catch(() => "");
    });
    await using client = new AsyncSMTPClient();
    await client.connect("127.0.0.1", server.port, { ...plain, allowPlaintextAuth: true });
    await client.login("user", "pässword", { mechanism: "LOGIN" });
    const error = await expectSMTPError(
      client.login("user", "wrong", { mechanism: "PLAIN" }),
      "SMTP_AUTH_FAILED",
    );
    assert.equal(error.replyCode, 535);
    assert.equal(error.enhancedStatus, "5.7.8");
  });

  it("retries XOAUTH2 once with a refreshed token", async () => {
    const server = await serve(async (peer) => {
      await greet(peer, ["AUTH XOAUTH2"]);
      const first = Buffer.from((await peer.line()).split(" ")[2], "base64").toString();
      assert.equal(first, "user=me@example.com\u0001auth=Bearer old\u0001\u0001");
      peer.send(`334 ${Buffer.from('{"status":"401"}').toString("base64")}\r\n`);
      assert.equal(await peer.line(), "");
      peer.send("535 5.7.8 expired\r\n");
      const second = Buffer.from((await peer.line()).split(" ")[2], "base64").toString();
      peer.send(second.includes("Bearer new") ? "235 ok\r\n" : "535 no\r\n");
      await peer.line().catch(() => "");
    });
    const calls: boolean[] = [];
    await using client = new AsyncSMTPClient();
    await client.connect("127.0.0.1", server.port, { ...plain, allowPlaintextAuth: true });
    await client.loginOAuth2("me@example.com", ({ refresh }) => {
      calls.push(refresh);
      return refresh ? "new" : "old";
    });
    assert.deepEqual(calls, [false, true]);
  });

  it("falls back to OAUTHBEARER (RFC 7628) with host and port when XOAUTH2 is not offered", async () => {
    let port = 0;
    const server = await serve(async (peer) => {
      await greet(peer, ["AUTH OAUTHBEARER PLAIN"]);
      const [verb, mechanism, initial] = (await peer.line()).split(" ");
      assert.equal(`${verb} ${mechanism}`, "AUTH OAUTHBEARER");
      const expected = `n,a=me@example.com,\u0001host=127.0.0.1\u0001port=${port}\u0001auth=Bearer tok\u0001\u0001`;
      peer.send(
        Buffer.from(initial, "base64").toString() === expected ? "235 ok\r\n" : "535 no\r\n",
      );
      await peer.line().catch(() => "");
    });
    port = server.port;
    await using client = new AsyncSMTPClient();
    await client.connect("127.0.0.1", server.port, { ...plain, allowPlaintextAuth: true });
    await client.loginOAuth2("me@example.com", "tok");
    assert.equal(client.username, "me@example.com");
  });
});

describe("AsyncSMTPClient against random server bytes (fuzz)", () => {
  it("always ends connect() and a send with a typed MailError or success, never a crash or hang", async () => {
    const fc = (await import("fast-check")).default;
    const chunk = fc.oneof(
      fc.constantFrom(
        "220 ok\r\n",
        "250-x\r\n",
        "250 PIPELINING\r\n",
        "354 go\r\n",
        "250 ok\r\n",
        "421 bye\r\n",
        "\r\n",
        ".\r\n",
      ),
      fc.string({ unit: "binary", maxLength: 60 }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(chunk, { maxLength: 12 }), async (chunks) => {
        const server = await startFakeServer(async (peer) => {
          for (const c of chunks) {
            peer.send(Buffer.from(c, "latin1"));
            await new Promise((r) => setImmediate(r));
          }
          peer.close();
        });
        try {
          const client = new AsyncSMTPClient();
          try {
            await client.connect("127.0.0.1", server.port, {
              ...plain,
              commandTimeoutMs: 500,
              greetingTimeoutMs: 500,
            });
            await client.sendRaw(envelope, "x");
          } catch (error) {
            assert.ok(error instanceof MailError, String(error));
          } finally {
            await client.close();
          }
        } finally {
          await server.stop();
        }
      }),
      { numRuns: 40 },
    );
  });
});
