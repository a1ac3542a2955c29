/**
 * The second half of rendering: streams a prepared MIME tree as bytes. The header block and
 * every in-memory part go out as one buffer of exactly the right size (no per-piece allocations
 * or copies); files and streams are read and encoded block by block in between.
 */
import { Buffer } from "node:buffer";
import { base64Lines, base64LinesSize, LINE_BYTES, writeBase64Lines } from "./base64.js";
import { markCanonical } from "./canonical-chunks.js";
import { messageBodyStream } from "./message-part.js";
import {
  BOUNDARY_PREFIX,
  BOUNDARY_RANDOM,
  field,
  type Multipart,
  type Node,
  type PreparedMessage,
} from "./mime-tree.js";
import { addParameterized } from "./params.js";

/**
 * What the writer emits, in order: text (headers, boundaries, line breaks), bytes copied as
 * they are, in-memory bytes to base64-encode, or a stream to read.
 */
type Segment =
  | string
  | Uint8Array
  | { kind: "base64"; bytes: Uint8Array }
  | { kind: "stream"; open: () => AsyncIterable<Uint8Array>; canonical: boolean };

/** In-memory attachments larger than this are encoded block by block, like streams. */
const IN_MEMORY_LIMIT = 1024 * 1024;
/** Input bytes per block when encoding a large in-memory attachment (a whole number of lines). */
const SLICE_BYTES = LINE_BYTES * 4096;

function* slices(bytes: Uint8Array): Generator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += SLICE_BYTES) yield bytes.subarray(i, i + SLICE_BYTES);
}

function pushText(out: Segment[], text: string): void {
  const last = out.length - 1;
  if (last >= 0 && typeof out[last] === "string") out[last] += text;
  else out.push(text);
}

/**
 * The Content-Type of a multipart, built once per subtype with a stand-in boundary of the
 * same length (folding depends only on lengths), then filled in per message.
 */
const multipartTemplates = new Map<string, [string, string]>();
const STAND_IN = BOUNDARY_PREFIX + "x".repeat(BOUNDARY_RANDOM);

function multipartHeader(node: Multipart): string {
  let template = multipartTemplates.get(node.subtype);
  if (template === undefined) {
    const header = field("Content-Type", (h) =>
      addParameterized(h, `multipart/${node.subtype}`, [[`boundary="${STAND_IN}"`]]),
    );
    const at = header.indexOf(STAND_IN);
    template = [header.slice(0, at), header.slice(at + STAND_IN.length)];
    multipartTemplates.set(node.subtype, template);
  }
  return template[0] + node.boundary + template[1];
}

/** Flattens the tree into segments; `last` is true for the part that ends the message. */
function flatten(node: Node, out: Segment[], last: boolean): void {
  if (node.kind === "multipart") {
    pushText(out, `${multipartHeader(node)}\r\n`);
    for (const child of node.children) {
      pushText(out, `--${node.boundary}\r\n`);
      flatten(child, out, false);
      pushText(out, "\r\n");
    }
    pushText(out, `--${node.boundary}--\r\n`);
    return;
  }
  pushText(out, `${node.headers}\r\n`);
  const body = node.body;
  switch (body.kind) {
    case "bytes":
      if (body.bytes.length > 0) out.push(body.bytes);
      break;
    case "base64":
      if (body.bytes.length > IN_MEMORY_LIMIT) {
        const bytes = body.bytes;
        out.push({ kind: "stream", open: () => base64Lines(slices(bytes)), canonical: true });
      } else if (body.bytes.length > 0) out.push(body);
      break;
    case "base64-stream":
      out.push({ kind: "stream", open: () => base64Lines(body.open()), canonical: true });
      break;
    case "message-stream":
      out.push({
        kind: "stream",
        open: () => messageBodyStream(body.open(), body.eightBit, last),
        canonical: false,
      });
      break;
  }
  if (last && node.terminator !== "") pushText(out, node.terminator);
}

function segmentSize(segment: Segment): number {
  if (typeof segment === "string") return Buffer.byteLength(segment);
  if (segment instanceof Uint8Array) return segment.length;
  return segment.kind === "base64" ? base64LinesSize(segment.bytes.length) : 0;
}

/** CR or LF that is not part of a CRLF pair. */
const LONE_BREAK = /\r(?!\n)|(?<!\r)\n/;

/**
 * Writes a run of in-memory segments into one buffer of exactly their size. The buffer is
 * marked canonical (whole CRLF lines only) when its text passes the check: bodies are canonical
 * by construction (text parts are CRLF-normalised, base64 is ours), and the header text is
 * checked again here so that no bug upstream can get a lone CR or LF past the SMTP encoder.
 */
function fill(run: Segment[], size: number): Buffer {
  const block = Buffer.allocUnsafe(size);
  let o = 0;
  let canonical = true;
  for (const segment of run) {
    if (typeof segment === "string") {
      if (LONE_BREAK.test(segment)) canonical = false;
      o += block.write(segment, o);
    } else if (segment instanceof Uint8Array) {
      block.set(segment, o);
      o += segment.length;
    } else if (segment.kind === "base64") o = writeBase64Lines(segment.bytes, block, o);
  }
  // The block is uninitialised memory: every byte must have been written.
  if (o !== size) throw new Error(`mtaio internal error: rendered ${o} of ${size} bytes`);
  if (canonical && block[size - 1] === 0x0a) markCanonical(block);
  return block;
}

/** Streams a prepared message: header block, then the parts, attachments read as they go. */
export async function* write(prepared: PreparedMessage): AsyncGenerator<Uint8Array> {
  const segments: Segment[] = [prepared.head];
  flatten(prepared.tree, segments, true);
  let run: Segment[] = [];
  let size = 0;
  for (const segment of segments) {
    if (typeof segment === "string" || segment instanceof Uint8Array || segment.kind !== "stream") {
      run.push(segment);
      size += segmentSize(segment);
      continue;
    }
    if (size > 0) yield fill(run, size);
    run = [];
    size = 0;
    for await (const chunk of segment.open()) {
      yield segment.canonical ? markCanonical(chunk) : chunk;
    }
  }
  if (size > 0) yield fill(run, size);
}
