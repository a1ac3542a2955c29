/**
 * One mail transaction (RFC 5321 §3.3): MAIL, RCPT for each recipient, then the body with DATA
 * (§4.1.1.4) or BDAT (RFC 3030). With PIPELINING (RFC 2920 §3.1) MAIL, every RCPT and DATA go
 * out in one write, and the replies are read in order afterwards.
 */
import { Buffer } from "node:buffer";
import { MailError, SMTPError } from "../../errors.js";
import {
  assertEnvelopeAddress,
  type DSNOptions,
  isNonAscii,
  mailCommand,
  rcptCommand,
  wantsDSN,
} from "./commands.js";
import type { SMTPConnection } from "./connection.js";
import { BodyEncoder } from "./data-encoder.js";
import { replyError } from "./errors.js";
import type { SMTPReply } from "./reply.js";
import type { Session, Timeouts } from "./session.js";
import type { RejectedRecipient, SMTPEnvelope } from "./types.js";

/** BDAT chunks are coalesced to at least this size, so small MIME pieces don't each cost a command. */
const BDAT_CHUNK = 256 * 1024;
/** DATA writes are coalesced to this size too (fewer syscalls and TLS records). */
const WRITE_CHUNK = 64 * 1024;

export interface TransactionInput {
  envelope: SMTPEnvelope;
  /** Produces the body lazily; only called once the server accepted a recipient. */
  body: () => AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
  /** Body size in bytes when known in advance (raw bytes), for SIZE (RFC 1870). */
  size?: number;
  eightBit: boolean;
  dsn?: DSNOptions;
  signal?: AbortSignal;
  /** An earlier transaction failed half-way: send RSET first (§4.1.1.5). */
  reset: boolean;
}

export interface TransactionProgress {
  /** Set once any byte of the body went out; after that a retry could deliver twice. */
  bodyStarted: boolean;
  /** The transaction ended in a state that needs RSET before the next one. */
  needsReset: boolean;
}

export interface TransactionOutcome {
  accepted: string[];
  rejected: RejectedRecipient[];
  reply: SMTPReply;
}

/** Checks what the envelope needs against what the server offers, before anything is sent. */
export function checkEnvelope(
  session: Session,
  input: TransactionInput,
): { smtputf8: boolean; sizeLimit: number } {
  const { envelope } = input;
  const caps = session.capabilities;
  assertEnvelopeAddress(envelope.from, "sender", true);
  if (envelope.to.length === 0) {
    throw new MailError("the message has no recipients", { code: "SMTP_NO_RECIPIENTS" });
  }
  for (const to of envelope.to) assertEnvelopeAddress(to, "recipient");
  const smtputf8 =
    !!envelope.smtputf8 || isNonAscii(envelope.from) || envelope.to.some((to) => isNonAscii(to));
  if (smtputf8 && !caps.has("SMTPUTF8")) {
    throw new SMTPError(
      "the message needs SMTPUTF8 (internationalised addresses or headers) and the server does not offer it",
      { code: "SMTP_SMTPUTF8_UNAVAILABLE" },
    );
  }
  if (input.eightBit && !caps.has("8BITMIME")) {
    throw new SMTPError("the body has 8-bit data and the server does not offer 8BITMIME", {
      code: "SMTP_8BITMIME_UNAVAILABLE",
    });
  }
  if (wantsDSN(input.dsn) && !caps.has("DSN")) {
    throw new SMTPError("DSN options were given and the server does not offer DSN", {
      code: "SMTP_DSN_UNAVAILABLE",
    });
  }
  // RFC 1870 §4: SIZE with a number is the server's fixed limit; 0 or none means no limit.
  const sizeLimit = Number(caps.get("SIZE")?.[0] ?? 0) || 0;
  if (sizeLimit > 0 && input.size !== undefined && input.size > sizeLimit) {
    throw tooLarge(input.size, sizeLimit);
  }
  return { smtputf8, sizeLimit };
}

export async function runTransaction(
  session: Session,
  timeouts: Timeouts,
  input: TransactionInput,
  progress: TransactionProgress,
): Promise<TransactionOutcome> {
  const { connection, capabilities: caps } = session;
  const { envelope, signal } = input;
  const { smtputf8, sizeLimit } = checkEnvelope(session, input);
  const pipelining = caps.has("PIPELINING");
  const chunking = caps.has("CHUNKING");
  const dsn = wantsDSN(input.dsn) ? input.dsn : undefined;

  const mail = mailCommand(envelope.from, {
    size: caps.has("SIZE") ? input.size : undefined,
    eightBit: input.eightBit,
    smtputf8,
    dsn,
  });
  const rcpts = envelope.to.map((to) => rcptCommand(to, dsn));
  // From here on a failure leaves the server mid-transaction unless we reach the end.
  progress.needsReset = true;

  let mailReply: SMTPReply;
  const rcptReplies: SMTPReply[] = [];
  let dataReply: SMTPReply | undefined;
  const t = timeouts.command;

  if (pipelining) {
    // RFC 2920 §3.1: RSET, MAIL, RCPT… and DATA may all be sent without waiting.
    const batch =
      (input.reset ? "RSET\r\n" : "") + mail + rcpts.join("") + (chunking ? "" : "DATA\r\n");
    await connection.write(batch, t, signal);
    if (input.reset) await expectReset(connection, t, signal);
    mailReply = await connection.readReply(t, signal, "waiting for the reply to MAIL FROM");
    for (let i = 0; i < rcpts.length; i++) {
      rcptReplies.push(await connection.readReply(t, signal, "waiting for the reply to RCPT TO"));
    }
    if (!chunking)
      dataReply = await connection.readReply(t, signal, "waiting for the reply to DATA");
  } else {
    if (input.reset) {
      await connection.write("RSET\r\n", t, signal);
      await expectReset(connection, t, signal);
    }
    mailReply = await connection.command(mail, t, signal);
    if (isPositive(mailReply)) {
      for (const rcpt of rcpts) rcptReplies.push(await connection.command(rcpt, t, signal));
    }
  }

  if (!isPositive(mailReply)) {
    // A 354 to a pipelined DATA despite the failed MAIL: end the empty message (§3.1).
    if (dataReply?.code === 354) await connection.command(".\r\n", timeouts.data, signal);
    throw replyError(
      "the server rejected the sender",
      mailReply,
      mailReply.code === 421 ? "SMTP_SERVICE_UNAVAILABLE" : "SMTP_SENDER_REJECTED",
    );
  }

  // §3.8: 421 to any command means the server is closing the session; nothing more will work.
  const closing = rcptReplies.find((reply) => reply.code === 421);
  if (closing)
    throw replyError("the server is closing the connection", closing, "SMTP_SERVICE_UNAVAILABLE");

  const accepted: string[] = [];
  const rejected: RejectedRecipient[] = [];
  envelope.to.forEach((recipient, i) => {
    const reply = rcptReplies[i];
    if (reply && isPositive(reply)) accepted.push(recipient);
    else if (reply) {
      rejected.push({
        recipient,
        replyCode: reply.code,
        enhancedStatus: reply.enhancedStatus,
        message: reply.text,
      });
    }
  });

  if (accepted.length === 0) {
    if (dataReply?.code === 354) await connection.command(".\r\n", timeouts.data, signal);
    const first = rejected[0];
    throw new SMTPError(
      `the server rejected every recipient: ${rejected.map((r) => `${r.recipient} (${r.replyCode} ${r.message})`).join("; ")}`,
      {
        code: first?.replyCode === 421 ? "SMTP_SERVICE_UNAVAILABLE" : "SMTP_RECIPIENTS_REJECTED",
        replyCode: first?.replyCode,
        enhancedStatus: first?.enhancedStatus,
        response: first?.message,
      },
    );
  }

  const finalReply = chunking
    ? await sendBdat(connection, timeouts, input, progress, sizeLimit, pipelining)
    : await sendData(connection, timeouts, input, progress, sizeLimit, dataReply);
  // After DATA's final reply the transaction is over either way (RFC 5321 §4.1.1.4); a refused
  // BDAT leaves it to the client to clear it with RSET (RFC 3030 §4.1).
  progress.needsReset = chunking && !isPositive(finalReply);
  if (!isPositive(finalReply)) {
    throw replyError("the server rejected the message", finalReply, "SMTP_MESSAGE_REJECTED");
  }
  return { accepted, rejected, reply: finalReply };
}

async function sendData(
  connection: SMTPConnection,
  timeouts: Timeouts,
  input: TransactionInput,
  progress: TransactionProgress,
  sizeLimit: number,
  pipelinedReply: SMTPReply | undefined,
): Promise<SMTPReply> {
  const { signal } = input;
  const reply = pipelinedReply ?? (await connection.command("DATA\r\n", timeouts.command, signal));
  if (reply.code !== 354) {
    throw replyError(
      "the server refused DATA",
      reply,
      reply.code === 421 ? "SMTP_SERVICE_UNAVAILABLE" : "SMTP_DATA_REJECTED",
    );
  }
  progress.bodyStarted = true;
  const encoder = new BodyEncoder({ dotStuff: true });
  const pending: Uint8Array[] = [];
  let pendingBytes = 0;
  const flush = async () => {
    if (pendingBytes === 0) return;
    const block = pending.length === 1 ? pending[0] : Buffer.concat(pending, pendingBytes);
    pending.length = 0;
    pendingBytes = 0;
    await connection.write(block, timeouts.data, signal);
  };
  await streamBody(connection, input, async (chunk) => {
    const encoded = encoder.push(chunk);
    if (sizeLimit > 0 && encoder.bytesOut > sizeLimit) {
      // The only way to stop a DATA body is to drop the connection (RFC 5321 has no abort).
      connection.destroy();
      throw tooLarge(encoder.bytesOut, sizeLimit);
    }
    if (encoded.length === 0) return true;
    pending.push(encoded);
    pendingBytes += encoded.length;
    if (pendingBytes >= WRITE_CHUNK) await flush();
    return true;
  });
  pending.push(encoder.end());
  pendingBytes += pending[pending.length - 1].length;
  await flush();
  return connection.readReply(timeouts.data, signal, "waiting for the reply to the end of data");
}

async function sendBdat(
  connection: SMTPConnection,
  timeouts: Timeouts,
  input: TransactionInput,
  progress: TransactionProgress,
  sizeLimit: number,
  pipelining: boolean,
): Promise<SMTPReply> {
  const { signal } = input;
  const encoder = new BodyEncoder({ dotStuff: false });
  let outstanding = 0;
  let failure: SMTPReply | undefined;
  const pending: Uint8Array[] = [];
  let pendingBytes = 0;

  // RFC 3030 §4.2: every BDAT gets a reply; with PIPELINING we read them as they come.
  const collect = (reply: SMTPReply) => {
    outstanding--;
    if (!isPositive(reply) && !failure) failure = reply;
  };
  const send = async (last: boolean) => {
    const block = Buffer.concat(pending, pendingBytes);
    pending.length = 0;
    pendingBytes = 0;
    progress.bodyStarted = true;
    // Command and chunk in one write: one syscall (and TCP segment train) instead of two.
    const command = Buffer.from(`BDAT ${block.length}${last ? " LAST" : ""}\r\n`, "latin1");
    await connection.write(Buffer.concat([command, block]), timeouts.data, signal);
    outstanding++;
    if (!pipelining && !last)
      collect(await connection.readReply(timeouts.data, signal, "waiting for the reply to BDAT"));
    for (let ready = connection.tryReadReply(); ready; ready = connection.tryReadReply())
      collect(ready);
  };

  await streamBody(connection, input, async (chunk) => {
    if (failure) return false;
    const encoded = encoder.push(chunk);
    if (sizeLimit > 0 && encoder.bytesOut > sizeLimit) {
      connection.destroy();
      throw tooLarge(encoder.bytesOut, sizeLimit);
    }
    if (encoded.length === 0) return true;
    pending.push(encoded);
    pendingBytes += encoded.length;
    if (pendingBytes >= BDAT_CHUNK) await send(false);
    return !failure;
  });
  if (failure) {
    while (outstanding > 0) collect(await connection.readReply(timeouts.data, signal));
    return failure;
  }
  const tail = encoder.end();
  if (tail.length > 0) {
    pending.push(tail);
    pendingBytes += tail.length;
  }
  await send(true);
  let last: SMTPReply | undefined;
  while (outstanding > 0) {
    last = await connection.readReply(timeouts.data, signal, "waiting for the reply to BDAT");
    collect(last);
  }
  // The reply to BDAT LAST is the message's final reply; an earlier failure wins.
  if (failure) return failure;
  if (!last) throw new SMTPError("no reply to BDAT LAST", { code: "SMTP_MALFORMED_REPLY" });
  return last;
}

/** Feeds every body chunk to `each`; a failing producer kills the connection (body is half sent). */
async function streamBody(
  connection: SMTPConnection,
  input: TransactionInput,
  each: (chunk: Uint8Array) => Promise<boolean>,
): Promise<void> {
  try {
    for await (const chunk of input.body()) {
      if (input.signal?.aborted) {
        throw new SMTPError("sending aborted", {
          code: "SMTP_ABORTED",
          cause: input.signal.reason,
        });
      }
      // `false` stops reading the body (the server already refused it); `break` also closes
      // the producer, e.g. an attachment's file stream.
      if (!(await each(chunk))) break;
    }
  } catch (failure) {
    connection.destroy();
    throw failure;
  }
}

async function expectReset(
  connection: SMTPConnection,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<void> {
  const reply = await connection.readReply(timeoutMs, signal, "waiting for the reply to RSET");
  if (!isPositive(reply)) throw replyError("the server rejected RSET", reply, "SMTP_RESET_FAILED");
}

function isPositive(reply: SMTPReply): boolean {
  return reply.code >= 200 && reply.code < 300;
}

function tooLarge(size: number, limit: number): SMTPError {
  return new SMTPError(
    `the message (${size} bytes or more) exceeds the server's SIZE limit of ${limit} bytes`,
    {
      code: "SMTP_MESSAGE_TOO_LARGE",
      replyCode: 552,
    },
  );
}
