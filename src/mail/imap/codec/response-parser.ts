/**
 * The streaming response parser: frames responses out of TCP chunks split anywhere (lines end
 * in CRLF, a bare LF is tolerated; a line ending in a literal header `{n}`, `{n+}` or `~{n}`
 * (RFC 9051 §4.3, RFC 7888, RFC 3516) continues after the literal's n bytes), then parses
 * each complete response from its bytes.
 *
 * Bytes are scanned where they arrive: a response that lies whole inside one chunk is parsed
 * in place; only the part of a response left at the end of a chunk is copied, and the pieces
 * of a response that spans chunks are joined once, when it is complete. Every limit is
 * checked before the bytes it covers are held.
 */
import { Buffer } from "node:buffer";
import { IMAPError } from "../../../errors.js";
import { CR, Cursor, LBRACE, LBRACKET, LF, RBRACE, RBRACKET, SP, TILDE } from "./cursor.js";
import { type IMAPParserLimits, limitError, resolveLimits } from "./limits.js";
import { parseResponse } from "./responses.js";
import type { IMAPResponse } from "./types.js";

/** A FETCH literal offered to `streamLiteral` (item e.g. "BODY[2]", "BINARY[1.2]", "BODY[]"). */
export interface LiteralStreamInfo {
  seq: number;
  item: string;
  size: number;
}
/**
 * Receives a streamed literal's bytes in order; null marks its end. A chunk is a view of the
 * bytes passed to push(), valid during the call: copy it to keep it past that.
 */
export type LiteralChunkSink = (chunk: Uint8Array | null) => void;

export interface ResponseParserOptions {
  limits?: Partial<IMAPParserLimits>;
  onResponse: (response: IMAPResponse) => void;
  /**
   * Asked for each literal of a FETCH response at a BODY[...]/BINARY[...] item (any size);
   * a returned sink gets the literal's bytes (not buffered, not counted against the literal
   * and response limits) and the item's value becomes { streamed: true, size }. Returning
   * undefined buffers it as usual.
   */
  streamLiteral?: (info: LiteralStreamInfo) => LiteralChunkSink | undefined;
  /**
   * Whether streamLiteral may want a literal at the moment (a download is running); when it
   * says no, literals are buffered without reading their FETCH item to ask. Default: always.
   */
  streaming?: () => boolean;
}

/** An exception thrown by the caller's callback: passed through unchanged. */
class CallbackFailure {
  constructor(readonly error: unknown) {}
}

const LT = 0x3c;
const GT = 0x3e;
/** Held pieces smaller than this are packed into blocks of BLOCK_SIZE. */
const SMALL_PIECE = 1024;
const BLOCK_SIZE = 4096;
/**
 * Room reserved after a literal for the rest of the response line (`)` and CRLF, or more
 * FETCH items); a longer rest is held as another piece.
 */
const RESERVE_TAIL = 256;
/** Literals up to this size get a buffer of their response's size up front (see reserve). */
const RESERVE_MAX = 1024 * 1024;

function isDigit(b: number): boolean {
  return b >= 0x30 && b <= 0x39;
}

export class ResponseParser {
  private readonly limits: IMAPParserLimits;
  private readonly onResponse: (response: IMAPResponse) => void;
  private readonly streamLiteral: ResponseParserOptions["streamLiteral"];
  private readonly streaming: () => boolean;
  private dead: unknown = null;
  private failed = false;

  /** Copies of the current response's bytes held from earlier chunks. */
  private pieces: Buffer[] = [];
  private piecesLength = 0;
  /** Bytes of the current line seen so far (literals excluded). */
  private lineLength = 0;
  /** Bytes of the current literal still to come. */
  private literalLeft = 0;
  private sink: LiteralChunkSink | null = null;
  /** Response offset and size of each streamed literal, in pairs. */
  private streamed: number[] = [];
  /** The block small held pieces are packed into (the last entry of pieces views it). */
  private block: Buffer | null = null;
  private blockUsed = 0;

  constructor(options: ResponseParserOptions) {
    this.limits = resolveLimits(options.limits);
    this.onResponse = options.onResponse;
    this.streamLiteral = options.streamLiteral;
    this.streaming = options.streaming ?? (() => true);
  }

  /** Bytes held: the partial response (line and buffered literals) waiting for more input. */
  get buffered(): number {
    return this.piecesLength;
  }

  push(chunk: Uint8Array): void {
    if (this.failed) throw this.dead;
    const buf = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    try {
      this.consume(buf);
    } catch (error) {
      this.failed = true;
      if (error instanceof CallbackFailure) this.dead = error.error;
      else if (error instanceof IMAPError) this.dead = error;
      else {
        this.dead = new IMAPError(`IMAP parser failed: ${String(error)}`, {
          code: "IMAP_PARSE_ERROR",
          cause: error,
        });
      }
      this.pieces = [];
      this.piecesLength = 0;
      this.block = null;
      throw this.dead;
    }
  }

  private consume(buf: Buffer): void {
    const { maxLineLength, maxResponseSize } = this.limits;
    const length = buf.length;
    let pos = 0;
    /** Start of the current response's bytes in this chunk not yet copied to pieces. */
    let from = 0;
    while (pos < length) {
      if (this.literalLeft > 0) {
        const take = Math.min(this.literalLeft, length - pos);
        if (this.sink !== null) this.toSink(buf.subarray(pos, pos + take));
        pos += take;
        this.literalLeft -= take;
        if (this.sink !== null) {
          from = pos;
          if (this.literalLeft === 0) this.endSink();
        }
        continue;
      }
      const lf = buf.indexOf(LF, pos);
      if (lf === -1) {
        this.lineLength += length - pos;
        if (this.lineLength > maxLineLength) throw this.lineTooLong();
        pos = length;
        break;
      }
      this.lineLength += lf - pos;
      if (this.lineLength > maxLineLength) throw this.lineTooLong();
      pos = lf + 1;
      const held = this.piecesLength + (pos - from);
      if (held > maxResponseSize) throw this.responseTooLarge();
      const size = this.literalAtLineEnd(buf, from, lf);
      if (size < 0) {
        this.complete(buf, from, pos);
        from = pos;
        continue;
      }
      const ask = this.streamLiteral !== undefined && this.streaming();
      const sink = ask ? this.askSink(buf, from, lf, size) : undefined;
      this.lineLength = 0;
      if (sink !== undefined) {
        this.hold(buf, from, pos);
        from = pos;
        this.streamed.push(this.piecesLength, size);
        this.sink = sink;
        this.literalLeft = size;
        if (size === 0) this.endSink();
        continue;
      }
      if (size > this.limits.maxLiteralSize) {
        throw limitError(
          `IMAP literal of ${size} bytes exceeds maxLiteralSize ${this.limits.maxLiteralSize}`,
        );
      }
      if (held + size > maxResponseSize) throw this.responseTooLarge();
      this.literalLeft = size;
      // Only when what is held so far is no bigger than the literal: the bytes moved into
      // each new buffer are then paid for by that literal, so many literals in one response
      // cost linear copying, not quadratic.
      if (size >= SMALL_PIECE && size <= RESERVE_MAX && held <= size) {
        this.reserve(buf, from, pos, held + size + RESERVE_TAIL);
        from = pos;
      }
    }
    if (from < length) this.hold(buf, from, length);
  }

  private lineTooLong(): IMAPError {
    return limitError(`IMAP response line exceeds maxLineLength ${this.limits.maxLineLength}`);
  }

  private responseTooLarge(): IMAPError {
    return limitError(`IMAP response exceeds maxResponseSize ${this.limits.maxResponseSize}`);
  }

  /**
   * Keeps a copy of buf[start, end) as part of the current response. Small pieces are packed
   * into a shared block, so a peer trickling a line in tiny chunks costs bytes, not one
   * Buffer object per chunk.
   */
  private hold(buf: Buffer, start: number, end: number): void {
    const n = end - start;
    if (n <= 0) return;
    this.piecesLength += n;
    const block = this.block;
    if (block !== null && this.blockUsed + n <= block.length) {
      buf.copy(block, this.blockUsed, start, end);
      this.blockUsed += n;
      this.pieces[this.pieces.length - 1] = block.subarray(0, this.blockUsed);
      return;
    }
    if (n >= SMALL_PIECE) {
      this.block = null;
      this.pieces.push(Buffer.from(buf.subarray(start, end)));
      return;
    }
    this.block = Buffer.allocUnsafe(BLOCK_SIZE);
    buf.copy(this.block, 0, start, end);
    this.blockUsed = n;
    this.pieces.push(this.block.subarray(0, n));
  }

  /**
   * Moves the current response's bytes so far (held pieces, then buf[from, pos)) into one
   * buffer of `capacity` bytes, which hold() then fills: a response with a big literal is
   * copied once, instead of piece by piece and again when joined. Only for literals within
   * RESERVE_MAX, so a peer announcing a size it never sends gets little memory out of it.
   */
  private reserve(buf: Buffer, from: number, pos: number, capacity: number): void {
    const block = Buffer.allocUnsafe(capacity);
    let used = 0;
    for (const piece of this.pieces) {
      piece.copy(block, used);
      used += piece.length;
    }
    used += buf.copy(block, used, from, pos);
    this.pieces = [block.subarray(0, used)];
    this.piecesLength = used;
    this.block = block;
    this.blockUsed = used;
  }

  private toSink(bytes: Buffer): void {
    const sink = this.sink!;
    try {
      sink(bytes);
    } catch (error) {
      throw new CallbackFailure(error);
    }
  }

  private endSink(): void {
    const sink = this.sink!;
    this.sink = null;
    try {
      sink(null);
    } catch (error) {
      throw new CallbackFailure(error);
    }
  }

  /**
   * The byte `back` positions before `lf` in the current response (across held pieces), or
   * -1 before the start of the current line.
   */
  private byteBefore(buf: Buffer, from: number, lf: number, back: number): number {
    if (back > this.lineLength) return -1;
    const i = lf - back;
    if (i >= from) return buf[i];
    let k = from - i; // how far into the held pieces, counted from their end
    for (let p = this.pieces.length - 1; p >= 0; p--) {
      const piece = this.pieces[p];
      if (k <= piece.length) return piece[piece.length - k];
      k -= piece.length;
    }
    return -1;
  }

  /** The size announced by a literal header ending the line at lf, or -1 if there is none. */
  private literalAtLineEnd(buf: Buffer, from: number, lf: number): number {
    let back = 1;
    if (this.byteBefore(buf, from, lf, back) === CR) back++;
    if (this.byteBefore(buf, from, lf, back) !== RBRACE) return -1;
    back++;
    let b = this.byteBefore(buf, from, lf, back);
    if (b === 0x2b || b === 0x2d) b = this.byteBefore(buf, from, lf, ++back); // {n+} {n-}
    let size = 0;
    let scale = 1;
    let digits = 0;
    while (isDigit(b)) {
      size += (b - 0x30) * scale;
      scale *= 10;
      digits++;
      b = this.byteBefore(buf, from, lf, ++back);
    }
    if (digits === 0 || b !== LBRACE) return -1;
    if (digits > 15) throw limitError("IMAP literal size is absurdly large");
    return size;
  }

  /** Bytes [start, end) of the current response (held pieces, then this chunk from `from`). */
  private responseBytes(buf: Buffer, from: number, start: number, end: number): Buffer {
    const held = this.piecesLength;
    if (start >= held) return buf.subarray(from + start - held, from + end - held);
    const parts: Buffer[] = [];
    let offset = 0;
    for (const piece of this.pieces) {
      const a = Math.max(start, offset);
      const b = Math.min(end, offset + piece.length);
      if (a < b) parts.push(piece.subarray(a - offset, b - offset));
      offset += piece.length;
    }
    if (end > held) parts.push(buf.subarray(from, from + end - held));
    return Buffer.concat(parts);
  }

  /**
   * For a literal ending a FETCH line right after a BODY[...] or BINARY[...] item (with an
   * optional <origin>), asks the caller whether to stream it.
   */
  private askSink(
    buf: Buffer,
    from: number,
    lf: number,
    size: number,
  ): LiteralChunkSink | undefined {
    const total = this.piecesLength + (lf - from);
    const head = this.responseBytes(buf, from, 0, Math.min(total, 32));
    // "* <seq> FETCH "
    if (head[0] !== 0x2a || head[1] !== SP || !isDigit(head[2])) return undefined;
    let i = 2;
    let seq = 0;
    while (i < head.length && isDigit(head[i]) && i < 14) seq = seq * 10 + (head[i++] - 0x30);
    if (head.toString("latin1", i, i + 7).toUpperCase() !== " FETCH ") return undefined;
    const line = this.responseBytes(buf, from, total - this.lineLength, total);
    let e = line.length;
    if (line[e - 1] === CR) e--;
    e = line.lastIndexOf(LBRACE, e - 1);
    if (e > 0 && line[e - 1] === TILDE) e--;
    if (e < 2 || line[e - 1] !== SP) return undefined;
    let itemEnd = e - 1; // just past the item
    if (line[itemEnd - 1] === GT) itemEnd = line.lastIndexOf(LT, itemEnd - 1);
    if (itemEnd < 1 || line[itemEnd - 1] !== RBRACKET) return undefined;
    const open = line.lastIndexOf(LBRACKET, itemEnd - 1);
    if (open < 0) return undefined;
    let start = open;
    while (start > 0 && line[start - 1] !== SP && line[start - 1] !== 0x28) start--;
    const item = line.toString("utf8", start, itemEnd).toUpperCase();
    if (!item.startsWith("BODY[") && !item.startsWith("BINARY[")) return undefined;
    try {
      return this.streamLiteral!({ seq, item, size });
    } catch (error) {
      throw new CallbackFailure(error);
    }
  }

  /** A whole response is framed: parse it and hand it on. */
  private complete(buf: Buffer, from: number, end: number): void {
    let bytes = buf;
    let start = from;
    // Bytes joined from held pieces are this response's own (literals may be views of them).
    const owned = this.pieces.length > 0;
    if (owned) {
      this.hold(buf, from, end);
      bytes = this.pieces.length === 1 ? this.pieces[0] : Buffer.concat(this.pieces);
      start = 0;
      end = bytes.length;
    }
    const streamed = this.streamed;
    this.pieces = [];
    this.piecesLength = 0;
    this.block = null;
    this.lineLength = 0;
    if (streamed.length > 0) this.streamed = [];
    let lineEnd = end - 1;
    if (lineEnd > start && bytes[lineEnd - 1] === CR) lineEnd--;
    if (lineEnd === start) return; // an empty line: nothing to parse (tolerated)
    const cursor = new Cursor(bytes, start, lineEnd, this.limits.maxDepth, streamed, owned);
    const response = parseResponse(cursor);
    try {
      this.onResponse(response);
    } catch (error) {
      throw new CallbackFailure(error);
    }
  }
}
