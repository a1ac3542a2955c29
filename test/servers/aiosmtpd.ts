/**
 * An aiosmtpd (Debian's python3-aiosmtpd, for /usr/bin/python3) SMTP server on a free loopback
 * port: STARTTLS (required) or implicit TLS on a certificate made at test time, AUTH PLAIN and
 * LOGIN against one user, SMTPUTF8, a SIZE limit, recipients that are rejected
 * (`reject…@`) or make the server drop the connection (`drop…@`), and every accepted message
 * saved to a file we read back.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import {
  freePort,
  makeCertificates,
  type RunningProcess,
  startProcess,
  type TestCertificates,
  tempDir,
  waitForPort,
} from "./common.js";

export const PYTHON = "/usr/bin/python3";

const SERVER = `
import asyncio, json, os, ssl, sys
from aiosmtpd.smtp import SMTP, AuthResult

conf = json.loads(sys.argv[1])
counter = 0

def authenticator(server, session, envelope, mechanism, auth_data):
    ok = (auth_data.login == conf["user"].encode() and auth_data.password == conf["password"].encode())
    return AuthResult(success=ok, handled=False)

class Handler:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@")[0]
        if local.startswith("reject"):
            return "550 5.1.1 No such user here"
        if local.startswith("drop"):
            server.transport.close()
            return "421 4.3.0 going away"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        global counter
        counter += 1
        meta = {"from": envelope.mail_from, "to": envelope.rcpt_tos, "mail_options": envelope.mail_options}
        with open(os.path.join(conf["dir"], "msg-%05d.eml" % counter), "wb") as f:
            f.write(envelope.original_content)
        with open(os.path.join(conf["dir"], "msg-%05d.json" % counter), "w") as f:
            json.dump(meta, f)
        return "250 2.0.0 Message accepted for delivery"

def tls_context():
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(conf["cert"], conf["key"])
    return ctx

def factory():
    implicit = conf["mode"] == "tls"
    return SMTP(Handler(), hostname="aiosmtpd.test",
                tls_context=None if implicit else tls_context(),
                require_starttls=not implicit,
                authenticator=authenticator, auth_require_tls=not implicit,
                decode_data=False, enable_SMTPUTF8=True,
                data_size_limit=conf["sizeLimit"])

async def main():
    loop = asyncio.get_running_loop()
    server = await loop.create_server(factory, "127.0.0.1", conf["port"],
                                      ssl=tls_context() if conf["mode"] == "tls" else None)
    print("READY", flush=True)
    async with server:
        await server.serve_forever()

asyncio.run(main())
`;

export interface AiosmtpdMessage {
  from: string;
  to: string[];
  mailOptions: string[];
  raw: Buffer;
}

export interface Aiosmtpd {
  port: number;
  certificates: TestCertificates;
  user: string;
  password: string;
  messages(): Promise<AiosmtpdMessage[]>;
  process: RunningProcess;
  stop(): Promise<void>;
}

export async function startAiosmtpd(
  options: { mode?: "starttls" | "tls"; sizeLimit?: number; certificates?: TestCertificates } = {},
): Promise<Aiosmtpd> {
  const dir = await tempDir("aiosmtpd");
  const certificates = options.certificates ?? (await makeCertificates(dir.path));
  const port = await freePort();
  const messagesDir = join(dir.path, "messages");
  await import("node:fs/promises").then((fs) => fs.mkdir(messagesDir));
  const user = "alice@example.com";
  const password = "pässwörd 123";
  const script = await dir.file("server.py", SERVER);
  const conf = {
    port,
    dir: messagesDir,
    cert: certificates.certFile,
    key: certificates.keyFile,
    user,
    password,
    mode: options.mode ?? "starttls",
    sizeLimit: options.sizeLimit ?? 33554432,
  };
  const running = await startProcess({
    command: PYTHON,
    args: [script, JSON.stringify(conf)],
    ready: () => waitForPort(port),
  });
  return {
    port,
    certificates,
    user,
    password,
    process: running,
    async messages() {
      const names = (await readdir(messagesDir)).filter((n) => n.endsWith(".eml")).sort();
      const out: AiosmtpdMessage[] = [];
      for (const name of names) {
        const meta = JSON.parse(
          await readFile(join(messagesDir, name.replace(/\.eml$/, ".json")), "utf8"),
        );
        out.push({
          from: meta.from,
          to: meta.to,
          mailOptions: meta.mail_options,
          raw: await readFile(join(messagesDir, name)),
        });
      }
      return out;
    },
    async stop() {
      await running.stop();
      await dir.remove();
    },
  };
}
