/**
 * What the benchmark runners (run.ts, profile.ts, instructions.ts) share, and the servers do
 * not need: where the compiled servers live, how they are built, and a free port.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** This directory (bench/http/), with a trailing slash. */
export const benchDir = fileURLToPath(new URL(".", import.meta.url));
const root = fileURLToPath(new URL("../../", import.meta.url));
const buildDir = `${root}node_modules/.cache/mtaio-bench-http/`;

/** Every server of the benchmark, in table order; `id` names its script in servers/. */
export const SERVERS = [
  { id: "raw", label: "node:http (raw)" },
  { id: "asgi-bare", label: "mtaio serve + bare ASGI callable" },
  { id: "asgi-app", label: "mtaio serve + ASGIApplication/Router" },
  { id: "asgi-floor", label: "mtaio serve, least app work (diagnostic)" },
  { id: "fastify", label: "Fastify" },
  { id: "hono", label: "Hono (@hono/node-server)" },
  { id: "express", label: "Express" },
] as const;

/** The compiled script of one server (`raw`, `asgi-app`, …), of this tree or `build`. */
export function serverScript(id: string, build = buildDir): string {
  return `${build}bench/http/servers/${id}.js`;
}

/** The compiled in-process driver (inprocess-worker.ts), of this tree or `build`. */
export function inprocessWorker(build = buildDir): string {
  return `${build}bench/http/inprocess-worker.js`;
}

/**
 * Servers run as plain JavaScript compiled by tsc (bench/http/tsconfig.json), not under tsx:
 * tsx's esbuild wraps every named closure in a `__name()` call, a per-request cost that
 * published code does not have, and its loader would inflate every server's RSS.
 */
export function buildServers(): void {
  const tsc = spawnSync(`${root}node_modules/.bin/tsc`, ["-p", `${benchDir}tsconfig.json`], {
    encoding: "utf8",
  });
  // Type errors elsewhere in the tree (other work in progress) do not stop the emit.
  if (!existsSync(serverScript("raw"))) {
    throw new Error(`building the benchmark failed:\n${tsc.stdout}${tsc.stderr}`);
  }
}

/** One row of an in-process measurement: a server of this tree's build or of a `--base` one. */
export interface WorkerRow {
  /** Unique per row: the server id, or `id@base`. */
  key: string;
  id: string;
  label: string;
  /** The in-process driver of the build the row measures. */
  worker: string;
}

/**
 * The rows for `servers` in this tree's build, then (with `base`) the same servers in the
 * build of git revision `base`, labelled "… @ base".
 */
export function workerRows(
  servers: ReadonlyArray<{ id: string; label: string }>,
  base: string | undefined,
): WorkerRow[] {
  const worker = inprocessWorker();
  const rows: WorkerRow[] = servers.map(({ id, label }) => ({ key: id, id, label, worker }));
  if (base !== undefined) {
    const baseWorker = inprocessWorker(buildRevision(base));
    for (const { id, label } of servers) {
      rows.push({ key: `${id}@base`, id, label: `${label} @ ${base}`, worker: baseWorker });
    }
  }
  return rows;
}

/**
 * Builds the benchmark as it was at git revision `rev` (a commit, tag or branch), for a
 * before/after against the working tree in one run; returns the directory of that build, for
 * the `build` argument of `serverScript()` and `inprocessWorker()`. The revision is
 * checked out in a temporary git worktree that borrows this tree's node_modules; both are
 * removed again when the process exits.
 */
export function buildRevision(rev: string): string {
  const git = (...args: string[]) => spawnSync("git", ["-C", root, ...args], { encoding: "utf8" });
  const commit = git("rev-parse", "--verify", `${rev}^{commit}`);
  if (commit.status !== 0) throw new Error(`--base ${rev}: not a revision of this repository`);
  const dir = mkdtempSync(join(tmpdir(), "mtaio-bench-base-"));
  const tree = join(dir, "tree");
  const out = join(dir, "build");
  const added = git("worktree", "add", "--detach", tree, commit.stdout.trim());
  if (added.status !== 0) throw new Error(`git worktree add failed:\n${added.stderr}`);
  process.on("exit", () => {
    git("worktree", "remove", "--force", tree);
    rmSync(dir, { recursive: true, force: true });
  });
  symlinkSync(join(root, "node_modules"), join(tree, "node_modules"), "dir");
  symlinkSync(join(root, "node_modules"), join(dir, "node_modules"), "dir");
  mkdirSync(out);
  writeFileSync(join(out, "package.json"), '{ "type": "module" }\n');
  const config = join(tree, "bench/http/tsconfig.json");
  const tsc = spawnSync(`${root}node_modules/.bin/tsc`, ["-p", config, "--outDir", out], {
    encoding: "utf8",
  });
  if (!existsSync(join(out, "bench/http/servers/raw.js"))) {
    throw new Error(`building ${rev} failed:\n${tsc.stdout}${tsc.stderr}`);
  }
  return `${out}/`;
}

/** A loopback port nothing listens on. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
