/**
 * Instructions per request: each benchmark server runs under valgrind's cachegrind, which
 * counts the instructions its process executes in user space. Unlike req/s this hardly moves
 * between runs or with other load on the machine (±1–2 %), so it can tell a small change apart
 * where wrk's ±5–10 % noise cannot: use it to judge a change to one server, and run.ts for the
 * headline. Across servers it misleads: the kernel's share (a third or more of a request here,
 * mostly socket writes) is not counted, and a server that makes two writes per response where
 * another makes one pays for it only there.
 *
 *   node --import tsx bench/http/instructions.ts [--servers raw,asgi-bare,asgi-app]
 *       [--only hello,routes,echo] [--warm 4000] [--measure 20000] [--functions 25]
 *
 * Each server is run twice, side by side: once serving `warm` requests, once `warm + measure`.
 * The difference of the two totals over `measure` is the cost of one request once the JIT has
 * settled; startup, compilation of the first requests and exit cancel out. The client sends
 * exactly that many keep-alive requests over 20 connections and checks every status is 200.
 * Needs valgrind (Debian: apt-get install valgrind); a server runs ~50× slower under it.
 *
 * `--functions N` also lists, per profile, the N functions whose instructions per request
 * differ most between each server and the first one (the same warm/measure difference, per
 * function). JIT-compiled JavaScript is one anonymous entry (`???`), but V8's builtins and
 * Node's C++ are named: a `toLowerCase`, an `indexOf`, a typed-array construction or a
 * megamorphic property access that one server pays per request and the other does not shows
 * up by name, deterministically, where a CPU profile's samples are too coarse to tell.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs as parseCommandLine } from "node:util";
import { ECHO_BODY, PROFILES, type Profile, ROUTES_TARGET } from "./common.js";
import { buildServers, freePort, SERVERS, serverScript } from "./runner.js";

const SERVER_IDS: string[] = SERVERS.map((server) => server.id);
const CONNECTIONS = 20;

const { values } = parseCommandLine({
  options: {
    servers: { type: "string", default: "raw,asgi-bare,asgi-app,fastify,hono" },
    only: { type: "string" },
    warm: { type: "string", default: "4000" },
    measure: { type: "string", default: "20000" },
    functions: { type: "string", default: "0" },
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

function requestBytes(profile: Profile): Buffer {
  if (profile === "echo") {
    return Buffer.from(
      `POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(ECHO_BODY)}\r\n\r\n${ECHO_BODY}`,
    );
  }
  const path = profile === "routes" ? ROUTES_TARGET : "/";
  return Buffer.from(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
}

/** Sends exactly `total` requests (one at a time per connection); rejects on a non-200. */
function load(port: number, profile: Profile, total: number): Promise<void> {
  const request = requestBytes(profile);
  let sent = 0;
  let answered = 0;
  return new Promise((resolve, reject) => {
    for (let c = 0; c < CONNECTIONS; c++) {
      const socket = connect(port, "127.0.0.1");
      let pending: Buffer = Buffer.alloc(0);
      let waiting = false; // a request of this connection is unanswered
      const next = () => {
        if (sent < total) {
          sent++;
          waiting = true;
          socket.write(request);
        } else socket.end();
      };
      socket.on("connect", next);
      socket.on("error", reject);
      // A server that dies mid-run closes the connection: fail instead of waiting for ever.
      socket.on("close", () => {
        if (waiting) reject(new Error(`connection closed after ${answered} of ${total} answers`));
      });
      socket.on("data", (data: Buffer) => {
        pending = pending.length === 0 ? data : Buffer.concat([pending, data]);
        for (;;) {
          const end = pending.indexOf("\r\n\r\n");
          if (end < 0) return;
          const head = pending.subarray(0, end).toString("latin1");
          const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
          if (pending.length < end + 4 + length) return;
          if (!head.startsWith("HTTP/1.1 200 ")) {
            reject(new Error(`unexpected response: ${head.split("\r\n")[0]}`));
            return;
          }
          pending = pending.subarray(end + 4 + length);
          waiting = false;
          if (++answered === total) resolve();
          next();
        }
      });
    }
  });
}

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

/** Total instructions of one server process that answers `total` requests. */
async function instructions(id: string, profile: Profile, total: number): Promise<Count> {
  const dir = mkdtempSync(join(tmpdir(), "mtaio-ir-"));
  const out = join(dir, "cachegrind.out");
  const port = await freePort();
  const child: ChildProcess = spawn(
    "valgrind",
    [
      "--tool=cachegrind",
      "--cache-sim=no",
      `--cachegrind-out-file=${out}`,
      process.execPath,
      serverScript(id),
      profile,
      String(port),
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout?.on("data", (d: Buffer) => {
        if (d.toString().includes("ready")) resolve();
      });
      child.once("exit", (code) => reject(new Error(`${id} exited (${code}) before ready`)));
    });
    await load(port, profile, total);
  } finally {
    // A server that already exited (it failed before ready) has no exit left to wait for.
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGINT"); // the servers exit through process.exit: valgrind writes its totals
      await exited;
    }
  }
  const text = readFileSync(out, "utf8");
  rmSync(dir, { recursive: true, force: true });
  const summary = /^summary:\s+(\d+)/m.exec(text);
  if (summary === null) throw new Error(`no cachegrind summary for ${id}`);
  return {
    total: Number(summary[1]),
    functions: functionRows > 0 ? perFunction(text) : new Map(),
  };
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
  firstId: string,
  first: Map<string, number>,
  id: string,
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
    `\n${id} − ${firstId}, instructions per request by function (\`???\` is JIT code):\n`,
  );
  console.log(`| function | ${firstId} | ${id} | difference |\n|---|---:|---:|---:|`);
  for (const { name, a, b, diff } of rows) {
    const shown = name.length > 90 ? `${name.slice(0, 87)}...` : name;
    console.log(
      `| \`${shown}\` | ${Math.round(a)} | ${Math.round(b)} | ${diff > 0 ? "+" : ""}${Math.round(diff)} |`,
    );
  }
}

console.log(
  `instructions per request (cachegrind), ${measure} requests after ${warm} warm-up, ${CONNECTIONS} connections; Node ${process.version}`,
);
for (const profile of profiles) {
  console.log(`\n### ${profile}\n\n| server | instructions/request | × raw |\n|---|---:|---:|`);
  let raw = Number.NaN;
  const byFunction: Array<[string, Map<string, number>]> = [];
  for (const id of servers) {
    // The two runs are independent processes: side by side on the two cores.
    const [base, more] = await Promise.all([
      instructions(id, profile, warm),
      instructions(id, profile, warm + measure),
    ]);
    const cost = (more.total - base.total) / measure;
    if (id === "raw") raw = cost;
    const ratio = Number.isNaN(raw) ? "–" : (cost / raw).toFixed(2);
    console.log(`| ${id} | ${Math.round(cost)} | ${ratio} |`);
    if (functionRows > 0) byFunction.push([id, perRequest(base, more)]);
  }
  const [first, ...others] = byFunction;
  if (first !== undefined) {
    for (const [id, functions] of others) printFunctionDiff(first[0], first[1], id, functions);
  }
}
