/**
 * CPU profile of one benchmark server under wrk load, printed as the top functions by self
 * time (file:line), to find what a request costs.
 *
 *   node --import tsx bench/http/profile.ts asgi-app routes [seconds]
 *
 * The .cpuprofile is kept (path printed) for Chrome DevTools.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROUTES_TARGET } from "./common.js";
import { benchDir, buildServers, serverScript } from "./runner.js";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CPUProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [id = "asgi-bare", profile = "hello", secondsArg = "6"] = process.argv.slice(2);
buildServers();
const script = serverScript(id);
const dir = mkdtempSync(join(tmpdir(), "mtaio-prof-"));
const port = 18000 + Math.floor(Math.random() * 1000);

const server = spawn(
  "taskset",
  [
    "-c",
    "0",
    process.execPath,
    "--cpu-prof",
    `--cpu-prof-dir=${dir}`,
    script,
    profile,
    String(port),
  ],
  { stdio: ["ignore", "pipe", "inherit"] },
);
await new Promise<void>((resolve) => server.stdout?.on("data", () => resolve()));
const path = profile === "routes" ? ROUTES_TARGET : profile === "echo" ? "/echo" : "/";
const wrkArgs = ["-c", "1", "/usr/bin/wrk", "-t1", "-c50", `-d${secondsArg}s`];
if (profile === "echo") wrkArgs.push("-s", `${benchDir}post.lua`);
const out = spawnSync("taskset", [...wrkArgs, `http://127.0.0.1:${port}${path}`], {
  encoding: "utf8",
});
console.log(/Requests\/sec:.*/.exec(out.stdout)?.[0]);
server.kill("SIGINT"); // the servers exit via process.exit on SIGINT: the profile is written
await new Promise((resolve) => server.once("exit", resolve));

const file = readdirSync(dir)
  .map((name) => join(dir, name))
  .sort((a, b) => statSync(b).size - statSync(a).size)[0];
const data = JSON.parse(readFileSync(file, "utf8")) as CPUProfile;
const byId = new Map(data.nodes.map((node) => [node.id, node]));
const self = new Map<string, number>();
let total = 0;
for (let i = 0; i < data.samples.length; i++) {
  const frame = byId.get(data.samples[i])!.callFrame;
  const delta = data.timeDeltas[i] ?? 0;
  total += delta;
  const where = frame.url.replace(/^.*\/(node_modules|src|bench)\//, "$1/");
  const key = `${frame.functionName || "(anonymous)"} ${where}:${frame.lineNumber + 1}`;
  self.set(key, (self.get(key) ?? 0) + delta);
}
for (const [key, time] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 30)) {
  console.log(`${((100 * time) / total).toFixed(1).padStart(5)}%  ${key}`);
}
console.log(`profile: ${file}`);
