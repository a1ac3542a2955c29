/**
 * Opening an SMTP session: connect, greeting (RFC 5321 §4.3.1), EHLO with HELO fallback
 * (§4.1.1.1, §3.2), STARTTLS (RFC 3207) and the EHLO that must follow it.
 */
import { hostname } from "node:os";
import { SMTPError } from "../../errors.js";
import { assertSafeArgument } from "../arguments.js";
import { type MailTLSOptions, openConnection } from "../net/index.js";
import { type ConnectionLimits, SMTPConnection } from "./connection.js";
import { invalidArgument, replyError, smtpNetError } from "./errors.js";
import { parseCapabilities, type SMTPReply } from "./reply.js";
import type { SMTPSecurity } from "./types.js";

export interface Timeouts {
  connect: number;
  greeting: number;
  command: number;
  data: number;
}

export interface SessionOptions {
  host: string;
  port: number;
  security: SMTPSecurity;
  tls: MailTLSOptions | undefined;
  clientName: string | undefined;
  timeouts: Timeouts;
  limits: ConnectionLimits;
  signal?: AbortSignal;
}

export interface Session {
  connection: SMTPConnection;
  /** EHLO keywords (upper case) → parameters; empty after a HELO fallback. */
  capabilities: Map<string, string[]>;
  /** The server answered EHLO (false: we fell back to HELO, no extensions). */
  esmtp: boolean;
  greeting: SMTPReply;
}

export async function openSession(options: SessionOptions): Promise<Session> {
  const { host, port, timeouts, signal } = options;
  const socket = await openConnection({
    host,
    port,
    implicitTLS: options.security === "tls",
    tls: options.tls,
    timeoutMs: timeouts.connect,
    signal,
    error: smtpNetError,
  });
  const connection = new SMTPConnection(socket, options.security === "tls", options.limits);
  try {
    const name = options.clientName ?? defaultClientName(socket.localAddress);
    assertSafeArgument(name, "client name", invalidArgument);
    if (/\s/.test(name) || name === "") {
      throw new SMTPError("the client name must be one word", { code: "SMTP_INVALID_ARGUMENT" });
    }

    // §4.3.1: 220 welcomes us; 554 (or anything else) means "go away".
    const greeting = await connection.readReply(
      timeouts.greeting,
      signal,
      "waiting for the greeting",
    );
    if (greeting.code !== 220) {
      throw replyError("the server refused the session", greeting, "SMTP_GREETING_REJECTED");
    }

    let { capabilities, esmtp } = await hello(connection, name, timeouts.command, signal);

    if (options.security === "starttls") {
      if (!capabilities.has("STARTTLS")) {
        // Fail closed: falling back to plaintext is exactly what a downgrade attacker wants.
        throw new SMTPError(
          `${host}:${port} does not offer STARTTLS; refusing to continue in plaintext (use security: "none" to allow it)`,
          { code: "SMTP_STARTTLS_UNAVAILABLE" },
        );
      }
      const reply = await connection.command("STARTTLS\r\n", timeouts.command, signal);
      if (reply.code !== 220) {
        throw replyError("the server refused STARTTLS", reply, "SMTP_STARTTLS_UNAVAILABLE");
      }
      await connection.upgrade(host, options.tls, timeouts.connect, signal);
      // RFC 3207 §4.2: forget everything learned before TLS and ask again.
      ({ capabilities, esmtp } = await hello(connection, name, timeouts.command, signal));
    }
    return { connection, capabilities, esmtp, greeting };
  } catch (failure) {
    connection.destroy();
    throw failure;
  }
}

async function hello(
  connection: SMTPConnection,
  name: string,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<{ capabilities: Map<string, string[]>; esmtp: boolean }> {
  const ehlo = await connection.command(`EHLO ${name}\r\n`, timeoutMs, signal);
  if (ehlo.code === 250) return { capabilities: parseCapabilities(ehlo), esmtp: true };
  // §3.2: a server that does not know EHLO answers 500/502 (or 504/550); try HELO.
  if (ehlo.code >= 500) {
    const helo = await connection.command(`HELO ${name}\r\n`, timeoutMs, signal);
    if (helo.code === 250) return { capabilities: new Map(), esmtp: false };
    throw replyError("the server rejected HELO", helo, "SMTP_HELO_REJECTED");
  }
  throw replyError("the server rejected EHLO", ehlo, "SMTP_HELO_REJECTED");
}

/**
 * §4.1.1.1: EHLO carries our FQDN, or an address literal when we have none. `hostname()` is
 * often a bare name (a container id), which some servers reject, so use it only with a dot.
 */
export function defaultClientName(localAddress: string | undefined): string {
  const host = hostname();
  if (/^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/.test(host)) return host;
  if (!localAddress) return "[127.0.0.1]";
  const v4 = localAddress.replace(/^::ffff:/, "");
  if (/^\d+\.\d+\.\d+\.\d+$/.test(v4)) return `[${v4}]`;
  return `[IPv6:${localAddress}]`;
}
