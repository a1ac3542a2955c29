/**
 * Micro-benchmark of message composition alone (no network): renders N messages of the SMTP
 * benchmark's shape (text + html + 8 KiB attachment) and prints CPU per message.
 *   node --import tsx bench/smtp/render.ts [--count 5000]
 */
import { Attachment, MailMessage } from "../../src/mail/mime/index.js";

const args = process.argv.slice(2);
const i = args.indexOf("--count");
const count = i >= 0 ? Number(args[i + 1]) : 5000;
const attachment8k = Buffer.from(
  Uint8Array.from({ length: 8 * 1024 }, (_, i) => (i * 131 + 7) & 0xff),
);
const text = "Hello from the SMTP benchmark.\nSecond line of plain text.\n".repeat(4);
const html = `<html><body><h1>Benchmark</h1><p>${"Lorem ipsum dolor sit amet. ".repeat(10)}</p></body></html>`;

function message(n: number): MailMessage {
  return new MailMessage({
    subject: `Benchmark message ${n}`,
    sender: "bench@mtaio.test",
    recipients: ["sink@mtaio.test"],
    textContent: text,
    htmlContent: html,
    attachments: [
      new Attachment({
        filename: "data.bin",
        content: attachment8k,
        contentType: "application/octet-stream",
      }),
    ],
  });
}

async function renderAll(n: number): Promise<number> {
  let bytes = 0;
  for (let k = 0; k < n; k++) {
    const m = message(k);
    m.envelope();
    for await (const chunk of m.render({ eightBit: true })) bytes += chunk.length;
  }
  return bytes;
}

await renderAll(500); // warm up
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const bytes = await renderAll(count);
const wall = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
console.log(
  `${count} messages, ${(bytes / count).toFixed(0)} bytes each: ${(((cpu.user + cpu.system) / 1000 / count) * 1000).toFixed(1)} µs CPU/msg, ${((wall / count) * 1000).toFixed(1)} µs wall/msg`,
);
