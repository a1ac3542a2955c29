/**
 * A byte-level reader over one complete, framed response (RFC 9051 §4 data formats): atoms,
 * numbers, quoted strings, literals, NIL and parenthesised lists. It works on the bytes
 * directly; strings are made only for the values the caller keeps.
 */
import { Buffer } from "node:buffer";
import { limitError, parseError } from "./limits.js";
import { latin1, utf8 } from "./text.js";
import type { IMAPValue, StreamedLiteral } from "./types.js";

export const SP = 0x20;
export const LPAREN = 0x28;
export const RPAREN = 0x29;
export const DQUOTE = 0x22;
export const BACKSLASH = 0x5c;
export const CR = 0x0d;
export const LF = 0x0a;
export const LBRACE = 0x7b;
export const RBRACE = 0x7d;
export const TILDE = 0x7e;
export const LBRACKET = 0x5b;
export const RBRACKET = 0x5d;

/**
 * Bytes that end an atom-like token: SP, parentheses, DQUOTE, "]" (which closes a response
 * code), CTLs (CR, LF, NUL, ...) and DEL. "[" does not: it belongs to FETCH item names.
 */
const ATOM_END = new Uint8Array(256);
for (let c = 0; c < 0x20; c++) ATOM_END[c] = 1;
for (const c of [SP, LPAREN, RPAREN, DQUOTE, RBRACKET, 0x7f]) ATOM_END[c] = 1;

/** What a byte means inside a quoted string: 0 ordinary ASCII, else one of these. */
const Q_END = 1;
const Q_ESCAPE = 2;
const Q_LINE = 3;
const Q_HIGH = 4;
const QUOTED_KIND = new Uint8Array(256);
QUOTED_KIND[DQUOTE] = Q_END;
QUOTED_KIND[BACKSLASH] = Q_ESCAPE;
QUOTED_KIND[CR] = Q_LINE;
QUOTED_KIND[LF] = Q_LINE;
for (let c = 0x80; c < 0x100; c++) QUOTED_KIND[c] = Q_HIGH;

/** Responses up to this size share one string for their ASCII values (see Cursor.latin1). */
const SHARED_TEXT_MAX = 16 * 1024;

/** Smallest literal handed out as a view of an owned response (see Cursor.literal). */
const MIN_LITERAL_VIEW = 1024;

/** The marker a streamed literal leaves in the response (its bytes went to a sink). */
const STREAMED_NONE: readonly number[] = [];

export class Cursor {
  readonly buf: Buffer;
  pos: number;
  /** index just past the last byte of the response's final line, before its CRLF */
  readonly end: number;
  /** response offset of each streamed literal's first byte, and its size, in pairs */
  private readonly streamed: readonly number[];
  private readonly start: number;
  private readonly maxDepth: number;
  /** True when `buf` was copied out of the socket's chunks for this response alone. */
  private readonly owned: boolean;
  depth = 0;
  /**
   * The response as one Latin-1 string, made on first use when the response is small:
   * slicing a JS string is much cheaper than a call into Buffer per value, and ASCII values
   * (most of them) come out the same either way.
   */
  private text: string | null = null;

  constructor(
    buf: Buffer,
    start: number,
    end: number,
    maxDepth: number,
    streamed: readonly number[] = STREAMED_NONE,
    owned = false,
  ) {
    this.buf = buf;
    this.pos = start;
    this.start = start;
    this.end = end;
    this.maxDepth = maxDepth;
    this.streamed = streamed;
    this.owned = owned;
  }

  /** Bytes [from, to) as Latin-1 (ASCII values: atoms, numbers, ASCII quoted strings). */
  latin1(from: number, to: number): string {
    if (this.text === null) {
      if (this.end - this.start > SHARED_TEXT_MAX) return latin1(this.buf, from, to);
      this.text = latin1(this.buf, this.start, this.end);
    }
    return this.text.slice(from - this.start, to - this.start);
  }

  fail(what: string): never {
    throw parseError(what, this.buf, this.pos, this.end);
  }

  /** The next byte, or -1 at the end of the response. */
  peek(): number {
    return this.pos < this.end ? this.buf[this.pos] : -1;
  }

  /** True at the end of the current line (CR/LF) or of the response. */
  atLineEnd(): boolean {
    if (this.pos >= this.end) return true;
    const c = this.buf[this.pos];
    return c === CR || c === LF;
  }

  /** One SP between tokens; extra spaces (sent by some servers) are tolerated. */
  space(): void {
    if (this.buf[this.pos] !== SP || this.pos >= this.end) this.fail("expected a space");
    this.pos++;
    while (this.pos < this.end && this.buf[this.pos] === SP) this.pos++;
  }

  skipSpaces(): void {
    while (this.pos < this.end && this.buf[this.pos] === SP) this.pos++;
  }

  expect(byte: number, what: string): void {
    if (this.pos >= this.end || this.buf[this.pos] !== byte) this.fail(`expected ${what}`);
    this.pos++;
  }

  /** Index just past an atom-like token starting at pos (pos itself when there is none). */
  atomEnd(): number {
    const { buf, end } = this;
    let i = this.pos;
    while (i < end && ATOM_END[buf[i]] === 0) i++;
    return i;
  }

  /** Like atomEnd, but a "[" in the token lets a "]" in (e.g. "BODY[1]" in extension data). */
  bracketedAtomEnd(): number {
    const { buf, end } = this;
    let i = this.atomEnd();
    let opened = false;
    for (let k = this.pos; k < i; k++) if (buf[k] === LBRACKET) opened = true;
    while (opened && i < end && buf[i] === RBRACKET) {
      i++;
      opened = false;
      while (i < end && ATOM_END[buf[i]] === 0) {
        if (buf[i] === LBRACKET) opened = true;
        i++;
      }
    }
    return i;
  }

  /** An atom-like token as a string (latin1: atoms are ASCII, see RFC 9051 §4.1). */
  atom(): string {
    const stop = this.atomEnd();
    if (stop === this.pos) this.fail("expected an atom");
    const s = this.latin1(this.pos, stop);
    this.pos = stop;
    return s;
  }

  /** Whether the next token is the atom NIL (any case); consumes it if so. */
  nil(): boolean {
    const { buf, pos } = this;
    if (
      pos + 3 <= this.end &&
      (buf[pos] | 0x20) === 0x6e &&
      (buf[pos + 1] | 0x20) === 0x69 &&
      (buf[pos + 2] | 0x20) === 0x6c &&
      (pos + 3 === this.end || ATOM_END[buf[pos + 3]] === 1)
    ) {
      this.pos = pos + 3;
      return true;
    }
    return false;
  }

  /** A number (RFC 9051 §4.2), at most 2^53-1. */
  number(): number {
    const { buf, end } = this;
    let i = this.pos;
    let n = 0;
    while (i < end) {
      const d = buf[i] - 0x30;
      if (d < 0 || d > 9) break;
      n = n * 10 + d;
      i++;
    }
    if (i === this.pos) this.fail("expected a number");
    if (i - this.pos > 16 || !Number.isSafeInteger(n)) this.fail("number too large");
    this.pos = i;
    return n;
  }

  /** A number64/mod-sequence value (RFC 7162 §3.1.1) as a bigint. */
  bigint(): bigint {
    const { buf, end } = this;
    let i = this.pos;
    while (i < end && buf[i] >= 0x30 && buf[i] <= 0x39) i++;
    if (i === this.pos) this.fail("expected a number");
    if (i - this.pos > 20) this.fail("number too large");
    const value = BigInt(latin1(buf, this.pos, i));
    this.pos = i;
    return value;
  }

  /** Whether a literal starts at pos: "{" or "~{" (a "~" alone starts an atom: "~/Mail"). */
  atLiteral(): boolean {
    const c = this.peek();
    return c === LBRACE || (c === TILDE && this.buf[this.pos + 1] === LBRACE);
  }

  /** Whether the next byte starts a quoted string or a literal. */
  atString(): boolean {
    return this.peek() === DQUOTE || this.atLiteral();
  }

  /** A quoted string (RFC 9051 §4.3), UTF-8 decoded; `\"` and `\\` escapes undone. */
  quoted(): string {
    const { buf, end } = this;
    const first = this.pos + 1;
    let i = first;
    let ascii = true;
    for (;;) {
      // one table lookup per ordinary byte; the kinds below stop the run
      while (i < end && QUOTED_KIND[buf[i]] === 0) i++;
      if (i >= end) break;
      const kind = QUOTED_KIND[buf[i]];
      if (kind === Q_END) {
        this.pos = i + 1;
        return ascii ? this.latin1(first, i) : utf8(buf, first, i);
      }
      if (kind === Q_ESCAPE) return this.quotedEscaped(first);
      if (kind === Q_LINE) break;
      ascii = false;
      i++;
    }
    this.pos = first - 1;
    return this.fail("unterminated quoted string");
  }

  private quotedEscaped(first: number): string {
    const { buf, end } = this;
    const out = Buffer.allocUnsafe(end - first);
    let o = 0;
    for (let i = first; i < end; i++) {
      let c = buf[i];
      if (c === DQUOTE) {
        this.pos = i + 1;
        return out.toString("utf8", 0, o);
      }
      if (c === CR || c === LF) break;
      // RFC 9051 allows only \" and \\; any other escaped byte is taken as itself.
      if (c === BACKSLASH && i + 1 < end) c = buf[++i];
      out[o++] = c;
    }
    this.pos = first - 1;
    return this.fail("unterminated quoted string");
  }

  /** A quoted string's bytes, raw (escapes undone, no charset decoding). */
  quotedBytes(): Uint8Array {
    const { buf, end } = this;
    const out = new Uint8Array(Math.max(0, end - this.pos));
    let o = 0;
    for (let i = this.pos + 1; i < end; i++) {
      let c = buf[i];
      if (c === DQUOTE) {
        this.pos = i + 1;
        return out.slice(0, o);
      }
      if (c === CR || c === LF) break;
      if (c === BACKSLASH && i + 1 < end) c = buf[++i];
      out[o++] = c;
    }
    return this.fail("unterminated quoted string");
  }

  /**
   * A literal's header `{n}`, `{n+}`, `{n-}` or `~{n}` and its line end; returns n and leaves
   * pos on the literal's first byte. The framer has checked the size against the limits.
   */
  literalHeader(): number {
    const { buf, end } = this;
    let i = this.pos;
    if (buf[i] === TILDE) i++;
    if (buf[i] !== LBRACE) this.fail("expected a literal");
    i++;
    const digits = i;
    let n = 0;
    while (i < end && buf[i] >= 0x30 && buf[i] <= 0x39) n = n * 10 + (buf[i++] - 0x30);
    if (i === digits || i - digits > 16) this.fail("bad literal size");
    if (buf[i] === 0x2b || buf[i] === 0x2d) i++;
    if (buf[i] !== RBRACE) this.fail("bad literal header");
    i++;
    if (buf[i] === CR) i++;
    if (buf[i] !== LF) this.fail("literal header not at the end of a line");
    this.pos = i + 1;
    return n;
  }

  /** If a streamed literal sits at pos, its size (its bytes are not in the buffer); else -1. */
  private streamedAt(): number {
    const s = this.streamed;
    const offset = this.pos - this.start;
    for (let k = 0; k < s.length; k += 2) if (s[k] === offset) return s[k + 1];
    return -1;
  }

  /**
   * A literal's bytes, or its streamed marker. They outlive the chunks: a copy, or, when the
   * response already is a copy of its own and the literal most of it (a message body), a
   * view of that copy, which then keeps little else alive.
   */
  literal(): Uint8Array | StreamedLiteral {
    const n = this.literalHeader();
    const streamedSize = this.streamedAt();
    if (streamedSize >= 0) return { streamed: true, size: streamedSize };
    if (this.pos + n > this.end) this.fail("literal runs past the response");
    const buf = this.buf;
    let bytes: Uint8Array;
    if (this.owned && n >= MIN_LITERAL_VIEW && n * 2 >= buf.buffer.byteLength) {
      bytes = new Uint8Array(buf.buffer, buf.byteOffset + this.pos, n);
    } else {
      bytes = new Uint8Array(n);
      bytes.set(buf.subarray(this.pos, this.pos + n));
    }
    this.pos += n;
    return bytes;
  }

  /** A literal decoded as UTF-8 text. */
  literalString(): string {
    const n = this.literalHeader();
    if (this.streamedAt() >= 0) return "";
    if (this.pos + n > this.end) this.fail("literal runs past the response");
    const s = utf8(this.buf, this.pos, this.pos + n);
    this.pos += n;
    return s;
  }

  /** string = quoted / literal */
  string(): string {
    const c = this.peek();
    if (c === DQUOTE) return this.quoted();
    if (this.atLiteral()) return this.literalString();
    return this.fail("expected a string");
  }

  /** nstring = string / NIL */
  nstring(): string | null {
    const c = this.peek();
    if (c === DQUOTE) return this.quoted();
    if (this.atLiteral()) return this.literalString();
    if (this.nil()) return null;
    return this.fail("expected a string or NIL");
  }

  /**
   * A value where a string is expected but servers are known to send other things (numbers,
   * atoms): an nstring, or an atom taken as its text. Used for BODYSTRUCTURE and ENVELOPE.
   */
  lenientString(): string | null {
    const c = this.peek();
    if (c === DQUOTE) return this.quoted();
    if (this.atLiteral()) return this.literalString();
    if (this.nil()) return null;
    if (c === LPAREN) {
      this.skipValue();
      return null;
    }
    return this.atom();
  }

  /** astring = 1*ASTRING-CHAR / string; "]" is an ASTRING-CHAR (RFC 9051 §9). */
  astring(): string {
    const c = this.peek();
    if (c === DQUOTE) return this.quoted();
    if (this.atLiteral()) return this.literalString();
    const { buf, end } = this;
    let i = this.pos;
    while (i < end && (ATOM_END[buf[i]] === 0 || buf[i] === RBRACKET)) i++;
    if (i === this.pos) this.fail("expected an astring");
    const s = utf8(buf, this.pos, i);
    this.pos = i;
    return s;
  }

  open(): void {
    if (this.buf[this.pos] !== LPAREN || this.pos >= this.end) this.fail("expected (");
    if (++this.depth > this.maxDepth) {
      throw limitError(`IMAP response nests lists deeper than ${this.maxDepth}`);
    }
    this.pos++;
  }

  /** Whether the list ends here (consumes the ")" if so); spaces before it are tolerated. */
  close(): boolean {
    this.skipSpaces();
    if (this.pos < this.end && this.buf[this.pos] === RPAREN) {
      this.pos++;
      this.depth--;
      return true;
    }
    return false;
  }

  /** A separator inside a list: a space, unless the list ends (then nothing is consumed). */
  listSpace(): void {
    if (this.buf[this.pos] === SP) this.skipSpaces();
    else if (this.buf[this.pos] !== RPAREN) this.fail("expected a space or )");
  }

  /** Any value: atom, number, string, literal, NIL or list (see IMAPValue). */
  value(): IMAPValue {
    const c = this.peek();
    if (c === LPAREN) {
      this.open();
      const out: IMAPValue[] = [];
      while (!this.close()) {
        out.push(this.value());
        this.listSpace();
      }
      return out;
    }
    if (c === DQUOTE) return this.quoted();
    if (this.atLiteral()) {
      const v = this.literal();
      return v instanceof Uint8Array ? v : null;
    }
    if (this.nil()) return null;
    const stop = this.bracketedAtomEnd();
    if (stop === this.pos) this.fail("unexpected byte");
    const s = this.latin1(this.pos, stop);
    this.pos = stop;
    return s;
  }

  /** Skips one value of any kind. */
  skipValue(): void {
    const c = this.peek();
    if (c === LPAREN) {
      this.open();
      while (!this.close()) {
        this.skipValue();
        this.listSpace();
      }
      return;
    }
    if (c === DQUOTE) {
      this.quoted();
      return;
    }
    if (this.atLiteral()) {
      const n = this.literalHeader();
      if (this.streamedAt() < 0) this.pos += n;
      if (this.pos > this.end) this.fail("literal runs past the response");
      return;
    }
    const stop = this.bracketedAtomEnd();
    if (stop === this.pos) this.fail("unexpected byte");
    this.pos = stop;
  }

  /** The rest of the current line as UTF-8 text (resp-text). */
  restOfLine(): string {
    const { buf, end } = this;
    let i = this.pos;
    while (i < end && buf[i] !== CR && buf[i] !== LF) i++;
    const s = utf8(buf, this.pos, i);
    this.pos = i;
    return s;
  }

  /** The rest of the response, raw, as UTF-8 text (unknown responses and codes). */
  rest(): string {
    const s = utf8(this.buf, this.pos, this.end);
    this.pos = this.end;
    return s;
  }
}
