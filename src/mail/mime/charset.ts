/**
 * Decoding bytes in a declared charset. Labels are resolved the WHATWG way (the label list
 * TextDecoder knows: `latin1` and `iso-8859-1` mean windows-1252, `cp1252` is windows-1252,
 * `x-sjis` is Shift_JIS, …). Single-byte charsets (the windows-125x family, ISO-8859-x, KOI8,
 * IBM866, Mac Roman) are decoded from tables of our own: Node 20's TextDecoder has returned C1
 * controls for windows-1252's 0x80–0x9F (`’`, `€`, `–`) on some releases, and lacks some
 * labels (ISO-8859-16). UTF-7 (RFC 2152), which TextDecoder lacks, has its own decoder too.
 * Multibyte charsets go to TextDecoder.
 */
import { Buffer, isAscii, isUtf8, transcode } from "node:buffer";
import { TextDecoder } from "node:util";
import { SINGLE_BYTE_TABLES } from "./charsets/single-byte-tables.js";
import { decodeUtf7 } from "./charsets/utf7.js";

type Decode = (bytes: Uint8Array) => string;

const UTF7_LABELS = new Set(["utf-7", "utf7", "x-utf-7", "unicode-1-1-utf-7", "csunicode11utf7"]);

function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
}

/**
 * Below this many bytes V8's own UTF-8 decoding wins; above it, its per-character path for
 * non-ASCII text (CJK bodies) is many times slower than ICU's conversion to UTF-16 plus a
 * UTF-16 string copy, which outweighs the two native calls the fast path costs.
 */
const TRANSCODE_MIN = 512;

/** Whether this Node has ICU (`transcode` throws without it). */
const canTranscode = (() => {
  try {
    return transcode(Buffer.from("\u00e9"), "utf8", "utf16le").length === 2;
  } catch {
    return false;
  }
})();

/** UTF-8 as WHATWG decodes it (U+FFFD for bad sequences, a BOM kept), long texts fast. */
function utf8(bytes: Uint8Array): string {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < TRANSCODE_MIN) return buf.toString("utf8");
  if (isAscii(buf)) return buf.toString("latin1");
  // Only valid UTF-8 takes the ICU path: it refuses bad sequences instead of replacing them.
  if (canTranscode && isUtf8(buf)) return transcode(buf, "utf8", "utf16le").toString("utf16le");
  return buf.toString("utf8");
}

/** A table decoder: bytes below 0x80 are ASCII, the others index the upper-half table. */
function singleByte(table: string): Decode {
  const upper = Uint16Array.from(table, (c) => c.charCodeAt(0));
  return (bytes) => {
    const n = bytes.length;
    let i = 0;
    while (i < n && bytes[i] < 0x80) i++;
    if (i === n) return latin1(bytes);
    const units = new Uint16Array(n);
    for (let k = 0; k < n; k++) {
      const b = bytes[k];
      units[k] = b < 0x80 ? b : upper[b - 0x80];
    }
    return Buffer.from(units.buffer, 0, n * 2).toString("utf16le");
  };
}

/** The WHATWG name of `label`, with the forms TextDecoder misses (`iso-8859-16`, `win-1252`). */
function canonical(label: string): string | undefined {
  try {
    const name = new TextDecoder(label).encoding;
    // "replacement" (ISO-2022-KR, HZ, ISO-2022-CN) would turn the whole text into U+FFFD.
    return name === "replacement" ? undefined : name;
  } catch {
    const iso = /^iso[-_ ]?8859[-_ ]?(\d{1,2})(?:[-:]\d{4})?$/.exec(label);
    if (iso) return `iso-8859-${Number(iso[1])}`;
    const windows = /^(?:x-)?(?:cp|win|windows|ms)[-_ ]?(125\d|874)$/.exec(label);
    if (windows) return `windows-${windows[1]}`;
    return undefined;
  }
}

const tableDecoders = new Map<string, Decode>();
/** Decoders of stateful charsets (see isStatefulCharset). */
const STATEFUL = new WeakSet<Decode>([decodeUtf7]);

function makeDecoder(label: string): Decode | null {
  if (UTF7_LABELS.has(label)) return decodeUtf7;
  const name = canonical(label);
  if (name === undefined) return null;
  const table = SINGLE_BYTE_TABLES[name];
  if (table !== undefined) {
    let decode = tableDecoders.get(name);
    if (decode === undefined) {
      decode = singleByte(table);
      tableDecoders.set(name, decode);
    }
    return decode;
  }
  if (name === "utf-8") return utf8;
  try {
    // ignoreBOM keeps a leading U+FEFF: it is part of the text (a header word may start with
    // one), and stripping it would make decoding lossy.
    const decoder = new TextDecoder(name, { ignoreBOM: true });
    const decode: Decode = (bytes) => decoder.decode(bytes);
    if (name === "iso-2022-jp") STATEFUL.add(decode);
    return decode;
  } catch {
    return null;
  }
}

const decoders = new Map<string, Decode | null>();

function decoderFor(charset: string): Decode | null {
  const label = charset.trim().toLowerCase();
  let decoder = decoders.get(label);
  if (decoder === undefined) {
    decoder = makeDecoder(label);
    // Bounded: labels come from the network (cleared rather than left to grow).
    if (decoders.size >= 256) decoders.clear();
    decoders.set(label, decoder);
  }
  return decoder;
}

/** True when `charset` is a label this module decodes (utf-8, windows-1252, iso-2022-jp, utf-7, …). */
export function knownCharset(charset: string): boolean {
  return decoderFor(charset) !== null;
}

/**
 * True for charsets whose meaning depends on a shift state carried through the text
 * (ISO-2022-JP's escape sequences, UTF-7's base64 runs): the bytes of two separately encoded
 * pieces must not be joined before decoding (RFC 2047 §6.2).
 */
export function isStatefulCharset(charset: string): boolean {
  const decode = decoderFor(charset);
  return decode !== null && STATEFUL.has(decode);
}

/** Bytes with no usable charset: UTF-8 when they are valid UTF-8, otherwise Latin-1 (lossless). */
export function decodeUnlabelled(bytes: Uint8Array): string {
  return isUtf8(bytes) ? utf8(bytes) : latin1(bytes);
}

/**
 * Decodes `bytes` in `charset`. An unknown charset (or `NONE`, `unknown-8bit`) is read as UTF-8
 * when the bytes are valid UTF-8, else as Latin-1; malformed sequences in a known charset
 * become U+FFFD rather than an error.
 */
export function decodeCharset(bytes: Uint8Array, charset = "utf-8"): string {
  const decode = decoderFor(charset);
  return decode === null ? decodeUnlabelled(bytes) : decode(bytes);
}

/** Header bytes: UTF-8 when valid (RFC 6532), otherwise Latin-1 so no byte is lost. */
export function decodeHeaderBytes(bytes: Uint8Array): string {
  return decodeUnlabelled(bytes);
}
