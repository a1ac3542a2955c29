/** The protocol-neutral LineReader (src/mail/net), shared with the future IMAP client. */
import assert from "node:assert/strict";
import { createServer, type Server, type Socket, connect as tcpConnect } from "node:net";
import { after, before, describe, it } from "node:test";
import { MailError } from "../../../src/errors.js";
import { LineReader, type NetErrorFactory } from "../../../src/mail/net/index.js";

const error: NetErrorFactory = (kind, message, cause) =>
  new MailError(message, { code: `NET_${kind.toUpperCase()}`, cause });

describe("LineReader", () => {
  let server: Server;
  let port = 0;
  let serverSide: Promise<Socket>;
  let accept: (s: Socket) => void;

  before(async () => {
    server = createServer((s) => accept(s));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    port = typeof address === "object" && address ? address.port : 0;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  async function pair(
    maxLineLength = 100,
  ): Promise<{ peer: Socket; reader: LineReader; client: Socket }> {
    serverSide = new Promise((resolve) => {
      accept = resolve;
    });
    const client = tcpConnect({ port, host: "127.0.0.1" });
    const peer = await serverSide;
    return { peer, client, reader: new LineReader(client, { maxLineLength, error }) };
  }

  it("reads lines split across packets, CRLF or bare LF, and exact byte counts", async () => {
    const { peer, reader, client } = await pair();
    peer.write("first li");
    peer.write("ne\r\nsecond\nliteral:");
    assert.equal(await reader.readLine(1000), "first line");
    assert.equal(await reader.readLine(1000), "second");
    assert.equal(await reader.readLine(50).catch((e: MailError) => e.code), "NET_TIMEOUT");
    peer.write("\r\n12345");
    assert.equal(await reader.readLine(1000), "literal:");
    assert.deepEqual(Buffer.from(await reader.readBytes(5, 1000)), Buffer.from("12345"));
    client.destroy();
  });

  it("fails with line-too-long instead of buffering an endless line", async () => {
    const { peer, reader } = await pair(100);
    peer.write("x".repeat(10_000));
    await assert.rejects(reader.readLine(1000), { code: "NET_LINE-TOO-LONG" });
  });

  it("hands out a line already received before the peer closed, then reports the close", async () => {
    const { peer, reader } = await pair();
    peer.end("421 bye\r\n");
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(await reader.readLine(1000), "421 bye");
    await assert.rejects(reader.readLine(1000), { code: "NET_CLOSED" });
  });

  it("aborts a wait with an AbortSignal, and detach() returns unread bytes", async () => {
    const { peer, reader, client } = await pair();
    await assert.rejects(reader.readLine(5000, AbortSignal.timeout(30)), { code: "NET_ABORTED" });
    peer.write("220 ready\r\ninjected");
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(await reader.readLine(1000), "220 ready");
    assert.equal(Buffer.from(reader.detach()).toString(), "injected");
    client.destroy();
  });
});
