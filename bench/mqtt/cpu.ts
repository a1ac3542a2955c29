/**
 * Client CPU per message, split into user and system (kernel) time, over several alternating
 * rounds: the steady figure to judge a change by on a busy machine (run.ts keeps the best
 * msg/s instead, which the broker and the scheduler decide more than the client).
 *
 *   node --import tsx bench/mqtt/cpu.ts [--rounds 5] [--scale 0.5] [--only inbound,qos0]
 *        [--sizes 64,1024,16384] [--clients mqtt.js,mtaio,mtaio@/path/to/other/checkout]
 *        [--profile DIR]
 *
 * `mtaio@DIR` runs the worker of another checkout (e.g. the commit before a change, unpacked
 * with `git archive`), so old and new code alternate in one run against one Mosquitto. Each
 * measurement is a fresh worker process (worker.ts); the order of the clients rotates every
 * round. Prints the median of each figure over the rounds.
 */
import { spawn, spawnSync } from "node:child_process";
import { cpus } from "node:os";
import { join } from "node:path";
import { freePort, startProcess, tempDir, waitForPort } from "../../test/servers/common.js";
import { flood } from "./flood.js";
import type { Scenario, WorkerResult } from "./worker.js";

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const ROUNDS = Number(option("rounds", "5"));
const SCALE = Number(option("scale", "0.5"));
const ONLY = option("only", "inbound,qos0").split(",") as Scenario[];
const SIZES = option("sizes", "64,1024,16384").split(",").map(Number);
const CLIENTS = option("clients", "mqtt.js,mtaio").split(",");
/** `--profile DIR` writes a V8 CPU profile of every worker into DIR. */
const PROFILE_DIR = option("profile", "");

const COUNTS: Record<string, Record<number, number>> = {
  qos0: { 64: 200_000, 1024: 100_000, 16384: 20_000 },
  qos1: { 64: 50_000, 1024: 40_000, 16384: 10_000 },
  qos2: { 64: 30_000, 1024: 25_000, 16384: 8_000 },
  inbound: { 64: 200_000, 1024: 100_000, 16384: 20_000 },
};

const here = new URL(".", import.meta.url).pathname;
const PIN =
  cpus().length >= 2 &&
  spawnSync("taskset", ["-a", "-p", "-c", "1", String(process.pid)], { stdio: "ignore" }).status ===
    0;

async function startBroker() {
  const dir = await tempDir("bench-cpu-mosquitto");
  const port = await freePort();
  const config = [
    "user root",
    "persistence false",
    "log_dest stderr",
    "log_type error",
    "max_inflight_messages 0",
    "max_queued_messages 0",
    "max_queued_bytes 0",
    `listener ${port} 127.0.0.1`,
    "allow_anonymous true",
    "",
  ].join("\n");
  const file = await dir.file("mosquitto.conf", config);
  const command = PIN ? "taskset" : "/usr/sbin/mosquitto";
  const commandArgs = PIN ? ["-c", "0", "/usr/sbin/mosquitto", "-c", file] : ["-c", file];
  const running = await startProcess({
    command,
    args: commandArgs,
    cwd: dir.path,
    ready: () => waitForPort(port),
  });
  return {
    port,
    async stop() {
      await running.stop();
      await dir.remove();
    },
  };
}

function runWorker(
  client: string,
  scenario: Scenario,
  size: number,
  count: number,
  port: number,
): Promise<WorkerResult> {
  const [library, root] = client.split("@");
  const dir = root ? join(root, "bench/mqtt") : here;
  const nodeArgs = PROFILE_DIR ? ["--cpu-prof", `--cpu-prof-dir=${PROFILE_DIR}`] : [];
  nodeArgs.push("--import", "tsx", join(dir, "worker.ts"), library, scenario, String(size));
  nodeArgs.push(String(count), String(port));
  const command = PIN ? "taskset" : process.execPath;
  const commandArgs = PIN ? ["-c", "1", process.execPath, ...nodeArgs] : nodeArgs;
  return new Promise((resolve, reject) => {
    const child = spawn(command, commandArgs, {
      cwd: root ?? process.cwd(),
      stdio: ["ignore", "pipe", "inherit"],
    });
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
      else reject(new Error(`${client} ${scenario} ${size} B: worker exited with ${code}`));
    });
  });
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

async function main(): Promise<void> {
  const broker = await startBroker();
  const results = new Map<string, WorkerResult[]>();
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const scenario of ONLY) {
        for (const size of SIZES) {
          const count = Math.max(1000, Math.round(COUNTS[scenario][size] * SCALE));
          const order = CLIENTS.map((_, i) => CLIENTS[(i + round) % CLIENTS.length]);
          for (const client of order) {
            // The floor clients only subscribe (floor.ts).
            if (client.startsWith("floor") && scenario !== "inbound") continue;
            const r = await runWorker(client, scenario, size, count, broker.port);
            const key = `${scenario} ${size} ${client}`;
            results.set(key, [...(results.get(key) ?? []), r]);
            console.error(
              `round ${round + 1} ${key}: ${(r.cpuMicros / r.received).toFixed(2)} µs/msg ` +
                `(user ${((r.userMicros ?? 0) / r.received).toFixed(2)}, system ${((r.systemMicros ?? 0) / r.received).toFixed(2)})`,
            );
          }
        }
      }
    }
  } finally {
    await broker.stop();
  }
  console.log(
    `median of ${ROUNDS} rounds, ${PIN ? "broker on CPU 0, clients on CPU 1" : "unpinned"}`,
  );
  console.log(
    "| scenario | payload | client | CPU µs/msg | user | system | msg/s | peak RSS MB | vs MQTT.js |",
  );
  console.log("|---|--:|---|--:|--:|--:|--:|--:|--:|");
  for (const scenario of ONLY) {
    for (const size of SIZES) {
      const reference = results.get(`${scenario} ${size} mqtt.js`);
      const referenceCpu = reference ? median(reference.map((r) => r.cpuMicros / r.received)) : 0;
      for (const client of CLIENTS) {
        const rs = results.get(`${scenario} ${size} ${client}`) ?? [];
        if (rs.length === 0) continue;
        const cpu = median(rs.map((r) => r.cpuMicros / r.received));
        const user = median(rs.map((r) => (r.userMicros ?? 0) / r.received));
        const system = median(rs.map((r) => (r.systemMicros ?? 0) / r.received));
        const rate = median(rs.map((r) => r.received / r.seconds));
        const rss = Math.max(...rs.map((r) => r.peakRssBytes)) / 1_048_576;
        console.log(
          `| ${scenario} | ${size} | ${client} | ${cpu.toFixed(2)} | ${user.toFixed(2)} | ${system.toFixed(2)} | ` +
            `${Math.round(rate)} | ${rss.toFixed(0)} | ${referenceCpu ? `${(referenceCpu / cpu).toFixed(2)}×` : ""} |`,
        );
      }
    }
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
