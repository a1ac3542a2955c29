/**
 * CPU per request without the kernel: each benchmark server (the same modules run.ts starts)
 * is driven through in-memory sockets by bench/http/inprocess-worker.ts, one process per
 * measurement, pinned to one CPU. What it leaves out — socket syscalls, loopback, wrk — is the
 * same for every server; what it keeps — JavaScript, Node's HTTP parser and writer, GC — is
 * where servers differ. Its repeatability here is ±1–3 % (wrk's req/s: ±10 %), so it can
 * judge a change of a few hundred nanoseconds in seconds.
 *
 *   node --import tsx bench/http/inprocess.ts [--servers raw,asgi-app] [--only hello]
 *       [--rounds 5] [--requests 150000] [--warm 20000] [--connections 16]
 *       [--semi-space 16] [--base <git revision>]
 *
 * Rounds alternate the servers (each round starts at the next one); the table shows the
 * lowest and the median CPU ns per request over the rounds, GC time per request (V8's own
 * count, part of the CPU time), and raw's median over each server's median: the share of raw's
 * throughput a server would reach if this cost were all there is.
 *
 * `--semi-space N` starts each worker with V8's young generation fixed at N MB
 * (`--min-semi-space-size`). Without it V8 sizes the young generation from what survives
 * scavenges, so a server that keeps little alive (raw node:http, mtaio) scavenges a small young
 * generation twice as often as one that keeps more (Fastify) for the first seconds, and pays
 * about twice the GC per request there: fixing it shows the servers' own costs without that.
 *
 * `--base REV` also builds the benchmark as it was at git revision REV (a temporary worktree)
 * and measures each server of that build too, as "… @ REV" rows in the same rounds: a change
 * judged against its parent under the same load, e.g.
 * `--servers asgi-app --only routes --rounds 9 --semi-space 16 --base HEAD~1`. Host noise
 * moves single measurements by ±3–5 % here; compare medians over 7–9 rounds.
 */
import { spawnSync } from "node:child_process";
import { parseArgs as parseCommandLine } from "node:util";
import { PROFILES, type Profile } from "./common.js";
import { buildServers, SERVERS, type WorkerRow, workerRows } from "./runner.js";

const { values } = parseCommandLine({
  options: {
    servers: { type: "string" },
    only: { type: "string" },
    rounds: { type: "string", default: "5" },
    requests: { type: "string", default: "150000" },
    warm: { type: "string", default: "20000" },
    connections: { type: "string", default: "16" },
    "semi-space": { type: "string" },
    base: { type: "string" },
  },
});
const servers = values.servers
  ? SERVERS.filter((s) => values.servers?.split(",").includes(s.id))
  : SERVERS;
const profiles = values.only ? (values.only.split(",") as Profile[]) : PROFILES;
const rounds = Math.max(1, Number(values.rounds));
const hasTaskset = spawnSync("sh", ["-c", "command -v taskset"]).status === 0;

buildServers();
const entries = workerRows(servers, values.base);

interface Sample {
  cpuNs: number;
  gcNs: number;
}

function measure({ id, worker }: WorkerRow, profile: Profile): Sample | null {
  const semiSpace = values["semi-space"];
  const args = [
    ...(semiSpace === undefined ? [] : [`--min-semi-space-size=${semiSpace}`]),
    worker,
    id,
    profile,
    values.warm as string,
    values.requests as string,
    values.connections as string,
  ];
  const run = hasTaskset
    ? spawnSync("taskset", ["-c", "0", process.execPath, ...args], { encoding: "utf8" })
    : spawnSync(process.execPath, args, { encoding: "utf8" });
  const last = run.stdout.trim().split("\n").at(-1) ?? "";
  if (run.status !== 0 || !last.startsWith("{")) {
    process.stderr.write(`  ${id} ${profile}: failed (${run.status})\n${run.stderr.trim()}\n`);
    return null;
  }
  return JSON.parse(last) as Sample;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const pad = (text: string, width: number) => text.padEnd(width);

console.log(
  `in-process, ${rounds} rounds × ${values.requests} requests over ${values.connections} connections after ${values.warm} warm-up; ` +
    `pinned to CPU 0${hasTaskset ? "" : " (taskset missing: NOT pinned)"}; Node ${process.version}` +
    (values["semi-space"] === undefined
      ? ""
      : `; young generation fixed at ${values["semi-space"]} MB`),
);
for (const profile of profiles) {
  const samples = new Map<string, Sample[]>(entries.map((e) => [e.key, []]));
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < entries.length; k++) {
      const entry = entries[(round + k) % entries.length] as WorkerRow;
      const sample = measure(entry, profile);
      if (sample !== null) samples.get(entry.key)?.push(sample);
    }
  }
  const rawSamples = samples.get("raw") ?? [];
  const rawMedian = rawSamples.length > 0 ? median(rawSamples.map((s) => s.cpuNs)) : undefined;
  console.log(`\n### ${profile}\n`);
  console.log(
    "| server | CPU ns/req, lowest | CPU ns/req, median | GC ns/req, median | raw ÷ server (median) |",
  );
  console.log("|---|---:|---:|---:|---:|");
  for (const { key, label } of entries) {
    const list = samples.get(key) ?? [];
    if (list.length === 0) {
      console.log(`| ${label} | — | — | — | — |`);
      continue;
    }
    const cpu = list.map((s) => s.cpuNs);
    const mid = median(cpu) as number;
    const ratio = rawMedian === undefined ? "—" : (rawMedian / mid).toFixed(2);
    console.log(
      `| ${pad(label, 36)} | ${Math.min(...cpu).toFixed(0)} | ${mid.toFixed(0)} | ${(median(list.map((s) => s.gcNs)) as number).toFixed(0)} | ${ratio} |`,
    );
  }
}
