/**
 * A minimal LMTP client (RFC 2033) for tests: delivers one message to one local user through
 * Dovecot's LMTP listener, the way a real MTA would (new mail while an IMAP client watches).
 */
import { connect } from "node:net";

/** Sends `message` to `user`; rejects with the server's reply when a step is refused. */
export async function deliverLMTP(
  port: number,
  user: string,
  message: Uint8Array | string,
  host = "127.0.0.1",
): Promise<void> {
  const socket = connect({ port, host });
  socket.setEncoding("latin1");
  let buffer = "";
  let wake: (() => void) | undefined;
  let closed = false;
  socket.on("data", (text: string) => {
    buffer += text;
    wake?.();
  });
  socket.on("close", () => {
    closed = true;
    wake?.();
  });
  socket.on("error", () => {});
  /** One whole (possibly multi-line) reply; throws unless its code starts with `expect`. */
  const reply = async (expect: string): Promise<void> => {
    for (;;) {
      const match = /(?:^|\r\n)(\d{3}) [^\r\n]*\r\n/.exec(buffer);
      if (match) {
        const text = buffer.slice(0, match.index + match[0].length);
        buffer = buffer.slice(text.length);
        if (!match[1].startsWith(expect)) throw new Error(`LMTP: ${text.trim()}`);
        return;
      }
      if (closed) throw new Error(`LMTP: connection closed (${buffer.trim()})`);
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  };
  try {
    await reply("2");
    socket.write("LHLO mtaio.test\r\n");
    await reply("2");
    socket.write(`MAIL FROM:<>\r\nRCPT TO:<${user}>\r\nDATA\r\n`);
    await reply("2");
    await reply("2");
    await reply("3");
    // RFC 5321 §4.5.2: a leading "." is doubled; the body ends with CRLF "." CRLF.
    const text = Buffer.from(message).toString("latin1").replace(/\r?\n/g, "\r\n");
    const body = text.replace(/^\./gm, "..");
    socket.write(Buffer.from(`${body}${body.endsWith("\r\n") ? "" : "\r\n"}.\r\n`, "latin1"));
    await reply("2");
    socket.write("QUIT\r\n");
    await reply("2");
  } finally {
    socket.destroy();
  }
}
