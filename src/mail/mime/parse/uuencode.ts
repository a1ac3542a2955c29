/**
 * uuencode, as old mailers sent attachments: a part with `Content-Transfer-Encoding:
 * x-uuencode` (or `uuencode`, `x-uue`), and `begin 644 name` … `end` blocks inside a text/plain
 * body (Netscape, Eudora, Pine, and pre-MIME mail). The format (POSIX `uuencode`): each line
 * starts with a length character (32 + byte count, a backtick for 0), then groups of four
 * characters each carrying six bits (32 + value, backtick for 0).
 */
import { Buffer } from "node:buffer";

export const UUENCODE_ENCODINGS = new Set(["x-uuencode", "uuencode", "x-uue", "uue"]);

/** `begin <mode> <name>`: POSIX mode is octal; the name is the rest of the line. */
const BEGIN = /^begin +([0-7]{3,4}) +([\s\S]*)$/;

export interface UuFile {
  filename: string | undefined;
  bytes: Uint8Array;
}

const six = (c: number): number => (c - 32) & 63;

/** The file name of a `begin` line, without trailing blanks (trimmed, not matched: no backtracking). */
function beginName(line: string): string | undefined {
  return BEGIN.exec(line)?.[2].replace(/\r$/, "").trimEnd() || undefined;
}

/**
 * Decodes one line into `out` at `o` and returns the new offset. Lenient: characters are taken
 * modulo 64, and a line shorter than its length character says (trailing spaces, which stand
 * for zeros, stripped by a mailer) is padded with zeros.
 */
function decodeLine(line: string, out: Uint8Array, o: number): number {
  if (line.length === 0) return o;
  // At most one group more than the line holds: a damaged line cannot claim more bytes.
  const count = Math.min(six(line.charCodeAt(0)), ((line.length + 2) >> 2) * 3 + 3);
  let written = 0;
  for (let i = 1; written < count; i += 4) {
    const a = six(line.charCodeAt(i) || 32);
    const b = six(line.charCodeAt(i + 1) || 32);
    const c = six(line.charCodeAt(i + 2) || 32);
    const d = six(line.charCodeAt(i + 3) || 32);
    const triple = [(a << 2) | (b >> 4), ((b << 4) | (c >> 2)) & 0xff, ((c << 6) | d) & 0xff];
    for (let k = 0; k < 3 && written < count; k++, written++) out[o++] = triple[k];
  }
  return o;
}

/**
 * Decodes the first uuencoded file in `text` (lines from `begin` to `end`), leniently: a body
 * declared x-uuencode is decoded even when a line is damaged or `end` is missing.
 */
export function decodeUuencodeBody(body: Uint8Array): UuFile {
  const lines = Buffer.from(body.buffer, body.byteOffset, body.byteLength)
    .toString("latin1")
    .split(/\r?\n|\r/);
  let i = lines.findIndex((line) => BEGIN.test(line));
  const filename = i >= 0 ? beginName(lines[i]) : undefined;
  i = i >= 0 ? i + 1 : 0;
  // Each line yields at most 3 bytes more than 3/4 of its characters: never over twice its size.
  const out = new Uint8Array(body.length * 2 + 3);
  let o = 0;
  for (; i < lines.length; i++) {
    if (lines[i].trimEnd() === "end") break;
    o = decodeLine(lines[i], out, o);
  }
  return { filename, bytes: out.slice(0, o) };
}

export interface UuBlock {
  /** Character offsets of the block in the text, `begin` line to `end` line inclusive. */
  start: number;
  end: number;
  file: UuFile;
}

/**
 * Finds the `begin … end` blocks in a text body. Strict, since plain text may mention
 * "begin 644": every line in between must be a well-formed uu line and `end` must be there.
 */
export function findUuBlocks(text: string): UuBlock[] {
  const blocks: UuBlock[] = [];
  if (!text.includes("begin ")) return blocks;
  const re = /^begin [0-7]{3,4} +[^\n]*$/gm;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const start = m.index;
    // First find where the block ends, checking each line; decode only a complete block, so
    // text full of `begin` lines costs one pass and no allocation.
    const lines: string[] = [];
    let pos = start + m[0].length + 1;
    let end = -1;
    while (pos <= text.length) {
      let nl = text.indexOf("\n", pos);
      if (nl < 0) nl = text.length;
      const line = text.slice(pos, nl).replace(/\r$/, "");
      if (line === "end") {
        end = nl;
        break;
      }
      if (!isUuLine(line)) break;
      lines.push(line);
      pos = nl + 1;
    }
    if (end < 0) continue;
    const out = new Uint8Array(lines.length * 45);
    let o = 0;
    for (const line of lines) o = decodeLine(line, out, o);
    const filename = beginName(m[0]);
    blocks.push({ start, end, file: { filename, bytes: out.slice(0, o) } });
    re.lastIndex = end;
  }
  return blocks;
}

/** A well-formed uu line: its length character matches its length (give or take a checksum). */
function isUuLine(line: string): boolean {
  if (line.length === 0) return true;
  const count = six(line.charCodeAt(0));
  const chars = line.length - 1;
  const needed = Math.ceil(count / 3) * 4;
  if (chars < needed || chars > needed + 2) return false;
  for (let i = 1; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c < 32 || c > 96) return false;
  }
  return true;
}
