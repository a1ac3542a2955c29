/** INTERNALDATE values (RFC 9051 §9 date-time: "dd-Mon-yyyy hh:mm:ss +zzzz"). */

/** Month index by the three lower-cased letters packed into one number. */
const MONTHS = new Map<number, number>();
["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"].forEach(
  (name, index) => {
    MONTHS.set((name.charCodeAt(0) << 16) | (name.charCodeAt(1) << 8) | name.charCodeAt(2), index);
  },
);

function digits(b: Uint8Array, from: number, count: number): number {
  let n = 0;
  for (let i = from; i < from + count; i++) {
    const d = b[i] - 0x30;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/**
 * Parses a date-time from bytes [start, end) (the inside of the quoted string); the day may
 * be space-padded or one digit. Invalid -> undefined.
 */
export function parseInternalDate(b: Uint8Array, start: number, end: number): Date | undefined {
  while (start < end && b[start] === 0x20) start++;
  while (end > start && b[end - 1] === 0x20) end--;
  const dash = b[start + 1] === 0x2d ? start + 1 : b[start + 2] === 0x2d ? start + 2 : -1;
  if (dash < 0) return undefined;
  const day = digits(b, start, dash - start);
  const key = ((b[dash + 1] | 0x20) << 16) | ((b[dash + 2] | 0x20) << 8) | (b[dash + 3] | 0x20);
  const month = MONTHS.get(key);
  const p = dash + 5; // start of the year
  if (month === undefined || b[dash + 4] !== 0x2d || end !== p + 19) return undefined;
  const year = digits(b, p, 4);
  const hour = digits(b, p + 5, 2);
  const minute = digits(b, p + 8, 2);
  const second = digits(b, p + 11, 2);
  const zoneH = digits(b, p + 15, 2);
  const zoneM = digits(b, p + 17, 2);
  const sign = b[p + 14] === 0x2d ? -1 : b[p + 14] === 0x2b ? 1 : 0;
  if (
    day < 1 ||
    day > 31 ||
    year < 0 ||
    hour < 0 ||
    hour > 23 ||
    minute < 0 ||
    minute > 59 ||
    second < 0 ||
    second > 60 ||
    zoneH < 0 ||
    zoneM < 0 ||
    sign === 0 ||
    b[p + 4] !== 0x20 ||
    b[p + 7] !== 0x3a ||
    b[p + 10] !== 0x3a ||
    b[p + 13] !== 0x20
  ) {
    return undefined;
  }
  const offset = sign * (zoneH * 60 + zoneM) * 60_000;
  return new Date(Date.UTC(year, month, day, hour, minute, second) - offset);
}
