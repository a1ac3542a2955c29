/**
 * The router alone: mtaio's `Router` against the routers of the peers, on the routes profile's
 * 50 routes (25 static, 25 with a parameter), in-process and without HTTP. Each lookup finds
 * the GET handler of a path and reads its `id` parameter, as a request dispatch must.
 *
 *   node --import tsx bench/http/router.ts [--rounds 15]
 *
 * Every path is a fresh string, as the server's are: a literal used again would have its
 * hash cached by V8 and hide what a real request pays. Rounds visit every router in turn
 * (load on a shared machine then hits them alike) and each keeps its best round.
 */
import { parseArgs } from "node:util";
import FindMyWay from "find-my-way";
import { RegExpRouter } from "hono/router/reg-exp-router";
import { TrieRouter } from "hono/router/trie-router";
import { Router } from "../../src/asgi/app/router.js";
import { PARAM_ROUTES, ROUTES_TARGET, STATIC_ROUTES } from "./common.js";

const { values } = parseArgs({ options: { rounds: { type: "string", default: "15" } } });
const ROUNDS = Number(values.rounds);
const LOOKUPS = 200_000;
const BATCH = 2_000;

/** One handler per route, so a lookup that finds the wrong route is caught. */
type Handler = () => string;
/** A lookup: the handler of `GET path` and its `id` parameter ("" for a static route). */
type Lookup = (path: string) => [Handler, string] | null;

const templates = [...STATIC_ROUTES, ...PARAM_ROUTES];
const handlers = new Map<string, Handler>(templates.map((t) => [t, () => t]));
const handler = (template: string) => handlers.get(template) as Handler;
/** `/api/items3/{id}` → `/api/items3/:id`, the peers' syntax. */
const colon = (template: string) => template.replace(/\{(\w+)\}/, ":$1");

function mtaio(): Lookup {
  const router = new Router();
  for (const t of templates) router.get(t, handler(t) as never);
  return (path) => {
    const found = router.resolve("GET", path);
    if (found === null) return null;
    return [found.handler as unknown as Handler, String(found.params.id ?? "")];
  };
}

function findMyWay(): Lookup {
  const router = FindMyWay();
  for (const t of templates) router.on("GET", colon(t), handler(t) as never);
  return (path) => {
    const found = router.find("GET", path);
    if (found === null) return null;
    return [found.handler as unknown as Handler, found.params.id ?? ""];
  };
}

function honoRegExp(): Lookup {
  const router = new RegExpRouter<Handler>();
  for (const t of templates) router.add("GET", colon(t), handler(t));
  return (path) => {
    // [[handler, name → index into the stash]…], stash
    const [matches, stash] = router.match("GET", path) as [
      Array<[Handler, Record<string, number>]>,
      string[],
    ];
    const first = matches[0];
    if (first === undefined) return null;
    const index = first[1].id;
    return [first[0], index === undefined ? "" : (stash[index] as string)];
  };
}

function honoTrie(): Lookup {
  const router = new TrieRouter<Handler>();
  for (const t of templates) router.add("GET", colon(t), handler(t));
  return (path) => {
    const [matches] = router.match("GET", path) as [Array<[Handler, Record<string, string>]>];
    const first = matches[0];
    if (first === undefined) return null;
    return [first[0], first[1].id ?? ""];
  };
}

const routers: Array<[string, Lookup]> = [
  ["mtaio Router", mtaio()],
  ["find-my-way (Fastify)", findMyWay()],
  ["Hono RegExpRouter", honoRegExp()],
  ["Hono TrieRouter", honoTrie()],
];

const cases: Array<{ name: string; path: string; template: string; id: string }> = [
  { name: "static", path: "/api/static7", template: "/api/static7", id: "" },
  { name: "parameter", path: ROUTES_TARGET, template: "/api/items24/{id}", id: "42" },
];

/**
 * Nanoseconds per lookup over `LOOKUPS` fresh copies of the path, made and timed in batches:
 * the batch is alive while it is timed, and a young-generation GC copies what is alive, so a
 * small batch keeps the copying (paid by whoever allocates) out of the comparison.
 */
function measure(lookup: Lookup, path: string, template: string, id: string): number {
  const wire = Buffer.from(path, "latin1");
  let wrong = 0;
  let elapsed = 0n;
  for (let done = 0; done < LOOKUPS; done += BATCH) {
    const paths = Array.from({ length: BATCH }, () => wire.toString("latin1"));
    const started = process.hrtime.bigint();
    for (let i = 0; i < BATCH; i++) {
      const found = lookup(paths[i] as string);
      if (found === null || found[0]() !== template || found[1] !== id) wrong++;
    }
    elapsed += process.hrtime.bigint() - started;
  }
  if (wrong > 0) throw new Error(`${path}: ${wrong} wrong lookups`);
  return Number(elapsed) / LOOKUPS;
}

console.log(
  `router lookup, 50 routes, ns per lookup (best of ${ROUNDS} interleaved rounds × ${LOOKUPS}), Node ${process.version}`,
);
console.log(`| router | ${cases.map((c) => `${c.name} (\`${c.path}\`)`).join(" | ")} |`);
console.log(`|---|${cases.map(() => "---:").join("|")}|`);
const best = routers.map(() => cases.map(() => Number.POSITIVE_INFINITY));
for (let round = 0; round < ROUNDS; round++) {
  for (let c = 0; c < cases.length; c++) {
    const { path, template, id } = cases[c] as (typeof cases)[number];
    for (let r = 0; r < routers.length; r++) {
      const ns = measure((routers[r] as [string, Lookup])[1], path, template, id);
      const row = best[r] as number[];
      row[c] = Math.min(row[c] as number, ns);
    }
  }
}
const mtaioRow = best[0] as number[];
for (let r = 0; r < routers.length; r++) {
  const row = best[r] as number[];
  const cells = row.map((ns, c) => {
    const ratio = r === 0 ? "" : ` (${(ns / (mtaioRow[c] as number)).toFixed(2)}×)`;
    return `${ns.toFixed(0)} ns${ratio}`;
  });
  console.log(`| ${(routers[r] as [string, Lookup])[0]} | ${cells.join(" | ")} |`);
}
