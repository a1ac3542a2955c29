/**
 * A deterministic mixed corpus for the parse benchmark: the shapes an inbox is made of, in
 * fixed proportions (plain and flowed text, text+HTML alternatives, newsletters in
 * quoted-printable, attachments in base64, legacy Japanese and Windows charsets, forwarded
 * messages, bounces). Same seed, same bytes, so every parser and every revision reads the same
 * messages.
 */
import { Buffer } from "node:buffer";

/** xorshift32: a tiny PRNG, so the corpus needs no data files. */
function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x1_0000_0000;
  };
}

const WORDS =
  "the quick brown fox jumps over lazy dog meeting agenda report invoice shipping order review draft budget quarter team project update schedule release notes customer support ticket".split(
    " ",
  );

function words(rand: () => number, count: number): string {
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(WORDS[Math.floor(rand() * WORDS.length)]);
  return out.join(" ");
}

function paragraph(rand: () => number, lines: number): string {
  const out: string[] = [];
  for (let i = 0; i < lines; i++) out.push(words(rand, 8 + Math.floor(rand() * 6)));
  return out.join("\r\n");
}

function base64Lines(bytes: Uint8Array): string {
  return `${Buffer.from(bytes).toString("base64").replace(/.{76}/g, "$&\r\n").replace(/\r\n$/, "")}\r\n`;
}

function head(rand: () => number, n: number, subject: string, extra: string[] = []): string {
  const day = 1 + (n % 28);
  return [
    `Received: from mx${n % 7}.example.net (mx${n % 7}.example.net [192.0.2.${n % 250}])`,
    `\tby mail.example.org with ESMTPS id ${n.toString(36)}; Mon, ${day} Jun 2026 10:${String(n % 60).padStart(2, "0")}:00 +0000`,
    `From: "Sender ${n % 13}" <sender${n % 13}@example.com>`,
    `To: Recipient <rcpt@example.org>, other${n % 5}@example.org`,
    `Subject: ${subject}`,
    `Date: Mon, ${day} Jun 2026 10:${String(n % 60).padStart(2, "0")}:00 +0200`,
    `Message-ID: <${n}.${Math.floor(rand() * 1e9)}@example.com>`,
    "MIME-Version: 1.0",
    ...extra,
  ].join("\r\n");
}

const ISO2022_SUBJECT =
  "=?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?=\r\n =?ISO-2022-JP?B?GyRCJWElQyU7ITwlOBsoQg==?=";

function plain(rand: () => number, n: number): string {
  return `${head(rand, n, words(rand, 6), ["Content-Type: text/plain; charset=us-ascii"])}\r\n\r\n${paragraph(rand, 10 + Math.floor(rand() * 30))}\r\n`;
}

function alternative(rand: () => number, n: number): string {
  const text = paragraph(rand, 15);
  const html = `<html><body><p>${paragraph(rand, 40).replace(/\r\n/g, "<br>\r\n")}</p></body></html>`;
  const qp = html.replace(/=/g, "=3D");
  return `${head(rand, n, `=?utf-8?Q?Caf=C3=A9_${words(rand, 3).replace(/ /g, "_")}?=`, [
    'Content-Type: multipart/alternative; boundary="alt-b"',
  ])}\r\n\r\n--alt-b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n${text}\r\n--alt-b\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n${qp}\r\n--alt-b--\r\n`;
}

function withAttachment(rand: () => number, n: number, size: number): string {
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i++) data[i] = Math.floor(rand() * 256);
  return `${head(rand, n, `Report ${n}`, ['Content-Type: multipart/mixed; boundary="mix-b"'])}\r\n\r\n--mix-b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${paragraph(rand, 5)}\r\n--mix-b\r\nContent-Type: application/pdf; name="report-${n}.pdf"\r\nContent-Disposition: attachment; filename*=utf-8''r%C3%A9sum%C3%A9-${n}.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n${base64Lines(data)}--mix-b--\r\n`;
}

function japanese(rand: () => number, n: number): string {
  // "テストメッセージ" in ISO-2022-JP, the body repeated.
  const body = "\x1b$B%F%9%H%a%C%;!<%8\x1b(B\r\n".repeat(10 + Math.floor(rand() * 10));
  return `${head(rand, n, ISO2022_SUBJECT, ["Content-Type: text/plain; charset=ISO-2022-JP", "Content-Transfer-Encoding: 7bit"])}\r\n\r\n${body}`;
}

function windows1252(rand: () => number, n: number): Buffer {
  const text = Buffer.from(
    `${head(rand, n, "=?windows-1252?Q?It=92s_=80_5?=", ["Content-Type: text/plain; charset=windows-1252", "Content-Transfer-Encoding: 8bit"])}\r\n\r\n`,
    "latin1",
  );
  const body = Buffer.from(`${paragraph(rand, 12)}\r\n`, "latin1");
  // Sprinkle the bytes that differ from Latin-1: curly quotes, dashes, the euro sign.
  for (let i = 40; i < body.length; i += 97) if (body[i] === 0x20) body[i] = 0x96;
  return Buffer.concat([text, Buffer.from("\x93Quote\x94 \x80 ", "latin1"), body]);
}

function forwarded(rand: () => number, n: number): string {
  return `${head(rand, n, `Fwd: ${words(rand, 4)}`, ['Content-Type: multipart/mixed; boundary="fwd-b"'])}\r\n\r\n--fwd-b\r\nContent-Type: text/plain\r\n\r\nSee below.\r\n--fwd-b\r\nContent-Type: message/rfc822\r\n\r\n${alternative(rand, n + 100_000)}\r\n--fwd-b--\r\n`;
}

function bounce(rand: () => number, n: number): string {
  return `${head(rand, n, "Undelivered Mail Returned to Sender", ['Content-Type: multipart/report; report-type=delivery-status; boundary="dsn-b"'])}\r\n\r\n--dsn-b\r\nContent-Description: Notification\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nThis is the mail system at host mail.example.org.\r\n\r\n${paragraph(rand, 6)}\r\n--dsn-b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mail.example.org\r\n\r\nFinal-Recipient: rfc822; nobody@example.net\r\nAction: failed\r\nStatus: 5.1.1\r\n--dsn-b\r\nContent-Type: text/rfc822-headers\r\n\r\n${head(rand, n + 200_000, "original")}\r\n--dsn-b--\r\n`;
}

/** `count` messages; the mix repeats every 20 messages. */
export function mixedCorpus(count: number, seed = 2026): Buffer[] {
  const rand = prng(seed);
  const out: Buffer[] = [];
  for (let n = 0; n < count; n++) {
    const k = n % 20;
    let raw: string | Buffer;
    if (k < 6) raw = plain(rand, n);
    else if (k < 11) raw = alternative(rand, n);
    else if (k < 13) raw = withAttachment(rand, n, 2_000 + Math.floor(rand() * 30_000));
    else if (k === 13) raw = withAttachment(rand, n, 150_000);
    else if (k < 16) raw = japanese(rand, n);
    else if (k < 18) raw = windows1252(rand, n);
    else if (k === 18) raw = forwarded(rand, n);
    else raw = bounce(rand, n);
    out.push(typeof raw === "string" ? Buffer.from(raw, "utf8") : raw);
  }
  return out;
}
