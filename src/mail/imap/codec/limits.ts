/** Limits of the response parser and the errors it raises. */
import { IMAPError } from "../../../errors.js";

export interface IMAPParserLimits {
  /** one line of a response (its CR counted, its LF not), excluding literals */
  maxLineLength: number;
  /** a buffered literal (streamed literals are not counted) */
  maxLiteralSize: number;
  /** one whole response including its buffered literals */
  maxResponseSize: number;
  /** parenthesised-list nesting */
  maxDepth: number;
}

export const DEFAULT_PARSER_LIMITS: IMAPParserLimits = Object.freeze({
  maxLineLength: 1024 * 1024,
  maxLiteralSize: 64 * 1024 * 1024,
  maxResponseSize: 128 * 1024 * 1024,
  maxDepth: 64,
});

export function resolveLimits(limits: Partial<IMAPParserLimits> | undefined): IMAPParserLimits {
  return { ...DEFAULT_PARSER_LIMITS, ...limits };
}

export function limitError(message: string): IMAPError {
  return new IMAPError(message, { code: "IMAP_LIMIT_EXCEEDED" });
}

/** At most ~60 bytes of the offending input, with control bytes shown escaped. */
export function excerpt(bytes: Uint8Array, at: number, end: number): string {
  const stop = Math.min(end, at + 60);
  let out = "";
  for (let i = at; i < stop; i++) {
    const c = bytes[i];
    out += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, "0")}`;
  }
  return stop < end ? `${out}...` : out;
}

export function parseError(what: string, bytes: Uint8Array, at: number, end: number): IMAPError {
  return new IMAPError(`IMAP parse error: ${what} at byte ${at}: "${excerpt(bytes, at, end)}"`, {
    code: "IMAP_PARSE_ERROR",
  });
}
