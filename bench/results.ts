/**
 * The result file every protocol's benchmark writes with `--json PATH` (bench/results/*.json),
 * which bench/render-charts.ts draws and BENCHMARKS.md quotes. One chart per file: for each
 * scenario, one bar per series, each a ratio to a reference drawn as the line at 1.0.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname } from "node:path";

export interface BenchResults {
  /** "http", "mqtt", "smtp", "imap". */
  protocol: string;
  title: string;
  /** ISO time the run ended. */
  date: string;
  /** `git rev-parse --short HEAD` of the measured tree ("+dirty" when its code had changes). */
  commit: string;
  node: string;
  machine: string;
  /** The command line, so the run can be repeated. */
  command: string;
  /** What the ratios mean, for the chart's axis, e.g. "req/s ÷ node:http (higher is better)". */
  metric: string;
  /** What 1.0 stands for, e.g. "node:http". */
  reference: string;
  scenarios: Array<{ id: string; label: string }>;
  series: Array<{ id: string; label: string }>;
  /** ratios[scenario][series]; a missing value is drawn as "n/a". */
  ratios: Record<string, Record<string, number>>;
  /** The measured figures behind the ratios, as printed by the benchmark (Markdown). */
  table: string;
}

/** The short commit of the working tree, marked "+dirty" when it has uncommitted changes. */
export function currentCommit(): string {
  try {
    const commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" });
    const dirty = execFileSync(
      "git",
      ["status", "--porcelain", "--", "src", "bench", ":!bench/results"],
      {
        encoding: "utf8",
      },
    );
    // Notes in Markdown do not change what is measured.
    const changed = dirty.split("\n").filter((line) => line.trim() && !line.endsWith(".md"));
    return `${commit.trim()}${changed.length > 0 ? "+dirty" : ""}`;
  } catch {
    return "unknown";
  }
}

export function machineDescription(): string {
  const list = cpus();
  return `${list.length} × ${list[0]?.model.trim() ?? "CPU"}`;
}

/** Writes `results` as JSON to `path`, filling in date, commit, Node and machine. */
export function writeResults(
  path: string,
  results: Omit<BenchResults, "date" | "commit" | "node" | "machine" | "command">,
): void {
  const full: BenchResults = {
    ...results,
    date: `${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC`,
    commit: currentCommit(),
    node: process.version,
    machine: machineDescription(),
    command: process.argv
      .slice(1)
      .map((arg) => arg.replace(/^.*\/bench\//, "bench/"))
      .join(" "),
  };
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(full, null, 2)}\n`);
}
