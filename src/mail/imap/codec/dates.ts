/**
 * Dates in commands (RFC 9051 §9 date, date-time). IMAP dates carry no zone and servers read
 * them in their own; the codec writes the UTC calendar date, and date-times in UTC ("+0000").
 */
import { invalidArgument } from "./encode.js";

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

function two(n: number): string {
  return n < 10 ? `0${n}` : `${n}`;
}

function check(date: Date): void {
  const year = date instanceof Date ? date.getUTCFullYear() : Number.NaN;
  // date-year is 4DIGIT
  if (!(year >= 0 && year <= 9999)) throw invalidArgument("IMAP date must be a valid Date");
}

/** "7-Dec-2026" (SEARCH SINCE/BEFORE/ON ...). */
export function formatIMAPDate(date: Date): string {
  check(date);
  return `${date.getUTCDate()}-${MONTHS[date.getUTCMonth()]}-${String(date.getUTCFullYear()).padStart(4, "0")}`;
}

/** "07-Dec-2026 22:07:55 +0000" (APPEND). */
export function formatIMAPDateTime(date: Date): string {
  check(date);
  return (
    `${two(date.getUTCDate())}-${MONTHS[date.getUTCMonth()]}-${String(date.getUTCFullYear()).padStart(4, "0")} ` +
    `${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())} +0000`
  );
}
