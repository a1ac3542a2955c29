/**
 * How `mtaio mqtt sub` prints a message: the payload as it came (default), `topic payload`
 * (-v), a JSON object per line (--json, or %j / %J inside -F), or a `-F` format string in the
 * spirit of mosquitto_sub's. Pure: a message and a clock in, bytes out; the payload bytes are
 * written untouched unless JSON or hex was asked for.
 */
import { Buffer } from "node:buffer";
import type { MQTTMessage } from "../client/message.js";

export interface OutputOptions {
  verbose: boolean;
  format?: string;
  json: boolean;
  pretty: boolean;
  /** Print a newline after each message (off with -N). */
  eol: boolean;
}

const fatalUtf8 = new TextDecoder("utf-8", { fatal: true });

/** The bytes to write for one message (including the trailing newline unless -N). */
export function formatMessage(message: MQTTMessage, options: OutputOptions, now: Date): Buffer {
  const parts: Buffer[] = [];
  if (options.json) {
    parts.push(Buffer.from(jsonLine(message, now, true, options.pretty)));
  } else if (options.format !== undefined) {
    parts.push(...formatString(options.format, message, now, options.pretty));
  } else {
    if (options.verbose) parts.push(Buffer.from(`${message.topic} `));
    parts.push(Buffer.from(message.bytes()));
  }
  if (options.eol) parts.push(Buffer.from("\n"));
  return Buffer.concat(parts);
}

/**
 * The JSON form of a message, shaped as mosquitto_sub's `%j` / `%J`: `tst` (the receive time,
 * ISO 8601 UTC), `topic`, `qos`, `retain` (0 or 1), `payloadlen`, MQTT 5 `properties` when
 * there are any, and `payload`: the text when the payload is UTF-8, otherwise `payload_base64`
 * carries the bytes. `parsePayload` (--json, %J) gives a JSON payload as a JSON value.
 */
export function jsonLine(
  message: MQTTMessage,
  now: Date,
  parsePayload: boolean,
  pretty: boolean,
): string {
  const bytes = message.bytes();
  const object: Record<string, unknown> = {
    tst: now.toISOString(),
    topic: message.topic,
    qos: message.qos,
    retain: message.retain ? 1 : 0,
    payloadlen: bytes.length,
  };
  const properties = propertiesObject(message);
  if (Object.keys(properties).length > 0) object.properties = properties;
  const text = utf8(bytes);
  if (text === undefined) object.payload_base64 = Buffer.from(bytes).toString("base64");
  else object.payload = parsePayload && isJson(text) ? JSON.parse(text) : text;
  return JSON.stringify(object, null, pretty ? 2 : undefined);
}

function propertiesObject(message: MQTTMessage): Record<string, unknown> {
  const p = message.properties;
  const out: Record<string, unknown> = {};
  if (p.payloadFormatIndicator !== undefined)
    out["payload-format-indicator"] = p.payloadFormatIndicator;
  if (p.messageExpiryInterval !== undefined)
    out["message-expiry-interval"] = p.messageExpiryInterval;
  if (p.contentType !== undefined) out["content-type"] = p.contentType;
  if (p.responseTopic !== undefined) out["response-topic"] = p.responseTopic;
  if (p.correlationData !== undefined) {
    const text = utf8(p.correlationData);
    out["correlation-data"] = text ?? Buffer.from(p.correlationData).toString("base64");
  }
  if (p.subscriptionIdentifiers?.length) out["subscription-identifier"] = p.subscriptionIdentifiers;
  if (p.userProperties?.length) out["user-properties"] = userPropertiesObject(p.userProperties);
  return out;
}

/** `{ name: value }`, as mosquitto_sub prints them; a name given more than once (MQTT allows
 * it, §3.3.2.3.7) gets the array of its values, in order, rather than losing all but one. */
function userPropertiesObject(pairs: Array<[string, string]>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of pairs) {
    const seen = out[name];
    if (seen === undefined) out[name] = value;
    else out[name] = Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return out;
}

function utf8(bytes: Uint8Array): string | undefined {
  try {
    return fatalUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

const ESCAPES: Record<string, string> = {
  "\\": "\\",
  "0": "\0",
  a: "\x07",
  e: "\x1b",
  n: "\n",
  r: "\r",
  t: "\t",
  v: "\v",
};

/**
 * `-F`: `%` fields of the message, `@` fields of the receive time (local, like strftime) and
 * `\` escapes. Unknown sequences are printed as they are.
 */
export function formatString(
  format: string,
  message: MQTTMessage,
  now: Date,
  pretty = false,
): Buffer[] {
  const out: Buffer[] = [];
  let text = "";
  const flush = () => {
    if (text) out.push(Buffer.from(text));
    text = "";
  };
  for (let i = 0; i < format.length; i++) {
    const c = format[i];
    const next = format[i + 1];
    if ((c !== "%" && c !== "@" && c !== "\\") || next === undefined) {
      text += c;
      continue;
    }
    i++;
    if (c === "\\") {
      text += ESCAPES[next] ?? `\\${next}`;
    } else if (c === "@") {
      text += timeField(next, now) ?? `@${next}`;
    } else if (next === "p") {
      flush();
      out.push(Buffer.from(message.bytes()));
    } else {
      text += messageField(next, message, now, pretty) ?? `%${next}`;
    }
  }
  flush();
  return out;
}

function messageField(
  field: string,
  message: MQTTMessage,
  now: Date,
  pretty: boolean,
): string | undefined {
  const p = message.properties;
  switch (field) {
    case "%":
      return "%";
    case "t":
      return message.topic;
    case "q":
      return String(message.qos);
    case "r":
      return message.retain ? "1" : "0";
    case "m":
      return String(message.messageId ?? 0);
    case "l":
      return String(message.bytes().length);
    case "x":
      return Buffer.from(message.bytes()).toString("hex");
    case "X":
      return Buffer.from(message.bytes()).toString("hex").toUpperCase();
    case "j":
      return jsonLine(message, now, false, pretty);
    case "J":
      return jsonLine(message, now, true, pretty);
    case "I":
      return isoLocal(now);
    case "U":
      return `${Math.floor(now.getTime() / 1000)}.${String(now.getTime() % 1000).padStart(3, "0")}000000`;
    case "C":
      return p.contentType ?? "";
    case "E":
      return p.messageExpiryInterval === undefined ? "" : String(p.messageExpiryInterval);
    case "F":
      return p.payloadFormatIndicator === undefined ? "" : String(p.payloadFormatIndicator);
    case "R":
      return p.responseTopic ?? "";
    case "D":
      return p.correlationData ? Buffer.from(p.correlationData).toString("utf8") : "";
    case "P":
      return (p.userProperties ?? []).map(([name, value]) => `${name}:${value}`).join(" ");
    case "S":
      return (p.subscriptionIdentifiers ?? []).join(",");
    default:
      return undefined;
  }
}

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

function timeField(field: string, now: Date): string | undefined {
  switch (field) {
    case "@":
      return "@";
    case "Y":
      return String(now.getFullYear());
    case "m":
      return pad(now.getMonth() + 1);
    case "d":
      return pad(now.getDate());
    case "H":
      return pad(now.getHours());
    case "M":
      return pad(now.getMinutes());
    case "S":
      return pad(now.getSeconds());
    case "s":
      return String(Math.floor(now.getTime() / 1000));
    case "N":
      return `${pad(now.getMilliseconds(), 3)}000000`;
    case "z":
      return offset(now);
    default:
      return undefined;
  }
}

/** ISO 8601 in local time with the numeric offset, as strftime's `%Y-%m-%dT%H:%M:%S%z`. */
function isoLocal(now: Date): string {
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}T${pad(now.getHours())}:${pad(now.getMinutes())}:${pad(now.getSeconds())}${offset(now)}`;
}

function offset(now: Date): string {
  const minutes = -now.getTimezoneOffset();
  const sign = minutes < 0 ? "-" : "+";
  const abs = Math.abs(minutes);
  return `${sign}${pad(Math.floor(abs / 60))}${pad(abs % 60)}`;
}
