/**
 * A scripted IMAP server (node:net) for what a real server will not do on demand: literals
 * split at every byte, responses injected after STARTTLS, unsolicited data at odd moments,
 * connections dropped mid-response. After the greeting a connection runs either `rules`
 * (answer each command by its name or a regex) or a `script` using the peer API by hand.
 * Everything the client sent is recorded: parsed commands, lines, and the raw bytes.
 */
import { createServer, type Server, type Socket } from "node:net";
import { createSecureContext, TLSSocket } from "node:tls";

export interface ClientCommand {
  /** Which connection (0, 1, …) sent it. */
  connection: number;
  tag: string;
  /** Upper-cased command name; "UID FETCH", "UID STORE", … for UID commands. */
  name: string;
  /** Everything after the tag, literals inline as sent: `LOGIN {5}\r\nalice "pw"`. */
  text: string;
  /** Each literal's bytes, in order. */
  literals: Buffer[];
  /** True when a synchronizing literal was refused (see `literal`); the rest never came. */
  refused: boolean;
}

/** Decides on a synchronizing literal: undefined sends "+ go ahead", a line refuses it. */
export type LiteralPolicy = (
  size: number,
  command: { tag: string; text: string },
) => string | undefined;

export interface IMAPPeer {
  /** Which connection this is (0, 1, …). */
  index: number;
  /**
   * The next command, literals read: a synchronizing `{n}` gets "+ go ahead" first
   * (RFC 3501 §7.5) unless `literal` refuses it; `{n+}` is read without (RFC 7888).
   */
  command(literal?: LiteralPolicy): Promise<ClientCommand>;
  /** The next raw line without CRLF (e.g. DONE after IDLE, an AUTHENTICATE response). */
  line(): Promise<string>;
  /** Exactly n raw bytes. */
  bytes(n: number): Promise<Buffer>;
  /** Sends lines, each with CRLF added and `{tag}` replaced by `tag`. */
  send(lines: string | readonly string[], tag?: string): void;
  /** Sends bytes exactly as given. */
  write(data: string | Uint8Array): void;
  /**
   * Sends `data` in pieces of `sizes` bytes (1 by default; an array is cycled), each flushed
   * and followed by `delayMs` (0: one event-loop turn) so the client reads them apart.
   */
  dribble(
    data: string | Uint8Array,
    options?: { sizes?: number | readonly number[]; delayMs?: number },
  ): Promise<void>;
  /**
   * TLS handshake as server with the fake's certificate (after an OK to STARTTLS). Resolves
   * with what the client sent in plaintext after its STARTTLS line (should be nothing).
   */
  startTLS(): Promise<Buffer>;
  /** Answers STARTTLS with OK, plus `inject` in the same write (RFC 3501 §11.1 attack), then `startTLS()`. */
  acceptStartTLS(command: ClientCommand, inject?: string | Uint8Array): Promise<Buffer>;
  /** Drops the connection at once (e.g. mid-response). */
  close(): void;
  socket(): Socket;
}

export interface Rule {
  /** Command name ("LOGIN", "UID FETCH"; any case) or a regex on the text after the tag. */
  match: string | RegExp;
  /** Lines to send ({tag} replaced), raw bytes, or a function for anything else. */
  reply:
    | string
    | readonly string[]
    | Uint8Array
    | ((command: ClientCommand, peer: IMAPPeer) => void | Promise<void>);
  /** Used at most this many times on the whole server, then the next matching rule applies. */
  times?: number;
}

export interface FakeIMAPOptions {
  /** Certificate for STARTTLS and implicit TLS (e.g. from makeCertificates). */
  tls?: { cert: string; key: string };
  /** TLS from the first byte (needs `tls`). */
  implicitTLS?: boolean;
  /** The greeting line; null sends none. */
  greeting?: string | null;
  /** Answers to commands, tried in order. Unmatched: LOGOUT gets BYE + OK, others BAD. */
  rules?: readonly Rule[];
  /** Runs each connection by hand after the greeting, instead of `rules`. */
  script?: (peer: IMAPPeer) => Promise<void>;
  /** Applied to synchronizing literals in `rules` mode. */
  literal?: LiteralPolicy;
}

export interface FakeIMAPServer {
  port: number;
  /** Parsed commands of every connection, in order. */
  commands: ClientCommand[];
  /** Every line read (command lines and raw lines), without CRLF. */
  received: string[];
  /** All bytes the client sent on connection `index` (decrypted), or on all of them. */
  wire(index?: number): Buffer;
  connections: number;
  stop(): Promise<void>;
}

export const DEFAULT_GREETING = "* OK [CAPABILITY IMAP4rev1 LITERAL+ IDLE] fake IMAP ready";

/** `{n}`, `{n+}` (RFC 7888) or `~{n}` (RFC 3516 literal8) at the end of a line. */
const LITERAL = /~?\{(\d+)(\+?)\}$/;

export async function startFakeIMAPServer(options: FakeIMAPOptions = {}): Promise<FakeIMAPServer> {
  const commands: ClientCommand[] = [];
  const received: string[] = [];
  const wires: Buffer[][] = [];
  const sockets = new Set<Socket>();
  const uses = new Map<Rule, number>();
  const secureContext = options.tls ? createSecureContext(options.tls) : undefined;

  const server: Server = createServer((raw) => {
    raw.setNoDelay(true);
    sockets.add(raw);
    raw.on("close", () => sockets.delete(raw));
    raw.on("error", () => {});
    const index = wires.length;
    const wire: Buffer[] = [];
    wires.push(wire);
    let socket: Socket = raw;
    let buffer = Buffer.alloc(0);
    let wake: (() => void) | undefined;
    let ended = false;
    const attach = (s: Socket) => {
      s.on("data", (chunk: Buffer) => {
        wire.push(chunk);
        buffer = Buffer.concat([buffer, chunk]);
        wake?.();
      });
      s.on("close", () => {
        ended = true;
        wake?.();
      });
      s.on("error", () => {});
    };
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
    const line = () =>
      waitFor(() => {
        const end = buffer.indexOf("\r\n");
        if (end === -1) return undefined;
        const text = buffer.toString("latin1", 0, end);
        buffer = buffer.subarray(end + 2);
        received.push(text);
        return text;
      });
    const bytes = (n: number) =>
      waitFor(() => {
        if (buffer.length < n) return undefined;
        const out = Buffer.from(buffer.subarray(0, n));
        buffer = buffer.subarray(n);
        return out;
      });
    const write = (data: string | Uint8Array) => {
      if (!socket.destroyed)
        socket.write(typeof data === "string" ? Buffer.from(data, "latin1") : data);
    };
    const handshake = async (): Promise<void> => {
      if (!secureContext) throw new Error("fake IMAP server: no `tls` certificate given");
      raw.removeAllListeners("data");
      const secure = new TLSSocket(raw, { isServer: true, secureContext });
      socket = secure;
      attach(secure);
      await new Promise<void>((resolve, reject) => {
        secure.once("secure", () => resolve());
        secure.once("error", reject);
        secure.once("close", () => reject(new Error("closed during the TLS handshake")));
      });
    };
    const peer: IMAPPeer = {
      index,
      line,
      bytes,
      write,
      async command(literal) {
        const first = await line();
        const space = first.indexOf(" ");
        const tag = space > 0 ? first.slice(0, space) : first;
        let text = space > 0 ? first.slice(space + 1) : "";
        const literals: Buffer[] = [];
        let refused = false;
        // Only the end of the last line read can announce a literal, never literal data.
        let last = text;
        for (let match = LITERAL.exec(last); match; match = LITERAL.exec(last)) {
          const size = Number(match[1]);
          if (!match[2]) {
            const refusal = literal?.(size, { tag, text });
            if (refusal !== undefined) {
              peer.send(refusal, tag);
              refused = true;
              break;
            }
            write("+ go ahead\r\n");
          }
          const data = await bytes(size);
          literals.push(data);
          last = await line();
          text += `\r\n${data.toString("latin1")}${last}`;
        }
        const words = text.split(" ");
        const upper = (words[0] ?? "").toUpperCase();
        const name = upper === "UID" ? `UID ${(words[1] ?? "").toUpperCase()}` : upper;
        const command = { connection: index, tag, name, text, literals, refused };
        commands.push(command);
        return command;
      },
      send(lines, tag = "*") {
        const list = typeof lines === "string" ? [lines] : lines;
        write(list.map((l) => `${l.replaceAll("{tag}", tag)}\r\n`).join(""));
      },
      async dribble(data, { sizes = 1, delayMs = 0 } = {}) {
        const all = typeof data === "string" ? Buffer.from(data, "latin1") : Buffer.from(data);
        const cycle = typeof sizes === "number" ? [sizes] : sizes;
        for (let at = 0, i = 0; at < all.length && !socket.destroyed; i++) {
          const size = Math.max(1, cycle[i % cycle.length]);
          await new Promise<void>((resolve) =>
            socket.write(all.subarray(at, at + size), () => resolve()),
          );
          at += size;
          await new Promise((resolve) =>
            delayMs > 0 ? setTimeout(resolve, delayMs) : setImmediate(resolve),
          );
        }
      },
      async startTLS() {
        const leftover = Buffer.from(buffer);
        buffer = Buffer.alloc(0);
        await handshake();
        return leftover;
      },
      acceptStartTLS(command, inject) {
        const ok = Buffer.from(`${command.tag} OK Begin TLS negotiation now\r\n`);
        write(inject === undefined ? ok : Buffer.concat([ok, Buffer.from(inject)]));
        return peer.startTLS();
      },
      close: () => socket.destroy(),
      socket: () => socket,
    };
    attach(raw);
    const run = async () => {
      if (options.implicitTLS) await handshake();
      const greeting = options.greeting === undefined ? DEFAULT_GREETING : options.greeting;
      if (greeting !== null) peer.send(greeting);
      if (options.script) return options.script(peer);
      for (;;) {
        const command = await peer.command(options.literal);
        if (!command.refused) await answer(command, peer);
      }
    };
    run()
      .catch(() => {})
      .finally(() => {
        if (!socket.destroyed) socket.end();
      });
  });

  /** The first rule that matches and has uses left, or the defaults. */
  const answer = async (command: ClientCommand, peer: IMAPPeer) => {
    const rule = options.rules?.find(
      (r) =>
        (typeof r.match === "string"
          ? r.match.toUpperCase() === command.name
          : r.match.test(command.text)) &&
        (uses.get(r) ?? 0) < (r.times ?? Number.POSITIVE_INFINITY),
    );
    if (rule) {
      uses.set(rule, (uses.get(rule) ?? 0) + 1);
      if (typeof rule.reply === "function") await rule.reply(command, peer);
      else if (rule.reply instanceof Uint8Array) peer.write(rule.reply);
      else peer.send(rule.reply as string | readonly string[], command.tag);
    } else if (command.name === "LOGOUT") {
      peer.send(["* BYE fake IMAP logging out", "{tag} OK LOGOUT completed"], command.tag);
      peer.socket().end();
    } else {
      peer.send(`{tag} BAD fake IMAP has no rule for ${command.name}`, command.tag);
    }
  };

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    port,
    commands,
    received,
    wire: (index) => Buffer.concat(index === undefined ? wires.flat() : (wires[index] ?? [])),
    get connections() {
      return wires.length;
    },
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
