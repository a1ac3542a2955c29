/** INTERNALDATE values (RFC 9051 §9 date-time: "dd-Mon-yyyy hh:mm:ss +zzzz"). */

const MONTHS: Record<string, number> = {
  jan: 0,
  feb: 1,
  mar: 2,
  apr: 3,
  may: 4,
  jun: 5,
  jul: 6,
  aug: 7,
  sep: 8,
  oct: 9,
  nov: 10,
  dec: 11,
};

function digits(s: string, from: number, count: number): number {
  let n = 0;
  for (let i = from; i < from + count; i++) {
    const d = s.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/** Parses a date-time; the day may be space-padded or one digit. Invalid -> undefined. */
export function parseInternalDate(text: string): Date | undefined {
  const s = text.trim();
  const dash = s.indexOf("-");
  if (dash < 1 || dash > 2) return undefined;
  const day = digits(s, 0, dash);
  const month = MONTHS[s.slice(dash + 1, dash + 4).toLowerCase()];
  const p = dash + 5; // start of the year
  if (month === undefined || s[dash + 4] !== "-" || s.length !== p + 19) return undefined;
  const year = digits(s, p, 4);
  const hour = digits(s, p + 5, 2);
  const minute = digits(s, p + 8, 2);
  const second = digits(s, p + 11, 2);
  const zoneH = digits(s, p + 15, 2);
  const zoneM = digits(s, p + 17, 2);
  const sign = s[p + 14] === "-" ? -1 : s[p + 14] === "+" ? 1 : 0;
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
    s[p + 4] !== " " ||
    s[p + 7] !== ":" ||
    s[p + 10] !== ":" ||
    s[p + 13] !== " "
  ) {
    return undefined;
  }
  const offset = sign * (zoneH * 60 + zoneM) * 60_000;
  return new Date(Date.UTC(year, month, day, hour, minute, second) - offset);
}
