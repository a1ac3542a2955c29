/**
 * MQTT benchmark: mtaio vs MQTT.js against the same Mosquitto, in one invocation.
 *
 *   npx tsx bench/mqtt/run.ts [--rounds 2] [--scale 1] [--only qos0,qos1,qos2,inbound]
 *                             [--sizes 64,1024,16384] [--libraries mqtt.js,mtaio] [--profile DIR]
 *                             [--pin auto|off] [--json bench/results/mqtt.json]
 *
 * Starts Mosquitto from a temp config on a free loopback port, then runs every scenario for
 * 64 B, 1 KiB and 16 KiB payloads, each measurement in a fresh Node process (worker.ts):
 *   qos0     firehose: publish N at QoS 0 (≤ 1000 unfinished publish() calls), until a
 *            subscriber of the same library has received all N
 *   qos1/2   publish N with an in-flight window of 1000, until every flow has completed
 *   inbound  a raw socket floods N QoS 0 messages through the broker to one subscriber
 *   soak     QoS 1, 64 B, many messages (one round): RSS after 10 %, 50 % and 100 %
 * Reports messages/s, CPU µs per message (process.cpuUsage of the worker), peak RSS, and the
 * mtaio/MQTT.js ratios. Messages/s and RSS are the best of `rounds` runs; CPU per message is the
 * median over the rounds (steadier than the CPU of the fastest round). Prints a Markdown table.
 *
 * Pinning (`--pin auto`, the default, when `taskset` exists and there are ≥ 2 CPUs): Mosquitto
 * runs on CPU 0, the measured worker and the flooder (this process) on CPU 1. On a 2-core
 * machine Mosquitto is the bottleneck; unpinned, the scheduler decides how much of it each
 * library gets, and the ratio measures the scheduler more than the client.
 */
import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { freePort, startProcess, tempDir, waitForPort } from "../../test/servers/common.js";
import { writeResults } from "../results.js";
import { flood } from "./flood.js";
import type { LibraryName } from "./libraries.js";
import type { Scenario, WorkerResult } from "./worker.js";

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const ROUNDS = Number(option("rounds", "2"));
const SCALE = Number(option("scale", "1"));
const ONLY = option("only", "qos0,qos1,qos2,inbound,soak").split(",") as Scenario[];
const LIBRARIES = option("libraries", "mqtt.js,mtaio").split(",") as LibraryName[];
const SIZE_LIST = option("sizes", "64,1024,16384").split(",").map(Number);
/** `--profile DIR` writes a V8 CPU profile of every worker into DIR (open in Chrome DevTools). */
const PROFILE_DIR = option("profile", "");
const PIN = option("pin", "auto");
/** `--json PATH` also writes the results as JSON (bench/results.ts) for the charts. */
const JSON_PATH = option("json", "");

/** taskset arguments for the broker and for the client side, or undefined when not pinning. */
function choosePinning(): { broker: string[]; client: string[] } | undefined {
  if (PIN === "off" || cpus().length < 2) return undefined;
  const probe = spawnSync("taskset", ["-c", "0", "true"], { stdio: "ignore" });
  if (probe.error || probe.status !== 0) return undefined;
  // The flooder runs in this process: move all of its threads to CPU 1 as well.
  const self = spawnSync("taskset", ["-a", "-p", "-c", "1", String(process.pid)], {
    stdio: "ignore",
  });
  if (self.error || self.status !== 0) return undefined;
  return { broker: ["-c", "0"], client: ["-c", "1"] };
}
const PINNING = choosePinning();
const PINNING_TEXT = PINNING
  ? "Mosquitto pinned to CPU 0; the measured worker and the flooder to CPU 1 (taskset)"
  : "no CPU pinning (taskset missing, fewer than 2 CPUs, or --pin off)";

/** `command args` run under taskset when pinning. */
function pinned(which: "broker" | "client", command: string, args: string[]) {
  return PINNING
    ? { command: "taskset", args: [...PINNING[which], command, ...args] }
    : { command, args };
}

const COUNTS: Record<Scenario, Record<number, number>> = {
  qos0: { 64: 200_000, 1024: 100_000, 16384: 20_000 },
  qos1: { 64: 50_000, 1024: 40_000, 16384: 10_000 },
  qos2: { 64: 30_000, 1024: 25_000, 16384: 8_000 },
  inbound: { 64: 200_000, 1024: 100_000, 16384: 20_000 },
  soak: { 64: 600_000 },
};

const here = new URL(".", import.meta.url).pathname;

async function startBroker() {
  const dir = await tempDir("bench-mosquitto");
  const port = await freePort();
  const config = [
    "user root", // ignored unless we are root; keeps Mosquitto from switching users
    "persistence false",
    "log_dest stderr",
    "log_type error",
    // No broker-side limits that would drop or throttle messages during a run.
    "max_inflight_messages 0",
    "max_queued_messages 0",
    "max_queued_bytes 0",
    `listener ${port} 127.0.0.1`,
    "allow_anonymous true",
    "",
  ].join("\n");
  const configFile = await dir.file("mosquitto.conf", config);
  const running = await startProcess({
    ...pinned("broker", "/usr/sbin/mosquitto", ["-c", configFile]),
    cwd: dir.path,
    ready: () => waitForPort(port),
  });
  return {
    port,
    pid: running.child.pid,
    async stop() {
      await running.stop();
      await dir.remove();
    },
  };
}

/**
 * CPU time (user + system, µs) a process has used so far, from /proc (Linux; 0 elsewhere).
 * Mosquitto's CPU per message shows what a client's way of writing costs the broker, and unlike
 * msg/s it does not depend on what else the machine is running.
 */
function processCpuMicros(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the ")" that ends the command name: utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1_000_000) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}
const CLOCK_TICKS = Number(spawnSync("getconf", ["CLK_TCK"]).stdout?.toString().trim()) || 100;

function runWorker(
  library: LibraryName,
  scenario: Scenario,
  size: number,
  count: number,
  port: number,
): Promise<WorkerResult> {
  return new Promise((resolve, reject) => {
    const worker = pinned("client", process.execPath, [
      ...(PROFILE_DIR ? ["--cpu-prof", `--cpu-prof-dir=${PROFILE_DIR}`] : []),
      "--import",
      "tsx",
      join(here, "worker.ts"),
      library,
      scenario,
      String(size),
      String(count),
      String(port),
    ]);
    const child = spawn(worker.command, worker.args, { stdio: ["ignore", "pipe", "inherit"] });
    let buffer = "";
    let result: WorkerResult | undefined;
    const timer = setTimeout(() => child.kill("SIGKILL"), 180_000);
    child.stdout.on("data", (chunk: Buffer) => {
      buffer += chunk.toString("utf8");
      let nl = buffer.indexOf("\n");
      while (nl >= 0) {
        const line = JSON.parse(buffer.slice(0, nl)) as WorkerResult | { ready: true };
        buffer = buffer.slice(nl + 1);
        if ("ready" in line) flood(port, size, count).catch(reject);
        else result = line;
        nl = buffer.indexOf("\n");
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      if (result) resolve(result);
      else reject(new Error(`${library} ${scenario} ${size} B: worker exited with ${code}`));
    });
  });
}

const rate = (r: WorkerResult) => r.received / r.seconds;
const cpuPerMessage = (r: WorkerResult) => r.cpuMicros / r.received;
const brokerCpuPerMessage = (r: WorkerResult) => (r.brokerCpuMicros ?? 0) / r.received;
const median = (values: number[]) => {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const mb = (bytes: number) => (bytes / 1_048_576).toFixed(0);
const fmt = (n: number) => (n >= 100 ? Math.round(n).toLocaleString("en-US") : n.toFixed(1));
const sizeLabel = (size: number) => (size >= 1024 ? `${size / 1024} KiB` : `${size} B`);

async function main(): Promise<void> {
  console.error(`pinning: ${PINNING_TEXT}`);
  const broker = await startBroker();
  const best = new Map<string, WorkerResult>();
  const cpuRounds = new Map<string, number[]>();
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      for (const scenario of ONLY) {
        if (scenario === "soak" && round > 1) continue;
        for (const size of SIZE_LIST) {
          if (COUNTS[scenario][size] === undefined) continue;
          const count = Math.max(1000, Math.round(COUNTS[scenario][size] * SCALE));
          // Alternate which library goes first, so neither always gets the warmer machine.
          const order = round % 2 === 1 ? LIBRARIES : [...LIBRARIES].reverse();
          for (const library of order) {
            const brokerBefore = processCpuMicros(broker.pid);
            const r = await runWorker(library, scenario, size, count, broker.port);
            r.brokerCpuMicros = processCpuMicros(broker.pid) - brokerBefore;
            const key = `${scenario}/${size}/${library}`;
            cpuRounds.set(key, [...(cpuRounds.get(key) ?? []), cpuPerMessage(r)]);
            const previous = best.get(key);
            if (!previous || rate(r) > rate(previous)) best.set(key, r);
            console.error(
              `round ${round} ${scenario.padEnd(7)} ${sizeLabel(size).padStart(6)} ${library.padEnd(7)} ` +
                `${fmt(rate(r)).padStart(9)} msg/s  ${cpuPerMessage(r).toFixed(1).padStart(6)} µs CPU/msg ` +
                `(user ${((r.userMicros ?? 0) / r.received).toFixed(1)} + sys ${((r.systemMicros ?? 0) / r.received).toFixed(1)})  ` +
                `Mosquitto ${brokerCpuPerMessage(r).toFixed(1).padStart(5)} µs/msg  ${mb(r.peakRssBytes)} MB RSS`,
            );
          }
        }
      }
    }
  } finally {
    await broker.stop();
  }
  const lines = [
    `Node ${process.version}, Mosquitto 2 on loopback, ${cpus().length} × ${cpus()[0]?.model ?? "CPU"}; best of ${ROUNDS} round(s) for msg/s and RSS, median for CPU; ${PINNING_TEXT}.`,
    "",
    "| scenario | payload | MQTT.js msg/s | mtaio msg/s | speed ratio | MQTT.js CPU µs/msg | mtaio CPU µs/msg | CPU ratio | Mosquitto µs/msg (MQTT.js / mtaio) | MQTT.js peak RSS | mtaio peak RSS |",
    "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
  ];
  const cpuOf = (r: WorkerResult) =>
    median(cpuRounds.get(`${r.scenario}/${r.size}/${r.library}`) ?? [cpuPerMessage(r)]);
  for (const scenario of ONLY.filter((s) => s !== "soak")) {
    for (const size of SIZE_LIST) {
      const a = best.get(`${scenario}/${size}/mqtt.js`);
      const b = best.get(`${scenario}/${size}/mtaio`);
      if (!a || !b) continue;
      lines.push(
        `| ${scenario} | ${sizeLabel(size)} | ${fmt(rate(a))} | ${fmt(rate(b))} | ${(rate(b) / rate(a)).toFixed(2)}× | ` +
          `${cpuOf(a).toFixed(1)} | ${cpuOf(b).toFixed(1)} | ${(cpuOf(a) / cpuOf(b)).toFixed(2)}× | ` +
          `${brokerCpuPerMessage(a).toFixed(1)} / ${brokerCpuPerMessage(b).toFixed(1)} | ` +
          `${mb(a.peakRssBytes)} MB | ${mb(b.peakRssBytes)} MB |`,
      );
    }
  }
  const soak = LIBRARIES.map((library) => best.get(`soak/64/${library}`)).filter((r) => r);
  if (soak.length > 0) {
    lines.push(
      "",
      "| soak (QoS 1, 64 B) | messages | msg/s | RSS at 10 % | RSS at 50 % | RSS at 100 % |",
      "|---|--:|--:|--:|--:|--:|",
    );
    for (const r of soak as WorkerResult[]) {
      const [p10, p50, p100] = (r.rssCheckpoints ?? []).map((b) => `${mb(b)} MB`);
      lines.push(
        `| ${r.library} | ${r.count.toLocaleString("en-US")} | ${fmt(rate(r))} | ${p10} | ${p50} | ${p100} |`,
      );
    }
  }
  console.log(lines.join("\n"));
  if (JSON_PATH) writeJson(best, cpuOf, lines.join("\n"));
}

/** mtaio's throughput and CPU per message, each as a ratio to MQTT.js (higher: mtaio better). */
function writeJson(
  best: Map<string, WorkerResult>,
  cpuOf: (r: WorkerResult) => number,
  table: string,
): void {
  const scenarios: Array<{ id: string; label: string }> = [];
  const ratios: Record<string, Record<string, number>> = {};
  for (const scenario of ONLY.filter((s) => s !== "soak")) {
    for (const size of SIZE_LIST) {
      const a = best.get(`${scenario}/${size}/mqtt.js`);
      const b = best.get(`${scenario}/${size}/mtaio`);
      if (!a || !b) continue;
      const id = `${scenario} ${sizeLabel(size)}`;
      scenarios.push({ id, label: id });
      ratios[id] = {
        rate: Number((rate(b) / rate(a)).toFixed(2)),
        cpu: Number((cpuOf(a) / cpuOf(b)).toFixed(2)),
      };
    }
  }
  writeResults(JSON_PATH, {
    protocol: "mqtt",
    title: "MQTT: mtaio against MQTT.js through one Mosquitto",
    metric: "mtaio ÷ MQTT.js (higher is better for mtaio)",
    reference: "MQTT.js",
    scenarios,
    series: [
      { id: "rate", label: "messages/s" },
      { id: "cpu", label: "CPU per message (MQTT.js ÷ mtaio)" },
    ],
    ratios,
    table,
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
