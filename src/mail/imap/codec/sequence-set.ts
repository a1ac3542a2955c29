/** Sequence sets (RFC 9051 §9 sequence-set) from and to numbers. */
import { invalidArgument } from "./encode.js";

/** RFC 9051 §9 nz-number/uniqueid: 1 .. 2^32-1. */
const MAX_UINT32 = 0xffff_ffff;
/** parseSequenceSet's default bound on how many numbers a set may expand to. */
export const MAX_EXPANDED = 1_000_000;

function sortedUnique(numbers: Iterable<number>): number[] {
  const list = Array.from(numbers);
  for (const n of list) {
    if (!Number.isInteger(n) || n < 1 || n > MAX_UINT32) {
      throw invalidArgument(`IMAP sequence number out of range: ${n}`);
    }
  }
  list.sort((a, b) => a - b);
  let w = 0;
  for (let r = 0; r < list.length; r++) if (r === 0 || list[r] !== list[w - 1]) list[w++] = list[r];
  list.length = w;
  return list;
}

function compress(sorted: readonly number[], from: number, to: number): string {
  const out: string[] = [];
  let i = from;
  while (i < to) {
    let j = i;
    while (j + 1 < to && sorted[j + 1] === sorted[j] + 1) j++;
    out.push(j === i ? `${sorted[i]}` : `${sorted[i]}:${sorted[j]}`);
    i = j + 1;
  }
  return out.join(",");
}

/** Numbers -> "1:5,7,9:10": sorted, deduplicated, runs as ranges. Empty -> IMAPError. */
export function sequenceSet(numbers: Iterable<number>): string {
  const sorted = sortedUnique(numbers);
  if (sorted.length === 0) throw invalidArgument("IMAP sequence set is empty");
  return compress(sorted, 0, sorted.length);
}

/**
 * "1:3,7" -> [1, 2, 3, 7], in the order written (ranges ascending, as "4:2" means 2..4), so
 * the two sets of a COPYUID code map to each other position by position (RFC 4315 §3).
 * "*" and malformed sets -> IMAPError IMAP_INVALID_ARGUMENT; at most `max` numbers.
 */
export function parseSequenceSet(set: string, max = MAX_EXPANDED): number[] {
  const out: number[] = [];
  if (set.length === 0) throw invalidArgument("IMAP sequence set is empty");
  for (const item of set.split(",")) {
    const m = /^(\d{1,10})(?::(\d{1,10}))?$/.exec(item);
    if (!m)
      throw invalidArgument(`IMAP sequence set is malformed: ${JSON.stringify(set.slice(0, 60))}`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (a < 1 || b < 1 || a > MAX_UINT32 || b > MAX_UINT32) {
      throw invalidArgument(`IMAP sequence set has a number out of range: ${item}`);
    }
    const lo = Math.min(a, b);
    const hi = Math.max(a, b);
    if (out.length + (hi - lo + 1) > max) {
      throw invalidArgument(`IMAP sequence set expands to more than ${max} numbers`);
    }
    for (let n = lo; n <= hi; n++) out.push(n);
  }
  return out;
}

/** Sorted, deduplicated numbers split into sets of at most n numbers each (pipelined FETCH). */
export function chunkSequenceSet(numbers: number[], n: number): string[] {
  if (!Number.isInteger(n) || n < 1) throw invalidArgument(`IMAP chunk size must be >= 1: ${n}`);
  const sorted = sortedUnique(numbers);
  const out: string[] = [];
  for (let i = 0; i < sorted.length; i += n) {
    out.push(compress(sorted, i, Math.min(i + n, sorted.length)));
  }
  return out;
}

/** A sequence set given as text (search criteria, commands): digits, ":", ",", "*" only. */
export function validateSequenceSetText(set: string): string {
  if (!/^(?:\d+|\*)(?::(?:\d+|\*))?(?:,(?:\d+|\*)(?::(?:\d+|\*))?)*$/.test(set) && set !== "$") {
    throw invalidArgument(`IMAP sequence set is malformed: ${JSON.stringify(set.slice(0, 60))}`);
  }
  return set;
}
