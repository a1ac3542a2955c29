/**
 * examples/imap-inbox.ts, run as a user would (`npx tsx examples/imap-inbox.ts …`) against a
 * real Dovecot over STARTTLS, so the documented program cannot rot.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { serverSkip, tempDir } from "../servers/common.js";
import { type DovecotIMAP, startDovecotIMAP } from "../servers/dovecot-imap.js";

const root = new URL("../..", import.meta.url).pathname;
const message = (i: number, subject: string) =>
  new TextEncoder().encode(
    `From: a@example.test\r\nSubject: ${subject}\r\nDate: Mon, 7 Dec 2026 10:0${i}:00 +0000\r\n\r\nbody\r\n`,
  );

describe("examples/imap-inbox.ts", {
  skip: serverSkip(["dovecot", "/usr/lib/dovecot/imap"], "dovecot-imapd dovecot-lmtpd"),
}, () => {
  let server: DovecotIMAP;
  let caFile: string;
  before(async () => {
    server = await startDovecotIMAP({ reader: "secret" });
    server.seedMaildir("reader", [
      message(1, "first"),
      message(2, "=?UTF-8?B?44GT44KT44Gr44Gh44Gv?="),
    ]);
    const dir = await tempDir("imap-example");
    caFile = join(dir.path, "ca.pem");
    writeFileSync(caFile, server.ca);
  });
  after(() => server?.stop());

  it("lists the newest messages and reports one delivered while it watches", async () => {
    const child = spawn(
      "npx",
      [
        "tsx",
        "examples/imap-inbox.ts",
        server.host,
        String(server.imapPort),
        "reader",
        "secret",
        "--ca",
        caFile,
        "--watch",
        "8",
      ],
      { cwd: root, stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "";
    let err = "";
    let delivered = false;
    child.stdout.on("data", (chunk) => {
      out += chunk;
      if (out.includes("waiting") && !delivered) {
        delivered = true;
        setTimeout(() => void server.deliver("reader", message(3, "arrived while watching")), 300);
      }
    });
    child.stderr.on("data", (chunk) => {
      err += chunk;
    });
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    assert.equal(code, 0, err);
    assert.match(out, /INBOX: 2 messages/);
    assert.match(out, /\* 2 2026-12-07T10:02:00.000Z こんにちは/);
    assert.match(out, /\* 1 2026-12-07T10:01:00.000Z first/);
    assert.match(out, /new: 3 arrived while watching/);
  });
});
