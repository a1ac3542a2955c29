/**
 * RFC 5322 §3.3 date-time, with the obsolete forms of §4.3 and the ones real mail carries
 * where the intent is clear: two-digit and three-digit years, a day written `029`, missing
 * seconds, the month before the day (`Thursday, April 09, 2003 9:00 AM`, asctime's
 * `Wed Jun 30 21:49:08 1993`), a 12-hour clock, a zone glued to the time (`00:01+0000`).
 * Zones: numeric, the RFC's names, other names whose offset is unambiguous (JST = +0900),
 * and, as §4.3 says, `-0000` (UTC, offset unknown) for military letters, other names and a
 * missing zone. Anything else is `undefined`: a wrong date is worse than none, so no
 * guessing through `Date.parse`.
 */

const MONTHS = [
  "january",
  "february",
  "march",
  "april",
  "may",
  "june",
  "july",
  "august",
  "september",
  "october",
  "november",
  "december",
];
const DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];

/**
 * Zone names and their offsets in minutes: RFC 5322 §4.3's, then names that mean one zone
 * only. Names used for several zones (IST, BST, …) are not here: §4.3 reads them as -0000.
 */
const ZONES: Record<string, number> = {
  ut: 0,
  utc: 0,
  gmt: 0,
  z: 0,
  est: -300,
  edt: -240,
  cst: -360,
  cdt: -300,
  mst: -420,
  mdt: -360,
  pst: -480,
  pdt: -420,
  jst: 540,
  kst: 540,
  hkt: 480,
  awst: 480,
  acst: 570,
  acdt: 630,
  aest: 600,
  aedt: 660,
  nzst: 720,
  nzdt: 780,
  wet: 0,
  west: 60,
  cet: 60,
  cest: 120,
  met: 60,
  mest: 120,
  eet: 120,
  eest: 180,
  msk: 180,
  hst: -600,
  akst: -540,
  akdt: -480,
  nst: -210,
  ndt: -150,
};

/** A month name or an abbreviation of one (`Apr`, `April`, `Sept`), else -1. */
function monthIndex(token: string): number {
  if (token.length < 3) return -1;
  return MONTHS.findIndex((m) => m.startsWith(token));
}

function isDayName(token: string): boolean {
  return token.length >= 3 && DAYS.some((d) => d.startsWith(token));
}

function numericZone(token: string): number | undefined {
  const m = /^([+-])(\d\d):?(\d\d)$/.exec(token);
  if (!m || Number(m[3]) > 59) return undefined;
  const minutes = Number(m[2]) * 60 + Number(m[3]);
  return m[1] === "-" ? -minutes : minutes;
}

/** A zone name's offset; military letters and unknown names are -0000 (RFC 5322 §4.3). */
function namedZone(token: string): number | undefined {
  if (Object.hasOwn(ZONES, token)) return ZONES[token];
  if (/^[a-z]{1,5}$/.test(token) && token !== "am" && token !== "pm") return 0;
  return undefined;
}

interface Fields {
  numbers: string[];
  month: number;
  time: RegExpExecArray | undefined;
  meridiem: string | undefined;
  numericOffset: number | undefined;
  namedOffset: number | undefined;
}

/** Sorts the tokens into date fields; `undefined` for a token that has no clear meaning. */
function classify(tokens: string[]): Fields | undefined {
  const f: Fields = {
    numbers: [],
    month: -1,
    time: undefined,
    meridiem: undefined,
    numericOffset: undefined,
    namedOffset: undefined,
  };
  for (const token of tokens) {
    const time = /^(\d{1,2}):(\d\d)(?::(\d\d))?$/.exec(token);
    if (time) {
      if (f.time) return undefined;
      f.time = time;
    } else if (/^\d{1,4}$/.test(token)) {
      f.numbers.push(token);
    } else if (/^[+-]\d\d:?\d\d$/.test(token)) {
      if (f.numericOffset !== undefined || !f.time) return undefined;
      f.numericOffset = numericZone(token);
      if (f.numericOffset === undefined) return undefined;
    } else if (token === "am" || token === "pm") {
      if (!f.time || f.meridiem) return undefined;
      f.meridiem = token;
    } else if (f.month < 0 && monthIndex(token) >= 0 && !f.time) {
      f.month = monthIndex(token);
    } else if (f.time && f.namedOffset === undefined && namedZone(token) !== undefined) {
      // A name next to a numeric zone (`-0500 EST`) only repeats it: the number wins.
      f.namedOffset = namedZone(token);
    } else if (!(isDayName(token) && f.month < 0 && f.numbers.length === 0)) {
      return undefined;
    }
  }
  return f;
}

function fullYear(text: string): number {
  const year = Number(text);
  // §4.3: two-digit years 00–49 are 2000–2049, 50–99 are 1950–1999; three digits add 1900.
  if (text.length === 2) return year + (year < 50 ? 2000 : 1900);
  if (text.length === 3) return year + 1900;
  return year;
}

/**
 * The form nearly every mailer writes (RFC 5322 §3.3 with its usual capitalisation, perhaps a
 * comment after the zone): `Mon, 1 Jan 2024 09:05:07 +0100 (CET)`. Read without the token
 * sorting below, which it would pass through with the same result.
 */
const CANONICAL =
  /^(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?(\d{1,2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{4}) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)(?: \([^()]*\))?$/;
const SHORT_MONTHS = "JanFebMarAprMayJunJulAugSepOctNovDec";

/** A canonical date (see CANONICAL), or undefined when `value` is not one or is out of range. */
function canonicalDate(value: string): Date | undefined {
  const m = CANONICAL.exec(value);
  if (m === null) return undefined;
  const day = Number(m[1]);
  const month = SHORT_MONTHS.indexOf(m[2]) / 3;
  const year = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = Number(m[6]);
  const zoneMinutes = Number(m[9]);
  if (year < 1000 || hour > 23 || minute > 59 || second > 60 || zoneMinutes > 59) return undefined;
  if (day < 1 || new Date(Date.UTC(year, month, day)).getUTCDate() !== day) return undefined;
  const offset = (Number(m[8]) * 60 + zoneMinutes) * (m[7] === "-" ? -1 : 1);
  // Second 60 is a leap second (§3.3); Date cannot hold it, so it becomes :59.
  const utc = Date.UTC(year, month, day, hour, minute, Math.min(second, 59));
  return new Date(utc - offset * 60_000);
}

/** Parses a Date field; returns `undefined` for anything that is not a real date-time. */
export function parseMailDate(value: string): Date | undefined {
  if (value.length > 200) return undefined;
  const canonical = canonicalDate(value);
  if (canonical !== undefined) return canonical;
  // Comments (CFWS) carry nothing here, e.g. `+0000 (UTC)`; commas only separate words.
  const tokens = value
    .replace(/\([^()]*\)/g, " ")
    .replace(/,/g, " ")
    .replace(/(\d:\d\d)([+-]\d{4})\b/g, "$1 $2")
    .trim()
    .toLowerCase()
    .split(/\s+/);
  const f = classify(tokens);
  if (!f?.time || f.month < 0 || f.numbers.length !== 2) return undefined;
  const [dayText, yearText] = f.numbers;
  // A day may be zero-padded to three digits (`029`); a year has two to four digits.
  if (!/^(?:\d{1,2}|0\d\d)$/.test(dayText) || yearText.length < 2) return undefined;
  const day = Number(dayText);
  const year = fullYear(yearText);
  if (year < 1000) return undefined; // Date.UTC would read 0–99 as 1900–1999
  let hour = Number(f.time[1]);
  const minute = Number(f.time[2]);
  const second = Number(f.time[3] ?? 0);
  if (f.meridiem) {
    if (hour < 1 || hour > 12) return undefined;
    hour = (hour % 12) + (f.meridiem === "pm" ? 12 : 0);
  }
  // Second 60 is a leap second (§3.3); Date cannot hold it, so it becomes :59.
  if (hour > 23 || minute > 59 || second > 60 || day < 1 || day > 31) return undefined;
  const check = new Date(Date.UTC(year, f.month, day));
  if (check.getUTCDate() !== day) return undefined; // 31 Feb and the like
  const utc = Date.UTC(year, f.month, day, hour, minute, Math.min(second, 59));
  const offset = f.numericOffset ?? f.namedOffset ?? 0;
  return new Date(utc - offset * 60_000);
}
