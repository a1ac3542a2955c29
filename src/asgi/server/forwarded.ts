/**
 * Proxy headers (uvicorn's `--forwarded-allow-ips`): behind a trusted reverse proxy, the
 * client address and scheme come from `X-Forwarded-For` / `X-Forwarded-Proto` instead of
 * the TCP connection. Only peers listed as trusted may set them — anyone else could forge
 * their address.
 */
import type { ASGIHeaders } from "../types.js";

export interface Forwarded {
  client: [string, number] | null;
  scheme: "http" | "https" | null;
}

/** Trusted proxy addresses; `"*"` trusts every peer. */
export class ForwardedTrust {
  private readonly all: boolean;
  private readonly hosts: Set<string>;

  constructor(hosts: string[]) {
    this.all = hosts.includes("*");
    // An IPv4 peer on a dual-stack socket shows up as ::ffff:a.b.c.d.
    this.hosts = new Set(hosts.flatMap((host) => [host, `::ffff:${host}`]));
  }

  trusts(host: string): boolean {
    return this.all || this.hosts.has(host);
  }

  /**
   * What a trusted peer's headers say. `X-Forwarded-For` is read right to left, skipping
   * trusted proxies: the first other address is the client (earlier entries could be forged
   * by the client itself).
   */
  read(headers: ASGIHeaders): Forwarded {
    let forwardedFor: string | undefined;
    let proto: string | undefined;
    for (const [name, value] of headers) {
      if (name === "x-forwarded-for") {
        forwardedFor = forwardedFor === undefined ? value : `${forwardedFor},${value}`;
      } else if (name === "x-forwarded-proto" && proto === undefined) {
        proto = value;
      }
    }
    let client: [string, number] | null = null;
    if (forwardedFor !== undefined) {
      const hops = forwardedFor
        .split(",")
        .map((hop) => hop.trim())
        .filter(Boolean);
      let chosen = hops[0];
      for (let i = hops.length - 1; i >= 0; i--) {
        if (!this.trusts(hops[i])) {
          chosen = hops[i];
          break;
        }
      }
      if (chosen !== undefined) client = [chosen, 0];
    }
    const first = proto?.split(",")[0]?.trim().toLowerCase();
    const scheme = first === "https" ? "https" : first === "http" ? "http" : null;
    return { client, scheme };
  }
}
