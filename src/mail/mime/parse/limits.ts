/** Resource limits of the parser (`ParseOptions`), resolved once per parse with their defaults. */
import { MIME_ERROR_CODES, mimeError } from "../errors.js";
import type { ParseOptions } from "../types.js";

/**
 * Longest header field accepted, after unfolding (bytes). RFC 5322 §2.1.1 limits a *line* to
 * 998 octets, but a folded field (a long To list) may span many lines; 256 KiB is far beyond
 * any honest field and matches the address parser's own cap.
 */
export const MAX_HEADER_FIELD = 256 * 1024;

/** Hard ceiling on nesting whatever the caller asks, so recursion can never exhaust the stack. */
const HARD_MAX_DEPTH = 512;

export interface Limits {
  maxSize: number;
  maxDepth: number;
  maxParts: number;
  maxHeaders: number;
}

function pick(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== "number" || Number.isNaN(value) || value < 0) {
    throw mimeError(MIME_ERROR_CODES.parse, `ParseOptions.${name} must be a non-negative number`);
  }
  return value;
}

export function resolveLimits(options: ParseOptions | undefined): Limits {
  const o = options ?? {};
  return {
    maxSize: pick(o.maxSize, 64 * 1024 * 1024, "maxSize"),
    maxDepth: Math.min(pick(o.maxDepth, 16, "maxDepth"), HARD_MAX_DEPTH),
    maxParts: pick(o.maxParts, 1000, "maxParts"),
    maxHeaders: pick(o.maxHeaders, 1000, "maxHeaders"),
  };
}

export function limitExceeded(what: string): never {
  throw mimeError(MIME_ERROR_CODES.limit, `Message over the parser's limit: ${what}`);
}
