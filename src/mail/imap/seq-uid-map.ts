/**
 * The UIDs of the selected mailbox's messages by sequence number, as far as the client has
 * seen them: every FETCH response that carries a UID fills its slot (RFC 9051 §7.5.2 gives
 * both), EXPUNGE takes a slot out and shifts the later ones down (§7.5.1), so an expunge can
 * be reported with the UID it removed. Slots never fetched are unknown (0: UIDs start at 1).
 *
 * One Uint32Array, grown by doubling up to the highest sequence number seen and never past
 * `MAX_TRACKED`: a FETCH costs one store, an EXPUNGE a move of the known slots after it.
 */

/** Sequence numbers above this are not tracked (their expunges come without a UID). */
export const MAX_TRACKED = 1 << 22;

const INITIAL_CAPACITY = 1024;

export class SeqUidMap {
  #uids = new Uint32Array(0);
  /** Slots in use: the highest sequence number stored, minus the expunges since. */
  #known = 0;

  /** Forgets everything (a new mailbox is selected). */
  clear(): void {
    this.#uids = new Uint32Array(0);
    this.#known = 0;
  }

  /** A FETCH response named message `seq` with `uid`. */
  set(seq: number, uid: number): void {
    if (seq < 1 || seq > MAX_TRACKED) return;
    if (seq > this.#uids.length) {
      let capacity = Math.max(INITIAL_CAPACITY, this.#uids.length * 2);
      while (capacity < seq) capacity *= 2;
      const grown = new Uint32Array(Math.min(capacity, MAX_TRACKED));
      grown.set(this.#uids.subarray(0, this.#known));
      this.#uids = grown;
    }
    this.#uids[seq - 1] = uid;
    if (seq > this.#known) this.#known = seq;
  }

  /** The UID of message `seq`, when known. */
  get(seq: number): number | undefined {
    if (seq < 1 || seq > this.#known) return undefined;
    return this.#uids[seq - 1] || undefined;
  }

  /** Message `seq` was expunged: returns its UID when known; later messages move down one. */
  expunge(seq: number): number | undefined {
    if (seq < 1 || seq > this.#known) return undefined;
    const uid = this.#uids[seq - 1] || undefined;
    this.#uids.copyWithin(seq - 1, seq, this.#known);
    this.#known--;
    this.#uids[this.#known] = 0;
    return uid;
  }

  /**
   * Messages were expunged by UID (QRESYNC's VANISHED, RFC 7162 §3.2.10): their slots go and
   * the rest close up. A vanished UID that is not in the map but below one that is sat in an
   * unknown slot, somewhere before known ones: the map cannot be kept right, so it is cleared.
   */
  vanish(uids: readonly number[]): void {
    if (this.#known === 0 || uids.length === 0) return;
    const gone = new Set(uids);
    const slots = this.#uids;
    let kept = 0;
    let highest = 0;
    for (let i = 0; i < this.#known; i++) {
      const uid = slots[i];
      if (uid > highest) highest = uid;
      if (uid !== 0 && gone.delete(uid)) continue;
      slots[kept++] = uid;
    }
    for (const uid of gone) {
      if (uid < highest) {
        this.clear();
        return;
      }
    }
    slots.fill(0, kept, this.#known);
    this.#known = kept;
  }
}
