/**
 * SMTP benchmark: mtaio vs nodemailer against the same Postfix smtp-sink, in one invocation.
 *   node --import tsx bench/smtp/run.ts [--count 1000] [--big-mb 100] [--rounds 3] [--warmup 1]
 *       [--json bench/results/smtp.json]
 * Scenarios: `one` (N messages one after another over one connection), `pool` (N messages over
 * 5 connections), `big` (one message with a big attachment, streamed from a file).
 * Each (library, scenario) runs in a fresh process; the best of --rounds runs is reported.
 * Before measuring, each process sends --warmup messages per connection (default 1: a cold
 * start, JIT compilation included in the numbers; e.g. --warmup 500 shows the steady state).
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { tempDir } from "../../test/servers/common.js";
import { startSmtpSink } from "../../test/servers/smtp-sink.js";
import { writeResults } from "../results.js";

interface Result {
  messages: number;
  wallMs: number;
  cpuMs: number;
  baselineRssMB: number;
  peakRssMB: number;
}

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const count = option("count", 1000);
const bigMB = option("big-mb", 100);
const rounds = option("rounds", 3);
const warmup = option("warmup", 1);
/** `--json PATH` also writes the results as JSON (bench/results.ts) for the charts. */
const jsonIndex = args.indexOf("--json");
const jsonPath = jsonIndex >= 0 ? args[jsonIndex + 1] : undefined;

const dir = await tempDir("smtp-bench");
const bigFile = join(dir.path, "big.bin");
await new Promise<void>((resolve, reject) => {
  const out = createWriteStream(bigFile);
  out.on("error", reject);
  const block = randomBytes(1024 * 1024);
  for (let i = 0; i < bigMB; i++) out.write(block);
  out.end(resolve);
});

const sink = await startSmtpSink();
const worker = join(import.meta.dirname, "worker.ts");

function runOnce(lib: string, scenario: string): Result {
  const child = spawnSync(
    process.execPath,
    [
      "--import",
      "tsx",
      worker,
      lib,
      scenario,
      String(sink.port),
      String(count),
      bigFile,
      String(warmup),
    ],
    { encoding: "utf8", maxBuffer: 16 * 1024 * 1024, timeout: 600_000 },
  );
  const line = child.stdout.trim().split("\n").pop() ?? "";
  try {
    return JSON.parse(line) as Result;
  } catch {
    throw new Error(
      `${lib} ${scenario} failed (${child.status}):\n${child.stdout}\n${child.stderr}`,
    );
  }
}

function best(lib: string, scenario: string): Result {
  const runs = Array.from({ length: rounds }, () => runOnce(lib, scenario));
  return runs.sort((a, b) => a.wallMs - b.wallMs)[0];
}

/** Messages per second; with decimals when small (the single big message). */
function rate(r: Result): string {
  const perSecond = (r.messages / r.wallMs) * 1000;
  return perSecond < 10 ? perSecond.toFixed(2) : perSecond.toFixed(0);
}

const rows: string[] = [];
const summary: string[] = [];
const scenarios: Array<{ id: string; label: string }> = [];
const ratios: Record<string, Record<string, number>> = {};
try {
  for (const scenario of ["one", "pool", "big"]) {
    const m = best("mtaio", scenario);
    const n = best("nodemailer", scenario);
    const label = {
      one: `${count} msgs, 1 connection`,
      pool: `${count} msgs, 5 connections`,
      big: `1 msg, ${bigMB} MB attachment`,
    }[scenario] as string;
    for (const [name, r] of [
      ["mtaio", m],
      ["nodemailer", n],
    ] as const) {
      rows.push(
        `| ${label} | ${name} | ${rate(r)} | ${r.wallMs.toFixed(0)} | ${(r.cpuMs / r.messages).toFixed(3)} | ${r.peakRssMB.toFixed(0)} | ${(r.peakRssMB - r.baselineRssMB).toFixed(1)} |`,
      );
    }
    scenarios.push({ id: scenario, label });
    ratios[scenario] = {
      speed: Number((n.wallMs / m.wallMs).toFixed(2)),
      cpu: Number((n.cpuMs / m.cpuMs).toFixed(2)),
    };
    summary.push(
      `${label}: mtaio/nodemailer speed ×${(n.wallMs / m.wallMs).toFixed(2)}, CPU per message ×${(n.cpuMs / m.cpuMs).toFixed(2)} less` +
        (scenario === "big"
          ? `, RSS added ${(m.peakRssMB - m.baselineRssMB).toFixed(1)} MB vs ${(n.peakRssMB - n.baselineRssMB).toFixed(1)} MB`
          : ""),
    );
  }
} finally {
  await sink.stop();
  await dir.remove();
}

console.log(
  `\nSMTP benchmark — Node ${process.version}, ${cpus().length}× ${cpus()[0]?.model ?? "cpu"}, best of ${rounds}, ${warmup} warm-up message(s) per connection`,
);
console.log(
  "\n| scenario | library | msgs/s | wall ms | CPU ms/msg | peak RSS MB | RSS added during run MB |",
);
console.log("|---|---|---:|---:|---:|---:|---:|");
for (const row of rows) console.log(row);
console.log("");
for (const line of summary) console.log(`- ${line}`);
if (jsonPath) {
  const header =
    "| scenario | library | msgs/s | wall ms | CPU ms/msg | peak RSS MB | RSS added during run MB |";
  writeResults(jsonPath, {
    protocol: "smtp",
    title: "SMTP: mtaio against nodemailer, to one smtp-sink",
    metric: "mtaio ÷ nodemailer (higher is better for mtaio)",
    reference: "nodemailer",
    scenarios,
    series: [
      { id: "speed", label: "speed (nodemailer time ÷ mtaio time)" },
      { id: "cpu", label: "CPU (nodemailer ÷ mtaio)" },
    ],
    ratios,
    table: [header, "|---|---|---:|---:|---:|---:|---:|", ...rows].join("\n"),
  });
}
