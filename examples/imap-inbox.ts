/**
 * Lists the newest messages of an IMAP inbox, then (with --watch) waits up to that many
 * seconds for a new message and shows it.
 *
 *   npx tsx examples/imap-inbox.ts HOST PORT USER PASSWORD [--ca FILE] [--watch SECONDS]
 *
 * Port 993 is implicit TLS; any other port upgrades with STARTTLS (and fails if it cannot).
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { AsyncIMAPClient } from "mtaio/protocols";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { ca: { type: "string" }, watch: { type: "string", default: "0" } },
});
const [host = "localhost", port = "993", user = "", password = ""] = positionals;

await using imap = new AsyncIMAPClient();
await imap.connect(host, Number(port), {
  tls: values.ca ? { ca: readFileSync(values.ca, "utf8"), servername: "localhost" } : undefined,
});
await imap.login(user, password);
const inbox = await imap.selectMailbox("INBOX");
console.log(`INBOX: ${inbox.exists} messages`);

for (const message of await imap.fetchMessages({ limit: 5 })) {
  const seen = message.flags.includes("\\Seen") ? " " : "*";
  console.log(`${seen} ${message.uid} ${message.date?.toISOString() ?? "-"} ${message.subject}`);
}

const watch = Number(values.watch);
if (watch > 0) {
  console.log(`waiting up to ${watch} s for new mail…`);
  for await (const event of imap.idle({ signal: AbortSignal.timeout(watch * 1000) })) {
    if (event.type !== "exists") continue;
    const [latest] = await imap.fetchMessages({ limit: 1 });
    console.log(`new: ${latest.uid} ${latest.subject}`);
    break;
  }
}
