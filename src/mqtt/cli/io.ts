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

/** Writes and waits when the stream asks for it, so a slow pipe slows the reading down. */
export async function write(stream: Writable, data: Uint8Array | string): Promise<void> {
  if (!stream.write(data)) await once(stream, "drain");
}
