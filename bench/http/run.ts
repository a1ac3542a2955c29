/**
 * HTTP benchmark: raw node:http vs mtaio (bare ASGI callable; ASGIApplication + Router) vs
 * Fastify, Hono (@hono/node-server) and Express, one after another in one invocation.
 *
 *   node --import tsx bench/http/run.ts [--duration 3] [--rounds 5] [--warmup 2]
 *       [--connections 50] [--only hello,routes,echo] [--servers raw,asgi-bare,...]
 *       [--json bench/results/http.json]
 *
 * Each server runs in its own process pinned to CPU 0 (`taskset -c 0`); wrk runs pinned to
 * CPU 1. Each server gets `rounds` runs, interleaved with the others, and keeps its best.
 * Each round starts at the next server, so no server always runs first (or always right after
 * the same one). Prints req/s, p99 latency (of the best run), peak RSS seen and server CPU time
 * per request (the lowest of the rounds: the least disturbed by other load), with ratios to
 * raw node:http: of the bests, and the median of the per-round ratios (each server against raw
 * in the same round, which cancels the host's slower and faster spells).
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { parseArgs as parseCommandLine } from "node:util";
import { writeResults } from "../results.js";
import {
  ECHO_BODY,
  HELLO_TEXT,
  MIDDLEWARE_HEADERS,
  PROFILES,
  type Profile,
  ROUTES_TARGET,
} from "./common.js";
import { benchDir, buildServers, freePort, SERVERS, serverScript } from "./runner.js";

const PROFILE_LABELS: Record<Profile, string> = {
  hello: "hello JSON (GET /)",
  routes: "hello JSON, 50 routes + 2 middlewares (GET /api/items24/42)",
  echo: "POST JSON echo (POST /echo)",
};

const { values } = parseCommandLine({
  options: {
    duration: { type: "string", default: "3" },
    rounds: { type: "string", default: "5" },
    warmup: { type: "string", default: "2" },
    connections: { type: "string", default: "50" },
    only: { type: "string" },
    servers: { type: "string" },
    /** Also write the results as JSON (bench/results.ts) for the charts. */
    json: { type: "string" },
  },
});
const duration = Number(values.duration);
const rounds = Math.max(1, Number(values.rounds));
const warmup = Number(values.warmup);
const connections = Number(values.connections);
const profiles = values.only ? (values.only.split(",") as Profile[]) : PROFILES;
const servers = values.servers
  ? SERVERS.filter((s) => values.servers!.split(",").includes(s.id))
  : SERVERS;

const hasTaskset = spawnSync("sh", ["-c", "command -v taskset"]).status === 0;
const wrkPath = "/usr/bin/wrk";
if (!existsSync(wrkPath)) {
  // Without it every row would read 0 req/s: stop with the fix instead.
  process.stderr.write(`wrk not found at ${wrkPath}: install it (Debian: apt-get install wrk)\n`);
  process.exit(2);
}

function pinned(cpu: number, command: string, args: string[]): [string, string[]] {
  return hasTaskset ? ["taskset", ["-c", String(cpu), command, ...args]] : [command, args];
}

/** Every server still running: killed if the runner stops early (Ctrl-C, an error). */
const children = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of children) child.kill("SIGKILL");
});
process.once("SIGINT", () => process.exit(130));
process.once("SIGTERM", () => process.exit(143));

async function startServer(
  id: string,
  profile: Profile,
  port: number,
): Promise<ChildProcess | null> {
  const [command, args] = pinned(0, process.execPath, [serverScript(id), profile, String(port)]);
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
  children.add(child);
  child.once("exit", () => children.delete(child));
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  return new Promise((resolve) => {
    child.stdout?.on("data", (d: Buffer) => {
      if (d.toString().includes("ready")) resolve(child);
    });
    child.on("exit", (code) => {
      if (code !== 0 && code !== null) process.stderr.write(`  ${id}: ${stderr.trim()}\n`);
      resolve(null);
    });
  });
}

interface Result {
  rps: number;
  p99ms: number;
  rssMB: number;
  errors: number;
  /** Server CPU time per request (user + system), the lowest of the rounds. */
  cpuUs: number;
  /** req/s of every round, in round order (for ratios paired round by round). */
  roundRps: number[];
}

function wrk(
  url: string,
  seconds: number,
  post: boolean,
): { rps: number; p99ms: number; errors: number; requests: number } {
  const args = ["-t1", `-c${connections}`, `-d${seconds}s`, "--latency"];
  if (post) args.push("-s", `${benchDir}post.lua`);
  const [command, full] = pinned(1, wrkPath, [...args, url]);
  const run = spawnSync(command, full, { encoding: "utf8" });
  if (run.status !== 0) throw new Error(`wrk failed (${run.status}): ${run.stderr.trim()}`);
  const out = run.stdout;
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0);
  const p99 = /99%\s+([\d.]+)(us|ms|s)/.exec(out);
  const scale = p99?.[2] === "us" ? 0.001 : p99?.[2] === "s" ? 1000 : 1;
  const p99ms = p99 ? Number(p99[1]) * scale : Number.NaN;
  const errorMatch = /Non-2xx or 3xx responses:\s+(\d+)/.exec(out);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(
    out,
  );
  const errors =
    Number(errorMatch?.[1] ?? 0) +
    (socketErrors ? socketErrors.slice(1).reduce((n, v) => n + Number(v), 0) : 0);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
  return { rps, p99ms, errors, requests };
}

/**
 * CPU seconds (user + system) the process has used, from /proc/<pid>/stat. CPU time per
 * request is far less sensitive to other load on the machine than requests per second.
 */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}
const CLOCK_TICKS = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout) || 100;

function rssMB(pid: number): number {
  // The node process is the child of taskset (taskset execs, so the pid is node's own).
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

interface Running {
  id: string;
  child: ChildProcess;
  url: string;
}

async function startChecked(id: string, profile: Profile): Promise<Running | null> {
  const port = await freePort();
  const child = await startServer(id, profile, port);
  if (child === null) return null;
  const path = profile === "routes" ? ROUTES_TARGET : profile === "echo" ? "/echo" : "/";
  const url = `http://127.0.0.1:${port}${path}`;
  const init: RequestInit =
    profile === "echo"
      ? { method: "POST", body: ECHO_BODY, headers: { "content-type": "application/json" } }
      : {};
  // Twice: a middleware that kept state between requests (a header list it grows) shows on
  // the second answer.
  for (let i = 0; i < 2; i++) {
    const check = await fetch(url, init);
    const body = await check.text();
    const expected = profile === "echo" ? ECHO_BODY : HELLO_TEXT;
    const missing =
      profile === "routes"
        ? MIDDLEWARE_HEADERS.filter(([name, value]) => check.headers.get(name) !== value)
        : [];
    if (check.status !== 200 || body !== expected || missing.length > 0) {
      child.kill("SIGKILL");
      const wrong = missing.map(([name]) => `${name}: ${check.headers.get(name)}`).join(", ");
      throw new Error(
        `${id} answered ${check.status} ${JSON.stringify(body)} ${wrong}, not ${expected}`,
      );
    }
  }
  return { id, child, url };
}

/**
 * All servers of a profile run at once (idle ones cost nothing); wrk visits them in turn,
 * `rounds` times, and each keeps its best round: on a shared machine noise only slows down.
 */
async function measureProfile(profile: Profile): Promise<Map<string, Result | null>> {
  const running = new Map<string, Running | null>();
  for (const server of servers) running.set(server.id, await startChecked(server.id, profile));
  const results = new Map<string, Result | null>();
  try {
    for (const run of running.values())
      if (run && warmup > 0) wrk(run.url, warmup, profile === "echo");
    for (let round = 0; round < rounds; round++) {
      const order = servers.map(
        (_, i) => servers[(i + round) % servers.length] as (typeof servers)[number],
      );
      for (const server of order) {
        const run = running.get(server.id);
        if (!run) {
          results.set(server.id, null);
          continue;
        }
        const cpuBefore = cpuSeconds(run.child.pid!);
        const measured = wrk(run.url, duration, profile === "echo");
        const cpuUs =
          ((cpuSeconds(run.child.pid!) - cpuBefore) * 1e6) / Math.max(1, measured.requests);
        const best = results.get(server.id);
        const rss = rssMB(run.child.pid!);
        if (!best || measured.rps > best.rps) {
          results.set(server.id, {
            ...measured,
            rssMB: Math.max(rss, best?.rssMB ?? 0),
            cpuUs: Math.min(cpuUs, best?.cpuUs ?? Number.POSITIVE_INFINITY),
            roundRps: [...(best?.roundRps ?? []), measured.rps],
          });
        } else {
          best.roundRps.push(measured.rps);
          best.rssMB = Math.max(best.rssMB, rss);
          best.cpuUs = Math.min(best.cpuUs, cpuUs);
        }
      }
    }
  } finally {
    for (const run of running.values()) {
      if (!run) continue;
      run.child.kill("SIGKILL");
      await new Promise((resolve) => run.child.once("exit", resolve));
    }
  }
  return results;
}

/** The median over rounds of this server's req/s divided by raw's in the same round. */
function pairedRatio(rps: number[], rawRps: number[]): number {
  const ratios = rps.map((value, i) => value / (rawRps[i] as number)).sort((a, b) => a - b);
  const middle = ratios.length >> 1;
  return ratios.length % 2 === 1
    ? (ratios[middle] as number)
    : ((ratios[middle - 1] as number) + (ratios[middle] as number)) / 2;
}

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + " ".repeat(width - text.length);
}

const started = Date.now();
buildServers();
console.log(
  `wrk -t1 -c${connections}, ${warmup}s warm-up, best of ${rounds} × ${duration}s; server on CPU 0, wrk on CPU 1${hasTaskset ? "" : " (taskset missing: NOT pinned)"}; Node ${process.version}`,
);
const markdown: string[] = [];
/**
 * Per profile, raw's CPU time per request divided by each server's (for --json): the figure
 * least moved by other load on the machine, where req/s ratios swing by tens of percent.
 */
const ratios: Record<string, Record<string, number>> = {};
for (const profile of profiles) {
  console.log(`\n## ${PROFILE_LABELS[profile]}`);
  const results = await measureProfile(profile);
  const rows = servers.map((server) => ({
    label: server.label,
    result: results.get(server.id) ?? null,
  }));
  for (const { label, result } of rows) {
    const summary = result
      ? `${result.rps.toFixed(0)} req/s, p99 ${result.p99ms.toFixed(2)} ms, RSS ${result.rssMB.toFixed(0)} MB, ${result.cpuUs.toFixed(1)} µs CPU/req${result.errors ? `, ${result.errors} errors` : ""}`
      : "not available";
    console.log(`  ${pad(label, 40)} ${summary}`);
  }
  const base = rows.find((r) => r.label.startsWith("node:http"))?.result;
  const table = [
    `### ${PROFILE_LABELS[profile]}`,
    "",
    "| server | req/s | × raw | × raw, median of rounds | p99 ms | RSS MB | × raw RSS | CPU µs/req | × raw CPU |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const { label, result } of rows) {
    if (!result) {
      table.push(`| ${label} | n/a | | | | | | | |`);
      continue;
    }
    const ratio = base ? (result.rps / base.rps).toFixed(2) : "";
    const paired = base ? pairedRatio(result.roundRps, base.roundRps).toFixed(2) : "";
    if (base) {
      ratios[profile] ??= {};
      (ratios[profile] as Record<string, number>)[label] = Number(
        (base.cpuUs / result.cpuUs).toFixed(2),
      );
    }
    const rssRatio = base ? (result.rssMB / base.rssMB).toFixed(2) : "";
    const cpuRatio = base ? (result.cpuUs / base.cpuUs).toFixed(2) : "";
    table.push(
      `| ${label} | ${result.rps.toFixed(0)} | ${ratio} | ${paired} | ${result.p99ms.toFixed(2)} | ${result.rssMB.toFixed(0)} | ${rssRatio} | ${result.cpuUs.toFixed(1)} | ${cpuRatio} |`,
    );
  }
  markdown.push(table.join("\n"));
}
console.log(`\n${markdown.join("\n\n")}`);
if (values.json) {
  // The chart leaves out raw (it is the 1.0 line) and the diagnostic server.
  const charted = servers.filter((s) => s.id !== "raw" && s.id !== "asgi-floor");
  writeResults(values.json, {
    protocol: "http",
    title: "HTTP: server CPU per request against raw node:http",
    metric: "node:http CPU per request ÷ the server's (higher is better)",
    reference: "node:http",
    scenarios: profiles.map((id) => ({ id, label: PROFILE_LABELS[id] })),
    series: charted.map((s) => ({ id: s.label, label: s.label })),
    ratios,
    table: markdown.join("\n\n"),
  });
}
console.log(`\n(total ${((Date.now() - started) / 1000).toFixed(0)} s)`);
