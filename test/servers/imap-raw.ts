/**
 * A bare IMAP line reader over a socket, for proving the test servers themselves (the IMAP
 * client under test does not serve here): send a tagged command, collect the lines up to its
 * tagged response. Literals are not followed; keep commands to those that return none.
 */
import type { Socket } from "node:net";
import { type TLSSocket, connect as tlsConnect } from "node:tls";

export interface RawIMAP {
  socket: Socket;
  /** The next line, without CRLF. */
  line(): Promise<string>;
  /** Sends `tag command` and resolves with every line up to and including the tagged one. */
  command(tag: string, command: string): Promise<string[]>;
  /** Upgrades to TLS (after a STARTTLS OK), verifying the server against `ca`. */
  startTLS(ca: string): Promise<TLSSocket>;
  close(): void;
}

export function rawIMAP(socket: Socket): RawIMAP {
  let buffer = "";
  let wake: (() => void) | undefined;
  let closed = false;
  let current = socket;
  const attach = (s: Socket) => {
    s.setEncoding("latin1");
    s.on("data", (text: string) => {
      buffer += text;
      wake?.();
    });
    s.on("close", () => {
      closed = true;
      wake?.();
    });
  };
  attach(socket);
  const line = async (): Promise<string> => {
    for (;;) {
      const end = buffer.indexOf("\r\n");
      if (end >= 0) {
        const text = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        return text;
      }
      if (closed) throw new Error(`connection closed (unread: ${JSON.stringify(buffer)})`);
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  };
  return {
    get socket() {
      return current;
    },
    line,
    async command(tag, command) {
      current.write(`${tag} ${command}\r\n`);
      const lines: string[] = [];
      for (;;) {
        const next = await line();
        lines.push(next);
        if (next.startsWith(`${tag} `)) return lines;
      }
    },
    async startTLS(ca) {
      current.removeAllListeners("data");
      current.removeAllListeners("close");
      const secure = tlsConnect({ socket: current, ca, servername: "localhost" });
      await new Promise<void>((resolve, reject) => {
        secure.once("secureConnect", resolve);
        secure.once("error", reject);
      });
      current = secure;
      attach(secure);
      return secure;
    },
    close: () => current.destroy(),
  };
}
