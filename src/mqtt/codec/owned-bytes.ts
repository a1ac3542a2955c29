/**
 * Copies of received bytes that the caller may keep for as long as it likes, for decoders fed
 * from a read buffer that the transport overwrites on its next read.
 *
 * Small copies share slabs (as `Buffer.allocUnsafe` shares its pool) so that a stream of small
 * messages does not cost one ArrayBuffer each; a kept small copy keeps its slab alive, which is
 * bounded by the slab size. Large copies get an ArrayBuffer of their own.
 */
import { Buffer } from "node:buffer";

/** Copies up to this size go into a shared slab. */
const SMALL_COPY = 2048;
const SLAB_SIZE = 32 * 1024;

const EMPTY = new Uint8Array(0);
let slab = uninitialized(SLAB_SIZE);
let slabUsed = 0;

/** A copy of `source[start..end)` that nothing else writes to. */
export function ownedCopy(source: Uint8Array, start: number, end: number): Uint8Array {
  const length = end - start;
  if (length === 0) return EMPTY;
  if (length > SMALL_COPY) {
    const copy = uninitialized(length);
    copy.set(source.subarray(start, end), 0);
    return copy;
  }
  if (slabUsed + length > SLAB_SIZE) {
    slab = uninitialized(SLAB_SIZE);
    slabUsed = 0;
  }
  const at = slabUsed;
  slab.set(source.subarray(start, end), at);
  slabUsed = at + length;
  return new Uint8Array(slab.buffer, at, length);
}

/**
 * A plain Uint8Array over fresh memory that is not zero-filled first (every byte is about to be
 * written), outside Node's shared Buffer pool.
 */
export function uninitialized(length: number): Uint8Array {
  const memory = Buffer.allocUnsafeSlow(length);
  return new Uint8Array(memory.buffer, memory.byteOffset, length);
}
