/**
 * `downloadPart`: one MIME part of a message as a stream of decoded bytes. The part's literal
 * is handed from the parser to the stream chunk by chunk (never buffered whole), the transfer
 * encoding is removed on the fly (or, when asked, by the server with BINARY, RFC 3516), and
 * reading from the socket pauses while the consumer is behind.
 */
import { Buffer } from "node:buffer";
import { Readable } from "node:stream";
import { type ChunkDecoder, transferDecoder } from "../mime/transfer-stream.js";
import type { BodyStructure } from "./codec/index.js";
import { imapError } from "./errors.js";
import type { IMAPSession } from "./session.js";
import type { DownloadOptions } from "./types.js";

/** A part's decoded bytes, with what BODYSTRUCTURE says about it. */
export interface PartDownload extends Readable {
  /** The part's media type, e.g. `application/pdf`. */
  contentType: string;
  /** Its filename (Content-Disposition filename, else Content-Type name), when it has one. */
  filename: string | undefined;
  /** The transfer encoding the part has on the server. */
  encoding: string;
  /** The size the server announced, in (encoded) bytes, once known. */
  size: number | undefined;
}

const PART_NUMBER = /^[1-9][0-9]*(\.[1-9][0-9]*)*$/;

/** Finds part `part` ("1", "2.1", …) in a body structure. */
export function findPart(node: BodyStructure, part: string): BodyStructure | undefined {
  if (node.part === part && !node.childNodes) return node;
  for (const child of node.childNodes ?? []) {
    const found = findPart(child, part);
    if (found) return found;
  }
  if (node.body) return findPart(node.body, part);
  return node.part === part ? node : undefined;
}

export async function downloadPart(
  session: IMAPSession,
  uid: number,
  part: string,
  options: DownloadOptions,
): Promise<PartDownload> {
  if (!Number.isSafeInteger(uid) || uid < 1) {
    throw imapError("IMAP_INVALID_ARGUMENT", `invalid UID ${String(uid)}`);
  }
  if (!PART_NUMBER.test(part)) {
    throw imapError("IMAP_INVALID_ARGUMENT", `invalid part number ${JSON.stringify(part)}`);
  }
  let structure: BodyStructure | undefined;
  await session.run({
    name: "UID FETCH",
    args: [` ${uid} (UID BODYSTRUCTURE)`],
    collects: ["fetch"],
    shareable: true,
    signal: options.signal,
    onData: (response) => {
      if (response.kind !== "fetch" || response.attributes.uid !== uid) return false;
      if (!response.attributes.bodyStructure) return false;
      structure = response.attributes.bodyStructure;
      return true;
    },
  });
  if (!structure) throw imapError("IMAP_NOT_FOUND", `no message with UID ${uid}`);
  const node = findPart(structure, part);
  if (!node) throw imapError("IMAP_NOT_FOUND", `message ${uid} has no part ${part}`);
  const encoding = (node.encoding ?? "7bit").toLowerCase();
  // RFC 3516: with BINARY the server removes the transfer encoding itself; otherwise we do.
  const serverDecodes =
    options.serverDecode === true &&
    session.has("BINARY") &&
    (encoding === "base64" || encoding === "quoted-printable");
  const item = serverDecodes ? `BINARY[${part}]` : `BODY[${part}]`;
  const decoder: ChunkDecoder = transferDecoder(serverDecodes ? undefined : encoding);
  const connection = session.connection;
  const stream = new Readable({ read: () => connection.resume() }) as PartDownload;
  stream.contentType = `${node.type}/${node.subtype}`;
  stream.filename = node.disposition?.parameters.filename ?? node.parameters.name;
  stream.encoding = encoding;
  stream.size = undefined;
  let streamed = false;
  const push = (bytes: Uint8Array) => {
    if (bytes.length > 0 && !stream.push(bytes)) connection.pause();
  };
  /** Decoded bytes the caller may keep: a chunk is a view of a reused read buffer. */
  const decode = (chunk: Uint8Array) => {
    const bytes = decoder.write(chunk);
    return bytes.buffer === chunk.buffer ? Buffer.from(bytes) : bytes;
  };
  session.literalSink = (info) => {
    if (info.item !== item) return undefined;
    streamed = true;
    stream.size = info.size;
    if (options.maxSize !== undefined && info.size > options.maxSize) {
      stream.destroy(
        imapError(
          "IMAP_LIMIT_EXCEEDED",
          `part ${part} of message ${uid} is ${info.size} bytes, over the ${options.maxSize}-byte limit`,
        ),
      );
      return () => {};
    }
    return (chunk) => {
      if (stream.destroyed) return;
      if (chunk === null) {
        push(decoder.end());
        stream.push(null);
      } else push(decode(chunk));
    };
  };
  session
    .run({
      name: "UID FETCH",
      args: [` ${uid} (UID ${serverDecodes ? "BINARY.PEEK" : "BODY.PEEK"}[${part}])`],
      collects: ["fetch"],
      exclusive: true,
      signal: options.signal,
      onData: (response) => {
        if (response.kind !== "fetch" || response.attributes.uid !== uid) return false;
        const value = response.attributes.sections?.[item];
        if (value instanceof Uint8Array) {
          // Small parts may come as a quoted string, which the parser keeps.
          streamed = true;
          push(decoder.write(value));
          push(decoder.end());
          stream.push(null);
        }
        return true;
      },
    })
    .then(
      () => {
        if (!streamed)
          stream.destroy(imapError("IMAP_NOT_FOUND", `message ${uid} has no part ${part}`));
      },
      (error: unknown) => stream.destroy(error as Error),
    )
    .finally(() => {
      session.literalSink = undefined;
      connection.resume();
    });
  return stream;
}
