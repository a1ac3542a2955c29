/**
 * SMTP reply codec (RFC 5321 §4.2): turns reply lines into replies. It knows nothing about
 * sockets or sessions; the session feeds it one line at a time.
 *
 *   Reply-line = *( Reply-code "-" [ textstring ] CRLF ) Reply-code [ SP textstring ] CRLF
 *
 * Every line of a multi-line reply must carry the same code (§4.2.1). Enhanced status codes
 * (RFC 3463 §2, announced by ENHANCEDSTATUSCODES, RFC 2034) lead the text of each line.
 */
import { SMTPError } from "../../errors.js";

/** One SMTP reply (RFC 5321 §4.2), as the server sent it. */
export interface SMTPReply {
  /** Three-digit reply code, e.g. 250. */
  code: number;
  /** RFC 3463 `class.subject.detail` from the first line, if the server sent one. */
  enhancedStatus: string | undefined;
  /** Text of each line, without code, separator and enhanced status. */
  lines: string[];
  /** The lines joined with "\n" (what error messages show). */
  text: string;
}

export interface ReplyLimits {
  /** Most lines one reply may have (EHLO lists are the longest in practice). */
  maxLines: number;
  /** Most bytes of text one reply may carry. */
  maxReplyBytes: number;
}

export const DEFAULT_REPLY_LIMITS: ReplyLimits = { maxLines: 200, maxReplyBytes: 64 * 1024 };

/**
 * RFC 3463 §2: class "." subject "." detail, class ∈ {2,4,5}, subject and detail 1–3 digits
 * without leading zeros beyond a single 0. It must agree with the reply code's first digit.
 */
const ENHANCED = /^([245])\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})(?: |$)/;

/** Parses one reply line. Throws SMTPError(SMTP_MALFORMED_REPLY) if it is not one. */
export function parseReplyLine(line: string): { code: number; last: boolean; text: string } {
  // §4.2: the code is three digits, first 2–5, second 0–5 (§4.2.1 theory of reply codes).
  const c0 = line.charCodeAt(0);
  const c1 = line.charCodeAt(1);
  const c2 = line.charCodeAt(2);
  if (
    line.length < 3 ||
    c0 < 0x32 ||
    c0 > 0x35 ||
    c1 < 0x30 ||
    c1 > 0x35 ||
    c2 < 0x30 ||
    c2 > 0x39
  ) {
    throw malformed(`not an SMTP reply line: ${preview(line)}`);
  }
  const code = (c0 - 0x30) * 100 + (c1 - 0x30) * 10 + (c2 - 0x30);
  if (line.length === 3) return { code, last: true, text: "" };
  const separator = line[3];
  if (separator !== " " && separator !== "-") {
    throw malformed(`bad separator after reply code: ${preview(line)}`);
  }
  return { code, last: separator === " ", text: line.slice(4) };
}

/** Collects reply lines into replies; keeps no state beyond the reply in progress. */
export class ReplyAssembler {
  readonly #limits: ReplyLimits;
  #code = 0;
  #lines: string[] = [];
  #bytes = 0;

  constructor(limits: ReplyLimits = DEFAULT_REPLY_LIMITS) {
    this.#limits = limits;
  }

  /** True while a multi-line reply has started but not finished. */
  get inProgress(): boolean {
    return this.#lines.length > 0;
  }

  /** Feeds one line; returns the finished reply when this line ends it. */
  push(line: string): SMTPReply | undefined {
    const parsed = parseReplyLine(line);
    if (this.#lines.length > 0 && parsed.code !== this.#code) {
      this.#reset();
      throw malformed(`reply code changed inside a multi-line reply: ${preview(line)}`);
    }
    this.#code = parsed.code;
    this.#bytes += parsed.text.length;
    this.#lines.push(parsed.text);
    if (this.#lines.length > this.#limits.maxLines || this.#bytes > this.#limits.maxReplyBytes) {
      this.#reset();
      throw new SMTPError(
        `the server's reply exceeds ${this.#limits.maxLines} lines or ${this.#limits.maxReplyBytes} bytes`,
        { code: "SMTP_REPLY_TOO_LARGE" },
      );
    }
    if (!parsed.last) return undefined;
    const reply = buildReply(this.#code, this.#lines);
    this.#reset();
    return reply;
  }

  #reset(): void {
    this.#code = 0;
    this.#lines = [];
    this.#bytes = 0;
  }
}

function buildReply(code: number, raw: string[]): SMTPReply {
  const match = ENHANCED.exec(raw[0] ?? "");
  const enhancedStatus =
    match && Number(match[1]) === Math.floor(code / 100) ? match[0].trimEnd() : undefined;
  // Servers repeat the enhanced status on every line (RFC 2034 §3); strip it wherever it is.
  const lines = enhancedStatus
    ? raw.map((text) =>
        text.startsWith(enhancedStatus) ? text.slice(enhancedStatus.length).trimStart() : text,
      )
    : raw;
  return { code, enhancedStatus, lines, text: lines.join("\n") };
}

/**
 * The EHLO reply's extension list (RFC 5321 §4.1.1.1): first line is the greeting, each later
 * line is `keyword *(SP param)`. Keywords are case-insensitive, so they are upper-cased.
 */
export function parseCapabilities(reply: SMTPReply): Map<string, string[]> {
  const capabilities = new Map<string, string[]>();
  for (const line of reply.lines.slice(1)) {
    const words = line.trim().split(/\s+/);
    const keyword = words[0]?.toUpperCase();
    // Some old servers announce "AUTH=LOGIN PLAIN"; treat it as AUTH.
    if (keyword?.startsWith("AUTH=")) {
      const rest = [keyword.slice(5), ...words.slice(1)];
      capabilities.set("AUTH", mergeUnique(capabilities.get("AUTH"), rest));
      continue;
    }
    if (!keyword || !/^[A-Z0-9][A-Z0-9-]*$/.test(keyword)) continue;
    capabilities.set(keyword, mergeUnique(capabilities.get(keyword), words.slice(1)));
  }
  return capabilities;
}

function mergeUnique(existing: string[] | undefined, more: string[]): string[] {
  const out = existing ? [...existing] : [];
  for (const word of more) if (word && !out.includes(word)) out.push(word);
  return out;
}

/** Formats a reply the way a server sends it (used by tests and the fuzzer). */
export function formatReply(code: number, lines: string[]): string {
  const all = lines.length === 0 ? [""] : lines;
  return all.map((text, i) => `${code}${i === all.length - 1 ? " " : "-"}${text}\r\n`).join("");
}

function malformed(message: string): SMTPError {
  return new SMTPError(message, { code: "SMTP_MALFORMED_REPLY" });
}

function preview(line: string): string {
  return JSON.stringify(line.length > 80 ? `${line.slice(0, 80)}…` : line);
}
