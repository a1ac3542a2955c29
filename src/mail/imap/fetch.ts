/**
 * UID FETCH over many messages: the UIDs are split into chunks, at most two chunks are in
 * flight at once (pipelined), and the next chunk is only asked for once the consumer has
 * taken most of what arrived. Memory stays bounded by two chunks whatever the mailbox size,
 * and the socket is never paused, so a command the consumer awaits inside its loop is
 * answered (it queues behind at most two chunks) instead of deadlocking.
 */
import type { FetchAttributes } from "./codec/index.js";
import { sequenceSet } from "./codec/index.js";
import { imapError } from "./errors.js";
import type { IMAPSession } from "./session.js";
import type { FetchedMessage, StreamOptions } from "./types.js";

/** What one streamed fetch asks for, settled once the UIDs are known (after a SEARCH). */
export interface FetchPlan {
  session: IMAPSession;
  uids: readonly number[];
  /** The FETCH item list, from `fetchItems`. */
  items: string;
  /** Tells our responses from unsolicited flag updates, from `acceptsFor`. */
  accepts: (attributes: FetchAttributes) => boolean;
  /** UIDs per FETCH, from `chunkSize`. */
  size: number;
}

const CHUNKS_IN_FLIGHT = 2;

/** The FETCH item list for what the caller asked for (UID always). */
export function fetchItems(options: StreamOptions, condstore: boolean): string {
  const items = ["UID"];
  if (options.flags !== false) items.push("FLAGS");
  if (options.envelope !== false) items.push("ENVELOPE");
  if (options.internalDate !== false) items.push("INTERNALDATE");
  if (options.size !== false) items.push("RFC822.SIZE");
  if (options.bodyStructure) items.push("BODYSTRUCTURE");
  if ((options.modseq || options.changedSince !== undefined) && condstore) items.push("MODSEQ");
  if (options.headers?.length) {
    items.push(`BODY.PEEK[HEADER.FIELDS (${options.headers.map(headerName).join(" ")})]`);
  }
  if (options.source) items.push("BODY.PEEK[]");
  const changed =
    options.changedSince !== undefined && condstore
      ? ` (CHANGEDSINCE ${options.changedSince})`
      : "";
  return `(${items.join(" ")})${changed}`;
}

/** A field name is an atom of printable ASCII without ':' (RFC 5322 §3.6.8). */
function headerName(name: string): string {
  if (!/^[\x21-\x39\x3b-\x7e]+$/.test(name)) {
    throw imapError("IMAP_INVALID_ARGUMENT", `invalid header field name ${JSON.stringify(name)}`);
  }
  return name;
}

/** How many UIDs one FETCH asks for: fewer when whole messages come back. */
export function chunkSize(options: StreamOptions): number {
  if (options.source) return 100;
  if (options.bodyStructure) return 500;
  return 1000;
}

/**
 * Yields each fetched message (in the server's order, per chunk). `plan` runs first, inside
 * the generator, so its errors (no mailbox, a failed SEARCH) surface where the loop is, and
 * one generator carries the messages from the socket to the caller's loop.
 */
export async function* fetchStream(
  plan: () => Promise<FetchPlan>,
  signal: AbortSignal | undefined,
): AsyncGenerator<FetchedMessage> {
  const { session, uids, items, accepts, size } = await plan();
  const chunks: number[][] = [];
  for (let i = 0; i < uids.length; i += size) chunks.push(uids.slice(i, i + size));
  /** Messages not yet taken from `head` on; taken slots are emptied (see below). */
  let queue: (FetchedMessage | undefined)[] = [];
  let head = 0;
  let next = 0;
  let inFlight = 0;
  let failure: unknown;
  let finished = false;
  let wake: (() => void) | undefined;
  const notify = () => {
    const waiting = wake;
    wake = undefined;
    waiting?.();
  };
  const issue = () => {
    while (
      inFlight < CHUNKS_IN_FLIGHT &&
      next < chunks.length &&
      queue.length - head < size &&
      failure === undefined
    ) {
      const chunk = chunks[next++];
      const wanted = new Set(chunk);
      inFlight++;
      session
        .run({
          name: "UID FETCH",
          args: [` ${sequenceSet(chunk)} ${items}`],
          collects: ["fetch"],
          shareable: true,
          signal,
          onData: (response) => {
            if (response.kind !== "fetch") return false;
            const { attributes } = response;
            if (attributes.uid === undefined || !wanted.has(attributes.uid)) return false;
            if (!accepts(attributes)) return false;
            wanted.delete(attributes.uid);
            if (!finished) queue.push(toFetchedMessage(response.seq, attributes));
            notify();
            return true;
          },
        })
        .then(
          () => {
            inFlight--;
            notify();
          },
          (error: unknown) => {
            inFlight--;
            failure ??= error;
            notify();
          },
        );
    }
  };
  try {
    for (;;) {
      issue();
      if (head < queue.length) {
        const item = queue[head] as FetchedMessage;
        // Emptied at once: a message the caller is done with (its body, its envelope) must
        // not stay reachable until the array is compacted, or it outlives the young
        // generation and the collector copies and promotes it for nothing.
        queue[head++] = undefined;
        if (head > 4096 && head * 2 > queue.length) {
          queue = queue.slice(head);
          head = 0;
        }
        yield item;
        continue;
      }
      if (failure !== undefined) throw failure;
      if (inFlight === 0 && next >= chunks.length) return;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    // The consumer stopped early: chunks still in flight are read and dropped.
    finished = true;
    queue = [];
  }
}

/** The caller's view of one FETCH response. */
function toFetchedMessage(seq: number, a: FetchAttributes): FetchedMessage {
  const message: FetchedMessage = { uid: a.uid ?? 0, seq };
  if (a.flags) message.flags = a.flags;
  if (a.envelope) message.envelope = a.envelope;
  if (a.bodyStructure) message.bodyStructure = a.bodyStructure;
  if (a.internalDate) message.internalDate = a.internalDate;
  if (a.size !== undefined) message.size = a.size;
  if (a.modseq !== undefined) message.modseq = a.modseq;
  const sections = a.sections;
  if (sections) {
    for (const key in sections) {
      const value = sections[key];
      if (!(value instanceof Uint8Array)) continue;
      if (key === "BODY[]") message.source = value;
      else if (key.startsWith("BODY[HEADER.FIELDS")) message.headers = value;
    }
  }
  return message;
}

/** What must be present for a response to be the answer to our FETCH, not a flag update. */
export function acceptsFor(options: StreamOptions): (attributes: FetchAttributes) => boolean {
  if (options.source) return (a) => a.sections !== undefined;
  if (options.envelope !== false) return (a) => a.envelope !== undefined;
  if (options.bodyStructure) return (a) => a.bodyStructure !== undefined;
  if (options.internalDate !== false) return (a) => a.internalDate !== undefined;
  if (options.size !== false) return (a) => a.size !== undefined;
  return () => true;
}
