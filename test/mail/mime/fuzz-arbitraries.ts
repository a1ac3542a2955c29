/**
 * fast-check generators for the header and address fuzz tests: header text that mixes the
 * characters encoders get wrong (quotes, backslashes, commas, `=?` look-alikes, astral
 * characters, very long words) and addresses of every shape the writer must keep intact.
 */
import { domainToASCII } from "node:url";
import fc from "fast-check";
import type { MailAddress } from "../../../src/mail/mime/types.js";

/** Pieces that have broken header encoders before: specials, encoded-word look-alikes, long words. */
const TRICKY = [
  '"',
  "\\",
  ",",
  "=?",
  "?=",
  "=?utf-8?B?YQ==?=",
  "=?utf-8?q?a_b?=",
  "=?iso-8859-1?Q?=E9?=",
  " ",
  "  ",
  "\t",
  "<",
  ">",
  "@",
  ";",
  ":",
  "(",
  ")",
  "[",
  ".",
  "'",
  "%",
  "*",
  "=",
  "_",
  "?",
  "x".repeat(80),
  "y".repeat(200),
  "𝄞",
  "😀",
  "👩‍👩‍👧",
  "テスト",
  "é",
  "\u00a0",
  "\u0085",
  "\u2028",
  "\u0001",
  "\u007f",
  "\ufeff",
];

/** Replaces lone surrogates (not representable in UTF-8) so round-trips can be exact. */
export function wellFormed(text: string): string {
  return text.replace(
    /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g,
    "_",
  );
}

const piece = fc.oneof(
  fc.constantFrom(...TRICKY),
  fc.string({ unit: "binary", maxLength: 8 }),
  fc.string({ unit: "grapheme-ascii", maxLength: 16 }),
  fc.string({ unit: fc.constantFrom(..."テストメッセージ漢字報告書"), maxLength: 40 }),
);

/** Any header text a caller might pass, without CR, LF and NUL (those must be refused). */
export const headerText = fc
  .array(piece, { maxLength: 12 })
  .map((pieces) => wellFormed(pieces.join("")).replace(/[\r\n\0]/g, "_"));

export const nonEmptyHeaderText = headerText.filter((t) => t !== "");

/** Header text with at least one CR, LF or NUL somewhere. */
export const injectedText = fc
  .tuple(headerText, fc.constantFrom("\r", "\n", "\0", "\r\n", "\r\nBcc: x@evil.test"), headerText)
  .map(([a, bad, b]) => a + bad + b);

const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?$/);

/** Host names, sometimes internationalised (written as A-labels unless SMTPUTF8). */
export const domain = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.array(label, { minLength: 1, maxLength: 3 }).map((l) => `${l.join(".")}.test`),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom("例え.jp", "bücher.de", "пример.рф", "xn--bcher-kva.de"),
  },
  { weight: 1, arbitrary: fc.constant("[192.0.2.1]") },
);

/** Local parts: dot-atoms, and quoted ones with spaces, commas, quotes and backslashes. */
export const asciiLocalPart = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.stringMatching(/^[a-z0-9!#$%&'*+/=?^_`{|}~-]{1,16}(\.[a-z0-9_-]{1,8}){0,2}$/),
  },
  {
    weight: 1,
    arbitrary: fc
      .string({ unit: fc.constantFrom(...' ,;:<>@()[]"\\.abc'), minLength: 1, maxLength: 12 })
      .map((text) => `"${text.replace(/(["\\])/g, "\\$1")}"`),
  },
);

export const utf8LocalPart = fc.constantFrom("ユーザー", "josé", "用户.名");

/** The addr-spec a header (or envelope) must carry for `address`. */
export function expectedWire(address: string, smtputf8: boolean): string {
  const at = address.lastIndexOf("@");
  const domainPart = address.slice(at + 1);
  if (smtputf8 || !/[^\0-\x7f]/.test(domainPart)) return address;
  return `${address.slice(0, at)}@${domainToASCII(domainPart)}`;
}

export function mailbox(smtputf8: boolean): fc.Arbitrary<MailAddress> {
  const local = smtputf8
    ? fc.oneof({ weight: 4, arbitrary: asciiLocalPart }, { weight: 1, arbitrary: utf8LocalPart })
    : asciiLocalPart;
  return fc.record(
    { name: headerText, address: fc.tuple(local, domain).map(([l, d]) => `${l}@${d}`) },
    { requiredKeys: ["address"] },
  );
}

/** An address list; contiguous runs may share a group name (RFC 5322 §3.4 groups). */
export function addressList(smtputf8: boolean): fc.Arbitrary<MailAddress[]> {
  return fc
    .array(
      fc.tuple(
        fc.array(mailbox(smtputf8), { minLength: 1, maxLength: 3 }),
        fc.option(nonEmptyHeaderText, { nil: undefined, freq: 3 }),
      ),
      { minLength: 1, maxLength: 3 },
    )
    .map((runs) =>
      runs.flatMap(([boxes, group]) =>
        boxes.map((box) => (group === undefined ? box : { ...box, group })),
      ),
    );
}
