/**
 * Instructions per request, counted by valgrind's cachegrind: each benchmark server is driven
 * through in-memory sockets by the in-process worker (bench/http/inprocess-worker.ts, the same
 * one inprocess.ts times), and Node runs with `--predictable` (one thread: no concurrent
 * compilation or GC helpers whose timing differs from run to run) and a fixed 16 MB young
 * generation. A server's count then repeats to ≈ ±0.5 % between runs, where req/s moves by
 * ±5–15 % and CPU time by ±3 % on this host: a change of a few hundred instructions per request
 * (of ≈ 45 000) shows in the total, one builtin call by name in `--functions`, and a change can
 * be judged against its parent with `--base`.
 *
 *   node --import tsx bench/http/instructions.ts [--servers raw,asgi-floor,asgi-app]
 *       [--only hello,routes,echo] [--warm 30000] [--measure 20000] [--functions 25]
 *       [--base <git revision>]
 *
 * Each server is run twice, side by side on the two cores: once answering `warm` + 10 000
 * requests, once `warm` + 10 000 + `measure`. The difference of the two totals over `measure` is
 * the cost of one request once the JIT has settled; startup, compilation and exit cancel out.
 * What it counts is user space only, and neither the kernel nor libuv's socket code (the
 * sockets are in memory): across servers it compares their JavaScript, Node's HTTP parser and
 * writer and GC, the part where they differ. Instructions are not time (a cache miss costs
 * more than an add), so run.ts stays the headline. Needs valgrind (Debian: apt-get install
 * valgrind); a request runs ~50× slower under it.
 *
 * `--functions N` also lists, per profile, the N functions whose instructions per request
 * differ most between each server and the first one. JIT-compiled JavaScript is one anonymous
 * entry (`???`), but V8's builtins and Node's C++ are named: a `toLowerCase`, an `indexOf`, a
 * typed-array construction or a global `Buffer` read through its getter that one server pays
 * per request and the other does not shows up by name.
 *
 * `--base REV` also builds the benchmark as it was at git revision REV (runner.ts
 * buildRevision) and counts each server of that build too, as "… @ REV" rows: a change against
 * its parent, e.g. `--servers asgi-app --only routes --base HEAD~1 --functions 15`.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs as parseCommandLine } from "node:util";
import { PROFILES, type Profile } from "./common.js";
import { buildServers, SERVERS, type WorkerRow, workerRows } from "./runner.js";

const SERVER_IDS: string[] = SERVERS.map((server) => server.id);
/** Connections of the in-process worker (as inprocess.ts). */
const CONNECTIONS = 16;
/** Requests both runs answer before the ones that differ (so both end with a settled JIT). */
const COMMON = 10_000;

const { values } = parseCommandLine({
  options: {
    servers: { type: "string", default: "raw,asgi-bare,asgi-app,asgi-floor,fastify,hono" },
    only: { type: "string" },
    warm: { type: "string", default: "30000" },
    measure: { type: "string", default: "20000" },
    functions: { type: "string", default: "0" },
    base: { type: "string" },
  },
});
const servers = (values.servers as string).split(",").filter((id) => SERVER_IDS.includes(id));
const profiles = values.only ? (values.only.split(",") as Profile[]) : PROFILES;
const warm = Number(values.warm);
const measure = Number(values.measure);
const functionRows = Number(values.functions);

if (spawnSync("sh", ["-c", "command -v valgrind"]).status !== 0) {
  process.stderr.write("valgrind not found: install it (Debian: apt-get install valgrind)\n");
  process.exit(2);
}
buildServers();

// Rows are named by server id (as this script always printed them), not by the long labels.
const entries = workerRows(
  servers.map((id) => ({ id, label: id })),
  values.base,
);

/** One run's count: the process total, and per function (`name [file]`) when asked for. */
interface Count {
  total: number;
  functions: Map<string, number>;
}

/**
 * Instructions per function from a cachegrind output file: `fl=`/`fn=` lines name the file and
 * function that the following `line count` lines belong to (cachegrind's out-file format).
 */
function perFunction(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  let file = "";
  let fn = "";
  for (const line of text.split("\n")) {
    if (line.startsWith("fl=")) file = line.slice(3).split("/").pop() ?? "";
    else if (line.startsWith("fn=")) fn = line.slice(3);
    else if (line.charCodeAt(0) >= 0x30 && line.charCodeAt(0) <= 0x39) {
      const key = `${fn} [${file}]`;
      counts.set(key, (counts.get(key) ?? 0) + Number(line.split(" ")[1] ?? 0));
    }
  }
  return counts;
}

/** The instructions of one worker process that answers `warm` and then `requests` requests. */
async function instructions(entry: WorkerRow, profile: Profile, requests: number): Promise<Count> {
  const dir = mkdtempSync(join(tmpdir(), "mtaio-ir-"));
  const out = join(dir, "cachegrind.out");
  const args = [
    "--tool=cachegrind",
    "--cache-sim=no",
    `--cachegrind-out-file=${out}`,
    process.execPath,
    "--predictable",
    "--min-semi-space-size=16",
    entry.worker,
    entry.id,
    profile,
    String(warm),
    String(requests),
    String(CONNECTIONS),
  ];
  try {
    const child = spawn("valgrind", args, { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    if (code !== 0) throw new Error(`${entry.label} ${profile}: worker exited ${code}\n${stderr}`);
    const text = readFileSync(out, "utf8");
    const summary = /^summary:\s+(\d+)/m.exec(text);
    if (summary === null) throw new Error(`no cachegrind summary for ${entry.label}`);
    return {
      total: Number(summary[1]),
      functions: functionRows > 0 ? perFunction(text) : new Map(),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Per function: instructions per request once warm (the two runs' difference over `measure`). */
function perRequest(base: Count, more: Count): Map<string, number> {
  const result = new Map<string, number>();
  for (const [name, count] of more.functions) {
    result.set(name, (count - (base.functions.get(name) ?? 0)) / measure);
  }
  return result;
}

/** The functions whose cost per request differs most between `first` and `other`. */
function printFunctionDiff(
  firstLabel: string,
  first: Map<string, number>,
  label: string,
  other: Map<string, number>,
) {
  const names = new Set([...first.keys(), ...other.keys()]);
  const rows = [...names]
    .map((name) => {
      const a = first.get(name) ?? 0;
      const b = other.get(name) ?? 0;
      return { name, a, b, diff: b - a };
    })
    .sort((x, y) => Math.abs(y.diff) - Math.abs(x.diff))
    .slice(0, functionRows);
  console.log(
    `\n${label} − ${firstLabel}, instructions per request by function (\`???\` is JIT code):\n`,
  );
  console.log(`| function | ${firstLabel} | ${label} | difference |\n|---|---:|---:|---:|`);
  for (const { name, a, b, diff } of rows) {
    const shown = name.length > 90 ? `${name.slice(0, 87)}...` : name;
    const sign = diff > 0 ? "+" : "";
    console.log(
      `| \`${shown}\` | ${Math.round(a)} | ${Math.round(b)} | ${sign}${Math.round(diff)} |`,
    );
  }
}

console.log(
  `instructions per request (cachegrind over the in-process worker, node --predictable), ` +
    `${measure} requests after ${warm + COMMON}, ${CONNECTIONS} connections; Node ${process.version}`,
);
for (const profile of profiles) {
  console.log(`\n### ${profile}\n\n| server | instructions/request | × raw |\n|---|---:|---:|`);
  let raw = Number.NaN;
  const byFunction: Array<[string, Map<string, number>]> = [];
  for (const entry of entries) {
    // The two runs are independent processes: side by side on the two cores.
    const [base, more] = await Promise.all([
      instructions(entry, profile, COMMON),
      instructions(entry, profile, COMMON + measure),
    ]);
    const cost = (more.total - base.total) / measure;
    if (entry.key === "raw") raw = cost;
    const ratio = Number.isNaN(raw) ? "–" : (cost / raw).toFixed(2);
    console.log(`| ${entry.label} | ${Math.round(cost)} | ${ratio} |`);
    if (functionRows > 0) byFunction.push([entry.label, perRequest(base, more)]);
  }
  const [first, ...others] = byFunction;
  if (first !== undefined) {
    for (const [label, functions] of others)
      printFunctionDiff(first[0], first[1], label, functions);
  }
}
