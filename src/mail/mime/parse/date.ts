/**
 * RFC 5322 §3.3 date-time, with the obsolete forms of §4.3 (two-digit years, named and
 * military zones, comments) that old mailers still send. Anything else is `undefined`: a
 * wrong date is worse than none, so no guessing through `Date.parse`.
 */

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

/** RFC 5322 §4.3 obs-zone offsets in minutes; military letters are "-0000" (unknown), i.e. UTC. */
const ZONES: Record<string, number> = {
  ut: 0,
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
};

function zoneOffset(token: string | undefined): number | undefined {
  if (token === undefined) return 0; // RFC 5322 requires a zone; treat a missing one as UTC
  const m = /^([+-])(\d\d)(\d\d)$/.exec(token);
  if (m) {
    const minutes = Number(m[2]) * 60 + Number(m[3]);
    if (Number(m[3]) > 59) return undefined;
    return m[1] === "-" ? -minutes : minutes;
  }
  const lower = token.toLowerCase();
  if (Object.hasOwn(ZONES, lower)) return ZONES[lower];
  if (/^[a-ik-z]$/.test(lower)) return 0;
  return undefined;
}

/** Parses a Date field; returns `undefined` for anything that is not a real date-time. */
export function parseMailDate(value: string): Date | undefined {
  if (value.length > 200) return undefined;
  // Comments (CFWS) carry nothing here, e.g. `+0000 (UTC)`; commas only separate the weekday.
  const tokens = value
    .replace(/\([^()]*\)/g, " ")
    .replace(/,/g, " ")
    .trim()
    .split(/\s+/);
  if (tokens.length > 0 && /^[a-z]{3,}$/i.test(tokens[0]) && !/^\d/.test(tokens[0])) {
    // Day of week (possibly spelled out); it carries no information we trust.
    if (MONTHS.indexOf(tokens[0].slice(0, 3).toLowerCase()) < 0) tokens.shift();
  }
  if (tokens.length < 4) return undefined;
  let [dayText, monthText] = tokens;
  // Some mailers write `Nov 25 2026`: accept the month first too.
  if (/^\d+$/.test(monthText) && /^[a-z]+$/i.test(dayText))
    [dayText, monthText] = [monthText, dayText];
  const [, , yearText, timeText, zoneText] = tokens;
  if (!/^\d{1,2}$/.test(dayText) || !/^\d{2,4}$/.test(yearText)) return undefined;
  const month = MONTHS.indexOf(monthText.slice(0, 3).toLowerCase());
  if (month < 0 || monthText.length > 9) return undefined;
  let year = Number(yearText);
  // §4.3: two-digit years 00–49 are 2000–2049, 50–99 are 1950–1999; three digits add 1900.
  if (yearText.length === 2) year += year < 50 ? 2000 : 1900;
  else if (yearText.length === 3) year += 1900;
  const time = /^(\d{1,2}):(\d\d)(?::(\d\d))?$/.exec(timeText);
  if (!time) return undefined;
  const [hour, minute, second] = [Number(time[1]), Number(time[2]), Number(time[3] ?? 0)];
  const day = Number(dayText);
  // Second 60 is a leap second (§3.3); Date cannot hold it, so it becomes :59.
  if (hour > 23 || minute > 59 || second > 60 || day < 1 || day > 31) return undefined;
  const offset = zoneOffset(zoneText);
  if (offset === undefined) return undefined;
  const utc = Date.UTC(year, month, day, hour, minute, Math.min(second, 59));
  const check = new Date(Date.UTC(year, month, day));
  if (check.getUTCDate() !== day) return undefined; // 31 Feb and the like
  return new Date(utc - offset * 60_000);
}
