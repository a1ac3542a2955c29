/**
 * The selected mailbox as the server has described it: SELECT's answers first, then every
 * unsolicited EXISTS / EXPUNGE / VANISHED / FETCH / FLAGS that arrives with any command
 * (RFC 9051 §7.4, §5.2). Each change becomes a `MailboxEvent` for the listeners.
 */
import type { IMAPResponse } from "./codec/index.js";
import { parseSequenceSet } from "./codec/index.js";
import { SeqUidMap } from "./seq-uid-map.js";
import type { MailboxEvent, MailboxInfo } from "./types.js";

/** Receives mailbox events (see `AsyncIMAPClient.onMailboxEvent`). */
export type MailboxListener = (event: MailboxEvent) => void;

export class MailboxState {
  info: MailboxInfo | undefined;
  readonly #listeners = new Set<MailboxListener>();
  /** While SELECT runs, its EXISTS/FLAGS describe the mailbox; they are not changes. */
  #selecting = false;
  /** UIDs by sequence number, from FETCH responses: an expunge event names its UID. */
  readonly #uids = new SeqUidMap();

  /** A fresh, empty description for SELECT / EXAMINE to fill in. */
  begin(name: string, readOnly: boolean): MailboxInfo {
    this.#uids.clear();
    this.info = {
      name,
      exists: 0,
      recent: 0,
      unseen: 0,
      uidValidity: 0,
      uidNext: 0,
      flags: [],
      permanentFlags: [],
      readOnly,
    };
    this.#selecting = true;
    return this.info;
  }

  /** SELECT has answered: from now on updates are changes. */
  selected(): void {
    this.#selecting = false;
  }

  clear(): void {
    this.#uids.clear();
    this.info = undefined;
    this.#selecting = false;
  }

  listen(listener: MailboxListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Sees every FETCH response, solicited or not (one array store), so sequence numbers can
   * be turned back into UIDs when messages are expunged.
   */
  observeFetch(seq: number, uid: number | undefined): void {
    if (uid !== undefined && this.info) this.#uids.set(seq, uid);
  }

  /** Applies one untagged response; returns true when it was a mailbox update. */
  apply(response: IMAPResponse): boolean {
    const info = this.info;
    switch (response.kind) {
      case "exists": {
        const previous = info?.exists ?? 0;
        if (info) info.exists = response.count;
        this.#emit({ type: "exists", count: response.count, previous });
        return true;
      }
      case "recent":
        if (info) info.recent = response.count;
        return true;
      case "expunge": {
        if (info && info.exists > 0) info.exists--;
        const uid = this.#uids.expunge(response.seq);
        this.#emit(
          uid === undefined
            ? { type: "expunge", seq: response.seq }
            : { type: "expunge", seq: response.seq, uid },
        );
        return true;
      }
      case "vanished": {
        const uids = parseSequenceSet(response.uids);
        // VANISHED (EARLIER) reports what went before this session looked; the count only
        // shrinks for messages that were there (RFC 7162 §3.2.10).
        if (info && !response.earlier) {
          info.exists = Math.max(0, info.exists - uids.length);
          this.#uids.vanish(uids);
        }
        this.#emit({ type: "vanished", uids, earlier: response.earlier });
        return true;
      }
      case "flags":
        if (info) info.flags = response.flags;
        return true;
      case "fetch": {
        const { flags, uid, modseq } = response.attributes;
        if (!flags) return false;
        this.#emit({ type: "flags", seq: response.seq, uid, flags, modseq });
        return true;
      }
      default:
        return false;
    }
  }

  #emit(event: MailboxEvent): void {
    if (this.#selecting) return;
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch {
        // A listener's bug must not break the connection's response handling.
      }
    }
  }
}
