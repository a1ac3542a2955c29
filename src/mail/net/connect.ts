/**
 * Opening mail connections: plain TCP, implicit TLS, and the in-place upgrade that STARTTLS
 * (SMTP, RFC 3207) and STARTTLS (IMAP, RFC 9051 §6.2.1) share. Protocol-neutral: no commands
 * are sent here.
 */
import { Buffer } from "node:buffer";
import {
  type ConnectOpts,
  isIP,
  type OnReadOpts,
  type Socket,
  connect as tcpConnect,
} from "node:net";
import { type ConnectionOptions, type TLSSocket, connect as tlsConnect } from "node:tls";
import { withDeadline } from "../../shared/deadline.js";
import { deadlineError, type NetErrorFactory } from "./errors.js";

export type MailSocket = Socket | TLSSocket;

/** Node TLS options a caller may pass; `socket`, `host` and `port` are ours to set. */
export type MailTLSOptions = Omit<ConnectionOptions, "socket" | "host" | "port">;

export interface OpenOptions {
  host: string;
  port: number;
  /** Implicit TLS (SMTPS on 465, IMAPS on 993): the handshake happens before any protocol byte. */
  implicitTLS: boolean;
  tls?: MailTLSOptions;
  timeoutMs: number;
  signal?: AbortSignal;
  error: NetErrorFactory;
}

/** TLS settings every connection gets unless the caller overrides them. */
function tlsSettings(host: string, tls: MailTLSOptions | undefined): ConnectionOptions {
  return {
    // RFC 8996 deprecates TLS 1.0 and 1.1; RFC 8314 §4.1 asks mail clients for TLS 1.2+.
    minVersion: "TLSv1.2",
    // SNI must be a DNS name (RFC 6066 §3), never an IP literal.
    servername: isIP(host) === 0 ? host : undefined,
    ...tls,
    // Certificates are verified unless the caller explicitly says otherwise.
    rejectUnauthorized: tls?.rejectUnauthorized ?? true,
  };
}

/** Size of the one read buffer a socket reuses (Node's own reads are this size). */
const READ_BUFFER_SIZE = 64 * 1024;

/** Where a socket's reads go once a raw receiver is installed; see `receiveInPlace`. */
interface InPlaceReads {
  receiver: ((chunk: Buffer) => void) | undefined;
}
const inPlaceReads = new WeakMap<MailSocket, InPlaceReads>();

/**
 * A socket that reads into one reused buffer (Node's `onread` option, which `net.connect` and
 * `tls.connect` both take; for TLS the buffer receives the decrypted bytes) instead of a fresh
 * Buffer per read. A large download otherwise leaves one garbage buffer behind per read,
 * outside V8's heap, which the collector reclaims late. Until `receiveInPlace` installs a
 * receiver, each read is copied and pushed into the socket's own readable side, so the socket
 * behaves as any other (the line reader; STARTTLS, whose TLS socket reads through TLS and
 * does not read in place).
 */
function readingInPlace(open: (onread: OnReadOpts) => MailSocket): MailSocket {
  const reads: InPlaceReads = { receiver: undefined };
  const socket = open({
    buffer: Buffer.allocUnsafe(READ_BUFFER_SIZE),
    callback: (size: number, buffer: Uint8Array) => {
      const chunk = Buffer.from(buffer.buffer, buffer.byteOffset, size);
      const receiver = reads.receiver;
      if (receiver) {
        receiver(chunk);
        return true;
      }
      // False stops reading until the readable side is drained, as Node does itself.
      return socket.push(Buffer.from(chunk));
    },
  });
  inPlaceReads.set(socket, reads);
  return socket;
}

/**
 * Sends every later read of `socket` straight to `receiver`, as a view of the reused read
 * buffer that is valid only during the call (the receiver copies what it keeps). Returns
 * false, doing nothing, for a socket that does not read in place (the TLS socket of a
 * STARTTLS upgrade): use 'data' events.
 * Chunks already pushed to the readable side still arrive as 'data' events, before any later
 * read (they are emitted on the next tick, reads come from the event loop).
 */
export function receiveInPlace(socket: MailSocket, receiver: (chunk: Buffer) => void): boolean {
  const reads = inPlaceReads.get(socket);
  if (!reads) return false;
  reads.receiver = receiver;
  return true;
}

/** Opens a TCP (and, for implicit TLS, TLS) connection and resolves once it is usable. */
export async function openConnection(options: OpenOptions): Promise<MailSocket> {
  const { host, port, error } = options;
  const socket = readingInPlace((onread) => {
    if (!options.implicitTLS) return tcpConnect({ host, port, onread });
    const settings: ConnectionOptions & ConnectOpts = {
      host,
      port,
      ...tlsSettings(host, options.tls),
      onread,
    };
    return tlsConnect(settings);
  });
  const readyEvent = options.implicitTLS ? "secureConnect" : "connect";
  try {
    await withDeadline<void>(
      options.timeoutMs,
      options.signal,
      deadlineError(error, `connecting to ${host}:${port}`, options.timeoutMs),
      (resolve, reject) => {
        const onReady = () => resolve();
        const onError = (cause: Error) =>
          reject(
            error(
              options.implicitTLS && isTLSFailure(cause) ? "tls" : "connect",
              `cannot connect to ${host}:${port}: ${cause.message}`,
              cause,
            ),
          );
        socket.once(readyEvent, onReady);
        socket.once("error", onError);
        return () => {
          socket.off(readyEvent, onReady);
          socket.off("error", onError);
        };
      },
    );
  } catch (failure) {
    socket.destroy();
    throw failure;
  }
  socket.setNoDelay(true);
  return socket;
}

export interface UpgradeOptions {
  host: string;
  tls?: MailTLSOptions;
  timeoutMs: number;
  signal?: AbortSignal;
  error: NetErrorFactory;
}

/**
 * Runs a TLS handshake over an existing plaintext socket. The caller must already have stopped
 * reading from `socket` and thrown away anything it had buffered (RFC 3207 §5: plaintext that
 * arrived before the handshake may have been injected by an attacker). Plaintext that arrives
 * after this point is fed to the TLS parser, which rejects it, so the upgrade fails closed.
 */
export async function upgradeToTLS(socket: Socket, options: UpgradeOptions): Promise<TLSSocket> {
  const { host, error } = options;
  const secure = tlsConnect({ socket, ...tlsSettings(host, options.tls) });
  try {
    await withDeadline<void>(
      options.timeoutMs,
      options.signal,
      deadlineError(error, `TLS handshake with ${host}`, options.timeoutMs),
      (resolve, reject) => {
        const onReady = () => resolve();
        const onError = (cause: Error) =>
          reject(error("tls", `TLS handshake with ${host} failed: ${cause.message}`, cause));
        const onClose = () =>
          reject(error("closed", `${host} closed the connection during the TLS handshake`));
        secure.once("secureConnect", onReady);
        secure.once("error", onError);
        secure.once("close", onClose);
        return () => {
          secure.off("secureConnect", onReady);
          secure.off("error", onError);
          secure.off("close", onClose);
        };
      },
    );
  } catch (failure) {
    secure.destroy();
    socket.destroy();
    throw failure;
  }
  return secure;
}

/** OpenSSL's certificate verification results (X509_V_ERR_*) that do not say CERT. */
const VERIFY_FAILURES = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_DECRYPT_SIGNATURE",
  "UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY",
  "HOSTNAME_MISMATCH",
  "INVALID_CA",
  "INVALID_PURPOSE",
  "PATH_LENGTH_EXCEEDED",
]);

function isTLSFailure(cause: Error): boolean {
  const code = (cause as { code?: unknown }).code;
  return (
    typeof code === "string" &&
    (code.startsWith("ERR_TLS") ||
      code.startsWith("ERR_SSL") ||
      code.includes("CERT") ||
      VERIFY_FAILURES.has(code))
  );
}
