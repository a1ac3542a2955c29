/**
 * The pages a user reads link only inside the repository, and every link resolves: a
 * relative Markdown link must name a file or folder that exists (anchors aside), and no link
 * may leave the repository (http:, https:, or a path above its root).
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, it } from "node:test";

const root = resolve(new URL("../..", import.meta.url).pathname);
const LINK = /\]\(([^)\s]+)\)/g;

function pages(): string[] {
  const list = ["README.md", "BENCHMARKS.md", "CHANGELOG.md"];
  for (const name of readdirSync(join(root, "docs"))) {
    if (name.endsWith(".md")) list.push(join("docs", name));
  }
  for (const name of readdirSync(join(root, "examples"))) {
    if (existsSync(join(root, "examples", name, "README.md"))) {
      list.push(join("examples", name, "README.md"));
    }
  }
  for (const name of readdirSync(join(root, "bench"))) {
    if (existsSync(join(root, "bench", name, "NOTES.md"))) {
      list.push(join("bench", name, "NOTES.md"));
    }
  }
  return list.filter((page) => existsSync(join(root, page)));
}

describe("links in the README, guides, examples and notes", () => {
  for (const page of pages()) {
    it(`${page} links only to files of the repository that exist`, () => {
      const text = readFileSync(join(root, page), "utf8").replace(/^```[\s\S]*?^```/gm, "");
      const broken: string[] = [];
      for (const match of text.matchAll(LINK)) {
        const target = (match[1] as string).split("#")[0] as string;
        if (target === "") continue; // an anchor on the same page
        const path = resolve(dirname(join(root, page)), target);
        if (/^[a-z]+:/i.test(target) || relative(root, path).startsWith("..")) {
          broken.push(`${target} (outside the repository)`);
        } else if (!existsSync(path)) broken.push(`${target} (missing)`);
      }
      assert.deepEqual(broken, []);
    });
  }
});
