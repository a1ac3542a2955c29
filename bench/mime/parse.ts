/**
 * Parse benchmark: messages/s and MB/s of `MailMessage.parse` against `postal-mime` and
 * `mailparser` on one mixed corpus (bench/mime/corpus.ts), in one process.
 *
 *   node --import tsx bench/mime/parse.ts [--count 1000] [--rounds 7] [--base <git revision>]
 *     [--json bench/results/mime.json]
 *
 * Every parser reads the whole corpus once per round and touches what a mail reader shows
 * (subject, sender, text, HTML, each attachment's bytes). The parsers take turns within a
 * round, in an order that rotates from round to round, so drift of the machine falls on all of
 * them alike; the table gives each one's median round. `--base REV` adds mtaio's parser as it
 * was at git revision REV (its src/ taken with `git archive`), measured in the same rounds:
 * the before/after of a change. mtaio is measured as published: src/ compiled by tsc (like
 * `npm run build`) into a temporary directory, not through a TypeScript loader. `--json PATH`
 * also writes the results for the charts (bench/results.ts).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { writeResults } from "../results.js";
import { mixedCorpus } from "./corpus.js";

const { values } = parseArgs({
  options: {
    count: { type: "string", default: "1000" },
    rounds: { type: "string", default: "7" },
    base: { type: "string" },
    json: { type: "string" },
  },
});
const count = Number(values.count);
const rounds = Number(values.rounds);
const root = new URL("../..", import.meta.url).pathname;

type Parse = (raw: Buffer) => unknown;
interface Contender {
  name: string;
  parse: Parse;
}

interface ParsedLike {
  subject: string;
  sender: unknown;
  textContent?: string;
  htmlContent?: string;
  attachments: { content?: unknown }[];
}
type MailMessageClass = { parse(raw: Uint8Array): ParsedLike };

/** Reads the fields a reader shows, so lazy parsers do the same work as eager ones. */
function touch(m: ParsedLike): number {
  let n = m.subject.length + (m.textContent?.length ?? 0) + (m.htmlContent?.length ?? 0);
  for (const a of m.attachments) n += (a.content as Uint8Array).length;
  return n + (m.sender ? 1 : 0);
}

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Compiles the tree at `tree` (src/, tsconfig*.json) with tsc and loads its MailMessage. */
async function mtaioAt(tree: string): Promise<MailMessageClass> {
  const out = tempDir("mtaio-mime-build-");
  execFileSync(join(root, "node_modules/.bin/tsc"), [
    ...["-p", join(tree, "tsconfig.build.json"), "--outDir", out],
    ...["--declaration", "false", "--declarationMap", "false", "--sourceMap", "false"],
  ]);
  writeFileSync(join(out, "package.json"), '{ "type": "module" }\n');
  const mod = (await import(join(out, "mail/mime/index.js"))) as {
    MailMessage: MailMessageClass;
  };
  return mod.MailMessage;
}

/** The sources of git revision `rev` in a temporary directory. */
function checkoutBase(rev: string): string {
  const dir = tempDir("mtaio-mime-base-");
  const tar = execFileSync(
    "git",
    [
      ...["-C", root, "archive", "--format=tar", rev],
      ...["src", "tsconfig.json", "tsconfig.build.json"],
    ],
    { maxBuffer: 256 * 1024 * 1024 },
  );
  execFileSync("tar", ["-x", "-C", dir], { input: tar });
  symlinkSync(join(root, "node_modules"), join(dir, "node_modules"), "dir");
  writeFileSync(join(dir, "package.json"), '{ "type": "module" }\n');
  return dir;
}

async function contenders(): Promise<Contender[]> {
  const current = await mtaioAt(root);
  const list: Contender[] = [{ name: "mtaio", parse: (raw) => touch(current.parse(raw)) }];
  if (values.base) {
    const base = await mtaioAt(checkoutBase(values.base));
    list.push({ name: `mtaio@${values.base}`, parse: (raw) => touch(base.parse(raw)) });
  }
  // Untyped packages: imported by a computed name so the type checker does not look for types.
  const postal = (await import("postal-mime" as string)) as {
    default: {
      parse(raw: Uint8Array): Promise<{
        subject?: string;
        from?: unknown;
        text?: string;
        html?: string;
        attachments: { content: ArrayBuffer | string }[];
      }>;
    };
  };
  list.push({
    name: "postal-mime",
    parse: async (raw) => {
      const m = await postal.default.parse(raw);
      let n = (m.subject ?? "").length + (m.text?.length ?? 0) + (m.html?.length ?? 0);
      for (const a of m.attachments)
        n += typeof a.content === "string" ? a.content.length : a.content.byteLength;
      return n + (m.from ? 1 : 0);
    },
  });
  const mailparser = (await import("mailparser" as string)) as {
    simpleParser(raw: Buffer): Promise<{
      subject?: string;
      from?: unknown;
      text?: string;
      html?: string | false;
      attachments: { content: Buffer }[];
    }>;
  };
  list.push({
    name: "mailparser",
    parse: async (raw) => {
      const m = await mailparser.simpleParser(raw);
      let n = (m.subject ?? "").length + (m.text?.length ?? 0) + (m.html ? m.html.length : 0);
      for (const a of m.attachments) n += a.content.length;
      return n + (m.from ? 1 : 0);
    },
  });
  return list;
}

async function round(parser: Contender, corpus: Buffer[]): Promise<number> {
  const t0 = performance.now();
  for (const raw of corpus) await parser.parse(raw);
  return (performance.now() - t0) / 1000;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const corpus = mixedCorpus(count);
const bytes = corpus.reduce((n, m) => n + m.length, 0);
const list = await contenders();
for (const c of list) await round(c, corpus); // warm-up: JIT, lazy module loading
const seconds = new Map<string, number[]>(list.map((c) => [c.name, []]));
for (let r = 0; r < rounds; r++) {
  for (let k = 0; k < list.length; k++) {
    const c = list[(k + r) % list.length];
    seconds.get(c.name)?.push(await round(c, corpus));
  }
}

const mtaioSeconds = median(seconds.get("mtaio") ?? [1]);
const rows = list.map((c) => {
  const s = median(seconds.get(c.name) ?? [1]);
  return {
    name: c.name,
    messagesPerSecond: Math.round(count / s),
    mbPerSecond: Number((bytes / 1e6 / s).toFixed(1)),
    ratioToMtaio: Number((mtaioSeconds / s).toFixed(3)),
  };
});

const lines = [
  `${count} messages, ${(bytes / 1e6).toFixed(1)} MB, median of ${rounds} rounds`,
  "",
  "| parser | messages/s | MB/s | mtaio × |",
  "| --- | ---: | ---: | ---: |",
  ...rows.map(
    (row) =>
      `| ${row.name} | ${row.messagesPerSecond} | ${row.mbPerSecond} | ${(1 / row.ratioToMtaio).toFixed(2)} |`,
  ),
];
const table = lines.join("\n");
console.log(`Parse (node ${process.version})\n`);
console.log(table);
if (values.json) {
  const others = rows.filter((row) => row.name !== "mtaio");
  writeResults(values.json, {
    protocol: "mime",
    title: "MIME parsing: mtaio against postal-mime and mailparser",
    metric: "the other parser's time ÷ mtaio's (higher is better)",
    reference: "the other parser",
    scenarios: [{ id: "parse", label: `${count} mixed messages parsed` }],
    series: others.map((row) => ({ id: row.name, label: `mtaio vs ${row.name}` })),
    ratios: {
      parse: Object.fromEntries(
        others.map((row) => [row.name, Number((1 / row.ratioToMtaio).toFixed(2))]),
      ),
    },
    table,
  });
  console.log(`\nwritten ${values.json}`);
}
