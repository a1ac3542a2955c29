/** What every server in the HTTP benchmark serves, so they all send the same bytes. */

export type Profile = "hello" | "routes" | "echo";
export const PROFILES: Profile[] = ["hello", "routes", "echo"];

/**
 * The hello profiles follow TechEmpower's JSON-serialization rule: every server builds a new
 * `{ message }` object for each request and serialises it then, with its own idiomatic JSON
 * response call (a pre-serialised body would measure a different job, and only some servers
 * would be doing it).
 */
export const HELLO_MESSAGE = "Hello, World!";
/** What every hello answer must be, byte for byte (checked before a server is measured). */
export const HELLO_TEXT = JSON.stringify({ message: HELLO_MESSAGE });

/** The echo profile's request body. */
export const ECHO_BODY = JSON.stringify({
  name: "mtaio",
  tags: ["asgi", "mqtt", "mail"],
  count: 42,
  nested: { ok: true, ratio: 0.95 },
});

/**
 * The routes profile: 25 static and 25 parametric routes; the benchmark requests the last
 * parametric one. Two middlewares add one header each.
 */
export const STATIC_ROUTES = Array.from({ length: 25 }, (_, i) => `/api/static${i}`);
export const PARAM_ROUTES = Array.from({ length: 25 }, (_, i) => `/api/items${i}/{id}`);
export const ROUTES_TARGET = "/api/items24/42";

const STATIC_SET = new Set(STATIC_ROUTES);
const PARAM_ROUTE = /^\/api\/items(\d+)\/([^/]+)$/;

/**
 * True when `path` is one of the 50 routes: the hand-written routing of the servers that have
 * no router (raw node:http, the bare ASGI callable, the diagnostic server).
 */
export function isBenchRoute(path: string): boolean {
  if (STATIC_SET.has(path)) return true;
  const match = PARAM_ROUTE.exec(path);
  return match !== null && Number(match[1]) < 25;
}
export const MIDDLEWARE_HEADERS: Array<[string, string]> = [
  ["x-mw-one", "1"],
  ["x-mw-two", "2"],
];

export function parseArgs(): { profile: Profile; port: number } {
  const [profile, port] = process.argv.slice(2);
  if (!PROFILES.includes(profile as Profile)) throw new Error(`unknown profile ${profile}`);
  return { profile: profile as Profile, port: Number(port) };
}

/** Tells the runner the server listens (it waits for this line). */
export function ready(): void {
  // Exit through process.exit so `--cpu-prof` (bench/http/profile.ts) writes its profile.
  process.once("SIGINT", () => process.exit(0));
  process.stdout.write("ready\n");
}
