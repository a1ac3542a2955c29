/**
 * The MIME tree that `prepare()` builds and `write()` streams: leaves with their finished
 * header block and body, multiparts with their boundary. Shared by the two halves of rendering.
 */
import { FoldedHeader } from "./fold.js";
import { randomToken } from "./random.js";

/**
 * A part's body. In-memory bodies are copied (or base64-encoded) straight into the output
 * block; streamed ones are read while writing.
 */
export type Body =
  /** Already encoded (text parts, checked message/rfc822 bodies). */
  | { kind: "bytes"; bytes: Uint8Array }
  /** In-memory attachment bytes, base64-encoded into the output. */
  | { kind: "base64"; bytes: Uint8Array }
  /** A file or stream, base64-encoded as it is read. */
  | { kind: "base64-stream"; open: () => AsyncIterable<Uint8Array> }
  /** A streamed message/rfc822, written raw (canonicalised and checked as it is read). */
  | { kind: "message-stream"; open: () => AsyncIterable<Uint8Array>; eightBit: boolean };

export type Leaf = {
  kind: "leaf";
  headers: string;
  body: Body;
  /** What to append when the part ends the whole message (which must end with CRLF). */
  terminator: string;
  /** A body written as is (7bit/8bit): a multipart boundary must not occur in it. */
  raw?: Uint8Array;
};
export type Multipart = { kind: "multipart"; subtype: string; boundary: string; children: Node[] };
export type Node = Leaf | Multipart;

export interface PreparedMessage {
  head: string;
  tree: Node;
}

export const BOUNDARY_PREFIX = "=_mtaio_";
/** Random characters of a boundary: 24 × 6 = 144 random bits. */
export const BOUNDARY_RANDOM = 24;
/** 64 boundary characters (RFC 2046 §5.1.1 bchars), without "-". */
const BOUNDARY_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.";

/**
 * 144 random bits behind `=_`, a pair that neither base64 nor quoted-printable can produce.
 * The alphabet has no "-", so a boundary never ends in "--" and its opening delimiter line can
 * never look like the closing one of a shorter boundary to a prefix-matching parser.
 */
export function newBoundary(): string {
  return BOUNDARY_PREFIX + randomToken(BOUNDARY_RANDOM, BOUNDARY_ALPHABET);
}

export function field(name: string, write: (header: FoldedHeader) => void): string {
  const header = new FoldedHeader(name);
  write(header);
  return header.toString();
}
