/**
 * IMAP benchmark: mtaio vs imapflow vs a raw-socket floor against one Dovecot (plaintext
 * loopback, no compression), in one invocation.
 *   npx tsx bench/imap/run.ts [--rounds N] [--quick] [--json bench/results/imap.json]
 *     [--scenarios envelope,bodies,attachment] [--clients imapflow,floor,mtaio] [--no-build]
 * Scenarios: `envelope` (ENVELOPE + FLAGS + UID of 10,000 ~2 KB messages), `bodies` (1,000
 * ~20 KB multipart messages fetched whole and parsed to text), `attachment` (a 100 MB
 * attachment downloaded as a stream). Each run is a fresh worker process; the clients take
 * turns within a round, in a rotating order; the median of the rounds is reported, after
 * warming Dovecot's indexes and one unrecorded round. Writes bench/results/imap.json.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { startDovecotIMAP } from "../../test/servers/dovecot-imap.js";
import { writeResults } from "../results.js";
import { floor } from "./floor.js";
import { attachmentMessage, multipartMessage, smallMessage } from "./mail.js";
import { mtaio } from "./mtaio.js";
import type { BenchTarget, ScenarioName } from "./types.js";

interface Measured {
  wallMs: number;
  cpuMs: number;
  baselineRssMb: number;
  peakRssMb: number;
  messages: number;
  bytes: number;
}

const args = process.argv.slice(2);
const quick = args.includes("--quick");
/** `--json PATH` also writes the results as JSON (bench/results.ts) for the charts. */
const jsonIndex = args.indexOf("--json");
const jsonPath = jsonIndex >= 0 ? args[jsonIndex + 1] : undefined;
const roundsAt = args.indexOf("--rounds");
const rounds = roundsAt >= 0 ? Number(args[roundsAt + 1]) : quick ? 1 : 5;
const sizes = quick
  ? { envelope: 1000, bodies: 100, attachmentMb: 10 }
  : { envelope: 10_000, bodies: 1000, attachmentMb: 100 };
/** `--scenarios a,b` and `--clients x,y` run a subset (e.g. while working on one scenario). */
const listArg = (name: string) => {
  const at = args.indexOf(name);
  return at >= 0 ? new Set(args[at + 1].split(",")) : undefined;
};
const onlyScenarios = listArg("--scenarios");
const onlyClients = listArg("--clients");
const wanted = (name: ScenarioName) => onlyScenarios?.has(name) ?? true;
// The JSON feeds BENCHMARKS.md's table and chart, which want every scenario and client.
if ((onlyScenarios || onlyClients) && jsonPath) {
  throw new Error("--scenarios/--clients and --json do not go together");
}
const clients = ["imapflow", "floor", ...(mtaio ? ["mtaio"] : [])].filter(
  (client) => onlyClients?.has(client) ?? true,
);
if (!mtaio) console.log("mtaio: not yet");

// The mtaio client runs from dist/ (see mtaio.ts): build it from this tree first, unless
// `--no-build` says dist/ is already current.
if (!args.includes("--no-build")) {
  const build = spawnSync("npm", ["run", "build"], { stdio: "inherit" });
  if (build.status !== 0) throw new Error("npm run build failed");
}

const USER = "bench";
const PASSWORD = "bench-password";
const server = await startDovecotIMAP({ [USER]: PASSWORD }, { compress: false });
const worker = join(import.meta.dirname, "worker.ts");

const scenarios: { name: ScenarioName; label: string; target: BenchTarget }[] = [];
const target = (mailbox: string, messages: number): BenchTarget => ({
  host: server.host,
  port: server.imapPort,
  user: USER,
  password: PASSWORD,
  mailbox,
  messages,
  attachmentBytes: sizes.attachmentMb * 1024 * 1024,
});
const seen = (i: number) => (i % 3 === 0 ? [] : ["\\Seen"]);
if (wanted("envelope")) {
  server.seedMaildir(
    USER,
    Array.from({ length: sizes.envelope }, (_, i) => smallMessage(i)),
    { mailbox: "bench-envelope", flags: seen },
  );
}
if (wanted("bodies")) {
  server.seedMaildir(
    USER,
    Array.from({ length: sizes.bodies }, (_, i) => multipartMessage(i)),
    { mailbox: "bench-bodies", flags: seen },
  );
}
if (wanted("attachment")) {
  server.seedMaildir(USER, [attachmentMessage(sizes.attachmentMb * 1024 * 1024)], {
    mailbox: "bench-attachment",
  });
}
const all: typeof scenarios = [];
all.push(
  {
    name: "envelope",
    label: `ENVELOPE+FLAGS+UID of ${sizes.envelope} messages`,
    target: target("bench-envelope", sizes.envelope),
  },
  {
    name: "bodies",
    label: `${sizes.bodies} ~20 KB messages parsed to text`,
    target: target("bench-bodies", sizes.bodies),
  },
  {
    name: "attachment",
    label: `${sizes.attachmentMb} MB attachment as a stream`,
    target: target("bench-attachment", 1),
  },
);
scenarios.push(...all.filter((scenario) => wanted(scenario.name)));

/**
 * Dovecot parses every message on the first fetch and settles its cache over the next few;
 * fetching each mailbox a few times here keeps that out of the first round.
 */
async function warmDovecot() {
  for (const scenario of scenarios) {
    for (let i = 0; i < 3; i++) {
      const prepared = await floor.prepare(scenario.name, scenario.target);
      await prepared.run();
      await prepared.close();
    }
  }
}

function runWorker(client: string, scenario: ScenarioName, t: BenchTarget): Measured {
  const child = spawnSync(
    process.execPath,
    ["--import", "tsx", worker, client, scenario, JSON.stringify(t)],
    {
      encoding: "utf8",
      timeout: 600_000,
    },
  );
  try {
    return JSON.parse(child.stdout.trim().split("\n").pop() ?? "") as Measured;
  } catch {
    throw new Error(
      `${client} ${scenario} failed (${child.status}):\n${child.stdout}\n${child.stderr}`,
    );
  }
}

/** Parsing clients must have done the whole job (the floor only counts raw bytes). */
function check(client: string, scenario: ScenarioName, t: BenchTarget, m: Measured) {
  if (client === "floor") return;
  const expected =
    scenario === "attachment"
      ? { messages: 1, bytes: t.attachmentBytes }
      : { messages: t.messages };
  if (
    m.messages !== expected.messages ||
    (expected.bytes !== undefined && m.bytes !== expected.bytes)
  ) {
    throw new Error(
      `${client} ${scenario}: did ${JSON.stringify(m)}, expected ${JSON.stringify(expected)}`,
    );
  }
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

const results = new Map<string, Measured[]>();
try {
  await warmDovecot();
  for (let round = -1; round < rounds; round++) {
    for (const scenario of scenarios) {
      const order = clients.map((_, i) => clients[(i + Math.max(round, 0)) % clients.length]);
      for (const client of order) {
        const m = runWorker(client, scenario.name, scenario.target);
        check(client, scenario.name, scenario.target, m);
        if (round < 0) continue;
        const key = `${scenario.name}/${client}`;
        results.set(key, [...(results.get(key) ?? []), m]);
      }
    }
    console.log(round < 0 ? "warm-up done" : `round ${round + 1}/${rounds} done`);
  }
} finally {
  await server.stop();
}

/** Median figures of one client in one scenario. */
function summary(scenario: ScenarioName, client: string) {
  const runs = results.get(`${scenario}/${client}`) ?? [];
  return {
    wallMs: median(runs.map((r) => r.wallMs)),
    cpuMs: median(runs.map((r) => r.cpuMs)),
    peakRssMb: median(runs.map((r) => r.peakRssMb)),
    rssAddedMb: median(runs.map((r) => r.peakRssMb - r.baselineRssMb)),
  };
}

const lines = [
  "| scenario | client | wall ms | CPU ms | RSS added MB | speed × imapflow | CPU × imapflow | wall × floor |",
  "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
];
const ratios: Record<string, Record<string, number>> = {};
for (const scenario of scenarios) {
  const reference = summary(scenario.name, "imapflow");
  const bottom = summary(scenario.name, "floor");
  ratios[scenario.name] = {};
  for (const client of clients) {
    const m = summary(scenario.name, client);
    const speed = reference.wallMs / m.wallMs;
    const cpu = reference.cpuMs / m.cpuMs;
    if (client !== "floor") {
      ratios[scenario.name][`${client}-speed`] = Math.round(speed * 100) / 100;
      ratios[scenario.name][`${client}-cpu`] = Math.round(cpu * 100) / 100;
    }
    lines.push(
      `| ${scenario.label} | ${client} | ${Math.round(m.wallMs)} | ${Math.round(m.cpuMs)} | ${m.rssAddedMb.toFixed(1)} | ${speed.toFixed(2)} | ${cpu.toFixed(2)} | ${(m.wallMs / bottom.wallMs).toFixed(2)} |`,
    );
  }
}
const table = lines.join("\n");
console.log(`\nIMAP benchmark — Node ${process.version}, median of ${rounds} round(s)\n`);
console.log(table);
console.log(
  "\nspeed and CPU × imapflow: imapflow's wall time or client CPU ÷ the client's (higher is better).",
);
if (jsonPath) {
  const series = clients
    .filter((client) => client !== "floor" && client !== "imapflow")
    .flatMap((client) => [
      { id: `${client}-speed`, label: `${client}: speed` },
      { id: `${client}-cpu`, label: `${client}: client CPU` },
    ]);
  writeResults(jsonPath, {
    protocol: "imap",
    title: "IMAP: mtaio against imapflow",
    metric: "imapflow's wall time or client CPU ÷ mtaio's (higher is better)",
    reference: "imapflow",
    scenarios: scenarios.map((scenario) => ({ id: scenario.name, label: scenario.label })),
    series,
    ratios,
    table,
  });
  console.log(`\nwritten ${jsonPath}`);
}
