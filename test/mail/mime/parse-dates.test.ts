/**
 * Date fields (RFC 5322 §3.3) and the obsolete or careless forms of real mail (§4.3 and
 * beyond): read where the intent is clear, `undefined` where it is not, never a wrong date.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { MailMessage } from "../../../src/mail/mime/index.js";
import { parseMailDate } from "../../../src/mail/mime/parse/index.js";

const iso = (value: string): string | undefined => parseMailDate(value)?.toISOString();

describe("parseMailDate", () => {
  it("zones: numeric, RFC names, unambiguous names, and -0000 for the rest (§4.3)", () => {
    assert.equal(iso("Mon, 7 Dec 2026 10:00:00 JST"), "2026-12-07T01:00:00.000Z");
    assert.equal(iso("Mon, 7 Dec 2026 10:00:00 +0900 (JST)"), "2026-12-07T01:00:00.000Z");
    assert.equal(iso("Mon, 7 Dec 2026 10:00:00 CEST"), "2026-12-07T08:00:00.000Z");
    assert.equal(iso("Tue, 2 Jan 2024 03:04:05 -0800 (PST)"), "2024-01-02T11:04:05.000Z");
    assert.equal(iso("Mon, 1 Jan 2024 10:00:00 -0500 EST"), "2024-01-01T15:00:00.000Z");
    // Military letters were defined with the wrong sign: §4.3 says read them as -0000.
    assert.equal(iso("Mon, 1 Jan 24 10:00 Q"), "2024-01-01T10:00:00.000Z");
    // A name used for several zones (India, Israel, Ireland) and no zone at all: -0000.
    assert.equal(iso("Mon, 1 Jan 2024 10:00:00 IST"), "2024-01-01T10:00:00.000Z");
    assert.equal(iso("Mon, 1 Jan 2024 10:00:00"), "2024-01-01T10:00:00.000Z");
  });

  it("obsolete forms whose intent is clear", () => {
    assert.equal(iso("Thursday, April 09, 2003 9:00 AM"), "2003-04-09T09:00:00.000Z");
    assert.equal(iso("Thu, 09 Apr 2003 12:30 PM -0500"), "2003-04-09T17:30:00.000Z");
    assert.equal(iso("Thu, 09 Apr 2003 12:05 AM +0000"), "2003-04-09T00:05:00.000Z");
    assert.equal(iso("Sun, 029 Feb 04 10:00:00 GMT"), "2004-02-29T10:00:00.000Z");
    assert.equal(iso("1 Jan 2024 00:01+0000"), "2024-01-01T00:01:00.000Z");
    assert.equal(iso("Wed Jun 30 21:49:08 1993"), "1993-06-30T21:49:08.000Z");
    assert.equal(iso("1 Jan 99 10:00:00 +0000"), "1999-01-01T10:00:00.000Z");
    assert.equal(iso("1 Jan 104 10:00:00 +0000"), "2004-01-01T10:00:00.000Z");
    assert.equal(iso("Fri, 5 Sept 2025 08:15 +02:00"), "2025-09-05T06:15:00.000Z");
  });

  it("undefined rather than a guess", () => {
    for (const value of [
      "Mon, 1 Jan 2024 10:00:00 GMT+0900", // sign convention unclear (POSIX TZ is reversed)
      "Mon, 31 Feb 2024 10:00:00 +0000",
      "Mon, 1 Jan 2024 10:00:00 +0000 +0100",
      "Mon, 01 Jan 2024 13:00 PM",
      "2024-01-01 10:00:00",
      "yesterday",
      "1 Jan 2024",
      "Mon, 1 Jan 2024 25:00:00 +0000",
      "Mon, 1 Foo 2024 10:00:00 +0000",
      "0001 Jan 2024 10:00:00",
    ]) {
      assert.equal(parseMailDate(value), undefined, value);
    }
  });

  it("is total on arbitrary text and bounded in time", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 120 }), (s) => {
        const d = parseMailDate(s);
        assert.ok(d === undefined || !Number.isNaN(d.getTime()));
      }),
      { numRuns: 2000 },
    );
  });

  it("the common form, in or out of range, reads as the same text in lower case does", () => {
    // `Mon, 01 Jan 2024 …` takes a shortcut; lower-cased it goes through the token reader.
    const days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const months = [
      "Jan",
      "Feb",
      "Mar",
      "Apr",
      "May",
      "Jun",
      "Jul",
      "Aug",
      "Sep",
      "Oct",
      "Nov",
      "Dec",
    ];
    const two = (n: number) => String(n).padStart(2, "0");
    const date = fc.record({
      weekday: fc.option(fc.constantFrom(...days)),
      day: fc.integer({ min: 0, max: 32 }),
      padDay: fc.boolean(),
      month: fc.integer({ min: 0, max: 11 }),
      year: fc.integer({ min: 990, max: 2100 }),
      hour: fc.integer({ min: 0, max: 24 }),
      minute: fc.integer({ min: 0, max: 60 }),
      second: fc.integer({ min: 0, max: 61 }),
      sign: fc.constantFrom("+", "-"),
      zoneHours: fc.integer({ min: 0, max: 14 }),
      zoneMinutes: fc.constantFrom(0, 30, 45, 59, 60),
      comment: fc.option(fc.constantFrom("(UTC)", "(CET)", "()")),
    });
    fc.assert(
      fc.property(date, (d) => {
        const text =
          `${d.weekday ? `${d.weekday}, ` : ""}${d.padDay ? two(d.day) : d.day} ${months[d.month]} ` +
          `${String(d.year).padStart(4, "0")} ${two(d.hour)}:${two(d.minute)}:${two(d.second)} ` +
          `${d.sign}${two(d.zoneHours)}${two(d.zoneMinutes)}${d.comment ? ` ${d.comment}` : ""}`;
        assert.equal(iso(text), iso(text.toLowerCase()), text);
        const valid =
          d.day >= 1 &&
          new Date(Date.UTC(d.year, d.month, d.day)).getUTCDate() === d.day &&
          d.year >= 1000 &&
          d.hour < 24 &&
          d.minute < 60 &&
          d.second <= 60 &&
          d.zoneMinutes < 60;
        assert.equal(iso(text) !== undefined, valid, text);
      }),
      { numRuns: 3000 },
    );
    assert.equal(iso("Mon, 01 Jan 2024 10:00:60 +0130 (x)"), "2024-01-01T08:30:59.000Z");
  });

  it("a message with a JST date keeps it", () => {
    const m = MailMessage.parse("Date: Mon, 7 Dec 2026 10:00:00 JST\r\nSubject: x\r\n\r\nb");
    assert.equal(m.date?.toISOString(), "2026-12-07T01:00:00.000Z");
  });
});
