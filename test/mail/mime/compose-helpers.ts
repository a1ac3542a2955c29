/**
 * Shared by the compose-, fuzz- and big- MIME tests: the wire-format checks every rendered
 * message must pass, header extraction, and the batch bridge to Python's `email` package
 * (policy.default), an independent parser that decodes what we wrote.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import type { MailMessage } from "../../../src/mail/mime/index.js";
import type { RenderOptions } from "../../../src/mail/mime/types.js";
import { unfold } from "../../../src/mail/mime/unstructured.js";

const batchScript = new URL("./python_batch.py", import.meta.url).pathname;

export const sha256 = (b: Uint8Array | string): string =>
  createHash("sha256").update(b).digest("hex");

export interface PyGroup {
  group: string | null;
  mailboxes: { name: string; address: string }[];
}

export interface PyPart {
  contentType: string;
  cte: string | null;
  disposition: string | null;
  filename: string | null;
  /** The Content-Type `name` parameter (our RFC 2047-in-quotes fallback for old clients). */
  typeName: string | null;
  contentId: string | null;
  charset: string | null;
  size?: number;
  sha256?: string;
  text?: string;
  innerSubject?: string;
  innerBody?: string;
}

export interface PyMessage {
  error?: string;
  subject: string | null;
  from: PyGroup[] | null;
  to: PyGroup[] | null;
  cc: PyGroup[] | null;
  replyTo: PyGroup[] | null;
  bcc: boolean;
  messageId: string | null;
  date: string | null;
  mimeVersion: string | null;
  extra: Record<string, string>;
  defects: string[];
  parts: PyPart[];
  /** The MIME tree, e.g. `multipart/alternative(text/plain,text/html)`. */
  tree: string;
}

/**
 * Parses many messages in one Python process (starting one per message would be slow).
 * `utf8[i]` marks a message rendered with SMTPUTF8 (raw UTF-8 headers, RFC 6532).
 */
export async function pythonParseAll(
  messages: readonly Uint8Array[],
  utf8: readonly boolean[] = [],
): Promise<PyMessage[]> {
  const input = JSON.stringify(
    messages.map((m, i) => ({ raw: Buffer.from(m).toString("base64"), utf8: utf8[i] === true })),
  );
  const child = spawn("/usr/bin/python3", [batchScript], { stdio: ["pipe", "pipe", "pipe"] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on("data", (c: Buffer) => out.push(c));
  child.stderr.on("data", (c: Buffer) => err.push(c));
  const done = new Promise<number | null>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", resolve);
  });
  child.stdin.end(input);
  const status = await done;
  assert.equal(status, 0, Buffer.concat(err).toString());
  const parsed = JSON.parse(Buffer.concat(out).toString("utf8")) as PyMessage[];
  for (const [i, m] of parsed.entries()) assert.equal(m.error, undefined, `message ${i}`);
  return parsed;
}

export async function pythonParse(message: Uint8Array): Promise<PyMessage> {
  return (await pythonParseAll([message]))[0];
}

/** The header section (up to the first empty line) and the body, as latin1 strings. */
export function splitMessage(bytes: Uint8Array): { head: string; body: string } {
  const text = Buffer.from(bytes).toString("latin1");
  const end = text.indexOf("\r\n\r\n");
  assert.ok(end >= 0, "no empty line after the header section");
  return { head: text.slice(0, end + 2), body: text.slice(end + 4) };
}

/** Header fields of a header section as [name, raw value with folds] pairs. */
export function headerFields(head: string): [string, string][] {
  const fields: [string, string][] = [];
  for (const line of head.split("\r\n")) {
    if (line === "") continue;
    if (line[0] === " " || line[0] === "\t") {
      assert.ok(fields.length > 0, "continuation line before any field");
      fields[fields.length - 1][1] += `\r\n${line}`;
    } else {
      const colon = line.indexOf(":");
      assert.ok(colon > 0, `not a header field: ${JSON.stringify(line)}`);
      fields.push([line.slice(0, colon), line.slice(colon + 1)]);
    }
  }
  return fields;
}

/** The unfolded value of the one field called `name` (after `Name:`, leading space kept). */
export function fieldValue(head: string, name: string): string | undefined {
  const found = headerFields(head).filter(([n]) => n.toLowerCase() === name.toLowerCase());
  assert.ok(found.length <= 1, `${name} appears ${found.length} times`);
  return found.length === 0 ? undefined : unfold(found[0][1]);
}

/** Header values are written as `Name: value`; drop the one space the writer puts after the colon. */
export function afterColon(value: string): string {
  return value.startsWith(" ") ? value.slice(1) : value;
}

/**
 * What every rendered message must satisfy (RFC 5322 §2.1.1, §2.2.3, RFC 2045 §2.8):
 * CRLF line ends only, no NUL, lines ≤ 998 octets; header lines ≤ 78 characters unless the
 * line holds a single unbreakable token; header bytes ASCII unless SMTPUTF8 (RFC 6532).
 * Returns the header sections of every part (top level first), latin1-decoded.
 */
export function checkWireFormat(bytes: Uint8Array, options: RenderOptions = {}): string[] {
  const buffer = Buffer.from(bytes);
  assert.ok(!buffer.includes(0), "NUL byte in the message");
  const text = buffer.toString("latin1");
  assert.ok(text.endsWith("\r\n"), "the message must end with CRLF");
  assert.ok(!/\r(?!\n)|(?<!\r)\n/.test(text), "bare CR or LF in the message");
  const lines = text.slice(0, -2).split("\r\n");
  for (const line of lines) assert.ok(line.length <= 998, `line of ${line.length} octets`);
  // Header sections: the top one, and one after every boundary line.
  const sections: string[] = [];
  const boundaries = new Set<string>();
  let inHeader = true;
  let current = "";
  for (const line of lines) {
    if (inHeader) {
      if (line === "") {
        sections.push(current);
        const b = /boundary="([^"]+)"/.exec(current.replace(/\r\n[ \t]/g, " "));
        if (b) {
          // RFC 2046 §5.1.1: 1–70 bchars; never ending in "-", so that no delimiter line looks
          // like the close delimiter of a shorter boundary to a prefix-matching reader.
          assert.match(b[1], /^[0-9A-Za-z'()+_,./:=?-]{1,70}$/);
          assert.ok(!b[1].endsWith("-"), `boundary ends in "-": ${b[1]}`);
          boundaries.add(b[1]);
        }
        current = "";
        inHeader = false;
      } else current += `${line}\r\n`;
    } else if (line.startsWith("--")) {
      // Exact matches only: a boundary may itself end in "--" (RFC 2046 §5.1.1 bchars).
      if (boundaries.has(line.slice(2))) inHeader = true;
    }
  }
  for (const head of sections) {
    for (const raw of head.slice(0, -2).split("\r\n")) {
      // Under SMTPUTF8 the limit counts characters, not octets (RFC 6532 §3.4).
      const line = options.smtputf8 ? Buffer.from(raw, "latin1").toString("utf8") : raw;
      if (line.length > 78) {
        // Blanks inside a quoted string (a quoted local part) are no place to fold.
        const rest = line
          .replace(/^[ \t]+/, "")
          .replace(/^[!-9;-~]+: /, "")
          .replace(/"(?:[^"\\]|\\.)*"/g, '""');
        assert.ok(!/[ \t]/.test(rest), `header line over 78 with a fold point: ${line}`);
      }
    }
    if (!options.smtputf8) {
      assert.ok(/^[\t\r\n -~]*$/.test(head), `non-ASCII in a header section: ${head}`);
    }
    headerFields(head);
  }
  return sections;
}

/** Renders, runs the wire checks, and returns the bytes. */
export async function renderChecked(
  message: MailMessage,
  options: RenderOptions = {},
): Promise<Uint8Array> {
  const bytes = await message.toBytes(options);
  checkWireFormat(bytes, options);
  return bytes;
}

/**
 * Python flags the `name="=?utf-8?B?…?="` fallback that mtaio writes on purpose for old clients
 * (RFC 2047 §5 does not allow encoded-words in quoted strings; Outlook and others read them).
 * It still decodes them, and the tests check that it does. With `controls`, the caller's input
 * held control characters, which mtaio encodes and Python decodes but flags
 * (NonPrintableDefect). With `utf8` (SMTPUTF8), non-ASCII local parts are valid (RFC 6532 §3.2)
 * though Python flags them (NonASCIILocalPartDefect). Every other defect counts.
 */
export function unexpectedDefects(
  defects: readonly string[],
  { controls = false, utf8 = false } = {},
): string[] {
  return defects.filter(
    (d) =>
      !/^Content-Type: InvalidHeaderDefect: (encoded word inside quoted string|missing trailing whitespace after encoded-word)$/.test(
        d,
      ) &&
      !(controls && /^[\w-]+: NonPrintableDefect: /.test(d)) &&
      !(utf8 && /^[\w-]+: NonASCIILocalPartDefect: /.test(d)),
  );
}

let ewSpaceBug: Promise<boolean> | undefined;

/**
 * CPython before the fix of gh-128110 keeps the whitespace between adjacent encoded-words in
 * display names (RFC 2047 §6.2 says to drop it), so `=?..?a?= =?..?b?=` reads as "a b".
 * Probed once, so the tests compare exactly wherever the local Python gets it right.
 */
export function pythonHasEncodedWordSpaceBug(): Promise<boolean> {
  ewSpaceBug ??= pythonParse(
    new TextEncoder().encode("To: =?utf-8?Q?a?= =?utf-8?Q?b?= <x@y.test>\r\n\r\n"),
  ).then((m) => m.to?.[0].mailboxes[0].name === "a b");
  return ewSpaceBug;
}

/** Compares a display/group name decoded by Python with ours, allowing for gh-128110. */
export function sameName(python: string | null | undefined, ours: string, bug: boolean): boolean {
  const p = python ?? "";
  return p === ours || (bug && p.replace(/\s+/g, "") === ours.replace(/\s+/g, ""));
}
