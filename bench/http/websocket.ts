/**
 * WebSocket echo benchmark: mtaio's `serve()` with a `router.websocket()` echo route and with
 * a bare ASGI callable, against the `ws` package alone and Fastify with @fastify/websocket,
 * all in one run.
 *
 *   node --import tsx bench/http/websocket.ts [--duration 3] [--rounds 5] [--warmup 1]
 *       [--connections 50] [--window 1] [--client raw|ws] [--servers ws-bare,ws-asgi-app,...]
 *       [--base REV] [--json bench/results/websocket.json]
 *
 * Each server runs in its own process pinned to CPU 0; the load generator
 * (websocket-load.ts, `ws` clients: CONNECTIONS connections with WINDOW messages in flight
 * each) runs in another process pinned to CPU 1, so the server's CPU time is its own; by
 * default it writes prebuilt frames on raw sockets (`--client ws`: the `ws` client, which
 * costs about what a server does per message and so becomes the bottleneck). Rounds
 * alternate between the servers, each round starting at the next one. Prints messages/s
 * (echoes received per second: each is one message in and one out), p99 round-trip latency
 * (of the best round), server CPU time per echo (the lowest of the rounds) and ratios to bare
 * `ws` and to Fastify, both of the bests and as the median of per-round ratios. `--base REV`
 * adds mtaio's servers as built from git revision REV, for a before/after in one run.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { writeResults } from "../results.js";
import { buildRevision, buildServers, freePort, serverScript } from "./runner.js";
import { WS_MESSAGE, WS_PATH } from "./websocket-common.js";

interface Server {
  /** Unique per row: the script's id, or `id@base`. */
  key: string;
  /** The script in servers/ (without `.js`). */
  id: string;
  label: string;
  /** The build the script is taken from (this tree's by default). */
  build?: string;
}

const SERVERS: Server[] = [
  { key: "ws-bare", id: "ws-bare", label: "ws (WebSocketServer)" },
  { key: "ws-asgi-bare", id: "ws-asgi-bare", label: "mtaio serve + bare ASGI callable" },
  { key: "ws-asgi-app", id: "ws-asgi-app", label: "mtaio serve + router.websocket" },
  { key: "ws-fastify", id: "ws-fastify", label: "Fastify + @fastify/websocket" },
];

const { values } = parseArgs({
  options: {
    duration: { type: "string", default: "3" },
    rounds: { type: "string", default: "5" },
    warmup: { type: "string", default: "1" },
    connections: { type: "string", default: "50" },
    window: { type: "string", default: "1" },
    /** The load generator's client: prebuilt frames on raw sockets, or the `ws` package's. */
    client: { type: "string", default: "raw" },
    servers: { type: "string" },
    /** Also measure mtaio's servers as built from this git revision: a before/after. */
    base: { type: "string" },
    /** Also write the results as JSON (bench/results.ts) for the charts. */
    json: { type: "string" },
  },
});
const duration = Number(values.duration);
const rounds = Math.max(1, Number(values.rounds));
const warmup = Number(values.warmup);
const connections = Number(values.connections);
const window = Math.max(1, Number(values.window));
const client = values.client === "ws" ? "ws" : "raw";
const servers = values.servers
  ? SERVERS.filter((s) => values.servers!.split(",").includes(s.id))
  : [...SERVERS];
if (values.base !== undefined) {
  const build = buildRevision(values.base);
  for (const server of [...servers]) {
    if (!server.id.startsWith("ws-asgi")) continue;
    servers.push({
      ...server,
      key: `${server.id}@base`,
      label: `${server.label} @ ${values.base}`,
      build,
    });
  }
}

const hasTaskset = spawnSync("sh", ["-c", "command -v taskset"]).status === 0;
function pinned(cpu: number, command: string, args: string[]): [string, string[]] {
  return hasTaskset ? ["taskset", ["-c", String(cpu), command, ...args]] : [command, args];
}

const children = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of children) child.kill("SIGKILL");
});
process.once("SIGINT", () => process.exit(130));
process.once("SIGTERM", () => process.exit(143));

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}

/** Lines of a child's stdout, one callback per line. */
function onLines(child: ChildProcess, callback: (line: string) => void): void {
  let pending = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    pending += chunk.toString();
    let end = pending.indexOf("\n");
    while (end >= 0) {
      callback(pending.slice(0, end));
      pending = pending.slice(end + 1);
      end = pending.indexOf("\n");
    }
  });
}

interface Running {
  id: string;
  child: ChildProcess;
  url: string;
}

async function startServer(server: Server): Promise<Running | null> {
  const { id } = server;
  const port = await freePort();
  const script = serverScript(id, server.build);
  const [command, args] = pinned(0, process.execPath, [script, String(port)]);
  const child = track(spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] }));
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  let ready = false;
  const started = await new Promise<boolean>((resolve) => {
    onLines(child, (line) => {
      if (line !== "ready") return;
      ready = true;
      resolve(true);
    });
    child.once("exit", (code) => {
      if (ready) return;
      process.stderr.write(`  ${id} exited (${code}): ${stderr.trim()}\n`);
      resolve(false);
    });
  });
  return started ? { id, child, url: `ws://127.0.0.1:${port}${WS_PATH}` } : null;
}

/** CPU seconds (user + system) of a process, from /proc/<pid>/stat. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}
const CLOCK_TICKS = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout) || 100;

function rssMB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

interface Round {
  rate: number;
  p99ms: number;
  errors: number;
  cpuUs: number;
}

/** One round of load against `run`: the load generator's figures and the server's CPU. */
async function measure(run: Running, seconds: number): Promise<Round> {
  const script = serverScript("ws-bare").replace(/servers\/ws-bare\.js$/, "websocket-load.js");
  const [command, args] = pinned(1, process.execPath, [
    script,
    run.url,
    String(connections),
    String(window),
    String(warmup),
    String(seconds),
    client,
  ]);
  const load = track(spawn(command, args, { stdio: ["ignore", "pipe", "inherit"] }));
  const pid = run.child.pid as number;
  let cpuBefore = 0;
  let cpuAfter = 0;
  let report = "";
  await new Promise<void>((resolve, reject) => {
    onLines(load, (line) => {
      if (line === "go") cpuBefore = cpuSeconds(pid);
      else if (line.startsWith("{")) {
        cpuAfter = cpuSeconds(pid);
        report = line;
      }
    });
    load.once("exit", (code) =>
      report ? resolve() : reject(new Error(`load generator failed (${code})`)),
    );
  });
  const result = JSON.parse(report) as {
    echoes: number;
    seconds: number;
    p99ms: number;
    errors: number;
  };
  return {
    rate: result.echoes / result.seconds,
    p99ms: result.p99ms,
    errors: result.errors,
    cpuUs: ((cpuAfter - cpuBefore) * 1e6) / Math.max(1, result.echoes),
  };
}

interface Result {
  best: Round;
  /** The lowest CPU per echo of the rounds: the least disturbed by other load. */
  cpuUs: number;
  rssMB: number;
  errors: number;
  /** Per-round figures in round order, for ratios paired round by round. */
  rounds: Round[];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** Median over rounds of `a`'s figure divided by `b`'s in the same round. */
function pairedRatio(a: Round[], b: Round[], pick: (round: Round) => number): number {
  return median(a.map((round, i) => pick(round) / pick(b[i] as Round)));
}

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + " ".repeat(width - text.length);
}

const started = Date.now();
buildServers();
console.log(
  `WebSocket echo (${WS_MESSAGE.length}-byte text): ${connections} connections × ${window} in flight, ${warmup}s warm-up, ${rounds} rounds × ${duration}s; server on CPU 0, ${client} clients on CPU 1${hasTaskset ? "" : " (taskset missing: NOT pinned)"}; Node ${process.version}`,
);
const running = new Map<string, Running | null>();
for (const server of servers) running.set(server.key, await startServer(server));
const results = new Map<string, Result>();
try {
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < servers.length; i++) {
      const server = servers[(i + round) % servers.length] as Server;
      const run = running.get(server.key);
      if (!run) continue;
      const measured = await measure(run, duration);
      const rss = rssMB(run.child.pid as number);
      const result = results.get(server.key);
      if (!result) {
        results.set(server.key, {
          best: measured,
          cpuUs: measured.cpuUs,
          rssMB: rss,
          errors: measured.errors,
          rounds: [measured],
        });
        continue;
      }
      if (measured.rate > result.best.rate) result.best = measured;
      result.cpuUs = Math.min(result.cpuUs, measured.cpuUs);
      result.rssMB = Math.max(result.rssMB, rss);
      result.errors += measured.errors;
      result.rounds.push(measured);
    }
  }
} finally {
  for (const run of running.values()) {
    if (!run) continue;
    run.child.kill("SIGKILL");
    await new Promise((resolve) => run.child.once("exit", resolve));
  }
}

const bare = results.get("ws-bare");
const fastify = results.get("ws-fastify");
const label = `WebSocket echo, ${connections} connections × ${window} in flight`;
const table = [
  `### ${label}`,
  "",
  "| server | messages/s | × ws | × ws, median of rounds | × Fastify, median of rounds | p99 ms | CPU µs/message | × ws CPU | RSS MB |",
  "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
];
const ratios: Record<string, number> = {};
for (const server of servers) {
  const result = results.get(server.key);
  if (!result) {
    console.log(`  ${pad(server.label, 36)} not available`);
    table.push(`| ${server.label} | n/a | | | | | | | |`);
    continue;
  }
  const rate = (round: Round) => round.rate;
  const toBare = bare ? (result.best.rate / bare.best.rate).toFixed(2) : "";
  const pairedBare = bare ? pairedRatio(result.rounds, bare.rounds, rate).toFixed(2) : "";
  const pairedFastify = fastify ? pairedRatio(result.rounds, fastify.rounds, rate).toFixed(2) : "";
  const cpuRatio = bare ? (result.cpuUs / bare.cpuUs).toFixed(2) : "";
  if (bare) ratios[server.label] = Number((bare.cpuUs / result.cpuUs).toFixed(2));
  console.log(
    `  ${pad(server.label, 36)} ${result.best.rate.toFixed(0)} msg/s, p99 ${result.best.p99ms.toFixed(2)} ms, ${result.cpuUs.toFixed(2)} µs CPU/msg, RSS ${result.rssMB.toFixed(0)} MB${result.errors ? `, ${result.errors} errors` : ""}`,
  );
  table.push(
    `| ${server.label} | ${result.best.rate.toFixed(0)} | ${toBare} | ${pairedBare} | ${pairedFastify} | ${result.best.p99ms.toFixed(2)} | ${result.cpuUs.toFixed(2)} | ${cpuRatio} | ${result.rssMB.toFixed(0)} |`,
  );
}
console.log(`\n${table.join("\n")}`);
if (values.json) {
  writeResults(values.json, {
    protocol: "websocket",
    title: "WebSocket echo: server CPU per message against the ws package alone",
    metric: "ws CPU per message ÷ the server's (higher is better)",
    reference: "ws (WebSocketServer)",
    scenarios: [{ id: "echo", label }],
    series: servers
      .filter((s) => s.id !== "ws-bare" && s.build === undefined)
      .map((s) => ({ id: s.label, label: s.label })),
    ratios: { echo: ratios },
    table: table.join("\n"),
  });
}
console.log(`\n(total ${((Date.now() - started) / 1000).toFixed(0)} s)`);
