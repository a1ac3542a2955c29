/**
 * Dovecot as an IMAP server for the IMAP client tests and benchmark: the shared Dovecot config
 * (dovecot.ts) plus an implicit-TLS listener (`imapsPort`) and a plaintext one that offers
 * STARTTLS (`imapPort`), with a certificate made at test time (trust `ca` in the client).
 * Capabilities are Dovecot 2.3's (IDLE, MOVE, UIDPLUS, CONDSTORE, QRESYNC, LITERAL+,
 * SPECIAL-USE, ESEARCH, …) plus COMPRESS=DEFLATE from the imap_zlib plugin. Mail is Maildir++
 * with "/" as hierarchy separator; Drafts, Sent, Trash and Junk exist with their special use.
 */
import { existsSync } from "node:fs";
import { freePort, makeCertificates, retryOnPortClash, type TestCertificates } from "./common.js";
import { type Dovecot, launchDovecot } from "./dovecot.js";
import { deliverLMTP } from "./lmtp.js";
import { createMailbox, type SeedOptions, seedMaildir } from "./maildir.js";

const IMAP_ZLIB = "/usr/lib/dovecot/modules/lib30_imap_zlib_plugin.so";

export interface DovecotIMAPOptions {
  /**
   * `disable_plaintext_auth = yes`: no LOGIN or AUTHENTICATE before TLS (LOGINDISABLED).
   * Dovecot counts a client whose address equals its own as secure, so with this (or
   * `sslRequired`) the listeners move to 127.0.0.2 and clients must connect to `host`.
   */
  disablePlaintextAuth?: boolean;
  /** `ssl = required`: authentication only over TLS (see `disablePlaintextAuth` for `host`). */
  sslRequired?: boolean;
  /** Offer COMPRESS=DEFLATE (default: when the imap_zlib plugin is installed). */
  compress?: boolean;
  /**
   * `imap_capability`: the capabilities announced after login instead of Dovecot's own, to
   * play a server without some extension (the commands still work if sent anyway).
   */
  capabilities?: string;
}

export interface DovecotIMAP extends Dovecot {
  /** Address the IMAP listeners are on (127.0.0.1, or 127.0.0.2; see the options). */
  host: string;
  /** Plaintext IMAP offering STARTTLS. */
  imapPort: number;
  /** IMAP over implicit TLS. */
  imapsPort: number;
  /** PEM of the CA that signed the server certificate: pass as `tls: { ca }`. */
  ca: string;
  certificates: TestCertificates;
  /** True when COMPRESS=DEFLATE is offered (the imap_zlib plugin is installed). */
  compress: boolean;
  /** Writes messages into a mailbox directly (see maildir.ts); returns the file paths. */
  seedMaildir(user: string, messages: readonly Uint8Array[], options?: SeedOptions): string[];
  /** Creates a mailbox ("/"-separated, any Unicode) without going through IMAP. */
  createMailbox(user: string, mailbox: string): void;
  /**
   * Delivers one message to `user`'s INBOX through LMTP (as an MTA would). It takes the next
   * UID at once, ahead of seeded files Dovecot has not looked at yet.
   */
  deliver(user: string, message: Uint8Array | string): Promise<void>;
}

export function startDovecotIMAP(
  users: Record<string, string>,
  options: DovecotIMAPOptions = {},
): Promise<DovecotIMAP> {
  return retryOnPortClash(() => startDovecotIMAPOnce(users, options));
}

async function startDovecotIMAPOnce(
  users: Record<string, string>,
  options: DovecotIMAPOptions,
): Promise<DovecotIMAP> {
  const host = options.disablePlaintextAuth || options.sslRequired ? "127.0.0.2" : "127.0.0.1";
  const imapPort = await freePort(host);
  const imapsPort = await freePort(host);
  const compress = (options.compress ?? true) && existsSync(IMAP_ZLIB);
  let certificates: TestCertificates | undefined;
  const dovecot = await launchDovecot(users, async (dir) => {
    certificates = await makeCertificates(dir.path);
    return {
      protocols: ["imap"],
      ssl: `ssl = ${options.sslRequired ? "required" : "yes"}
ssl_cert = <${certificates.certFile}
ssl_key = <${certificates.keyFile}`,
      imapLogin: `service imap-login {
  inet_listener imap {
    address = ${host}
    port = ${imapPort}
  }
  inet_listener imaps {
    address = ${host}
    port = ${imapsPort}
    ssl = yes
  }
}`,
      config: `
${options.disablePlaintextAuth ? "disable_plaintext_auth = yes" : ""}
protocol imap {
  # Tests and benchmarks open many connections at once for one user.
  mail_max_userip_connections = 100
  ${compress ? "mail_plugins = $mail_plugins imap_zlib" : ""}
  ${options.capabilities ? `imap_capability = ${options.capabilities}` : ""}
}
namespace inbox {
  inbox = yes
  separator = /
  mailbox Drafts {
    auto = create
    special_use = \\Drafts
  }
  mailbox Sent {
    auto = create
    special_use = \\Sent
  }
  mailbox Trash {
    auto = create
    special_use = \\Trash
  }
  mailbox Junk {
    auto = create
    special_use = \\Junk
  }
}
`,
      listeners: [
        { host, port: imapPort },
        { host, port: imapsPort },
      ],
    };
  });
  if (!certificates) throw new Error("certificates were not made");
  const store = { mailRoot: dovecot.mailRoot, owner: dovecot.owner };
  return {
    ...dovecot,
    host,
    imapPort,
    imapsPort,
    ca: certificates.ca,
    certificates,
    compress,
    seedMaildir: (user, messages, seed) => seedMaildir(store, user, messages, seed),
    createMailbox: (user, mailbox) => {
      createMailbox(store, user, mailbox);
    },
    deliver: (user, message) => deliverLMTP(dovecot.lmtpPort, user, message),
  };
}
