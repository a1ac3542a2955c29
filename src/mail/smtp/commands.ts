/**
 * Formatting SMTP commands (RFC 5321 §4.1) and their extension parameters. Every argument that
 * comes from a caller is checked here, before anything reaches the wire: CR, LF or NUL in an
 * argument would let the caller (or whoever fed the caller) inject extra commands.
 */
import { Buffer } from "node:buffer";
import { MailError } from "../../errors.js";
import { assertSafeArgument } from "../arguments.js";
import { invalidArgument } from "./errors.js";

/** True when the string needs SMTPUTF8 (RFC 6531) to travel in an envelope. */
export function isNonAscii(value: string): boolean {
  return /[^\u0000-\u007f]/.test(value);
}

/**
 * Validates an envelope address (RFC 5321 §4.1.2 Mailbox, or "" for the null reverse-path).
 * The MIME layer parses display names; here only the bare addr-spec arrives.
 */
export function assertEnvelopeAddress(address: string, what: string, allowEmpty = false): void {
  assertSafeArgument(address, what, invalidArgument);
  if (address === "" && allowEmpty) return;
  // Angle brackets and spaces outside a quoted local part would break the path syntax.
  const at = address.lastIndexOf("@");
  const local = at > 0 ? address.slice(0, at) : "";
  const domain = at > 0 ? address.slice(at + 1) : "";
  const quotedLocal = local.startsWith('"') && local.endsWith('"') && local.length >= 2;
  if (
    at <= 0 ||
    domain === "" ||
    /[<>\s]/.test(domain) ||
    (!quotedLocal && /[<>\s]/.test(local)) ||
    address.length > 512
  ) {
    throw new MailError(`${what} is not a valid mailbox: ${JSON.stringify(address)}`, {
      code: "SMTP_INVALID_ADDRESS",
    });
  }
}

/**
 * RFC 3461 §4 xtext: "+" and "=" and anything outside "!".."~" become "+HH". Used for ENVID and
 * the address in ORCPT.
 */
export function xtext(value: string): string {
  let out = "";
  for (const byte of Buffer.from(value, "utf8")) {
    out +=
      byte < 0x21 || byte > 0x7e || byte === 0x2b || byte === 0x3d
        ? `+${byte.toString(16).toUpperCase().padStart(2, "0")}`
        : String.fromCharCode(byte);
  }
  return out;
}

/**
 * RFC 6533 §3 utf-8-addr-unitext for ORCPT with internationalised addresses: UTF-8 passes
 * through, but "+", "=", "\" and controls are written as \x{HEX}.
 */
export function unitext(value: string): string {
  let out = "";
  for (const ch of value) {
    const cp = ch.codePointAt(0) ?? 0;
    out +=
      cp <= 0x20 || cp === 0x7f || ch === "+" || ch === "=" || ch === "\\"
        ? `\\x{${cp.toString(16).toUpperCase()}}`
        : ch;
  }
  return out;
}

export type DSNNotify = "NEVER" | "SUCCESS" | "FAILURE" | "DELAY";

/** Delivery Status Notification requests (RFC 3461). */
export interface DSNOptions {
  /** When to send a DSN for each recipient (§4.1); NEVER cannot be combined with others. */
  notify?: DSNNotify[];
  /** Return the full message or only its headers in a failure DSN (§4.3). */
  ret?: "FULL" | "HDRS";
  /** Envelope identifier echoed back in DSNs (§4.4). */
  envid?: string;
  /** Send ORCPT (§4.2) with each recipient's original address (default true when DSN is used). */
  orcpt?: boolean;
}

export interface MailParameters {
  size?: number;
  eightBit: boolean;
  smtputf8: boolean;
  dsn?: DSNOptions;
}

/** MAIL FROM:<reverse-path> with its ESMTP parameters (RFC 5321 §4.1.1.2). */
export function mailCommand(from: string, params: MailParameters): string {
  let line = `MAIL FROM:<${from}>`;
  if (params.size !== undefined) line += ` SIZE=${params.size}`; // RFC 1870 §6
  if (params.eightBit) line += " BODY=8BITMIME"; // RFC 6152 §2
  if (params.smtputf8) line += " SMTPUTF8"; // RFC 6531 §3.4
  if (params.dsn?.ret) line += ` RET=${params.dsn.ret}`;
  if (params.dsn?.envid !== undefined) {
    assertSafeArgument(params.dsn.envid, "DSN envid", invalidArgument);
    line += ` ENVID=${xtext(params.dsn.envid)}`;
  }
  return `${line}\r\n`;
}

/** RCPT TO:<forward-path> with DSN parameters (RFC 5321 §4.1.1.3, RFC 3461 §4.1–4.2). */
export function rcptCommand(to: string, dsn: DSNOptions | undefined): string {
  let line = `RCPT TO:<${to}>`;
  if (dsn?.notify && dsn.notify.length > 0) {
    if (dsn.notify.includes("NEVER") && dsn.notify.length > 1) {
      throw invalidArgument("DSN notify NEVER cannot be combined with other values");
    }
    line += ` NOTIFY=${dsn.notify.join(",")}`;
  }
  if (dsn && dsn.orcpt !== false) {
    line += isNonAscii(to) ? ` ORCPT=utf-8;${unitext(to)}` : ` ORCPT=rfc822;${xtext(to)}`;
  }
  return `${line}\r\n`;
}

/** Whether the options ask for anything that needs the DSN extension. */
export function wantsDSN(dsn: DSNOptions | undefined): boolean {
  return !!dsn && (!!dsn.notify?.length || !!dsn.ret || dsn.envid !== undefined);
}
