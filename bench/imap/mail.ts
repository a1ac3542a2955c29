/**
 * Generated benchmark mail (nothing stored in the repo): realistic headers with varied
 * subjects, some as RFC 2047 encoded words in Japanese, a plain ~2 KB message, a ~20 KB
 * multipart one, and one carrying a big base64 attachment.
 */
import { randomBytes } from "node:crypto";

const TOPICS = [
  "Quarterly report",
  "Meeting notes",
  "Re: build failure",
  "Invoice 2024-",
  "Travel plan",
];
const JAPANESE = [
  "会議の議事録",
  "請求書のご送付",
  "週次報告：進捗",
  "出張の件について",
  "新年のご挨拶",
];
const NAMES = [
  ["Alice Example", "alice@example.com"],
  ["山田 太郎", "yamada@example.jp"],
  ["Bob O'Neil", "bob@example.org"],
  ["佐藤 花子", "sato@example.jp"],
];
const LOREM =
  "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua.";
const NIHONGO =
  "本日はお忙しいところお時間をいただきありがとうございました。次回の会議は来週の火曜日です。";

/** RFC 2047 B-encoding of UTF-8 text, one encoded word per at most 45 bytes of text. */
function encodedWords(text: string): string {
  const words: string[] = [];
  let chunk = "";
  for (const char of text) {
    if (Buffer.byteLength(chunk + char) > 45) {
      words.push(chunk);
      chunk = "";
    }
    chunk += char;
  }
  words.push(chunk);
  return words.map((w) => `=?UTF-8?B?${Buffer.from(w).toString("base64")}?=`).join("\r\n ");
}

function headers(i: number, extra: string[]): string {
  const [fromName, fromAddress] = NAMES[i % NAMES.length];
  const [toName, toAddress] = NAMES[(i + 1) % NAMES.length];
  const japanese = i % 3 === 0;
  const subject = japanese
    ? encodedWords(`${JAPANESE[i % JAPANESE.length]} No.${i}`)
    : `${TOPICS[i % TOPICS.length]}${i}`;
  const name = (n: string) => (/^[\x20-\x7e]*$/.test(n) ? `"${n}"` : encodedWords(n));
  const date = new Date(Date.UTC(2024, 0, 1) + i * 3_600_000).toUTCString().replace("GMT", "+0000");
  return [
    `Return-Path: <${fromAddress}>`,
    `Received: from mx.example.net (mx.example.net [192.0.2.${i % 250}])\r\n\tby imap.example.test with LMTP id ${i}; ${date}`,
    `Received: from client.example.com ([198.51.100.7])\r\n\tby mx.example.net with ESMTPSA id ${i}; ${date}`,
    `From: ${name(fromName)} <${fromAddress}>`,
    `To: ${name(toName)} <${toAddress}>`,
    ...(i % 4 === 0 ? ['Cc: team@example.com, "Ops" <ops@example.com>'] : []),
    `Subject: ${subject}`,
    `Date: ${date}`,
    `Message-ID: <${i}.bench@example.com>`,
    ...(i % 5 === 1
      ? [`In-Reply-To: <${i - 1}.bench@example.com>`, `References: <${i - 1}.bench@example.com>`]
      : []),
    "MIME-Version: 1.0",
    "X-Mailer: mtaio-bench",
    ...extra,
  ].join("\r\n");
}

/** A ~2 KB text/plain message. */
export function smallMessage(i: number): Buffer {
  const body = Array.from({ length: 11 }, (_, n) => `${n + 1}. ${LOREM}`).join("\r\n");
  return Buffer.from(
    `${headers(i, ["Content-Type: text/plain; charset=us-ascii"])}\r\n\r\n${body}\r\n`,
  );
}

/** A ~20 KB multipart/mixed message: Japanese text (base64), HTML (QP) and a small PDF-ish part. */
export function multipartMessage(i: number): Buffer {
  const boundary = `=_bench_${i}_mixed`;
  const alternative = `=_bench_${i}_alt`;
  const text = Buffer.from(`${NIHONGO}\n`.repeat(40))
    .toString("base64")
    .replace(/.{76}/g, "$&\r\n");
  const html = `<html><body>${`<p>${LOREM}</p>`.repeat(40)}</body></html>`.replace(
    /.{72}/g,
    "$&=\r\n",
  );
  const attachment = randomBytes(4 * 1024)
    .toString("base64")
    .replace(/.{76}/g, "$&\r\n");
  return Buffer.from(
    [
      headers(i, [`Content-Type: multipart/mixed; boundary="${boundary}"`]),
      "",
      `--${boundary}`,
      `Content-Type: multipart/alternative; boundary="${alternative}"`,
      "",
      `--${alternative}`,
      "Content-Type: text/plain; charset=UTF-8",
      "Content-Transfer-Encoding: base64",
      "",
      text,
      `--${alternative}`,
      "Content-Type: text/html; charset=us-ascii",
      "Content-Transfer-Encoding: quoted-printable",
      "",
      html,
      `--${alternative}--`,
      `--${boundary}`,
      `Content-Type: application/pdf; name="report-${i}.pdf"`,
      `Content-Disposition: attachment; filename="report-${i}.pdf"`,
      "Content-Transfer-Encoding: base64",
      "",
      attachment,
      `--${boundary}--`,
      "",
    ].join("\r\n"),
  );
}

/** One message whose part 2 is a `bytes`-long binary attachment in base64, 76-char lines. */
export function attachmentMessage(bytes: number): Buffer {
  const boundary = "=_bench_big";
  const head = [
    headers(0, [`Content-Type: multipart/mixed; boundary="${boundary}"`]),
    "",
    `--${boundary}`,
    "Content-Type: text/plain; charset=us-ascii",
    "",
    "The attachment is random data.",
    `--${boundary}`,
    'Content-Type: application/octet-stream; name="big.bin"',
    'Content-Disposition: attachment; filename="big.bin"',
    "Content-Transfer-Encoding: base64",
    "",
    "",
  ].join("\r\n");
  const parts: Buffer[] = [Buffer.from(head)];
  // 57 input bytes make one 76-character line; blocks of whole lines keep the lines intact.
  const block = 57 * 16 * 1024;
  for (let done = 0; done < bytes; done += block) {
    const base64 = randomBytes(Math.min(block, bytes - done)).toString("base64");
    parts.push(Buffer.from(`${base64.replace(/.{76}/g, "$&\r\n").replace(/\r\n$/, "")}\r\n`));
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(parts);
}
