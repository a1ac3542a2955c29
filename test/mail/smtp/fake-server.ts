/**
 * A scripted SMTP peer (node:net) for faults real servers will not produce on demand:
 * response injection after STARTTLS, malformed and endless replies, disconnects mid-stream.
 * Each connection runs the script with a tiny line-oriented API.
 */
import { createServer, type Server, type Socket } from "node:net";
import { createSecureContext, TLSSocket } from "node:tls";

export interface ScriptedPeer {
  /** Next line from the client, without CRLF (rejects if the client closed first). */
  line(): Promise<string>;
  /** Bytes until the DATA terminator "\r\n.\r\n" (returned without it, still dot-stuffed). */
  data(): Promise<Buffer>;
  /** Exactly n bytes (for BDAT). */
  bytes(n: number): Promise<Buffer>;
  send(text: string | Buffer): void;
  /** Runs the TLS handshake as server on this connection (after a 220 to STARTTLS). */
  startTLS(cert: string, key: string): Promise<void>;
  close(): void;
  socket(): Socket;
}

export interface FakeServer {
  port: number;
  /** Lines received on every connection, in order (for assertions). */
  received: string[];
  connections: number;
  stop(): Promise<void>;
}

export async function startFakeServer(
  script: (peer: ScriptedPeer, index: number) => Promise<void>,
): Promise<FakeServer> {
  const received: string[] = [];
  const sockets = new Set<Socket>();
  const state = { connections: 0 };
  const server: Server = createServer((raw) => {
    sockets.add(raw);
    raw.on("close", () => sockets.delete(raw));
    raw.on("error", () => {});
    const index = state.connections++;
    let socket: Socket = raw;
    let buffer = Buffer.alloc(0);
    let wake: (() => void) | undefined;
    let ended = false;
    const attach = (s: Socket) => {
      s.on("data", (chunk: Buffer) => {
        buffer = Buffer.concat([buffer, chunk]);
        wake?.();
      });
      s.on("close", () => {
        ended = true;
        wake?.();
      });
      s.on("error", () => {});
    };
    attach(raw);
    const waitFor = async <T>(take: () => T | undefined): Promise<T> => {
      for (;;) {
        const value = take();
        if (value !== undefined) return value;
        if (ended) throw new Error("client closed");
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
    };
    const peer: ScriptedPeer = {
      line: () =>
        waitFor(() => {
          const end = buffer.indexOf("\r\n");
          if (end === -1) return undefined;
          const line = buffer.toString("utf8", 0, end);
          buffer = buffer.subarray(end + 2);
          received.push(line);
          return line;
        }),
      data: () =>
        waitFor(() => {
          const probe = Buffer.concat([Buffer.from("\r\n"), buffer]);
          const end = probe.indexOf("\r\n.\r\n");
          if (end === -1) return undefined;
          const body = probe.subarray(2, end + 2);
          buffer = probe.subarray(end + 5);
          return Buffer.from(body);
        }),
      bytes: (n) =>
        waitFor(() => {
          if (buffer.length < n) return undefined;
          const out = Buffer.from(buffer.subarray(0, n));
          buffer = buffer.subarray(n);
          return out;
        }),
      send: (text) => {
        if (!socket.destroyed) socket.write(text);
      },
      startTLS: async (cert, key) => {
        raw.removeAllListeners("data");
        const secure = new TLSSocket(raw, {
          isServer: true,
          secureContext: createSecureContext({ cert, key }),
        });
        buffer = Buffer.alloc(0);
        socket = secure;
        attach(secure);
        await new Promise<void>((resolve, reject) => {
          secure.once("secure", () => resolve());
          secure.once("error", reject);
          secure.once("close", () => reject(new Error("closed during handshake")));
        });
      },
      close: () => socket.destroy(),
      socket: () => socket,
    };
    script(peer, index)
      .catch(() => {})
      .finally(() => {
        if (!socket.destroyed) socket.end();
      });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    port,
    received,
    get connections() {
      return state.connections;
    },
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The usual opening: 220 greeting, then answer EHLO with these extensions. */
export async function greet(
  peer: ScriptedPeer,
  extensions: string[] = ["PIPELINING", "8BITMIME"],
): Promise<void> {
  peer.send("220 fake.test ESMTP ready\r\n");
  const ehlo = await peer.line();
  if (!ehlo.startsWith("EHLO ")) throw new Error(`expected EHLO, got ${ehlo}`);
  const lines = ["fake.test greets you", ...extensions];
  peer.send(lines.map((l, i) => `250${i === lines.length - 1 ? " " : "-"}${l}\r\n`).join(""));
}
