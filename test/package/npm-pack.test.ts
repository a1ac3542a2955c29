/**
 * What `npm pack` puts in the package: exactly the build (dist/, one file set per module of
 * src/, nothing stale), the README, the LICENSE, the changelog, the guides and the API
 * reference — no sources, tests, benchmarks or examples. Read from `npm pack --dry-run --json`,
 * the list npm itself would publish.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { describe, it } from "node:test";

const root = new URL("../..", import.meta.url).pathname;
const built = existsSync(new URL("../../dist/protocols.js", import.meta.url));

/** The paths `npm pack` would publish. */
function packedFiles(): string[] {
  const run = spawnSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], {
    cwd: root,
    encoding: "utf8",
  });
  assert.equal(run.status, 0, run.stderr);
  const [pack] = JSON.parse(run.stdout) as Array<{ files: Array<{ path: string }> }>;
  return (pack?.files ?? []).map((file) => file.path).sort();
}

describe("npm pack", { skip: built ? false : "dist/ not built (npm run build)" }, () => {
  const files = built ? packedFiles() : [];

  it("holds only dist/, the docs, README, LICENSE, CHANGELOG and package.json", () => {
    const allowed = /^(dist\/.+|docs\/.+\.md|README\.md|LICENSE|CHANGELOG\.md|package\.json)$/;
    assert.deepEqual(
      files.filter((path) => !allowed.test(path)),
      [],
    );
    for (const required of [
      "README.md",
      "LICENSE",
      "CHANGELOG.md",
      "package.json",
      "docs/api/README.md",
      "docs/api/mtaio/protocols.md",
      "docs/api/mtaio/exceptions.md",
      "docs/asgi.md",
      "docs/mqtt.md",
      "docs/mail-smtp.md",
    ]) {
      assert.ok(files.includes(required), `${required} is not in the package`);
    }
  });

  it("has every entry point of package.json exports, with its types", async () => {
    const { default: pkg } = await import("../../package.json", { with: { type: "json" } });
    for (const [entry, target] of Object.entries(pkg.exports)) {
      if (typeof target === "string") continue; // ./package.json
      for (const path of [target.types, target.default]) {
        assert.ok(files.includes(path.replace(/^\.\//, "")), `${entry}: ${path} is not packed`);
      }
    }
    assert.ok(files.includes(pkg.bin.mtaio.replace(/^\.\//, "")), "the mtaio CLI is not packed");
  });

  it("packs no stale build: every dist/ module comes from a module of src/", () => {
    const stale = files
      .filter((path) => path.startsWith("dist/") && path.endsWith(".js"))
      .map((path) => `src/${path.slice("dist/".length, -".js".length)}.ts`)
      .filter((source) => !existsSync(new URL(source, `file://${root}`)));
    assert.deepEqual(
      stale,
      [],
      "dist/ holds files whose source is gone: delete dist/ and run npm run build",
    );
  });
});
