/**
 * The part of a request path an app routes on: `path` minus `root_path`.
 *
 * The current ASGI HTTP spec keeps `path` (and `raw_path`) the full request path and puts the
 * prefix an app is mounted at in `root_path`; the app's own part is what follows it (WSGI's
 * PATH_INFO = path − SCRIPT_NAME). A path that does not start with `root_path` (a proxy or an
 * older server that stripped the prefix already) is routed whole, as Starlette does.
 */
import { decodePathSegment } from "../path-decode.js";

/** `root` without its trailing "/", so that "/api/" and "/api" mount the same place. */
function trimmed(root: string): string {
  return root.endsWith("/") ? root.slice(0, -1) : root;
}

/**
 * The decoded `path` below the decoded `root` (`"/api/x"`, `"/api"` → `"/x"`), `"/"` for the
 * mount point itself, or `path` unchanged when it is not at or below `root`.
 */
export function pathBelowRoot(path: string, root: string): string {
  const prefix = trimmed(root);
  if (prefix === "" || !path.startsWith(prefix)) return path;
  if (path.length === prefix.length) return "/";
  return path.charCodeAt(prefix.length) === 0x2f ? path.slice(prefix.length) : path;
}

/**
 * The wire path (undecoded, latin1) below `root` (decoded, as `root_path` is), for the router.
 * The prefix is compared byte for byte first (nearly always enough: a mount prefix has
 * nothing to encode); a path that spells it with percent-escapes (`/st%61tic/x` under
 * `/static`) is compared segment by segment, decoded.
 */
export function rawPathBelowRoot(raw: string, root: string): string {
  const prefix = trimmed(root);
  if (prefix === "") return raw;
  if (raw.startsWith(prefix)) {
    if (raw.length === prefix.length) return "/";
    if (raw.charCodeAt(prefix.length) === 0x2f) return raw.slice(prefix.length);
  }
  // Decode one wire segment at a time until the decoded text reaches the prefix's length.
  let decoded = "";
  let end = 0;
  while (decoded.length < prefix.length && end < raw.length && raw.charCodeAt(end) === 0x2f) {
    const next = raw.indexOf("/", end + 1);
    const stop = next < 0 ? raw.length : next;
    const segment = decodePathSegment(raw.slice(end + 1, stop));
    if (segment === null) return raw; // malformed: the router answers 400 for the whole path
    decoded += `/${segment}`;
    end = stop;
  }
  if (decoded !== prefix) return raw;
  return end === raw.length ? "/" : raw.slice(end);
}
