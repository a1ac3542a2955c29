/** The streams a command runs with: the process's own, or test doubles. */
import { once } from "node:events";
import type { Readable, Writable } from "node:stream";

export interface CommandIO {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
  /** Aborted on SIGINT / SIGTERM: `sub` then disconnects cleanly and exits 0. */
  stop?: AbortSignal;
}

/**
 * Writes and waits when the stream asks for it, so a slow pipe slows the reading down. A
 * stream that closes meanwhile (the reader went away: `sub … | head -1`) ends the wait.
 */
export async function write(stream: Writable, data: Uint8Array | string): Promise<void> {
  if (stream.destroyed) return;
  if (stream.write(data)) return;
  try {
    await Promise.race([once(stream, "drain"), once(stream, "close")]);
  } catch {
    // `once` rejects on the stream's 'error' (EPIPE): the owner of the stream hears of it
    // through its own error listener (src/cli.ts stops the command); nothing to do here.
  }
}
