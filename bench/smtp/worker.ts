/**
 * One benchmark scenario for one library, in its own process (so peak RSS is its own).
 * Usage: node --import tsx bench/smtp/worker.ts <mtaio|nodemailer> <one|pool|big> <port> <count> <bigFile> [warmup]
 * Prints one JSON line: { messages, wallMs, cpuMs, baselineRssMB, peakRssMB }.
 * `warmup` messages (default 1) go over the same connection(s) before the measurement.
 */
import { createReadStream } from "node:fs";
import nodemailer, { type SendMailOptions } from "nodemailer";
import { Attachment, MailMessage } from "../../src/mail/mime/index.js";
import { AsyncSMTPClient, type SendableMessage, SMTPPool } from "../../src/mail/smtp/index.js";

const [lib, scenario, portText, countText, bigFile, warmupText] = process.argv.slice(2);
const warmup = Math.max(1, Number(warmupText ?? 1));
const port = Number(portText);
const count = Number(countText);
const attachment8k: Buffer = Buffer.from(
  Uint8Array.from({ length: 8 * 1024 }, (_, i) => (i * 131 + 7) & 0xff),
);
const text = "Hello from the SMTP benchmark.\nSecond line of plain text.\n".repeat(4);
const html = `<html><body><h1>Benchmark</h1><p>${"Lorem ipsum dolor sit amet. ".repeat(10)}</p></body></html>`;

function mtaioMessage(i: number, big: boolean): SendableMessage {
  return new MailMessage({
    subject: `Benchmark message ${i}`,
    sender: "bench@mtaio.test",
    recipients: ["sink@mtaio.test"],
    textContent: text,
    htmlContent: html,
    attachments: [
      new Attachment({
        filename: big ? "big.bin" : "data.bin",
        content: big ? createReadStream(bigFile) : attachment8k,
        contentType: "application/octet-stream",
      }),
    ],
  });
}

function nodemailerMessage(i: number, big: boolean): SendMailOptions {
  return {
    from: "bench@mtaio.test",
    to: "sink@mtaio.test",
    subject: `Benchmark message ${i}`,
    text,
    html,
    attachments: [
      big
        ? {
            filename: "big.bin",
            content: createReadStream(bigFile),
            contentType: "application/octet-stream",
          }
        : { filename: "data.bin", content: attachment8k, contentType: "application/octet-stream" },
    ],
  };
}

async function runMtaio(): Promise<() => Promise<void>> {
  const plain = { security: "none" as const };
  if (scenario === "pool") {
    const pool = new SMTPPool({ host: "127.0.0.1", port, connections: 5, ...plain });
    // Warm up the connections outside the measurement.
    await Promise.all(
      Array.from({ length: 5 * warmup }, (_, i) => pool.sendMessage(mtaioMessage(-i, false))),
    );
    return async () => {
      await Promise.all(
        Array.from({ length: count }, (_, i) => pool.sendMessage(mtaioMessage(i, false))),
      );
      await pool.close();
    };
  }
  const client = new AsyncSMTPClient();
  await client.connect("127.0.0.1", port, plain);
  for (let i = 0; i < warmup; i++) await client.sendMessage(mtaioMessage(-1, false));
  return async () => {
    if (scenario === "big") await client.sendMessage(mtaioMessage(0, true));
    else for (let i = 0; i < count; i++) await client.sendMessage(mtaioMessage(i, false));
    await client.close();
  };
}

async function runNodemailer(): Promise<() => Promise<void>> {
  const transport = nodemailer.createTransport({
    host: "127.0.0.1",
    port,
    secure: false,
    ignoreTLS: true,
    pool: true,
    maxConnections: scenario === "pool" ? 5 : 1,
    maxMessages: Number.POSITIVE_INFINITY,
  });
  // Warm up the connection(s) outside the measurement, like the mtaio side.
  await Promise.all(
    Array.from({ length: scenario === "pool" ? 5 * warmup : warmup }, (_, i) =>
      transport.sendMail(nodemailerMessage(-i, false)),
    ),
  );
  return async () => {
    if (scenario === "big") await transport.sendMail(nodemailerMessage(0, true));
    else if (scenario === "pool") {
      await Promise.all(
        Array.from({ length: count }, (_, i) => transport.sendMail(nodemailerMessage(i, false))),
      );
    } else for (let i = 0; i < count; i++) await transport.sendMail(nodemailerMessage(i, false));
    transport.close();
  };
}

const run = lib === "mtaio" ? await runMtaio() : await runNodemailer();
const baselineRssMB = process.resourceUsage().maxRSS / 1024;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
await run();
const wallMs = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
console.log(
  JSON.stringify({
    messages: scenario === "big" ? 1 : count,
    wallMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    baselineRssMB,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
  }),
);
process.exit(0);
