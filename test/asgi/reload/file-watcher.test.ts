/**
 * The `--reload` file watcher on a real directory tree: source files count, excluded
 * directories (`node_modules`, hidden ones) are never entered, a new directory is picked up,
 * bursts are reported once, and the user's patterns adjust the defaults as uvicorn's do.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { resolvePatterns, TreeWatcher } from "../../../src/asgi/reload/file-watcher.js";

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tree(): string {
  const root = mkdtempSync(join(tmpdir(), "mtaio-watch-"));
  dirs.push(root);
  for (const dir of ["src", "node_modules/dep", ".git", "src/deep"]) {
    mkdirSync(join(root, dir), { recursive: true });
  }
  writeFileSync(join(root, "src/app.ts"), "1");
  writeFileSync(join(root, "node_modules/dep/index.js"), "1");
  writeFileSync(join(root, ".git/HEAD"), "1");
  return root;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A watcher over `root` that records each batch of changes. */
function record(root: string, include: string[] = [], exclude: string[] = []) {
  const batches: string[][] = [];
  const watcher = new TreeWatcher(
    [root],
    resolvePatterns(include, exclude),
    (paths) => batches.push(paths.map((path) => path.slice(root.length + 1)).sort()),
    (message) => assert.fail(message),
    50,
  );
  return { batches, watcher };
}

async function until(predicate: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error("no change reported");
    await sleep(20);
  }
}

describe("TreeWatcher (--reload)", () => {
  it("watches source directories but never enters node_modules or hidden ones", async () => {
    const root = tree();
    const { batches, watcher } = record(root);
    try {
      const watched = watcher.directories.map((dir) => dir.slice(root.length));
      assert.deepEqual(watched.sort(), ["", "/src", "/src/deep"]);
      writeFileSync(join(root, "node_modules/dep/index.js"), "2");
      writeFileSync(join(root, ".git/HEAD"), "2");
      writeFileSync(join(root, "notes.txt"), "not a source file");
      writeFileSync(join(root, "src/app.ts~"), "an editor backup");
      // A burst of source changes: one report, once it has settled.
      writeFileSync(join(root, "src/app.ts"), "2");
      writeFileSync(join(root, "src/deep/util.mjs"), "1");
      await until(() => batches.length > 0);
      await sleep(200);
      assert.deepEqual(batches, [["src/app.ts", "src/deep/util.mjs"]]);
    } finally {
      watcher.close();
    }
  });

  it("picks up a new directory, and reports a deleted source file", async () => {
    const root = tree();
    const { batches, watcher } = record(root);
    try {
      mkdirSync(join(root, "src/routes"));
      await until(() => watcher.directories.includes(join(root, "src/routes")));
      writeFileSync(join(root, "src/routes/users.ts"), "1");
      await until(() => batches.length === 1);
      assert.deepEqual(batches[0], ["src/routes/users.ts"]);
      unlinkSync(join(root, "src/app.ts"));
      await until(() => batches.length === 2);
      assert.deepEqual(batches[1], ["src/app.ts"]);
    } finally {
      watcher.close();
    }
  });

  it("lets the user's include and exclude patterns override the defaults", async () => {
    const root = tree();
    // `.env` is hidden (excluded by default) but asked for; `*.json` is a default, refused;
    // `*.sql` is added; `*.gen.ts` is refused although `*.ts` is watched.
    const { batches, watcher } = record(root, [".env", "*.sql"], ["*.json", "*.gen.ts"]);
    try {
      assert.ok(!watcher.directories.includes(join(root, ".git")), ".git stays unwatched");
      writeFileSync(join(root, "package.json"), "{}");
      writeFileSync(join(root, ".other"), "hidden");
      writeFileSync(join(root, "src/schema.gen.ts"), "generated");
      writeFileSync(join(root, "src/schema.sql"), "create table t ()");
      writeFileSync(join(root, ".env"), "A=1");
      await until(() => batches.length > 0);
      await sleep(200);
      assert.deepEqual(batches, [[".env", "src/schema.sql"]]);
    } finally {
      watcher.close();
    }
  });
});
