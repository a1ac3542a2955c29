/**
 * Used by the benchmark only while `MailMessage.render()` is not implemented: a minimal
 * streaming multipart/mixed ⊃ multipart/alternative composer (7bit text and html, base64
 * attachment at 76 columns), doing per message the work a MIME composer does, so the SMTP
 * engine can be measured end to end. The real composer lives in src/mail/mime/.
 */
import { randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import type { SendableMessage } from "../../src/mail/smtp/index.js";

export interface FallbackInit {
  index: number;
  subject: string;
  sender: string;
  recipients: string[];
  textContent: string;
  htmlContent: string;
  attachment: { bytes: Uint8Array } | { file: string };
}

const LINE = 57; // 57 input bytes → 76 base64 characters

function base64Lines(bytes: Uint8Array): string {
  const encoded = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("base64");
  let out = "";
  for (let i = 0; i < encoded.length; i += 76) out += `${encoded.slice(i, i + 76)}\r\n`;
  return out;
}

async function* base64Stream(file: string): AsyncIterable<Uint8Array> {
  let rest = Buffer.alloc(0);
  for await (const chunk of createReadStream(file, { highWaterMark: LINE * 1024 })) {
    const data = rest.length ? Buffer.concat([rest, chunk as Buffer]) : (chunk as Buffer);
    const whole = data.length - (data.length % LINE);
    rest = Buffer.from(data.subarray(whole));
    if (whole > 0) yield Buffer.from(base64Lines(data.subarray(0, whole)), "latin1");
  }
  if (rest.length) yield Buffer.from(base64Lines(rest), "latin1");
}

export function fallbackMessage(init: FallbackInit): SendableMessage {
  const messageId = `<bench-${init.index}-${randomBytes(6).toString("hex")}@mtaio.test>`;
  return {
    messageId,
    envelope: () => ({ from: init.sender, to: init.recipients, smtputf8: false }),
    async *render() {
      const mixed = `mixed-${randomBytes(8).toString("hex")}`;
      const alt = `alt-${randomBytes(8).toString("hex")}`;
      const nl = (s: string) => s.replace(/\r?\n/g, "\r\n");
      yield Buffer.from(
        `From: ${init.sender}\r\nTo: ${init.recipients.join(", ")}\r\nSubject: ${init.subject}\r\n` +
          `Date: ${new Date().toUTCString()}\r\nMessage-ID: ${messageId}\r\nMIME-Version: 1.0\r\n` +
          `Content-Type: multipart/mixed; boundary="${mixed}"\r\n\r\n` +
          `--${mixed}\r\nContent-Type: multipart/alternative; boundary="${alt}"\r\n\r\n` +
          `--${alt}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n${nl(init.textContent)}\r\n` +
          `--${alt}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n${nl(init.htmlContent)}\r\n` +
          `--${alt}--\r\n` +
          `--${mixed}\r\nContent-Type: application/octet-stream; name="data.bin"\r\n` +
          `Content-Disposition: attachment; filename="data.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\n`,
        "utf8",
      );
      if ("bytes" in init.attachment)
        yield Buffer.from(base64Lines(init.attachment.bytes), "latin1");
      else yield* base64Stream(init.attachment.file);
      yield Buffer.from(`--${mixed}--\r\n`, "latin1");
    },
  };
}
