/**
 * Percent-decoding of a wire path (RFC 3986 §2.1, §2.4), shared by the server (the scope's
 * `path`) and the framework (route segments, static file paths): both must decode the same
 * bytes to the same text, or a path the server accepted could name another file or route.
 */

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  const lower = code | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

/** True when `raw` (latin1) holds no `%` and only ASCII: it is its own decoding. */
export function isPlainPathText(raw: string): boolean {
  for (let i = 0; i < raw.length; i++) {
    const code = raw.charCodeAt(i);
    if (code === 0x25 || code > 0x7f) return false;
  }
  return true;
}

/**
 * Decodes percent-escapes in `raw` (a latin1 string: one char per wire byte) and reads the
 * bytes as UTF-8. Returns `null` for malformed input: a `%` not followed by two hex digits, or
 * bytes that are not valid UTF-8 — the server answers 400 before the app runs.
 *
 * @example
 * ```ts
 * decodePathSegment("caf%C3%A9"); // "café"
 * decodePathSegment("%zz"); // null: the server answers 400
 * ```
 */
export function decodePathSegment(raw: string): string | null {
  if (isPlainPathText(raw)) return raw;
  const bytes = new Uint8Array(raw.length);
  let length = 0;
  for (let i = 0; i < raw.length; i++) {
    const code = raw.charCodeAt(i);
    if (code > 0xff) return null; // not a wire byte: cannot come from the parser
    if (code !== 0x25) {
      bytes[length++] = code;
      continue;
    }
    const high = i + 2 < raw.length ? hexValue(raw.charCodeAt(i + 1)) : -1;
    const low = high >= 0 ? hexValue(raw.charCodeAt(i + 2)) : -1;
    if (low < 0) return null;
    bytes[length++] = (high << 4) | low;
    i += 2;
  }
  try {
    return strictUtf8.decode(bytes.subarray(0, length));
  } catch {
    return null;
  }
}
