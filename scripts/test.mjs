#!/usr/bin/env node
// `npm test`: the whole suite. Steps, in order:
//   1. make sure the Debian packages of the real protocol peers are installed (only as root on
//      Debian; elsewhere the suites that need them skip loudly, and fail under CI=true),
//   2. lint + format check (Biome), 3. type check (tsc), 4. build dist/ (the published entry
//      points are tested too), 5. the API reference: TypeDoc without a warning (every exported
//      name documented) and docs/api/ up to date (scripts/docs.mjs --check; `npm run docs`
//      regenerates it), 6. every `*.test.ts` under test/ and src/ with Node's test runner.
// `npm test -- test/mqtt` runs only the matching test files and skips steps 2–5.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;
process.chdir(root);

/** Debian packages the protocol suites run against (see test/servers/). */
const DEBIAN_PACKAGES = [
  "openssl",
  "mosquitto",
  "mosquitto-clients",
  "dovecot-imapd",
  "dovecot-lmtpd",
  "postfix",
  "python3-aiosmtpd",
];

function run(label, command, args, options = {}) {
  const started = Date.now();
  console.log(`\n▶ ${label}: ${command} ${args.join(" ")}`);
  const result = spawnSync(command, args, { stdio: "inherit", ...options });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (result.error) {
    console.error(`✖ ${label} could not start: ${result.error.message}`);
    return 1;
  }
  console.log(`${result.status === 0 ? "✔" : "✖"} ${label} (${seconds}s)`);
  return result.status ?? 1;
}

function onPath(binary) {
  return spawnSync("sh", ["-c", `command -v ${binary}`], { stdio: "ignore" }).status === 0;
}

function ensureDebianPackages() {
  const isDebian = existsSync("/etc/debian_version") && onPath("dpkg-query");
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  if (!isDebian || !isRoot || !onPath("apt-get")) {
    console.log("ℹ not root on Debian: missing protocol servers will not be installed");
    return;
  }
  const missing = DEBIAN_PACKAGES.filter((name) => {
    const r = spawnSync("dpkg-query", ["-W", `-f=\${Status}`, name], { encoding: "utf8" });
    return !(r.status === 0 && r.stdout.includes("install ok installed"));
  });
  if (missing.length === 0) return;
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  run("apt-get update", "apt-get", ["update", "-qq"], { env });
  const status = run(
    `install ${missing.join(" ")}`,
    "apt-get",
    ["install", "-y", "-qq", "-o", "Dpkg::Options::=--force-confdef", ...missing],
    { env },
  );
  if (status !== 0) console.error("✖ apt-get install failed; the suites that need it will say so");
}

function findTests(dir, out = []) {
  if (!existsSync(dir)) return out;
  for (const entry of readdirSync(dir)) {
    if (entry === "node_modules" || entry.startsWith(".")) continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) findTests(path, out);
    else if (entry.endsWith(".test.ts")) out.push(relative(root, path));
  }
  return out;
}

const filters = process.argv.slice(2);
let failed = 0;

ensureDebianPackages();
if (filters.length === 0) {
  const bin = (name) => join(root, "node_modules", ".bin", name);
  failed = run("lint", bin("biome"), ["check", "."]) || failed;
  failed = run("typecheck", bin("tsc"), ["-p", "tsconfig.json"]) || failed;
  failed = run("build", bin("tsc"), ["-p", "tsconfig.build.json"]) || failed;
  failed = run("api docs", process.execPath, ["scripts/docs.mjs", "--check"]) || failed;
}

const files = [...findTests("test"), ...findTests("src")]
  .filter((file) => filters.length === 0 || filters.some((f) => file.includes(f)))
  .sort();
if (files.length === 0) {
  console.error("✖ no test files matched");
  process.exit(1);
}

// Suites that skip because a server is missing append a line here (test/servers/common.ts).
const skipDir = mkdtempSync(join(tmpdir(), "mtaio-skips-"));
const skipLog = join(skipDir, "skipped.log");
const status = run(
  `tests (${files.length} files)`,
  process.execPath,
  [
    "--import",
    "tsx",
    "--test",
    "--test-concurrency=3",
    "--test-timeout=180000",
    "--test-reporter=spec",
    ...files,
  ],
  { env: { ...process.env, MTAIO_SKIP_LOG: skipLog } },
);
failed ||= status;

if (existsSync(skipLog)) {
  const lines = [...new Set(readFileSync(skipLog, "utf8").trim().split("\n"))];
  const bar = "!".repeat(78);
  console.error(`\n${bar}\n!! ${lines.length} SUITE(S) SKIPPED: their real servers are missing.`);
  for (const line of lines) console.error(`!!   ${line}`);
  console.error(`!! Run as root on Debian to install them, or install the packages named.`);
  if (process.env.CI === "true") {
    console.error("!! CI=true: a skipped suite is a failure.");
    failed ||= 1;
  }
  console.error(bar);
}
rmSync(skipDir, { recursive: true, force: true });
process.exit(failed ? 1 : 0);
