/**
 * The framework's own cost per request, in-process and without sockets: the three benchmark
 * profiles through `ASGIApplication` + `Router` (+ two middlewares) against the same work
 * done by a bare ASGI callable, with a server-like `receive`/`send` that answer at once.
 * On a shared machine this is far steadier than req/s over loopback, because nothing but
 * this one process is measured, and it isolates what src/asgi/app adds.
 *
 *   node --import tsx bench/http/framework.ts                 # compiled first, like run.ts
 *   node node_modules/.cache/mtaio-bench-http/bench/http/framework.js [baseline/src/asgi/app/index.js]
 *
 * The optional argument points at another build of src/asgi/app/index.js (e.g. an older
 * commit compiled elsewhere): it is measured too, interleaved round by round with this tree's
 * build, for a before/after within one process.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { ASGIApp, HTTPScope, ReceiveEvent, Send } from "../../src/asgi/types.js";
import { ECHO_BODY, HELLO_MESSAGE, isBenchRoute, PARAM_ROUTES, STATIC_ROUTES } from "./common.js";

type Profile = "hello" | "routes" | "echo";

interface FrameworkResponse {
  send(send: Send): Promise<void>;
}
interface FrameworkRequest {
  json(): Promise<unknown>;
}
type Handler = (request: FrameworkRequest) => FrameworkResponse | Promise<FrameworkResponse>;
interface Framework {
  ASGIApplication: new () => {
    include(router: unknown): unknown;
    addMiddleware(middleware: unknown): unknown;
    asgi: ASGIApp;
  };
  Router: new () => {
    get(path: string, h: Handler): unknown;
    post(path: string, h: Handler): unknown;
  };
  Response: { json(content: unknown): FrameworkResponse };
  ASGIMiddleware: new (...args: never[]) => { app: ASGIApp };
}

if (process.argv[1]?.endsWith(".ts")) {
  // Under tsx: compile (as run.ts does) and re-run the plain JavaScript build.
  const root = fileURLToPath(new URL("../../", import.meta.url));
  spawnSync(`${root}node_modules/.bin/tsc`, [
    "-p",
    fileURLToPath(new URL("tsconfig.json", import.meta.url)),
  ]);
  const built = `${root}node_modules/.cache/mtaio-bench-http/bench/http/framework.js`;
  const run = spawnSync(process.execPath, [built, ...process.argv.slice(2)], { stdio: "inherit" });
  process.exit(run.status ?? 1);
}

const current = new URL("../../src/asgi/app/index.js", import.meta.url).href;
const baseline = process.argv[2] ? pathToFileURL(process.argv[2]).href : undefined;
const framework = (await import(current)) as Framework;
const baselineFramework = baseline ? ((await import(baseline)) as Framework) : undefined;

const MIDDLEWARE_HEADERS: Array<[string, string]> = [
  ["x-mw-one", "1"],
  ["x-mw-two", "2"],
];

function frameworkApp(profile: Profile, build: Framework): ASGIApp {
  const { ASGIApplication, Router, Response, ASGIMiddleware } = build;
  const app = new ASGIApplication();
  const router = new Router();
  const hello: Handler = () => Response.json({ message: HELLO_MESSAGE });
  if (profile === "hello") router.get("/", hello);
  if (profile === "routes") {
    for (const path of STATIC_ROUTES) router.get(path, hello);
    for (const path of PARAM_ROUTES) router.get(path, hello);
    for (const header of MIDDLEWARE_HEADERS) {
      class AddHeader extends ASGIMiddleware {
        async call(scope: HTTPScope, receive: () => Promise<ReceiveEvent>, send: Send) {
          await this.app(scope, receive, (event) => {
            if (event.type === "http.response.start") {
              event.headers ??= [];
              event.headers.push(header);
            }
            return send(event);
          });
        }
      }
      app.addMiddleware(AddHeader);
    }
  }
  if (profile === "echo") router.post("/echo", async (r) => Response.json(await r.json()));
  app.include(router);
  return app.asgi;
}

/** The bare callable of bench/http/servers/asgi-bare.ts, reduced to its per-request work. */
function bareApp(profile: Profile): ASGIApp {
  const JSON_HEADERS: Array<[string, string]> = [["content-type", "application/json"]];
  const hello = async (send: Send, fresh = false) => {
    await send({
      type: "http.response.start",
      status: 200,
      // Behind middleware that modifies the event, the header list must be this request's own.
      headers: fresh ? [["content-type", "application/json"]] : JSON_HEADERS,
    });
    const body = Buffer.from(JSON.stringify({ message: HELLO_MESSAGE }));
    await send({ type: "http.response.body", body });
  };
  if (profile === "hello") return (_scope, _receive, send) => hello(send);
  if (profile === "routes") {
    let inner: ASGIApp = async (scope, _receive, send) => {
      const path = (scope as HTTPScope).path;
      if (isBenchRoute(path)) return hello(send, true);
    };
    for (const header of MIDDLEWARE_HEADERS.slice().reverse()) {
      const next = inner;
      inner = (scope, receive, send) =>
        next(scope, receive, (event) => {
          if (event.type === "http.response.start") {
            event.headers ??= [];
            event.headers.push(header);
          }
          return send(event);
        });
    }
    return inner;
  }
  return async (_scope, receive, send) => {
    const event = await receive();
    if (event.type !== "http.request") return;
    const text = Buffer.from(event.body).toString();
    await send({ type: "http.response.start", status: 200, headers: JSON_HEADERS });
    await send({ type: "http.response.body", body: Buffer.from(JSON.stringify(JSON.parse(text))) });
  };
}

const RESOLVED = Promise.resolve();
const ECHO_BYTES = Buffer.from(ECHO_BODY);

function scopeFor(profile: Profile): HTTPScope {
  const wire = profile === "routes" ? "/api/items24/42" : profile === "echo" ? "/echo" : "/";
  // A new string per request, as the server's are: V8 caches work on literal (internalized)
  // strings, e.g. String.split results, which would hide what a real request pays.
  const path = Buffer.from(wire, "latin1").toString("latin1");
  return {
    type: "http",
    asgi: { version: "3.0", spec_version: "2.4" },
    http_version: "1.1",
    method: profile === "echo" ? "POST" : "GET",
    scheme: "http",
    path,
    raw_path: Buffer.from(path, "latin1"),
    query_string: Buffer.alloc(0),
    root_path: "",
    headers:
      profile === "echo"
        ? [
            ["host", "127.0.0.1"],
            ["content-type", "application/json"],
            ["content-length", String(ECHO_BYTES.byteLength)],
          ]
        : [["host", "127.0.0.1"]],
    client: ["127.0.0.1", 50000],
    server: ["127.0.0.1", 8000],
  };
}

/** Nanoseconds per request: `count` requests one after another, the best of `rounds`. */
async function measure(app: ASGIApp, profile: Profile, count: number, rounds: number) {
  let sent = 0;
  const send: Send = (event) => {
    if (event.type === "http.response.body") sent++;
    return RESOLVED;
  };
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < rounds; round++) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < count; i++) {
      const scope = scopeFor(profile); // the server makes a scope per request too
      const receive = () =>
        Promise.resolve<ReceiveEvent>({ type: "http.request", body: ECHO_BYTES, more_body: false });
      await app(scope, receive, send);
    }
    best = Math.min(best, Number(process.hrtime.bigint() - started) / count);
  }
  if (sent !== count * rounds) throw new Error(`${profile}: ${sent} bodies for ${count * rounds}`);
  return best;
}

console.log(
  `framework cost per request, in-process (7 interleaved rounds × 100k, best), Node ${process.version}`,
);
if (baseline) console.log(`baseline: ${baseline}`);
const only = process.env.MTAIO_BENCH_ONLY?.split(",");
for (const profile of ["hello", "routes", "echo"] as const) {
  if (only !== undefined && !only.includes(profile)) continue;
  const apps: Array<[string, ASGIApp]> = [
    ["bare", bareApp(profile)],
    ["framework", frameworkApp(profile, framework)],
  ];
  if (baselineFramework) apps.push(["baseline", frameworkApp(profile, baselineFramework)]);
  // Warm-up, then rounds that visit every app in turn: load on a shared machine then hits
  // them alike, and each keeps its best round.
  for (const [, app] of apps) await measure(app, profile, 50_000, 1);
  const best = apps.map(() => Number.POSITIVE_INFINITY);
  for (let round = 0; round < 7; round++) {
    for (let i = 0; i < apps.length; i++) {
      const ns = await measure((apps[i] as [string, ASGIApp])[1], profile, 100_000, 1);
      best[i] = Math.min(best[i] as number, ns);
    }
  }
  const bareNs = best[0] as number;
  const cells = apps.map(([name], i) => {
    const ns = best[i] as number;
    const extra = i === 0 ? "" : ` (+${(ns - bareNs).toFixed(0)})`;
    return `${name} ${ns.toFixed(0)} ns${extra}`;
  });
  console.log(`  ${profile.padEnd(7)} ${cells.join("   ")}`);
}
