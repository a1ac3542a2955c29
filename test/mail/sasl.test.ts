/**
 * The shared SASL layer (src/mail/sasl): mechanism bytes against the RFC examples, the
 * mechanism choice, and the exchange driver as SMTP (initial response in the command) and IMAP
 * without SASL-IR (initial response after an empty "+" challenge) drive it.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { describe, it } from "node:test";
import { IMAPError, MailError } from "../../src/errors.js";
import {
  authenticate,
  chooseMechanism,
  cramMD5,
  login,
  oauthBearer,
  plain,
  runExchange,
  type SASLCredentials,
  type SASLMechanismName,
  type SASLStep,
  type SASLTransport,
  xoauth2,
} from "../../src/mail/sasl/index.js";

const text = (bytes: Uint8Array | undefined) =>
  bytes === undefined ? undefined : Buffer.from(bytes).toString("utf8");
const b64 = (value: string) => Buffer.from(value, "utf8").toString("base64");
const unb64 = (value: string) => Buffer.from(value, "base64").toString("utf8");

/**
 * A server scripted as a function of what it received: the transport records every line the
 * client sends ("BEGIN <mechanism> [initial]" for the opening command) and asks `answer`.
 */
function scriptedServer(answer: (sent: string, history: string[]) => SASLStep<string>) {
  const sent: string[] = [];
  const transport: SASLTransport<string> = {
    begin: async (mechanism, initial) => {
      const line = initial === undefined ? `BEGIN ${mechanism}` : `BEGIN ${mechanism} ${initial}`;
      sent.push(line);
      return answer(line, sent);
    },
    respond: async (line) => {
      sent.push(line);
      return answer(line, sent);
    },
  };
  return { sent, transport };
}

const challenge = (value: string): SASLStep<string> => ({ kind: "challenge", text: value });
const done = (result: string): SASLStep<string> => ({ kind: "done", result });

const imapOptions = {
  invalid: (message: string) => new IMAPError(message, { code: "IMAP_INVALID_ARGUMENT" }),
  protocolError: (message: string) => new IMAPError(message, { code: "IMAP_PROTOCOL_ERROR" }),
  succeeded: (result: string) => result === "OK",
};

describe("SASL mechanisms", () => {
  it("PLAIN sends NUL user NUL password as its initial response (RFC 4616 §2)", () => {
    const m = plain("tim", "tanstaaftanstaaf");
    assert.equal(text(m.initialResponse), "\u0000tim\u0000tanstaaftanstaaf");
    assert.equal(m.respond(new Uint8Array(0)), undefined, "no challenge expected");
  });

  it("LOGIN answers the user, then the password, then nothing", () => {
    const m = login("user", "pässword");
    assert.equal(m.initialResponse, undefined);
    assert.equal(text(m.respond(Buffer.from("Username:"))), "user");
    assert.equal(text(m.respond(Buffer.from("Password:"))), "pässword");
    assert.equal(m.respond(Buffer.from("More?")), undefined);
  });

  it("CRAM-MD5 answers the RFC 2195 §2 example", () => {
    const m = cramMD5("tim", "tanstaaftanstaaf");
    assert.equal(m.initialResponse, undefined);
    const answer = m.respond(Buffer.from("<1896.697170952@postoffice.reston.mci.net>"));
    assert.equal(text(answer), "tim b913a602c7eda7a495b4e6e7334d3890");
    assert.equal(m.respond(Buffer.from("again")), undefined);
  });

  it("XOAUTH2 sends user ^A auth=Bearer token ^A ^A and answers an error challenge empty", () => {
    const m = xoauth2("someuser@example.com", "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg");
    assert.equal(
      text(m.initialResponse),
      "user=someuser@example.com\u0001auth=Bearer ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg\u0001\u0001",
    );
    assert.equal(text(m.respond(Buffer.from('{"status":"401"}'))), "");
    assert.equal(m.respond(Buffer.from("again")), undefined);
  });

  it("OAUTHBEARER matches the RFC 7628 §4.1 example and answers an error with ^A", () => {
    const m = oauthBearer("user@example.com", "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==", {
      host: "server.example.com",
      port: 143,
    });
    assert.equal(
      text(m.initialResponse),
      "n,a=user@example.com,\u0001host=server.example.com\u0001port=143\u0001auth=Bearer vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==\u0001\u0001",
    );
    assert.equal(text(m.respond(Buffer.from('{"status":"invalid_token"}'))), "\u0001");
    assert.equal(m.respond(Buffer.from("again")), undefined);
  });

  it("OAUTHBEARER escapes = and , in the authorization identity (RFC 5801 §4)", () => {
    const m = oauthBearer("a=b,c", "t");
    assert.equal(text(m.initialResponse), "n,a=a=3Db=2Cc,\u0001auth=Bearer t\u0001\u0001");
  });
});

describe("chooseMechanism", () => {
  const password: SASLCredentials = { kind: "password", user: "u", password: "p" };
  const oauth: SASLCredentials = { kind: "oauth2", user: "u", token: () => "t" };
  const unavailable = (wanted: string) => new MailError(`no ${wanted}`, { code: "X_UNAVAILABLE" });

  it("prefers PLAIN over TLS and CRAM-MD5 in plaintext, case-insensitively", () => {
    const offered = ["login", "Plain", "CRAM-MD5"];
    assert.equal(chooseMechanism(offered, password, true, unavailable), "PLAIN");
    assert.equal(chooseMechanism(offered, password, false, unavailable), "CRAM-MD5");
    assert.equal(chooseMechanism(["LOGIN"], password, true, unavailable), "LOGIN");
  });

  it("prefers XOAUTH2, falls back to OAUTHBEARER, and honours a forced mechanism", () => {
    assert.equal(chooseMechanism(["OAUTHBEARER", "XOAUTH2"], oauth, true, unavailable), "XOAUTH2");
    assert.equal(
      chooseMechanism(["OAUTHBEARER", "PLAIN"], oauth, true, unavailable),
      "OAUTHBEARER",
    );
    const forced: SASLCredentials = { ...password, mechanism: "LOGIN" };
    assert.equal(chooseMechanism(["PLAIN", "LOGIN"], forced, true, unavailable), "LOGIN");
  });

  it("reports what it looked for when nothing fits", () => {
    assert.throws(() => chooseMechanism(["PLAIN"], oauth, true, unavailable), {
      code: "X_UNAVAILABLE",
      message: "no XOAUTH2 or OAUTHBEARER",
    });
    assert.throws(() => chooseMechanism(["GSSAPI"], password, true, unavailable), {
      message: "no PLAIN, LOGIN or CRAM-MD5",
    });
    const forced: SASLCredentials = { ...password, mechanism: "CRAM-MD5" };
    assert.throws(() => chooseMechanism(["PLAIN"], forced, true, unavailable), {
      message: "no CRAM-MD5",
    });
  });
});

describe("SASL exchange driver", () => {
  it("sends the initial response with the command when allowed, '=' when it is empty", async () => {
    const { sent, transport } = scriptedServer(() => done("OK"));
    const result = await runExchange(transport, plain("u", "p"), {
      ...imapOptions,
      initialResponseInCommand: true,
    });
    assert.equal(result, "OK");
    assert.deepEqual(sent, [`BEGIN PLAIN ${b64("\u0000u\u0000p")}`]);

    const empty = scriptedServer(() => done("OK"));
    const anonymous = {
      name: "PLAIN" as const,
      initialResponse: new Uint8Array(0),
      respond: () => undefined,
    };
    await runExchange(empty.transport, anonymous, {
      ...imapOptions,
      initialResponseInCommand: true,
    });
    assert.deepEqual(empty.sent, ["BEGIN PLAIN ="]);
  });

  it("without SASL-IR, answers the server's first empty challenge with the initial response", async () => {
    const { sent, transport } = scriptedServer((line) =>
      line.startsWith("BEGIN")
        ? challenge("")
        : done(unb64(line) === "\u0000u\u0000p" ? "OK" : "NO"),
    );
    const result = await runExchange(transport, plain("u", "p"), {
      ...imapOptions,
      initialResponseInCommand: false,
    });
    assert.equal(result, "OK");
    assert.deepEqual(sent, ["BEGIN PLAIN", b64("\u0000u\u0000p")]);
  });

  it("cancels with '*' when the mechanism has no answer, and fails if the server goes on", async () => {
    const polite = scriptedServer((line) => (line === "*" ? done("BAD") : challenge(b64("what?"))));
    assert.equal(
      await runExchange(polite.transport, plain("u", "p"), {
        ...imapOptions,
        initialResponseInCommand: true,
      }),
      "BAD",
    );
    assert.equal(polite.sent.at(-1), "*");

    const stubborn = scriptedServer(() => challenge(b64("what?")));
    await assert.rejects(
      runExchange(stubborn.transport, plain("u", "p"), {
        ...imapOptions,
        initialResponseInCommand: true,
      }),
      { code: "IMAP_PROTOCOL_ERROR" },
    );
    assert.equal(stubborn.sent.length, 2, "no line after the cancel");
  });

  it("refreshes a rejected XOAUTH2 token once, answering the JSON error challenge empty", async () => {
    const calls: boolean[] = [];
    const { sent, transport } = scriptedServer((line) => {
      if (line.startsWith("BEGIN")) {
        const token = unb64(line.split(" ")[2]);
        return token.includes("Bearer new") ? done("OK") : challenge(b64('{"status":"401"}'));
      }
      return done("NO"); // the failure after the empty answer
    });
    const result = await authenticate(
      transport,
      "XOAUTH2",
      {
        kind: "oauth2",
        user: "me@example.com",
        token: ({ refresh }) => {
          calls.push(refresh);
          return refresh ? "new" : "old";
        },
      },
      { ...imapOptions, initialResponseInCommand: true },
    );
    assert.equal(result, "OK");
    assert.deepEqual(calls, [false, true]);
    assert.equal(sent[1], "", "empty response to the error challenge");
    assert.equal(sent.length, 3);
  });

  it("answers an OAUTHBEARER error with ^A and returns the second failure as it is", async () => {
    const { sent, transport } = scriptedServer((line) =>
      line.startsWith("BEGIN") ? challenge(b64('{"status":"invalid_token"}')) : done("NO"),
    );
    const result = await authenticate(
      transport,
      "OAUTHBEARER",
      { kind: "oauth2", user: "me", token: async () => "tok" },
      {
        ...imapOptions,
        initialResponseInCommand: true,
        target: { host: "imap.example.com", port: 993 },
      },
    );
    assert.equal(result, "NO");
    assert.deepEqual(
      sent.filter((l) => !l.startsWith("BEGIN")),
      [b64("\u0001"), b64("\u0001")],
    );
    assert.match(unb64(sent[0].split(" ")[2]), /host=imap\.example\.com\u0001port=993\u0001/);
  });

  it("refuses control characters in credentials and mismatched credentials before sending", async () => {
    const { sent, transport } = scriptedServer(() => done("OK"));
    const options = { ...imapOptions, initialResponseInCommand: true };
    const cases: Array<[SASLMechanismName, SASLCredentials, string]> = [
      ["PLAIN", { kind: "password", user: "u\r\nA1 LOGOUT", password: "p" }, "user name contains"],
      ["PLAIN", { kind: "password", user: "u", password: "p\u0000" }, "password contains"],
      ["XOAUTH2", { kind: "oauth2", user: "u", token: () => "t\n" }, "OAuth2 token contains"],
      ["XOAUTH2", { kind: "password", user: "u", password: "p" }, "XOAUTH2 needs different"],
    ];
    for (const [mechanism, credentials, message] of cases) {
      await assert.rejects(
        authenticate(transport, mechanism, credentials, options),
        (e: unknown) => {
          assert.ok(e instanceof IMAPError);
          assert.equal(e.code, "IMAP_INVALID_ARGUMENT");
          assert.ok(e.message.startsWith(message), e.message);
          return true;
        },
      );
    }
    assert.deepEqual(sent, []);
  });
});
