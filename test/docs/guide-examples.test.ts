/**
 * The code blocks a user reads are run, so they cannot rot: every block fenced as ```ts run
 * in README.md, docs/*.md and examples/**\/README.md is written to a file inside the
 * repository (so `mtaio/...` imports resolve to the built package, as in a user's project)
 * and run with tsx against real servers: a Mosquitto (MQTT_URL), an aiosmtpd with STARTTLS
 * and AUTH (SMTP_HOST, SMTP_PORT, SMTP_USER, SMTP_PASSWORD) and a Dovecot with STARTTLS and a
 * few messages (IMAP_HOST, IMAP_PORT, IMAP_USER, IMAP_PASSWORD); both test CAs are trusted
 * through NODE_EXTRA_CA_CERTS. A block passes when it exits 0 within a minute.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, join, relative } from "node:path";
import { after, before, describe, it } from "node:test";
import { type Aiosmtpd, PYTHON, startAiosmtpd } from "../servers/aiosmtpd.js";
import { serverSkip } from "../servers/common.js";
import { type DovecotIMAP, startDovecotIMAP } from "../servers/dovecot-imap.js";
import { MOSQUITTO, type Mosquitto, startMosquitto } from "../servers/mosquitto.js";

const root = new URL("../..", import.meta.url).pathname;
const RUNNABLE = /^```ts run\s*\n([\s\S]*?)^```\s*$/gm;

/** The Markdown files a user reads (the generated API reference aside). */
function guides(): string[] {
  const files = ["README.md"];
  for (const name of readdirSync(join(root, "docs")).sort()) {
    if (name.endsWith(".md")) files.push(join("docs", name));
  }
  for (const name of readdirSync(join(root, "examples")).sort()) {
    const readme = join("examples", name, "README.md");
    if (existsSync(join(root, readme))) files.push(readme);
  }
  return files;
}

interface Block {
  file: string;
  index: number;
  code: string;
}

function runnableBlocks(file: string): Block[] {
  const text = readFileSync(join(root, file), "utf8");
  return [...text.matchAll(RUNNABLE)].map((match, index) => ({
    file,
    index,
    code: match[1] as string,
  }));
}

function runBlock(
  path: string,
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", path], { cwd: root, env });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString("utf8");
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString("utf8");
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe("runnable examples in the README and the guides", {
  skip: serverSkip(
    [MOSQUITTO, PYTHON, "dovecot", "/usr/lib/dovecot/imap"],
    "mosquitto, python3-aiosmtpd, dovecot-imapd",
  ),
}, () => {
  const dir = join(root, ".tmp", "guide-examples");
  let broker: Mosquitto;
  let smtp: Aiosmtpd;
  let imap: DovecotIMAP;
  let env: NodeJS.ProcessEnv;
  before(async () => {
    mkdirSync(dir, { recursive: true });
    [broker, smtp, imap] = await Promise.all([
      startMosquitto(),
      startAiosmtpd(),
      startDovecotIMAP({ reader: "imap-password" }),
    ]);
    imap.seedMaildir(
      "reader",
      ["Welcome", "=?UTF-8?B?6KuL5rGC5pu4?=", "Weekly report"].map((subject, i) =>
        new TextEncoder().encode(
          `From: Sender ${i} <s${i}@example.com>\r\nSubject: ${subject}\r\n\r\nbody ${i}\r\n`,
        ),
      ),
    );
    const caBundle = join(dir, "ca-bundle.pem");
    writeFileSync(caBundle, readFileSync(smtp.certificates.caFile, "utf8") + imap.ca);
    env = {
      ...process.env,
      MQTT_URL: `mqtt://127.0.0.1:${broker.port}`,
      SMTP_HOST: "localhost",
      SMTP_PORT: String(smtp.port),
      SMTP_USER: smtp.user,
      SMTP_PASSWORD: smtp.password,
      IMAP_HOST: "localhost",
      IMAP_PORT: String(imap.imapPort),
      IMAP_USER: "reader",
      IMAP_PASSWORD: "imap-password",
      NODE_EXTRA_CA_CERTS: caBundle,
    };
  });
  after(async () => {
    await Promise.all([broker?.stop(), smtp?.stop(), imap?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it("the README has a runnable block for each protocol", () => {
    const blocks = runnableBlocks("README.md");
    for (const entry of ["mtaio/protocols/asgi", "mtaio/protocols/mqtt", "mtaio/protocols/mail"]) {
      assert.ok(
        blocks.some((block) => block.code.includes(`from "${entry}"`)),
        `no runnable README block imports ${entry}`,
      );
    }
  });

  for (const file of guides()) {
    for (const block of runnableBlocks(file)) {
      it(`${file}, runnable block ${block.index + 1} exits 0`, async () => {
        const name = `${basename(file, ".md")}-${block.index + 1}.ts`;
        const path = join(dir, name);
        writeFileSync(path, block.code);
        const sentBefore = (await smtp.messages()).length;
        const { code, output } = await runBlock(path, env);
        assert.equal(code, 0, `${relative(root, path)} failed:\n${output}`);
        // A block that sends mail must have delivered it, not merely exited.
        if (block.code.includes("sendMessage(")) {
          assert.ok((await smtp.messages()).length > sentBefore, "no message was delivered");
        }
      });
    }
  }
});
