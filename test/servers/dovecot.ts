/**
 * Dovecot from a temp config (`dovecot -F -c FILE`) with LMTP delivery into Maildirs and a SASL
 * auth listener (for Postfix's `smtpd_sasl_type = dovecot`), both on free loopback ports.
 * dovecot-imap.ts adds IMAP listeners to the same config through `launchDovecot()`.
 * Dovecot refuses to deliver as root, so mail belongs to a dedicated system user
 * (`mtaio-vmail`, created once when we run as root) and `first_valid_uid` is lowered to it.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, chown, mkdir, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import {
  freePort,
  type RunningProcess,
  retryOnPortClash,
  startProcess,
  type TempDir,
  tempDir,
  waitForPort,
} from "./common.js";
import { systemUser } from "./smtp-sink.js";

export const MAIL_USER = "mtaio-vmail";

/** The uid/gid mail is stored as, creating the system user if needed (root only). */
export function ensureMailUser(): { uid: number; gid: number } {
  let user = systemUser(MAIL_USER);
  if (!user && process.getuid?.() === 0) {
    spawnSync("useradd", [
      "--system",
      "--no-create-home",
      "--shell",
      "/usr/sbin/nologin",
      MAIL_USER,
    ]);
    user = systemUser(MAIL_USER);
  }
  if (user) return user;
  const uid = process.getuid?.() ?? 1000;
  const gid = process.getgid?.() ?? 1000;
  return { uid, gid };
}

export interface Dovecot {
  lmtpPort: number;
  authPort: number;
  /** Directory holding one home per user (`<mailRoot>/<user lower-cased>/Maildir`). */
  mailRoot: string;
  /** Owner of the mail files (Dovecot's imap/lmtp processes run as this uid/gid). */
  owner: { uid: number; gid: number };
  /** Messages delivered to `user`'s INBOX (Maildir new/ + cur/), as raw bytes. */
  inbox(user: string): Promise<Buffer[]>;
  /** Waits until `user`'s INBOX holds at least `count` messages. */
  waitForMessages(user: string, count: number, timeoutMs?: number): Promise<Buffer[]>;
  process: RunningProcess;
  stop(): Promise<void>;
}

/** What a protocol adds to the shared config (see dovecot-imap.ts). */
export interface DovecotExtension {
  /** Added to `protocols = lmtp`. */
  protocols: string[];
  /** The `ssl = …` setting and its certificate lines (default `ssl = no`). */
  ssl?: string;
  /** Replaces the block that turns the imap-login listeners off. */
  imapLogin?: string;
  /** Appended to the config. */
  config: string;
  /** Waited for (besides LMTP and auth) before the server counts as started. */
  listeners: { host: string; port: number }[];
}

export function startDovecot(users: Record<string, string>): Promise<Dovecot> {
  return retryOnPortClash(() => launchDovecot(users, async () => undefined));
}

/**
 * Writes the shared config (plus what `extend` returns, given the temp dir before the config
 * is written, e.g. to make certificates in it) and starts Dovecot.
 */
export async function launchDovecot(
  users: Record<string, string>,
  extend: (dir: TempDir) => Promise<DovecotExtension | undefined>,
): Promise<Dovecot> {
  // Mail on tmpfs where there is one: seeding thousands of files on a busy disk is slow.
  const dir = await tempDir("dovecot", existsSync("/dev/shm") ? "/dev/shm" : undefined);
  await chmod(dir.path, 0o755);
  const owner = ensureMailUser();
  const lmtpPort = await freePort();
  const authPort = await freePort();
  const mailRoot = join(dir.path, "mail");
  await mkdir(mailRoot);
  await chown(mailRoot, owner.uid, owner.gid);
  for (const sub of ["run", "state"]) await mkdir(join(dir.path, sub));
  const passwd = Object.entries(users)
    .map(([user, password]) => `${user}:{PLAIN}${password}::::::`)
    .join("\n");
  const passwdFile = await dir.file("passwd", `${passwd}\n`);
  await chmod(passwdFile, 0o644);
  const extension = await extend(dir);
  const config = `
base_dir = ${dir.path}/run
state_dir = ${dir.path}/state
log_path = /dev/stderr
info_log_path = /dev/stderr
protocols = ${["lmtp", ...(extension?.protocols ?? [])].join(" ")}
listen = 127.0.0.1
${extension?.ssl ?? "ssl = no"}
first_valid_uid = ${owner.uid}
last_valid_uid = 0
mail_location = maildir:~/Maildir
auth_mechanisms = plain login
disable_plaintext_auth = no
# Tests try wrong passwords on purpose; Dovecot would wait 2 s before each answer.
auth_failure_delay = 0
passdb {
  driver = passwd-file
  args = ${passwdFile}
}
userdb {
  driver = static
  args = uid=${owner.uid} gid=${owner.gid} home=${mailRoot}/%Lu
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = ${lmtpPort}
  }
}
service auth {
  inet_listener {
    address = 127.0.0.1
    port = ${authPort}
  }
}
${
  extension?.imapLogin ??
  `service imap-login {
  inet_listener imap {
    port = 0
  }
  inet_listener imaps {
    port = 0
  }
}`
}
service pop3-login {
  inet_listener pop3 {
    port = 0
  }
  inet_listener pop3s {
    port = 0
  }
}
service submission-login {
  inet_listener submission {
    port = 0
  }
}
${extension?.config ?? ""}
`;
  const configFile = await dir.file("dovecot.conf", config);
  const running = await startProcess({
    command: "dovecot",
    args: ["-F", "-c", configFile],
    ready: async () => {
      await waitForPort(lmtpPort);
      await waitForPort(authPort);
      for (const { host, port } of extension?.listeners ?? []) await waitForPort(port, host);
    },
  });

  const inbox = async (user: string) => {
    const out: Buffer[] = [];
    for (const sub of ["new", "cur"]) {
      const folder = join(mailRoot, user.toLowerCase(), "Maildir", sub);
      const names = await readdir(folder).catch(() => [] as string[]);
      for (const name of names.sort()) out.push(await readFile(join(folder, name)));
    }
    return out;
  };
  return {
    lmtpPort,
    authPort,
    mailRoot,
    owner,
    process: running,
    inbox,
    async waitForMessages(user, count, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const messages = await inbox(user);
        if (messages.length >= count) return messages;
        if (Date.now() > deadline) {
          throw new Error(
            `${user} has ${messages.length}/${count} messages\n--- dovecot ---\n${running.output()}`,
          );
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async stop() {
      await running.stop();
      await dir.remove();
    },
  };
}
