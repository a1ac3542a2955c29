/**
 * Watching source trees for `mtaio serve --reload`. One non-recursive `fs.watch` per directory,
 * walked by hand, so that excluded directories (`node_modules`, `.git`, …) are never entered:
 * Node 20's recursive `fs.watch` on Linux watches every directory below the root, with no way
 * to leave any out. Changes are reported once they have settled (an editor's save, a `git
 * checkout` or a compiler's output is a burst of events).
 */
import { type Dirent, type FSWatcher, readdirSync, statSync, watch } from "node:fs";
import { join } from "node:path";

/** File and directory names the reloader reacts to, as uvicorn's `--reload-include/exclude`. */
export interface WatchPatterns {
  /** Glob patterns on file names (`*.ts`); a changed file must match one. */
  include: string[];
  /** Glob patterns on file and directory names (`node_modules`, `.*`); a match is ignored. */
  exclude: string[];
  /**
   * The user's own include patterns: a name they match is watched even when a default
   * exclude pattern matches it too (`.env`, under `.*`).
   */
  explicit: string[];
  /** The user's own exclude patterns: they win over everything. */
  refused: string[];
}

/** Source files of a TypeScript or JavaScript project. */
export const DEFAULT_INCLUDE = [
  "*.ts",
  "*.mts",
  "*.cts",
  "*.tsx",
  "*.js",
  "*.mjs",
  "*.cjs",
  "*.jsx",
  "*.json",
];

/**
 * Hidden files and directories (`.git`, editor state), dependencies, and editors' temporary
 * files (`~` backups, vim swap files).
 */
export const DEFAULT_EXCLUDE = [".*", "node_modules", "*~", "*.swp", "*.swx", "4913"];

/**
 * The patterns in effect: the defaults plus the user's. A pattern the user puts in one list
 * is taken out of the other's defaults (uvicorn's rule), the user's includes win over the
 * default excludes (`--reload-include .env` watches `.env` files), and the user's excludes
 * win over everything.
 */
export function resolvePatterns(include: string[], exclude: string[]): WatchPatterns {
  return {
    include: [...DEFAULT_INCLUDE.filter((p) => !exclude.includes(p)), ...include],
    exclude: [...DEFAULT_EXCLUDE.filter((p) => !include.includes(p)), ...exclude],
    explicit: include,
    refused: exclude,
  };
}

/** A glob on one name: `*` any run of characters, `?` one character, the rest literal. */
function globToRegExp(glob: string): RegExp {
  let source = "";
  for (const char of glob) {
    if (char === "*") source += ".*";
    else if (char === "?") source += ".";
    else source += char.replace(/[\\^$.|+()[\]{}]/g, "\\$&");
  }
  return new RegExp(`^${source}$`, "s");
}

function matches(patterns: RegExp[], name: string): boolean {
  return patterns.some((pattern) => pattern.test(name));
}

/** Reports changed files under directories, debounced. */
export class TreeWatcher {
  private readonly watchers = new Map<string, FSWatcher>();
  private readonly include: RegExp[];
  private readonly exclude: RegExp[];
  private readonly explicit: RegExp[];
  private readonly refused: RegExp[];
  private pending = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private warned = false;

  /**
   * @param roots - directories to watch, with everything below them that is not excluded.
   * @param patterns - which names count (see {@link resolvePatterns}).
   * @param onChange - called with the changed paths once no event has come for `settleMs`.
   * @param onWarning - told when a directory cannot be watched (inotify limits, permissions).
   */
  constructor(
    roots: string[],
    patterns: WatchPatterns,
    private readonly onChange: (paths: string[]) => void,
    private readonly onWarning: (message: string) => void,
    private readonly settleMs = 150,
  ) {
    this.include = patterns.include.map(globToRegExp);
    this.exclude = patterns.exclude.map(globToRegExp);
    this.explicit = patterns.explicit.map(globToRegExp);
    this.refused = patterns.refused.map(globToRegExp);
    for (const root of roots) this.add(root);
  }

  /** The directories being watched (for tests and the startup message). */
  get directories(): string[] {
    return [...this.watchers.keys()];
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    for (const watcher of this.watchers.values()) watcher.close();
    this.watchers.clear();
  }

  /** True for a name (file or directory) the watcher ignores. */
  private excluded(name: string): boolean {
    if (matches(this.refused, name)) return true;
    return matches(this.exclude, name) && !matches(this.explicit, name);
  }

  /** True for a file name whose changes count. */
  private included(name: string): boolean {
    return !this.excluded(name) && matches(this.include, name);
  }

  /** Watches `dir` and the directories below it that are not excluded. */
  private add(dir: string): void {
    if (this.closed || this.watchers.has(dir)) return;
    let watcher: FSWatcher;
    try {
      watcher = watch(dir, { persistent: true }, (_event, name) => this.onEvent(dir, name));
    } catch (error) {
      this.warn(`cannot watch ${dir}: ${(error as Error).message}`);
      return;
    }
    // A watched directory that is removed ends its watcher with an error on some systems.
    watcher.on("error", () => this.drop(dir));
    this.watchers.set(dir, watcher);
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (entry.isDirectory() && !this.excluded(entry.name)) this.add(join(dir, entry.name));
    }
  }

  private drop(dir: string): void {
    this.watchers.get(dir)?.close();
    this.watchers.delete(dir);
  }

  private onEvent(dir: string, name: string | null): void {
    if (this.closed) return;
    if (name === null) return; // the platform did not say what changed: nothing to match
    const base = String(name);
    if (this.excluded(base)) return;
    const path = join(dir, base);
    let isDirectory = false;
    try {
      isDirectory = statSync(path).isDirectory();
    } catch {
      // Gone (deleted or renamed away): a removed source file is a change too.
      if (this.watchers.has(path)) this.drop(path);
    }
    if (isDirectory) {
      this.add(path); // a new directory (a `mkdir`, a checkout): watch it as well
      return;
    }
    if (!this.included(base)) return;
    this.pending.add(path);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), this.settleMs);
  }

  private flush(): void {
    const paths = [...this.pending];
    this.pending = new Set();
    if (paths.length > 0 && !this.closed) this.onChange(paths);
  }

  private warn(message: string): void {
    if (this.warned) return; // one line is enough: the cause is the same for every directory
    this.warned = true;
    this.onWarning(message);
  }
}
