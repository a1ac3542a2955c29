/**
 * Copies of received bytes that the caller may keep for as long as it likes, for decoders fed
 * from a read buffer that the transport overwrites on its next read.
 *
 * Small copies share slabs (as `Buffer.allocUnsafe` shares its pool) so that a stream of small
 * messages does not cost one ArrayBuffer each; a kept small copy keeps its slab alive, which is
 * bounded by the slab size. Large copies get an ArrayBuffer of their own.
 */

/** Copies up to this size go into a shared slab. */
const SMALL_COPY = 2048;
const SLAB_SIZE = 32 * 1024;

const EMPTY = new Uint8Array(0);
let slab = new Uint8Array(SLAB_SIZE);
let slabUsed = 0;

/** A copy of `source[start..end)` that nothing else writes to. */
export function ownedCopy(source: Uint8Array, start: number, end: number): Uint8Array {
  const length = end - start;
  if (length === 0) return EMPTY;
  if (length > SMALL_COPY) {
    // ArrayBuffer#slice copies without zero-filling first (unlike `new Uint8Array(length)`).
    const from = source.byteOffset + start;
    return new Uint8Array(source.buffer.slice(from, from + length));
  }
  if (slabUsed + length > SLAB_SIZE) {
    slab = new Uint8Array(SLAB_SIZE);
    slabUsed = 0;
  }
  const at = slabUsed;
  slab.set(source.subarray(start, end), at);
  slabUsed = at + length;
  return new Uint8Array(slab.buffer, at, length);
}
