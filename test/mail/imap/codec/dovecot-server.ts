/**
 * A Dovecot IMAP server from a temp config, for the codec's real-server test: one user,
 * Maildir storage, plain LOGIN over loopback, on a free port. (The shared helper in
 * test/servers/dovecot.ts serves LMTP and SASL for the SMTP suites, not IMAP.)
 */
import { chmod, chown, mkdir } from "node:fs/promises";
import { join } from "node:path";
import {
  freePort,
  type RunningProcess,
  startProcess,
  tempDir,
  waitForPort,
} from "../../../servers/common.js";
import { ensureMailUser } from "../../../servers/dovecot.js";

export interface DovecotIMAP {
  port: number;
  process: RunningProcess;
  stop(): Promise<void>;
}

export async function startDovecotIMAP(user: string, password: string): Promise<DovecotIMAP> {
  const dir = await tempDir("dovecot-imap");
  await chmod(dir.path, 0o755);
  const owner = ensureMailUser();
  const port = await freePort();
  const mailRoot = join(dir.path, "mail");
  await mkdir(mailRoot);
  await chown(mailRoot, owner.uid, owner.gid);
  for (const sub of ["run", "state"]) await mkdir(join(dir.path, sub));
  const passwdFile = await dir.file("passwd", `${user}:{PLAIN}${password}::::::\n`);
  await chmod(passwdFile, 0o644);
  const config = `
base_dir = ${dir.path}/run
state_dir = ${dir.path}/state
log_path = /dev/stderr
info_log_path = /dev/stderr
protocols = imap
listen = 127.0.0.1
ssl = no
first_valid_uid = ${owner.uid}
last_valid_uid = 0
mail_location = maildir:~/Maildir
auth_mechanisms = plain login
disable_plaintext_auth = no
mail_plugins = $mail_plugins
namespace inbox {
  inbox = yes
  separator = /
  mailbox Sent {
    special_use = \\Sent
    auto = create
  }
}
passdb {
  driver = passwd-file
  args = ${passwdFile}
}
userdb {
  driver = static
  args = uid=${owner.uid} gid=${owner.gid} home=${mailRoot}/%Lu
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener imaps {
    port = 0
  }
}
`;
  const configFile = await dir.file("dovecot.conf", config);
  const running = await startProcess({
    command: "dovecot",
    args: ["-F", "-c", configFile],
    ready: () => waitForPort(port),
  });
  return {
    port,
    process: running,
    async stop() {
      await running.stop();
      await dir.remove();
    },
  };
}
