/**
 * The floor: the least a client can do to get the same bytes. LOGIN and SELECT go out in one
 * write; the measured part sends one UID FETCH and only counts bytes until the tagged OK, so
 * nothing is parsed or decoded (the attachment arrives base64, as stored).
 */
import { connect, type Socket } from "node:net";
import type { BenchClient, ScenarioName } from "./types.js";

const ITEMS: Record<ScenarioName, string> = {
  envelope: "(UID FLAGS ENVELOPE)",
  bodies: "(UID BODY.PEEK[])",
  attachment: "(BODY.PEEK[2])",
};

/** Resolves with the bytes read once the stream ends with `tag`'s completion, rejects unless OK. */
function readUntilTagged(socket: Socket, tag: string): Promise<number> {
  return new Promise((resolve, reject) => {
    let bytes = 0;
    let tail = "";
    const onData = (chunk: Buffer) => {
      bytes += chunk.length;
      // The tagged response is the last line, so the last bytes of the stream are enough.
      tail = (tail + chunk.toString("latin1", Math.max(0, chunk.length - 256))).slice(-256);
      const at = tail.lastIndexOf(`\r\n${tag} `);
      const start = at >= 0 ? at + 2 : tail.startsWith(`${tag} `) ? 0 : -1;
      if (start < 0 || !tail.endsWith("\r\n")) return;
      socket.off("data", onData);
      socket.off("close", onClose);
      if (tail.startsWith(`${tag} OK`, start)) resolve(bytes);
      else reject(new Error(`floor: ${tail.slice(start).trim()}`));
    };
    const onClose = () => reject(new Error("floor: connection closed"));
    socket.on("data", onData);
    socket.once("close", onClose);
  });
}

export const floor: BenchClient = {
  async prepare(scenario, target) {
    const socket = connect({ host: target.host, port: target.port });
    socket.setNoDelay(true);
    socket.on("error", () => {});
    const quote = (s: string) => `"${s.replace(/["\\]/g, "\\$&")}"`;
    socket.write(
      `L LOGIN ${quote(target.user)} ${quote(target.password)}\r\nS SELECT ${quote(target.mailbox)}\r\n`,
    );
    await readUntilTagged(socket, "S");
    return {
      async run() {
        socket.write(`Zfloor UID FETCH 1:* ${ITEMS[scenario]}\r\n`);
        return { messages: Number.NaN, bytes: await readUntilTagged(socket, "Zfloor") };
      },
      async close() {
        socket.write("Q LOGOUT\r\n");
        await readUntilTagged(socket, "Q").catch(() => 0);
        socket.destroy();
      },
    };
  },
};
