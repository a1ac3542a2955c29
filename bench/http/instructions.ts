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
 *       [--only hello,routes,echo] [--warm 4000] [--measure 20000]
 *
 * Each server is run twice, side by side: once serving `warm` requests, once `warm + measure`.
 * The difference of the two totals over `measure` is the cost of one request once the JIT has
 * settled; startup, compilation of the first requests and exit cancel out. The client sends
 * exactly that many keep-alive requests over 20 connections and checks every status is 200.
 * Needs valgrind (Debian: apt-get install valgrind); a server runs ~50× slower under it.
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
  },
});
const servers = (values.servers as string).split(",").filter((id) => SERVER_IDS.includes(id));
const profiles = values.only ? (values.only.split(",") as Profile[]) : PROFILES;
const warm = Number(values.warm);
const measure = Number(values.measure);

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

/** Total instructions of one server process that answers `total` requests. */
async function instructions(id: string, profile: Profile, total: number): Promise<number> {
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
  const summary = /^summary:\s+(\d+)/m.exec(readFileSync(out, "utf8"));
  rmSync(dir, { recursive: true, force: true });
  if (summary === null) throw new Error(`no cachegrind summary for ${id}`);
  return Number(summary[1]);
}

console.log(
  `instructions per request (cachegrind), ${measure} requests after ${warm} warm-up, ${CONNECTIONS} connections; Node ${process.version}`,
);
for (const profile of profiles) {
  console.log(`\n### ${profile}\n\n| server | instructions/request | × raw |\n|---|---:|---:|`);
  let raw = Number.NaN;
  for (const id of servers) {
    // The two runs are independent processes: side by side on the two cores.
    const [base, more] = await Promise.all([
      instructions(id, profile, warm),
      instructions(id, profile, warm + measure),
    ]);
    const perRequest = (more - base) / measure;
    if (id === "raw") raw = perRequest;
    const ratio = Number.isNaN(raw) ? "–" : (perRequest / raw).toFixed(2);
    console.log(`| ${id} | ${Math.round(perRequest)} | ${ratio} |`);
  }
}
