/**
 * A mark on the byte chunks that `MailMessage.render()` knows to be in canonical form: whole
 * lines, each ending in CRLF, with no other CR or LF. The SMTP body encoder must normally scan
 * every line of a body for lone CR/LF (smuggling, RFC 5321 §2.3.8); for marked chunks it only
 * has to look for leading dots, which a single native search does. A WeakSet, so the mark
 * cannot be forged by content and disappears with the chunk.
 */
const canonical = new WeakSet<Uint8Array>();

/** Marks `chunk` (called only by the renderer, for chunks it built line by line). */
export function markCanonical(chunk: Uint8Array): Uint8Array {
  canonical.add(chunk);
  return chunk;
}

/** True when `chunk` is whole CRLF-terminated lines with no lone CR or LF. */
export function isCanonical(chunk: Uint8Array): boolean {
  return canonical.has(chunk);
}
