import type { Socket } from "node:net";
import { withDeadline } from "../../shared/deadline.js";
import { deadlineError, type NetErrorFactory } from "./errors.js";

/**
 * Writes `data` and, when the socket's buffer is full, waits for it to drain (bounded by
 * `timeoutMs` and `signal`), so streaming a large body never queues it all in memory.
 */
export async function writeWithBackpressure(
  socket: Socket,
  data: Uint8Array | string,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  error: NetErrorFactory,
): Promise<void> {
  if (socket.destroyed || !socket.writable) {
    throw error("closed", "the connection is closed");
  }
  if (socket.write(data)) return;
  const failure = deadlineError(error, "sending data", timeoutMs);
  await withDeadline<void>(timeoutMs, signal, failure, (resolve, reject) => {
    const onDrain = () => resolve();
    const onClose = () => reject(error("closed", "the connection closed while sending"));
    const onError = (cause: Error) =>
      reject(error("closed", `the connection broke while sending: ${cause.message}`, cause));
    socket.once("drain", onDrain);
    socket.once("close", onClose);
    socket.once("error", onError);
    return () => {
      socket.off("drain", onDrain);
      socket.off("close", onClose);
      socket.off("error", onError);
    };
  });
}
