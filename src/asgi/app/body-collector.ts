/**
 * The request body gathered from its `http.request` events, within a size limit. Kept apart
 * from the reading loop so that the body can be gathered from events taken synchronously
 * (mtaio's own server, see ../fast-path.ts) and then, if some have yet to arrive, from awaited
 * ones, without losing what was already taken.
 */
import { HTTPError } from "../../errors.js";
import type { PartSizeGuard } from "./form.js";

const EMPTY = new Uint8Array(0);

export function bodyTooLarge(): HTTPError {
  return new HTTPError(413, "Request body too large", { code: "HTTP_BODY_TOO_LARGE" });
}

export class BodyCollector {
  /** The common case is one event holding the whole body: kept as is, no copy. */
  private first: Uint8Array | undefined = undefined;
  private chunks: Uint8Array[] | undefined = undefined;
  private size = 0;
  private guard: PartSizeGuard | null = null;

  constructor(
    private readonly limit: number,
    /** A guard for a multipart body; asked for only once a body comes in several events. */
    private readonly makeGuard: () => PartSizeGuard | null,
  ) {}

  /** Adds one event's bytes; throws 413 past the limit (or a multipart limit). */
  add(bytes: Uint8Array): void {
    if (bytes.byteLength === 0) return;
    this.size += bytes.byteLength;
    if (this.size > this.limit) throw bodyTooLarge();
    const first = this.first;
    if (first === undefined) {
      this.first = bytes;
    } else if (this.chunks === undefined) {
      // A body in several events may be a large upload: from here on, a multipart body is
      // watched part by part (a one-event body is checked exactly when parsed).
      const guard = this.makeGuard();
      this.guard = guard;
      guard?.feed(first);
      guard?.feed(bytes);
      this.chunks = [first, bytes];
    } else {
      this.guard?.feed(bytes);
      this.chunks.push(bytes);
    }
  }

  /** The whole body: the one event's bytes, or the events' bytes joined. */
  result(): Uint8Array {
    const chunks = this.chunks;
    if (chunks === undefined) return this.first ?? EMPTY;
    const body = new Uint8Array(this.size);
    let offset = 0;
    for (const chunk of chunks) {
      body.set(chunk, offset);
      offset += chunk.byteLength;
    }
    return body;
  }
}
