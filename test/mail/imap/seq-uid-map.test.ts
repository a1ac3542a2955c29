/**
 * SeqUidMap (src/mail/imap/seq-uid-map.ts): sequence numbers back to UIDs across FETCH,
 * EXPUNGE and VANISHED, checked against a plain array model with fast-check.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { MAX_TRACKED, SeqUidMap } from "../../../src/mail/imap/seq-uid-map.js";

describe("SeqUidMap", () => {
  it("names the UID an expunge removes and shifts the later messages down", () => {
    const map = new SeqUidMap();
    map.set(1, 10);
    map.set(2, 20);
    map.set(3, 30);
    assert.equal(map.expunge(2), 20);
    assert.equal(map.get(2), 30);
    assert.equal(map.expunge(5), undefined, "a message never fetched");
    assert.equal(map.get(2), 30, "an expunge past the known slots moves nothing");
    map.vanish([10]);
    assert.equal(map.get(1), 30);
    map.clear();
    assert.equal(map.get(1), undefined);
  });

  it("ignores sequence numbers past its bound and grows only as far as it is used", () => {
    const map = new SeqUidMap();
    map.set(MAX_TRACKED + 1, 7);
    assert.equal(map.get(MAX_TRACKED + 1), undefined);
    map.set(5000, 9);
    assert.equal(map.get(5000), 9);
    assert.equal(map.get(4999), undefined);
  });

  it("clears itself when a vanished UID sat in a slot it never knew", () => {
    const map = new SeqUidMap();
    map.set(1, 10);
    map.set(3, 30); // seq 2 (UID 20, say) was never fetched
    map.vanish([20]);
    assert.equal(map.get(1), undefined);
    assert.equal(map.get(2), undefined);
  });

  it("agrees with an array model over random fetches, expunges and vanishes (fast-check)", () => {
    type Op =
      | { kind: "fetch"; at: number }
      | { kind: "expunge"; at: number }
      | { kind: "vanish"; at: number };
    const op = fc.oneof(
      fc.record({ kind: fc.constant("fetch" as const), at: fc.nat(60) }),
      fc.record({ kind: fc.constant("expunge" as const), at: fc.nat(60) }),
      fc.record({ kind: fc.constant("vanish" as const), at: fc.nat(60) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops: Op[]) => {
        // The mailbox: UIDs ascending by sequence number; `known` what the map was told.
        const mailbox = Array.from({ length: 50 }, (_, i) => (i + 1) * 3);
        const known = new Set<number>();
        const map = new SeqUidMap();
        for (const { kind, at } of ops) {
          if (mailbox.length === 0) break;
          const seq = (at % mailbox.length) + 1;
          const uid = mailbox[seq - 1];
          if (kind === "fetch") {
            map.set(seq, uid);
            known.add(uid);
          } else if (kind === "expunge") {
            const reported = map.expunge(seq);
            if (reported !== undefined) assert.equal(reported, uid);
            else assert.ok(!known.has(uid), "a known UID must be reported");
            mailbox.splice(seq - 1, 1);
            known.delete(uid);
          } else {
            map.vanish([uid]);
            mailbox.splice(seq - 1, 1);
            // An unknown UID below a known one cannot be placed: the map starts over.
            if (!known.has(uid) && [...known].some((k) => k > uid)) known.clear();
            else known.delete(uid);
          }
          // Whatever the map still claims must be true.
          for (let s = 1; s <= mailbox.length; s++) {
            const claimed = map.get(s);
            if (claimed !== undefined) assert.equal(claimed, mailbox[s - 1]);
          }
        }
      }),
    );
  });
});
