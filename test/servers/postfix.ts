/**
 * A real Postfix MTA from a temp config directory (`postfix -c DIR start-fg`), listening for
 * SMTP on a free loopback port with STARTTLS on a test certificate and SASL AUTH through
 * Dovecot, and delivering the domain `example.test` to Dovecot over LMTP — the usual
 * production chain.
 *
 * Postfix only accepts a non-default config directory that the default main.cf lists in
 * `alternate_config_directories`; as root we append our (fixed) directory there once. The
 * queue and data directories live in a fresh temp dir each run.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { appendFile, chmod, chown, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  freePort,
  makeCertificates,
  type RunningProcess,
  startProcess,
  type TempDir,
  type TestCertificates,
  tempDir,
  waitForPort,
} from "./common.js";
import { systemUser } from "./smtp-sink.js";

/** Fixed so the one-time `alternate_config_directories` entry keeps matching. */
export const POSTFIX_CONFIG_DIR = "/tmp/mtaio-postfix-config";
const DEFAULT_MAIN_CF = "/etc/postfix/main.cf";

export interface PostfixOptions {
  certificates: TestCertificates;
  lmtpPort: number;
  saslPort: number;
  /** Addresses in example.test that exist; others are rejected at RCPT (550 5.1.1). */
  mailboxes: string[];
}

export interface Postfix {
  port: number;
  /** Postfix's mail log so far (for failure messages). */
  log(): Promise<string>;
  process: RunningProcess;
  stop(): Promise<void>;
}

/**
 * A temp dir with a certificate Postfix can use: its smtpd runs as `postfix`, so the dir and
 * the key must be readable by it. Remove the dir when done.
 */
export async function postfixCertificates(
  prefix: string,
): Promise<{ dir: TempDir; certificates: TestCertificates }> {
  const dir = await tempDir(prefix);
  await chmod(dir.path, 0o755);
  const certificates = await makeCertificates(dir.path);
  await chmod(certificates.keyFile, 0o644);
  return { dir, certificates };
}

/** Adds our config dir to the default main.cf once (root only). Returns false if impossible. */
export async function allowConfigDirectory(): Promise<boolean> {
  const main = existsSync(DEFAULT_MAIN_CF) ? readFileSync(DEFAULT_MAIN_CF, "utf8") : "";
  if (main.includes(POSTFIX_CONFIG_DIR)) return true;
  if (process.getuid?.() !== 0) return false;
  const existing = /^alternate_config_directories\s*=.*$/m.exec(main);
  if (existing) {
    await writeFile(
      DEFAULT_MAIN_CF,
      main.replace(existing[0], `${existing[0]} ${POSTFIX_CONFIG_DIR}`),
    );
  } else {
    await appendFile(
      DEFAULT_MAIN_CF,
      `\n# added by mtaio's test helper (test/servers/postfix.ts)\nalternate_config_directories = ${POSTFIX_CONFIG_DIR}\n`,
    );
  }
  return true;
}

/** Held while a Postfix runs from the one config dir: test files run in parallel. */
const LOCK_DIR = `${POSTFIX_CONFIG_DIR}.lock`;

/** True while the process that took the lock still runs. */
function lockHolderAlive(): boolean {
  try {
    const pid = Number(readFileSync(join(LOCK_DIR, "pid"), "utf8"));
    if (!Number.isInteger(pid) || pid <= 0) return false;
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but is not ours to signal.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Takes the config dir for this process (mkdir is atomic), waiting for another test file's
 * Postfix to stop, and taking over a lock whose holder died.
 */
async function lockConfigDirectory(timeoutMs = 170_000): Promise<() => Promise<void>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await mkdir(LOCK_DIR);
      await writeFile(join(LOCK_DIR, "pid"), String(process.pid));
      return () => rm(LOCK_DIR, { recursive: true, force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      // A lock without a pid file may be a moment old: only a dead holder's is taken over.
      if (existsSync(join(LOCK_DIR, "pid")) && !lockHolderAlive()) {
        await rm(LOCK_DIR, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`${LOCK_DIR} is held by another Postfix`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

export async function startPostfix(options: PostfixOptions): Promise<Postfix> {
  if (!(await allowConfigDirectory())) {
    throw new Error(
      `${DEFAULT_MAIN_CF} must list ${POSTFIX_CONFIG_DIR} in alternate_config_directories`,
    );
  }
  const unlock = await lockConfigDirectory();
  try {
    return await launchPostfix(options, unlock);
  } catch (error) {
    await unlock();
    throw error;
  }
}

async function launchPostfix(
  options: PostfixOptions,
  unlock: () => Promise<void>,
): Promise<Postfix> {
  const postfixUser = systemUser("postfix");
  if (!postfixUser) throw new Error("no postfix system user");
  const dir = await tempDir("postfix");
  // Postfix's daemons run as `postfix` and must reach the data directory inside.
  await chmod(dir.path, 0o755);
  const port = await freePort();
  const queue = join(dir.path, "queue");
  const data = join(dir.path, "data");
  await mkdir(queue);
  await mkdir(data);
  await chown(data, postfixUser.uid, postfixUser.gid);
  await rm(POSTFIX_CONFIG_DIR, { recursive: true, force: true });
  await mkdir(POSTFIX_CONFIG_DIR);
  const vmailbox = join(POSTFIX_CONFIG_DIR, "vmailbox");
  await writeFile(vmailbox, options.mailboxes.map((m) => `${m} ok\n`).join(""));
  const { certificates: certs } = options;
  const main = `
compatibility_level = 3.6
queue_directory = ${queue}
data_directory = ${data}
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.mtaio.test
mydomain = mtaio.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
maillog_file_prefixes = /var, /dev/stdout, ${dir.path}
maillog_file = ${join(dir.path, "maillog")}
alias_maps =
alias_database =
local_recipient_maps =
smtputf8_enable = yes
smtpd_banner = $myhostname ESMTP mtaio-test
virtual_mailbox_domains = example.test
virtual_mailbox_maps = texthash:${vmailbox}
virtual_transport = lmtp:inet:127.0.0.1:${options.lmtpPort}
smtpd_tls_cert_file = ${certs.certFile}
smtpd_tls_key_file = ${certs.keyFile}
smtpd_tls_security_level = may
smtpd_tls_auth_only = yes
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = inet:127.0.0.1:${options.saslPort}
smtpd_relay_restrictions = permit_sasl_authenticated, permit_mynetworks, reject_unauth_destination
smtpd_recipient_restrictions = reject_unlisted_recipient
message_size_limit = 52428800
`;
  await writeFile(join(POSTFIX_CONFIG_DIR, "main.cf"), main);
  const master = [
    `127.0.0.1:${port} inet n - n - - smtpd`,
    "pickup unix n - n 60 1 pickup",
    "cleanup unix n - n - 0 cleanup",
    "qmgr unix n - n 300 1 qmgr",
    "tlsmgr unix - - n 1000? 1 tlsmgr",
    "rewrite unix - - n - - trivial-rewrite",
    "bounce unix - - n - 0 bounce",
    "defer unix - - n - 0 bounce",
    "trace unix - - n - 0 bounce",
    "verify unix - - n - 1 verify",
    "flush unix n - n 1000? 0 flush",
    "proxymap unix - - n - - proxymap",
    "proxywrite unix - - n - 1 proxymap",
    "smtp unix - - n - - smtp",
    "relay unix - - n - - smtp",
    "showq unix n - n - - showq",
    "error unix - - n - - error",
    "retry unix - - n - - error",
    "discard unix - - n - - discard",
    "lmtp unix - - n - - lmtp",
    "anvil unix - - n - 1 anvil",
    "scache unix - - n - 1 scache",
    "postlog unix-dgram n - n - 1 postlogd",
  ].join("\n");
  await writeFile(join(POSTFIX_CONFIG_DIR, "master.cf"), `${master}\n`);
  // Creates the queue's subdirectories with the right owners.
  execFileSync("postfix", ["-c", POSTFIX_CONFIG_DIR, "check"], { stdio: "pipe" });
  // The master daemon itself, kept in the foreground (-d): `postfix start-fg` goes through
  // postfix-script, which hides start-up failures in syslog.
  const running = await startProcess({
    command: "/usr/lib/postfix/sbin/master",
    args: ["-c", POSTFIX_CONFIG_DIR, "-d"],
    ready: () => waitForPort(port),
    readyTimeoutMs: 20_000,
  });
  return {
    port,
    process: running,
    log: () => readFile(join(dir.path, "maillog"), "utf8").catch(() => ""),
    async stop() {
      // `postfix stop` lets master shut its children down cleanly; SIGTERM is the fallback.
      try {
        execFileSync("postfix", ["-c", POSTFIX_CONFIG_DIR, "stop"], { stdio: "pipe" });
      } catch {
        // already gone
      }
      await running.stop(5000);
      await dir.remove();
      await unlock();
    },
  };
}
