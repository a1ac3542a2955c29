/** A temporary tree for the StaticFiles tests: a served root, and secrets beside it. */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Tree {
  /** The parent of `root`: holds `secret.txt`, which must never be served. */
  base: string;
  /** The directory StaticFiles serves. */
  root: string;
  /** The bytes of `big.bin` (several chunks). */
  big: Uint8Array;
  remove(): void;
}

export const SECRET = "TOP-SECRET-CONTENT";
export const HELLO = "hello, static world\n";
/** The mtime given to hello.txt, in whole seconds. */
export const HELLO_MTIME = new Date("2024-05-06T07:08:09Z");

export function makeTree(): Tree {
  const base = mkdtempSync(join(tmpdir(), "mtaio-static-"));
  const root = join(base, "public");
  mkdirSync(root);
  writeFileSync(join(base, "secret.txt"), SECRET);
  mkdirSync(join(base, "public-other"));
  writeFileSync(join(base, "public-other", "secret.txt"), SECRET);
  writeFileSync(join(root, "hello.txt"), HELLO);
  utimesSync(join(root, "hello.txt"), HELLO_MTIME, HELLO_MTIME);
  writeFileSync(join(root, "style.CSS"), "body{}");
  writeFileSync(join(root, "data.json"), "{}");
  writeFileSync(join(root, "image.png"), new Uint8Array([0x89, 0x50, 0x4e, 0x47]));
  writeFileSync(join(root, "blob.unknownext"), "x");
  writeFileSync(join(root, "noext"), "x");
  writeFileSync(join(root, "empty.txt"), "");
  writeFileSync(join(root, "café.txt"), "accent");
  writeFileSync(join(root, "404.html"), "<h1>custom 404</h1>");
  const big = new Uint8Array(200_000);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7 + 3) & 0xff;
  writeFileSync(join(root, "big.bin"), big);
  mkdirSync(join(root, "docs"));
  writeFileSync(join(root, "docs", "index.html"), "<h1>docs index</h1>");
  writeFileSync(join(root, "docs", "page.html"), "<p>page</p>");
  mkdirSync(join(root, "noindex"));
  // Links: one out of the root (to the file, and to the directory), one that stays inside.
  symlinkSync(join(base, "secret.txt"), join(root, "out-link.txt"));
  symlinkSync(base, join(root, "out-dir"));
  symlinkSync(join(root, "hello.txt"), join(root, "in-link.txt"));
  // A sibling whose name starts with the root's: a naive prefix check would let it through.
  symlinkSync(join(base, "public-other", "secret.txt"), join(root, "sibling-link.txt"));
  return { base, root, big, remove: () => rmSync(base, { recursive: true, force: true }) };
}
