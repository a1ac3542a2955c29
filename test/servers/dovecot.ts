/**
 * Dovecot from a temp config (`dovecot -F -c FILE`) with LMTP delivery into Maildirs and a SASL
 * auth listener (for Postfix's `smtpd_sasl_type = dovecot`), both on free loopback ports.
 * Dovecot refuses to deliver as root, so mail belongs to a dedicated system user
 * (`mtaio-vmail`, created once when we run as root) and `first_valid_uid` is lowered to it.
 */
import { spawnSync } from "node:child_process";
import { chmod, chown, mkdir, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { freePort, type RunningProcess, startProcess, tempDir, waitForPort } from "./common.js";
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
  /** Messages delivered to `user`'s INBOX (Maildir new/ + cur/), as raw bytes. */
  inbox(user: string): Promise<Buffer[]>;
  /** Waits until `user`'s INBOX holds at least `count` messages. */
  waitForMessages(user: string, count: number, timeoutMs?: number): Promise<Buffer[]>;
  process: RunningProcess;
  stop(): Promise<void>;
}

export async function startDovecot(users: Record<string, string>): Promise<Dovecot> {
  const dir = await tempDir("dovecot");
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
  const config = `
base_dir = ${dir.path}/run
state_dir = ${dir.path}/state
log_path = /dev/stderr
info_log_path = /dev/stderr
protocols = lmtp
listen = 127.0.0.1
ssl = no
first_valid_uid = ${owner.uid}
last_valid_uid = 0
mail_location = maildir:~/Maildir
auth_mechanisms = plain login
disable_plaintext_auth = no
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
service imap-login {
  inet_listener imap {
    port = 0
  }
  inet_listener imaps {
    port = 0
  }
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
`;
  const configFile = await dir.file("dovecot.conf", config);
  const running = await startProcess({
    command: "dovecot",
    args: ["-F", "-c", configFile],
    ready: async () => {
      await waitForPort(lmtpPort);
      await waitForPort(authPort);
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
