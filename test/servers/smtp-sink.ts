/**
 * Postfix's `smtp-sink` test server on a free loopback port. It accepts everything (unless
 * told otherwise with its flags, e.g. `-f RCPT` to hard-reject, `-q MAIL` to drop the
 * connection) and, with `dump: true`, writes each transaction to a file we can read back.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { chown, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { freePort, type RunningProcess, startProcess, tempDir, waitForPort } from "./common.js";

export const SMTP_SINK =
  ["/usr/sbin/smtp-sink", "/usr/lib/postfix/sbin/smtp-sink"].find((p) => existsSync(p)) ??
  "smtp-sink";

/** uid/gid of a system user (for servers that drop root privileges and must write files). */
export function systemUser(name: string): { uid: number; gid: number } | undefined {
  const uid = spawnSync("id", ["-u", name], { encoding: "utf8" });
  const gid = spawnSync("id", ["-g", name], { encoding: "utf8" });
  if (uid.status !== 0 || gid.status !== 0) return undefined;
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

export interface SmtpSink {
  port: number;
  /** Every dumped transaction so far, oldest first (needs `dump: true`). */
  messages(): Promise<string[]>;
  process: RunningProcess;
  stop(): Promise<void>;
}

export async function startSmtpSink(
  options: { args?: string[]; dump?: boolean } = {},
): Promise<SmtpSink> {
  const dir = await tempDir("smtp-sink");
  const port = await freePort();
  const args: string[] = [];
  // smtp-sink refuses to run as root without a user to switch to.
  if (process.getuid?.() === 0) args.push("-u", "postfix");
  if (options.dump) {
    // The dump files are written after the switch to `postfix`.
    const postfix = systemUser("postfix");
    if (process.getuid?.() === 0 && postfix) await chown(dir.path, postfix.uid, postfix.gid);
    args.push("-d", `${dir.path}/%s.`);
  }
  args.push(...(options.args ?? []), `127.0.0.1:${port}`, "64");
  const running = await startProcess({ command: SMTP_SINK, args, ready: () => waitForPort(port) });
  return {
    port,
    process: running,
    async messages() {
      const names = (await readdir(dir.path)).sort();
      const out: string[] = [];
      for (const name of names) out.push(await readFile(join(dir.path, name), "latin1"));
      return out;
    },
    async stop() {
      await running.stop();
      await dir.remove();
    },
  };
}
