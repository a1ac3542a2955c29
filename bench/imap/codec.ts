/**
 * Micro-benchmark of the IMAP response parser alone (no network): N Dovecot-style FETCH
 * (UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE) responses, delivered in 64 KiB chunks, parsed
 * --rounds times; prints the best round's time per response, next to a floor that only finds
 * the line ends (what any parser must at least do). With --imapflow, imapflow's parser (if
 * installed) is run on the same responses, line by line, as its connection feeds it.
 *   node --import tsx bench/imap/codec.ts [--count 10000] [--rounds 15] [--imapflow]
 * (--imapflow needs `npm install --no-save imapflow`; it is not a dependency of the project.)
 */
import { ResponseParser } from "../../src/mail/imap/codec/index.js";

const args = process.argv.slice(2);
function option(name: string, fallback: number): number {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
}
const count = option("--count", 10_000);
const rounds = option("--rounds", 15);
const CHUNK = 64 * 1024;

function response(n: number): string {
  const subject =
    n % 10 === 0
      ? `=?UTF-8?B?${Buffer.from(`Grüße aus Köln, Nachricht ${n}`).toString("base64")}?=`
      : `Weekly report number ${n} for the benchmark mailbox`;
  const flags = n % 3 === 0 ? "\\Seen \\Answered" : n % 3 === 1 ? "\\Seen" : "";
  return (
    `* ${n} FETCH (UID ${n + 1000} FLAGS (${flags}) INTERNALDATE "07-Dec-2026 10:${String(n % 60).padStart(2, "0")}:12 +0100" ` +
    `RFC822.SIZE ${2000 + n} ENVELOPE ("Mon, 7 Dec 2026 10:11:12 +0100" "${subject}" ` +
    `(("Alice Example" NIL "alice" "example.com")) (("Alice Example" NIL "alice" "example.com")) ` +
    `(("Alice Example" NIL "alice" "example.com")) (("Bob Receiver" NIL "bob" "example.org")) ` +
    `((NIL NIL "carol" "example.net")) NIL NIL "<message-${n}@example.com>"))\r\n`
  );
}

const wire = Buffer.from(Array.from({ length: count }, (_, i) => response(i + 1)).join(""));
const chunks: Buffer[] = [];
for (let i = 0; i < wire.length; i += CHUNK) chunks.push(wire.subarray(i, i + CHUNK));

function best(run: () => number): number {
  let min = Number.POSITIVE_INFINITY;
  for (let r = 0; r < rounds; r++) {
    const started = process.hrtime.bigint();
    const n = run();
    const ns = Number(process.hrtime.bigint() - started);
    if (n !== count) throw new Error(`parsed ${n} of ${count}`);
    min = Math.min(min, ns);
  }
  return min / count / 1000;
}

function mtaio(): number {
  let n = 0;
  let uids = 0;
  const parser = new ResponseParser({
    onResponse: (r) => {
      if (r.kind === "fetch") {
        n++;
        uids += r.attributes.uid ?? 0;
      }
    },
  });
  for (const chunk of chunks) parser.push(chunk);
  if (uids === 0) throw new Error("no uids");
  return n;
}

/** The floor: find every line end, nothing else (literals do not occur in this input). */
function floor(): number {
  let n = 0;
  for (const chunk of chunks) {
    let at = chunk.indexOf(10);
    while (at !== -1) {
      n++;
      at = chunk.indexOf(10, at + 1);
    }
  }
  return n;
}

const results: Record<string, number> = { floor: best(floor), mtaio: best(mtaio) };

if (args.includes("--imapflow")) {
  try {
    // imapflow's parser takes one response line (literals inlined) and returns a token tree;
    // formatMessageResponse maps a FETCH tree to its message object (envelope, flags, ...).
    // Its line framing (ImapStream) is left out, which favours it.
    const handlerPath = "imapflow/lib/handler/imap-handler.js";
    const toolsPath = "imapflow/lib/tools.js";
    const { parser } = (await import(handlerPath)) as {
      parser: (line: Buffer) => Promise<unknown>;
    };
    const { formatMessageResponse } = (await import(toolsPath)) as {
      formatMessageResponse: (parsed: unknown, mailbox: object) => Promise<{ uid?: number }>;
    };
    const lines: Buffer[] = [];
    let start = 0;
    for (let at = wire.indexOf(10); at !== -1; at = wire.indexOf(10, at + 1)) {
      lines.push(wire.subarray(start, at - 1));
      start = at + 1;
    }
    const mailbox = { path: "INBOX", flags: new Set(), permanentFlags: new Set() };
    for (const mapped of [false, true]) {
      let min = Number.POSITIVE_INFINITY;
      for (let r = 0; r < rounds; r++) {
        const started = process.hrtime.bigint();
        let uids = 0;
        for (const line of lines) {
          const parsed = await parser(line);
          if (mapped) uids += (await formatMessageResponse(parsed, mailbox)).uid ?? 0;
        }
        min = Math.min(min, Number(process.hrtime.bigint() - started));
        if (mapped && uids === 0) throw new Error("imapflow: no uids");
      }
      const name = mapped ? "imapflow parser + formatMessageResponse" : "imapflow parser alone";
      results[name] = min / count / 1000;
    }
  } catch (error) {
    console.log(`imapflow not measured: ${(error as Error).message}`);
  }
}

console.log(
  `${count} FETCH responses, ${(wire.length / 1024 / 1024).toFixed(1)} MiB, ${chunks.length} chunks of 64 KiB, best of ${rounds}`,
);
for (const [name, us] of Object.entries(results))
  console.log(`  ${name}: ${us.toFixed(3)} µs/response`);
