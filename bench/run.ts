/**
 * `npm run bench`: every protocol's benchmark against its peers, one after another, each
 * writing bench/results/<protocol>.json; then bench/render-charts.ts draws the SVG charts
 * that BENCHMARKS.md shows.
 *
 *   npm run bench                       the full runs (tens of minutes on 2 cores)
 *   npm run bench -- --quick            short runs (a few minutes): the shape, not the last digit
 *   npm run bench -- --only http,smtp   some protocols only
 *
 * Needs the peers' servers: wrk for HTTP, Mosquitto for MQTT, Postfix's smtp-sink for SMTP
 * (`npm test` installs the Debian packages as root; `apt-get install wrk`). A benchmark that
 * fails is reported and the others still run; the exit code says whether all of them ran.
 * IMAP joins once bench/imap/run.ts exists (with the same `--json PATH` option).
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { renderAll } from "./render-charts.js";

const { values } = parseArgs({
  options: { quick: { type: "boolean", default: false }, only: { type: "string" } },
});
const benchDir = import.meta.dirname;
const resultsDir = join(benchDir, "results");

/** Each protocol's script and its arguments for a full and a quick run. */
const BENCHMARKS: Array<{ protocol: string; script: string; full: string[]; quick: string[] }> = [
  {
    protocol: "http",
    script: "http/run.ts",
    full: [],
    quick: ["--duration", "2", "--rounds", "3", "--warmup", "1"],
  },
  {
    protocol: "websocket",
    script: "http/websocket.ts",
    full: [],
    quick: ["--duration", "2", "--rounds", "3"],
  },
  {
    protocol: "mqtt",
    script: "mqtt/run.ts",
    full: [],
    quick: [
      "--rounds",
      "1",
      "--scale",
      "0.2",
      "--sizes",
      "64,16384",
      "--only",
      "qos0,qos1,qos2,inbound",
    ],
  },
  {
    protocol: "smtp",
    script: "smtp/run.ts",
    full: [],
    quick: ["--count", "300", "--big-mb", "20", "--rounds", "1"],
  },
  { protocol: "imap", script: "imap/run.ts", full: [], quick: ["--quick"] },
  { protocol: "mime", script: "mime/parse.ts", full: [], quick: ["--rounds", "3"] },
];

const only = values.only?.split(",");
const failed: string[] = [];
for (const bench of BENCHMARKS) {
  if (only && !only.includes(bench.protocol)) continue;
  const script = join(benchDir, bench.script);
  if (!existsSync(script)) {
    console.log(`\n▷ ${bench.protocol}: no benchmark yet (${bench.script}), skipped`);
    continue;
  }
  const args = [
    ...(values.quick ? bench.quick : bench.full),
    "--json",
    join(resultsDir, `${bench.protocol}.json`),
  ];
  console.log(`\n▶ ${bench.protocol}: ${bench.script} ${args.join(" ")}`);
  const started = Date.now();
  const run = spawnSync(process.execPath, ["--import", "tsx", script, ...args], {
    stdio: "inherit",
  });
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  if (run.status === 0) console.log(`✔ ${bench.protocol} (${seconds} s)`);
  else {
    console.error(`✖ ${bench.protocol} failed (exit ${run.status ?? run.signal}, ${seconds} s)`);
    failed.push(bench.protocol);
  }
}
for (const path of renderAll(resultsDir)) console.log(`chart: ${path}`);
if (failed.length > 0) {
  console.error(`✖ failed: ${failed.join(", ")}`);
  process.exitCode = 1;
}
