/**
 * Server redirection (MQTT 5 §4.11): a CONNACK or DISCONNECT with reason 0x9C "Use another
 * server" or 0x9D "Server moved" may carry a Server Reference property (§3.2.2.3.16,
 * §3.14.2.2.5) naming where to go instead. Its format is not specified beyond "a space
 * separated list of references"; the spec's examples are `host`, `host:port` and
 * `[ipv6]:port`, and a URL (`mqtts://host:port`) is read too. Pure: the packet in, the
 * servers to try out; ServerList and the client do the following.
 */
import type { Properties } from "../codec/index.js";
import { type Endpoint, parseEndpoint } from "./options.js";

/** Reason code 0x9C: the client should temporarily use another server. */
export const USE_ANOTHER_SERVER = 0x9c;
/** Reason code 0x9D: the client should permanently use another server. */
export const SERVER_MOVED = 0x9d;

/** Redirections in a row followed when `maxRedirects` is not given. */
export const DEFAULT_MAX_REDIRECTS = 5;

/** How many servers one reference may name: a broker cannot make us try a thousand. */
const MAX_TARGETS = 16;

export interface ServerRedirect {
  /** 0x9D: the member itself has moved (later rounds go to the first target). */
  moved: boolean;
  reasonCode: number;
  /** The Server Reference as the broker sent it (for error messages). */
  reference: string;
  /** The servers it names, in its order; never empty. */
  targets: Endpoint[];
}

/**
 * The redirection a CONNACK or DISCONNECT asks for, or undefined when it asks for none (another
 * reason code, no Server Reference, or none of its references readable: then the packet is an
 * ordinary refusal or disconnection). Targets keep the transport, path and credentials of
 * `from`, and its port unless the reference names one: a cluster's nodes usually listen alike.
 */
export function serverRedirect(
  reasonCode: number,
  properties: Properties | undefined,
  version: 4 | 5,
  from: Endpoint,
): ServerRedirect | undefined {
  if (version !== 5) return undefined; // 3.1.1 has no redirection.
  if (reasonCode !== USE_ANOTHER_SERVER && reasonCode !== SERVER_MOVED) return undefined;
  const reference = properties?.serverReference;
  if (!reference) return undefined;
  const targets = parseServerReference(reference, from);
  if (targets.length === 0) return undefined;
  return { moved: reasonCode === SERVER_MOVED, reasonCode, reference, targets };
}

/** Reads each space-separated reference that names a server; unreadable ones are skipped. */
export function parseServerReference(reference: string, from: Endpoint): Endpoint[] {
  const targets: Endpoint[] = [];
  for (const word of reference.split(/\s+/)) {
    if (targets.length === MAX_TARGETS) break;
    const target = word && parseOne(word, from);
    if (target) targets.push(target);
  }
  return targets;
}

/** Host names and IP literals only: anything else could be a trick, never a server. */
const HOST = /^(?:[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,252})|[0-9A-Fa-f:.]+(?:%[A-Za-z0-9_.-]+)?)$/;

const SECURE = new Set(["mqtts", "wss"]);

function parseOne(word: string, from: Endpoint): Endpoint | undefined {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(word)) {
    let url: Endpoint;
    try {
      url = parseEndpoint(word, undefined, {});
    } catch {
      return undefined;
    }
    // No way from TLS to plain text: the credentials would cross the network in the clear.
    if (SECURE.has(from.protocol) && !SECURE.has(url.protocol)) return undefined;
    if (!HOST.test(url.host)) return undefined;
    // Credentials stay ours: a broker does not choose what we log in with.
    return { ...url, username: from.username, password: from.password };
  }
  let host = word;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(word);
  if (bracketed) [, host, portText] = bracketed;
  else if (word.includes(":") && word.indexOf(":") === word.lastIndexOf(":")) {
    // `host:port`; more than one colon is a bare IPv6 address, without a port.
    [host, portText] = word.split(":");
  }
  if (!HOST.test(host)) return undefined;
  if (portText === undefined) return { ...from, host };
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535) return undefined;
  return { ...from, host, port };
}
