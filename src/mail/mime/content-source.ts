/**
 * Turns every accepted attachment content kind into one shape, an async iterable of byte
 * chunks, so the renderer streams them without ever holding a whole file in memory.
 */
import { createReadStream } from "node:fs";
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

/** Chunks of a file, opened afresh on every call (so a message with files can render twice). */
export async function* fileChunks(path: string): AsyncGenerator<Uint8Array> {
  try {
    yield* fromIterable(createReadStream(path, { highWaterMark: 64 * 1024 }));
  } catch (error) {
    throw mimeError(
      MIME_ERROR_CODES.attachmentRead,
      `Reading attachment file ${JSON.stringify(path)} failed`,
      error,
    );
  }
}
