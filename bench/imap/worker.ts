/**
 * One scenario for one client, in its own process so CPU time and peak RSS are its own.
 *   node --import tsx bench/imap/worker.ts <imapflow|floor|mtaio> <scenario> '<BenchTarget JSON>'
 * Prints one JSON line: { wallMs, cpuMs, baselineRssMb, peakRssMb, messages, bytes }, where
 * baselineRssMb is the RSS just before the measured run and peakRssMb the process's peak.
 */
import { readFileSync } from "node:fs";
import { floor } from "./floor.js";
import { imapflow } from "./imapflow.js";
import { mtaio } from "./mtaio.js";
import type { BenchClient, BenchTarget, ScenarioName } from "./types.js";

const [name, scenario, targetJson] = process.argv.slice(2);
const clients: Record<string, BenchClient | null> = { imapflow, floor, mtaio };
const client = clients[name];
if (!client) throw new Error(`no benchmark client ${name}`);
const target = JSON.parse(targetJson) as BenchTarget;

/**
 * Peak RSS of this process image in MB: VmHWM, because getrusage's maxRSS carries over the
 * spawning parent's peak (Linux keeps it across fork and exec), which holds the seeded mail.
 */
function peakRss(): number {
  const status = readFileSync("/proc/self/status", "utf8");
  const match = /VmHWM:\s+(\d+) kB/.exec(status);
  return (match ? Number(match[1]) : process.resourceUsage().maxRSS) / 1024;
}

const prepared = await client.prepare(scenario as ScenarioName, target);
const baselineRssMb = process.memoryUsage.rss() / 1024 / 1024;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const work = await prepared.run();
const wallMs = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
const peakRssMb = peakRss();
await prepared.close();
console.log(
  JSON.stringify({
    wallMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    baselineRssMb,
    peakRssMb,
    messages: work.messages,
    bytes: work.bytes,
  }),
);
process.exit(0);
