/**
 * The scripted IMAP server itself, driven by a bare socket: rules and {tag}, both literal
 * kinds, byte-by-byte sending, unsolicited data, STARTTLS with injected bytes, implicit TLS
 * and a connection dropped mid-response.
 */
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { connect as tlsConnect } from "node:tls";
import {
  makeCertificates,
  type TempDir,
  type TestCertificates,
  tempDir,
} from "../../servers/common.js";
import { rawIMAP } from "../../servers/imap-raw.js";
import { type FakeIMAPServer, startFakeIMAPServer } from "./fake-server.js";

const open = (port: number) =>
  new Promise<Socket>((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port }, () => resolve(socket));
    socket.once("error", reject);
  });

/** Collects every chunk until the server closes the connection. */
const drain = (socket: Socket) =>
  new Promise<Buffer[]>((resolve) => {
    const chunks: Buffer[] = [];
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("close", () => resolve(chunks));
  });

describe("fake IMAP server", () => {
  let dir: TempDir;
  let certs: TestCertificates;
  const servers: FakeIMAPServer[] = [];
  const serve = async (options: Parameters<typeof startFakeIMAPServer>[0]) => {
    const server = await startFakeIMAPServer({ tls: certs, ...options });
    servers.push(server);
    return server;
  };
  before(async () => {
    dir = await tempDir("imap-fake");
    certs = await makeCertificates(dir.path);
  });
  after(async () => {
    for (const s of servers) await s.stop();
    await dir.remove();
  });

  it("answers by rule with the command's tag, reads both literal kinds, records the wire", async () => {
    const server = await serve({
      rules: [
        { match: "LOGIN", reply: "{tag} NO wrong", times: 1 },
        { match: "LOGIN", reply: ["* CAPABILITY IMAP4rev1", "{tag} OK welcome"] },
        { match: /^SELECT "?INBOX/i, reply: ["* 3 EXISTS", "{tag} OK [READ-WRITE] done"] },
      ],
    });
    const imap = rawIMAP(await open(server.port));
    assert.match(await imap.line(), /^\* OK /);
    assert.deepEqual(await imap.command("a1", "login x y"), ["a1 NO wrong"]);
    imap.socket.write("a2 LOGIN {5}\r\n");
    assert.equal(await imap.line(), "+ go ahead");
    imap.socket.write("alice {6+}\r\nsecret\r\n");
    assert.deepEqual(await imap.line(), "* CAPABILITY IMAP4rev1");
    assert.equal(await imap.line(), "a2 OK welcome");
    assert.deepEqual(await imap.command("a3", "SELECT INBOX"), [
      "* 3 EXISTS",
      "a3 OK [READ-WRITE] done",
    ]);
    assert.match(
      (await imap.command("a4", "UID FETCH 1 FLAGS")).at(-1) ?? "",
      /^a4 BAD .*UID FETCH/,
    );
    assert.match((await imap.command("a5", "LOGOUT"))[0], /^\* BYE/);
    const login = server.commands[1];
    assert.equal(login.name, "LOGIN");
    assert.deepEqual(login.literals.map(String), ["alice", "secret"]);
    assert.equal(login.text, "LOGIN {5}\r\nalice {6+}\r\nsecret");
    assert.equal(server.commands[3].name, "UID FETCH");
    assert.equal(
      server.wire().toString(),
      "a1 login x y\r\na2 LOGIN {5}\r\nalice {6+}\r\nsecret\r\na3 SELECT INBOX\r\na4 UID FETCH 1 FLAGS\r\na5 LOGOUT\r\n",
    );
  });

  it("refuses a synchronizing literal by policy and never reads literal data as a literal", async () => {
    const server = await serve({
      literal: (size) => (size > 10 ? "{tag} NO [TOOBIG] too big" : undefined),
    });
    const imap = rawIMAP(await open(server.port));
    await imap.line();
    imap.socket.write("t1 APPEND INBOX {11}\r\n");
    assert.equal(await imap.line(), "t1 NO [TOOBIG] too big");
    assert.equal(server.commands[0].refused, true);
    // Literal data that looks like a literal announcement is still data.
    imap.socket.write("t2 APPEND INBOX {4+}\r\nx{3}\r\n");
    assert.match(await imap.line(), /^t2 BAD /);
    assert.deepEqual(server.commands[1].literals.map(String), ["x{3}"]);
    imap.close();
  });

  it("sends a response byte by byte, with unsolicited data first, and drops mid-response", async () => {
    const response = "* 1 FETCH (BODY[] {11}\r\nhello world)\r\n";
    const server = await serve({
      greeting: null,
      script: async (peer) => {
        peer.send(["* OK ready", "* 7 EXISTS"]);
        const command = await peer.command();
        await peer.dribble(response, { delayMs: 1 });
        await peer.dribble(`${command.tag} OK done\r\n* 2 FETCH (BODY[] {50}\r\npart`, {
          sizes: [3, 100],
        });
        peer.close();
      },
    });
    const socket = await open(server.port);
    const chunks = drain(socket);
    socket.write("f1 FETCH 1 BODY[]\r\n");
    const all = await chunks;
    const text = Buffer.concat(all).toString();
    assert.equal(
      text,
      `* OK ready\r\n* 7 EXISTS\r\n${response}f1 OK done\r\n* 2 FETCH (BODY[] {50}\r\npart`,
    );
    // One data event for the greeting lines, then separate reads for most single bytes.
    assert.ok(all.length > response.length / 2, `only ${all.length} reads`);
  });

  it("answers STARTTLS with injected bytes in the same write, then speaks TLS", async () => {
    let plaintextAfter: Buffer | undefined;
    const server = await serve({
      rules: [
        {
          match: "STARTTLS",
          reply: async (command, peer) => {
            plaintextAfter = await peer.acceptStartTLS(
              command,
              "* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n",
            );
          },
        },
        { match: "NOOP", reply: "{tag} OK secure noop" },
      ],
    });
    const socket = await open(server.port);
    const first = await new Promise<string>((resolve) => {
      let text = "";
      socket.on("data", (c: Buffer) => {
        text += c.toString();
        if (text.includes("AUTH=PLAIN\r\n")) resolve(text);
      });
      socket.once("data", () => socket.write("s1 STARTTLS\r\n"));
    });
    assert.match(
      first,
      /s1 OK Begin TLS negotiation now\r\n\* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n$/,
    );
    socket.removeAllListeners("data");
    const secure = tlsConnect({ socket, ca: certs.ca, servername: "localhost" });
    await new Promise((resolve) => secure.once("secureConnect", resolve));
    const imap = rawIMAP(secure);
    assert.deepEqual(await imap.command("s2", "NOOP"), ["s2 OK secure noop"]);
    assert.equal(plaintextAfter?.length, 0);
    assert.match(server.wire(0).toString(), /^s1 STARTTLS\r\ns2 NOOP\r\n$/);
    imap.close();
  });

  it("speaks implicit TLS from the first byte", async () => {
    const server = await serve({ implicitTLS: true, rules: [] });
    const secure = tlsConnect({
      host: "127.0.0.1",
      port: server.port,
      ca: certs.ca,
      servername: "localhost",
    });
    const imap = rawIMAP(secure);
    assert.match(await imap.line(), /^\* OK \[CAPABILITY IMAP4rev1/);
    assert.equal(secure.authorized, true);
    assert.match((await imap.command("x", "LOGOUT")).at(-1) ?? "", /^x OK/);
  });
});
