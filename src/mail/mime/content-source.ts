/**
 * Turns every accepted attachment content kind into one shape, an async iterable of byte
 * chunks, so the renderer streams them without ever holding a whole file in memory.
 */
import { Buffer } from "node:buffer";
import { open } from "node:fs/promises";
import { MIME_ERROR_CODES, mimeError } from "./errors.js";
import type { AttachmentContent } from "./types.js";

const utf8 = new TextEncoder();

/** True for content that can be read only once (streams and iterables). */
export function isOneShot(content: AttachmentContent): boolean {
  return typeof content !== "string" && !(content instanceof Uint8Array);
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === "function"
  );
}

function isWebStream(value: unknown): value is ReadableStream<unknown> {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { getReader?: unknown }).getReader === "function"
  );
}

/** Validates that `content` is a kind we accept (called eagerly, before rendering starts). */
export function checkContent(content: unknown): asserts content is AttachmentContent {
  if (typeof content === "string" || content instanceof Uint8Array) return;
  if (isAsyncIterable(content) || isWebStream(content)) return;
  throw mimeError(
    MIME_ERROR_CODES.invalidContent,
    "Attachment content must be a string, Uint8Array, Node Readable, web ReadableStream or AsyncIterable<Uint8Array>",
  );
}

function toBytes(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  if (typeof chunk === "string") return utf8.encode(chunk);
  throw mimeError(
    MIME_ERROR_CODES.invalidContent,
    `An attachment stream yielded ${typeof chunk} instead of bytes`,
  );
}

async function* fromWebStream(stream: ReadableStream<unknown>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield toBytes(value);
    }
  } finally {
    reader.releaseLock();
  }
}

async function* fromIterable(source: AsyncIterable<unknown>): AsyncGenerator<Uint8Array> {
  for await (const chunk of source) yield toBytes(chunk);
}

/** Chunks of an in-memory, streamed or iterable content. */
export async function* contentChunks(content: AttachmentContent): AsyncGenerator<Uint8Array> {
  try {
    if (typeof content === "string") yield utf8.encode(content);
    else if (content instanceof Uint8Array) yield content;
    else if (isAsyncIterable(content)) yield* fromIterable(content);
    else if (isWebStream(content)) yield* fromWebStream(content);
    else checkContent(content);
  } catch (error) {
    if (error instanceof Error && "code" in error && String(error.code).startsWith("MAIL_"))
      throw error;
    throw mimeError(MIME_ERROR_CODES.attachmentRead, "Reading attachment content failed", error);
  }
}

/** Bytes read from a file per chunk: big enough that per-read overhead is small, small enough for flat memory. */
const FILE_CHUNK = 256 * 1024;

/**
 * Chunks of a file, opened afresh on every call (so a message with files can render twice).
 * Read with a FileHandle rather than a ReadStream: one `read` per chunk, without the stream
 * machinery, and every chunk is a fresh buffer the consumer may keep.
 */
export async function* fileChunks(path: string): AsyncGenerator<Uint8Array> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, "r");
  } catch (error) {
    throw readError(path, error);
  }
  try {
    for (;;) {
      const buffer = Buffer.allocUnsafe(FILE_CHUNK);
      let bytesRead: number;
      try {
        ({ bytesRead } = await handle.read(buffer, 0, FILE_CHUNK, null));
      } catch (error) {
        throw readError(path, error);
      }
      if (bytesRead === 0) return;
      yield bytesRead === FILE_CHUNK ? buffer : buffer.subarray(0, bytesRead);
    }
  } finally {
    await handle.close().catch(() => {});
  }
}

function readError(path: string, cause: unknown) {
  return mimeError(
    MIME_ERROR_CODES.attachmentRead,
    `Reading attachment file ${JSON.stringify(path)} failed`,
    cause,
  );
}
