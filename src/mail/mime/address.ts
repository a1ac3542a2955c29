/**
 * Addresses given by the caller: normalising `AddressInput` into `MailAddress`, writing
 * address lists into headers (display names as atoms, quoted strings or RFC 2047 words), and
 * the bare addr-specs of the SMTP envelope (IDN domains as A-labels unless SMTPUTF8 is needed).
 */
import { domainToASCII } from "node:url";
import { parseAddressList } from "./address-parse.js";
import { EncodedWordCutter, MAX_ENCODED_WORD, MIN_ENCODED_WORD } from "./encoded-word.js";
import { MIME_ERROR_CODES, mimeError } from "./errors.js";
import type { FoldedHeader } from "./fold.js";
import { checkValue } from "./header-check.js";
import type { AddressInput, MailAddress } from "./types.js";

export { parseAddressList };

const ATOMS = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+( [A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const MAX_QUOTED_NAME = 60;
const MAX_ATOM = 60;

function splitAddress(address: string): { local: string; domain: string } {
  const at = address.lastIndexOf("@");
  return { local: address.slice(0, at), domain: address.slice(at + 1) };
}

/** True when the address needs SMTPUTF8 (a non-ASCII local part; RFC 6531). */
export function needsUtf8(address: string): boolean {
  return /[^\0-\x7f]/.test(splitAddress(address).local);
}

function invalid(address: string, why: string): never {
  throw mimeError(
    MIME_ERROR_CODES.invalidAddress,
    `Invalid address ${JSON.stringify(address.slice(0, 200))}: ${why}`,
  );
}

function checkAddrSpec(address: string): string {
  checkValue(address, "An address");
  const parsed = parseAddressList(address, true);
  if (parsed.length !== 1 || parsed[0].name !== undefined) invalid(address, "not one addr-spec");
  const normal = parsed[0].address;
  if (!normal.includes("@")) invalid(address, "no @domain");
  const { local, domain } = splitAddress(normal);
  if (local.length > 256) invalid(address, "local part too long");
  if (domain.startsWith("[")) {
    // RFC 5321 §4.5.3.1.2: a domain is at most 255 octets; a literal is an address, far shorter.
    if (!/^\[[!-Z^-~]*\]$/.test(domain) || domain.length > 255)
      invalid(address, "bad domain literal");
  } else if (/[^\0-\x7f]/.test(domain) ? domainToASCII(domain) === "" : !isHostname(domain)) {
    invalid(address, "bad domain");
  }
  return normal;
}

function isHostname(domain: string): boolean {
  return (
    domain.length <= 253 &&
    domain
      .split(".")
      .every((label) => /^[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/.test(label))
  );
}

/** Normalises caller input into mailboxes; throws `MailError` for anything unsafe or unreadable. */
export function normalizeAddresses(inputs: readonly AddressInput[], what: string): MailAddress[] {
  const out: MailAddress[] = [];
  for (const input of inputs) {
    if (typeof input === "string") {
      checkValue(input, what);
      for (const box of parseAddressList(input, true)) {
        const address = checkAddrSpec(box.address);
        out.push(box.name === undefined ? { address } : { name: box.name, address });
        if (box.group !== undefined) out[out.length - 1].group = box.group;
      }
    } else if (input && typeof input === "object" && typeof input.address === "string") {
      const address = checkAddrSpec(input.address);
      const box: MailAddress = { address };
      if (input.name !== undefined && input.name !== null) {
        checkValue(input.name, `The display name in ${what}`);
        if (input.name !== "") box.name = input.name;
      }
      if (input.group !== undefined) {
        checkValue(input.group, `The group name in ${what}`);
        box.group = input.group;
      }
      out.push(box);
    } else {
      throw mimeError(
        MIME_ERROR_CODES.invalidAddress,
        `${what}: an address must be a string or { name?, address }`,
      );
    }
  }
  return out;
}

/** The addr-spec as written in a header or an SMTP command. */
export function wireAddress(address: string, smtputf8: boolean): string {
  const { local, domain } = splitAddress(address);
  if (/[^\0-\x7f]/.test(local) && !smtputf8) {
    throw mimeError(
      MIME_ERROR_CODES.utf8Required,
      `${JSON.stringify(address)} has a non-ASCII local part: it can only be sent with SMTPUTF8`,
    );
  }
  if (/[^\0-\x7f]/.test(domain) && !smtputf8) return `${local}@${domainToASCII(domain)}`;
  return address;
}

/**
 * Writes encoded-words like `addEncoded`, but keeps room for `suffix` (`:` after a group name)
 * on every line, so the punctuation glued to the last word cannot push it past 78 columns.
 */
function addEncodedPhrase(header: FoldedHeader, ws: string, text: string, suffix: string): void {
  const cutter = new EncodedWordCutter(text);
  let space = ws;
  while (!cutter.done) {
    let room = header.room(space) - suffix.length;
    if (room < MIN_ENCODED_WORD) {
      header.fold();
      space = " ";
      room = header.room(space) - suffix.length;
    }
    const word = cutter.next(Math.min(room, MAX_ENCODED_WORD));
    header.add(space, cutter.done ? word + suffix : word);
    space = " ";
  }
}

/**
 * Writes one display name as a phrase (RFC 5322 §3.2.5), with `suffix` glued to its last
 * token: punctuation may not be separated from what it ends by a fold.
 */
function addPhrase(
  header: FoldedHeader,
  ws: string,
  name: string,
  smtputf8: boolean,
  suffix = "",
): void {
  const words = name.split(" ");
  // Atoms are written as they are only when each fits a line: a longer one is encoded, so it
  // can be cut into encoded-words and folded (RFC 5322 §2.1.1).
  if (ATOMS.test(name) && !name.includes("=?") && words.every((w) => w.length <= MAX_ATOM)) {
    words.forEach((word, i) => {
      header.add(i === 0 ? ws : " ", i === words.length - 1 ? word + suffix : word);
    });
    return;
  }
  const printable = smtputf8 ? !/[\0-\x1f\x7f-\x9f]/.test(name) : /^[ -~]*$/.test(name);
  if (printable && name.length <= MAX_QUOTED_NAME && !name.includes("=?")) {
    header.add(ws, `"${name.replace(/(["\\])/g, "\\$1")}"${suffix}`);
    return;
  }
  // RFC 2047 §5 (3): an encoded-word in a phrase is separated from a following special (the
  // group's `:`) by whitespace.
  addEncodedPhrase(header, ws, name, suffix === "" ? "" : ` ${suffix}`);
}

/**
 * Writes an address list (From, To, Cc, Reply-To) with groups (RFC 5322 §3.4). Folds happen
 * only before a mailbox, a display name word or an encoded-word; the `,`, `:` and `;` that
 * follow a token are written together with it, so they count towards its line's length.
 */
export function addAddressList(
  header: FoldedHeader,
  addresses: readonly MailAddress[],
  smtputf8: boolean,
): void {
  let openGroup: string | undefined;
  addresses.forEach((box, index) => {
    if (box.group !== openGroup && box.group !== undefined) {
      addPhrase(header, " ", box.group, smtputf8, ":");
    }
    openGroup = box.group;
    const next = addresses[index + 1];
    let suffix = "";
    if (box.group !== undefined && next?.group !== box.group) suffix += ";";
    if (next !== undefined) suffix += ",";
    const spec = wireAddress(box.address, smtputf8);
    if (box.name !== undefined && box.name !== "") {
      addPhrase(header, " ", box.name, smtputf8);
      header.add(" ", `<${spec}>${suffix}`);
    } else {
      header.add(" ", spec + suffix);
    }
  });
}

/** `Name <addr>` for display and logs (not for headers: no encoding is applied). */
export function formatAddress(box: MailAddress): string {
  if (!box.name) return box.address;
  const name = ATOMS.test(box.name) ? box.name : `"${box.name.replace(/(["\\])/g, "\\$1")}"`;
  return `${name} <${box.address}>`;
}

/** Parses one address (throws `MAIL_INVALID_ADDRESS` unless the text holds exactly one). */
export function parseAddress(input: string): MailAddress {
  const list = normalizeAddresses([input], "address");
  if (list.length !== 1) {
    throw mimeError(
      MIME_ERROR_CODES.invalidAddress,
      `Expected one address in ${JSON.stringify(input)}`,
    );
  }
  return list[0];
}
