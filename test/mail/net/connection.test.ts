/**
 * MailConnection (src/mail/net/connection.ts), the connection core SMTP and IMAP share:
 * STARTTLS with its injection check, raw mode for a protocol's own parser, destroy-on-failure;
 * and the security defaulting. Over real loopback sockets and a real TLS handshake.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createServer, type Server, type Socket, connect as tcpConnect } from "node:net";
import { after, before, describe, it } from "node:test";
import { createSecureContext, TLSSocket } from "node:tls";
import { MailError } from "../../../src/errors.js";
import {
  MailConnection,
  type MailSocket,
  type NetErrorFactory,
  openConnection,
  resolveSecurity,
} from "../../../src/mail/net/index.js";
import {
  makeCertificates,
  type TempDir,
  type TestCertificates,
  tempDir,
} from "../../servers/common.js";

const error: NetErrorFactory = (kind, message, cause) =>
  new MailError(message, { code: `NET_${kind.toUpperCase()}`, cause });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (condition()) return;
    await sleep(10);
  }
  throw new Error(`timed out waiting for ${what}`);
}

// Every case runs on a socket made by Node's connect() and on one from openConnection(),
// which reads into one reused buffer (Node's onread option) for plaintext connections.
for (const opener of ["net.connect", "openConnection"] as const)
  describe(`MailConnection (${opener})`, () => {
    let server: Server;
    let port = 0;
    let accept: (s: Socket) => void = () => {};
    let dir: TempDir;
    let certs: TestCertificates;

    before(async () => {
      dir = await tempDir("mail-net");
      certs = await makeCertificates(dir.path);
      server = createServer((s) => accept(s));
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const address = server.address();
      port = typeof address === "object" && address ? address.port : 0;
    });
    after(async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await dir.remove();
    });

    async function pair(): Promise<{ peer: Socket; connection: MailConnection }> {
      const serverSide = new Promise<Socket>((resolve) => {
        accept = resolve;
      });
      let client: MailSocket;
      if (opener === "openConnection") {
        client = await openConnection({
          host: "127.0.0.1",
          port,
          implicitTLS: false,
          timeoutMs: 1000,
          error,
        });
      } else {
        client = tcpConnect({ port, host: "127.0.0.1" });
        await new Promise((resolve) => client.once("connect", resolve));
      }
      const peer = await serverSide;
      peer.on("error", () => {});
      const connection = new MailConnection(client, { secure: false, maxLineLength: 1000, error });
      return { peer, connection };
    }

    it("upgrades with STARTTLS on a verified certificate and reads lines over TLS", async () => {
      const { peer, connection } = await pair();
      peer.once("data", () => {
        peer.write("A1 OK Begin TLS negotiation now\r\n");
        const secure = new TLSSocket(peer, {
          isServer: true,
          secureContext: createSecureContext({ cert: certs.cert, key: certs.key }),
        });
        secure.on("secure", () => secure.write("* CAPABILITY IMAP4rev2 AUTH=PLAIN\r\n"));
      });
      await connection.write("A1 STARTTLS\r\n", 1000);
      assert.equal(await connection.readLine(1000), "A1 OK Begin TLS negotiation now");
      assert.equal(connection.secure, false);
      await connection.startTLS({ host: "localhost", tls: { ca: certs.ca }, timeoutMs: 5000 });
      assert.equal(connection.secure, true);
      assert.equal(await connection.readLine(5000), "* CAPABILITY IMAP4rev2 AUTH=PLAIN");
      connection.destroy();
    });

    it("refuses STARTTLS when the server sent bytes after its reply (response injection)", async () => {
      const { peer, connection } = await pair();
      peer.write("A1 OK Begin TLS\r\n* CAPABILITY IMAP4rev2 AUTH=PLAIN\r\n");
      assert.equal(await connection.readLine(1000), "A1 OK Begin TLS");
      await until(() => connection.buffered > 0, "the injected line");
      let handshake = false;
      peer.once("data", () => {
        handshake = true; // a ClientHello would arrive here
      });
      await assert.rejects(connection.startTLS({ host: "localhost", timeoutMs: 1000 }), {
        code: "NET_STARTTLS-INJECTION",
      });
      assert.equal(connection.closed, true);
      await sleep(50);
      assert.equal(handshake, false, "no handshake was attempted");
    });

    it("refuses STARTTLS when the protocol's parser still holds input", async () => {
      const { connection } = await pair();
      await assert.rejects(
        connection.startTLS({ host: "localhost", timeoutMs: 1000, heldInput: true }),
        { code: "NET_STARTTLS-INJECTION" },
      );
      assert.equal(connection.closed, true);
    });

    it("hands the byte stream over with takeData, buffered bytes first, then the close", async () => {
      const { peer, connection } = await pair();
      peer.write("* OK IMAP ready\r\n* 1 EXISTS\r\n* 2 FETCH (BODY[] {5}\r\npar");
      assert.equal(await connection.readLine(1000), "* OK IMAP ready");
      await until(() => connection.buffered > 0, "buffered bytes");
      const chunks: Buffer[] = [];
      let ended: Error | undefined;
      connection.takeData({
        onData: (chunk) => chunks.push(Buffer.from(chunk)),
        onEnd: (failure) => {
          ended = failure;
        },
      });
      assert.ok(chunks.length > 0, "the buffered bytes arrive synchronously");
      peer.end("ts)\r\n");
      await until(() => ended !== undefined, "the end of the stream");
      assert.equal(
        Buffer.concat(chunks).toString(),
        "* 1 EXISTS\r\n* 2 FETCH (BODY[] {5}\r\nparts)\r\n",
      );
      assert.equal((ended as MailError).code, "NET_CLOSED");
      assert.equal(connection.closed, true);
      await assert.rejects(connection.readLine(100), { code: "NET_CLOSED" });
    });

    it("applies backpressure in raw mode with pause() and resume()", async () => {
      const { peer, connection } = await pair();
      let received = 0;
      connection.takeData({ onData: (chunk) => (received += chunk.length), onEnd: () => {} });
      connection.pause();
      peer.write(Buffer.alloc(64 * 1024));
      await sleep(100);
      assert.equal(received, 0);
      connection.resume();
      await until(() => received === 64 * 1024, "all bytes after resume()");
      await assert.rejects(connection.startTLS({ host: "localhost", timeoutMs: 100 }));
      connection.destroy();
    });

    it("in line mode, reads a burst far past the high-water mark in order, none lost", async () => {
      const { peer, connection } = await pair();
      const lines = Array.from({ length: 20_000 }, (_, i) => `* ${i} FETCH (UID ${i + 1})`);
      peer.write(`${lines.join("\r\n")}\r\n`);
      await sleep(50); // the reader pauses the socket while nobody reads
      for (const line of lines) assert.equal(await connection.readLine(1000), line);
      assert.equal(connection.buffered, 0);
      connection.destroy();
    });

    it("in raw mode, delivers many reads intact and in order, whatever the read buffer", async () => {
      const { peer, connection } = await pair();
      const sent = Buffer.alloc(1024 * 1024 + 7).map((_, i) => (i * 2654435761) >>> 24);
      const copies: Buffer[] = [];
      const buffers = new Set<ArrayBufferLike>();
      let ended = false;
      connection.takeData({
        onData: (chunk) => {
          buffers.add(chunk.buffer);
          copies.push(Buffer.from(chunk));
        },
        onEnd: () => {
          ended = true;
        },
      });
      for (let at = 0; at < sent.length; at += 50_001) {
        peer.write(sent.subarray(at, at + 50_001));
        if (at % 200_004 === 0) await sleep(1);
      }
      peer.end();
      await until(() => ended, "the end of the stream");
      assert.ok(Buffer.concat(copies).equals(sent));
      assert.ok(copies.length > 1, "it took several reads");
      if (opener === "openConnection") {
        assert.equal(buffers.size, 1, "every read lands in the same reused buffer");
      }
    });

    it("destroys the connection when a read times out (the stream position is lost)", async () => {
      const { connection } = await pair();
      await assert.rejects(connection.readLine(30), { code: "NET_TIMEOUT" });
      assert.equal(connection.closed, true);
      await assert.rejects(connection.write("x\r\n", 100), { code: "NET_CLOSED" });
    });
  });

describe("MailConnection over implicit TLS from openConnection (decrypted reads in place)", () => {
  let server: Server;
  let port = 0;
  let accept: (s: TLSSocket) => void = () => {};
  let dir: TempDir;
  let certs: TestCertificates;

  before(async () => {
    dir = await tempDir("mail-net-tls");
    certs = await makeCertificates(dir.path);
    const secureContext = createSecureContext({ cert: certs.cert, key: certs.key });
    server = createServer((raw) => {
      const secure = new TLSSocket(raw, { isServer: true, secureContext });
      secure.on("error", () => {});
      secure.once("secure", () => accept(secure));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    port = typeof address === "object" && address ? address.port : 0;
  });
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await dir.remove();
  });

  async function pair(): Promise<{ peer: TLSSocket; connection: MailConnection }> {
    const serverSide = new Promise<TLSSocket>((resolve) => {
      accept = resolve;
    });
    const client = await openConnection({
      host: "127.0.0.1",
      port,
      implicitTLS: true,
      tls: { ca: certs.ca, servername: "localhost" },
      timeoutMs: 5000,
      error,
    });
    const peer = await serverSide;
    const connection = new MailConnection(client, { secure: true, maxLineLength: 1000, error });
    return { peer, connection };
  }

  it("reads a line, then hands many reads over intact, in order, through one buffer", async () => {
    const { peer, connection } = await pair();
    const sent = Buffer.alloc(1024 * 1024 + 3).map((_, i) => (i * 2654435761) >>> 24);
    peer.write("* OK ready\r\n");
    assert.equal(await connection.readLine(1000), "* OK ready");
    const copies: Buffer[] = [];
    const buffers = new Set<ArrayBufferLike>();
    let ended = false;
    connection.takeData({
      onData: (chunk) => {
        buffers.add(chunk.buffer);
        copies.push(Buffer.from(chunk));
      },
      onEnd: () => {
        ended = true;
      },
    });
    peer.end(sent);
    await until(() => ended, "the end of the stream");
    assert.ok(Buffer.concat(copies).equals(sent));
    assert.ok(copies.length > 1);
    assert.equal(buffers.size, 1, "every decrypted read lands in the same reused buffer");
  });

  it("applies backpressure in raw mode with pause() and resume()", async () => {
    const { peer, connection } = await pair();
    let received = 0;
    connection.takeData({ onData: (chunk) => (received += chunk.length), onEnd: () => {} });
    connection.pause();
    await sleep(20);
    peer.write(Buffer.alloc(256 * 1024));
    await sleep(100);
    assert.equal(received, 0);
    connection.resume();
    await until(() => received === 256 * 1024, "all bytes after resume()");
    connection.destroy();
  });
});

describe("resolveSecurity", () => {
  const invalid = (message: string) => new MailError(message, { code: "X_INVALID_ARGUMENT" });

  it("defaults to implicit TLS on 465 and 993 and to STARTTLS elsewhere", () => {
    assert.equal(resolveSecurity(465, undefined, invalid), "tls");
    assert.equal(resolveSecurity(993, undefined, invalid), "tls");
    for (const port of [25, 143, 587, 2525]) {
      assert.equal(resolveSecurity(port, undefined, invalid), "starttls");
    }
    assert.equal(resolveSecurity(2465, undefined, invalid, [2465]), "tls");
  });

  it("keeps an explicit mode, plaintext only when asked, and refuses unknown ones", () => {
    assert.equal(resolveSecurity(993, "none", invalid), "none");
    assert.equal(resolveSecurity(143, "tls", invalid), "tls");
    assert.throws(() => resolveSecurity(143, "ssl" as never, invalid), {
      code: "X_INVALID_ARGUMENT",
    });
  });
});
