import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { mount, StaticFiles, TestClient } from "../../../../src/asgi/app/index.js";
import type { HTTPScope, SendEvent } from "../../../../src/asgi/types.js";
import { HELLO, makeTree, SECRET, type Tree } from "./fixtures.js";

/** Runs `app` on a hand-built scope: nothing between the test and the app touches the path. */
async function raw(
  files: StaticFiles,
  path: string,
  rawPath: string | null,
  rootPath = "",
): Promise<{ status: number; body: string }> {
  const scope: HTTPScope = {
    type: "http",
    asgi: { version: "3.0", spec_version: "2.4" },
    http_version: "1.1",
    method: "GET",
    scheme: "http",
    path,
    raw_path: rawPath === null ? null : Buffer.from(rawPath, "latin1"),
    query_string: new Uint8Array(0),
    root_path: rootPath,
    headers: [],
    client: null,
    server: null,
  };
  let status = 0;
  const chunks: Uint8Array[] = [];
  const send = async (event: SendEvent) => {
    if (event.type === "http.response.start") status = event.status;
    if (event.type === "http.response.body" && event.body) chunks.push(event.body);
  };
  await files.asgi(scope, () => new Promise<never>(() => {}), send);
  return { status, body: Buffer.concat(chunks).toString("latin1") };
}

/** Paths that try to reach secret.txt (beside the root) or to smuggle a separator. */
const ATTACKS = [
  "/../secret.txt",
  "/..",
  "/%2e%2e/secret.txt",
  "/%2E%2E/secret.txt",
  "/.%2e/secret.txt",
  "/docs/../../secret.txt",
  "/docs/%2e%2e/%2e%2e/secret.txt",
  "/..%2fsecret.txt",
  "/..%2Fsecret.txt",
  "/docs%2f..%2f..%2fsecret.txt",
  "/..%5csecret.txt",
  "/..%5Csecret.txt",
  "/..\\secret.txt",
  "/docs\\..\\..\\secret.txt",
  "/%2fetc%2fpasswd",
  "//etc/passwd",
  "/hello.txt%00.png",
  "/hello.txt%00",
  "/%00",
  "/./hello.txt",
  "/docs/./index.html",
  "/hello.txt%0d%0aset-cookie:%20x",
  "/out-link.txt",
  "/out-dir/secret.txt",
  "/sibling-link.txt",
  "/%2e%2e%2fpublic-other/secret.txt",
  "/../public-other/secret.txt",
];

describe("StaticFiles path safety", () => {
  let tree: Tree;
  let files: StaticFiles;
  let client: TestClient;
  before(() => {
    tree = makeTree();
    files = new StaticFiles({ directory: tree.root });
    client = new TestClient(files);
  });
  after(() => tree.remove());

  it("TestClient hands the raw path to the app unnormalised", async () => {
    let seen: HTTPScope | undefined;
    const spy = new TestClient(async (scope, _receive, send) => {
      if (scope.type === "http") seen = scope;
      await send({ type: "http.response.start", status: 204 });
      await send({ type: "http.response.body" });
    });
    await spy.get("/a/../%2e%2e/b%2fc\\d");
    assert.equal(Buffer.from(seen?.raw_path ?? []).toString("latin1"), "/a/../%2e%2e/b%2fc\\d");
    assert.equal(seen?.path, "/a/../../b/c\\d");
  });

  it("serves the same names when asked plainly (the attacks below are not 404 by accident)", async () => {
    assert.equal((await client.get("/hello.txt")).text(), HELLO);
    assert.equal((await client.get("/in-link.txt")).text(), HELLO, "a link inside the root");
    assert.equal((await client.get("/docs/index.html")).status, 200);
  });

  for (const attack of ATTACKS) {
    it(`404s ${JSON.stringify(attack)} through TestClient`, async () => {
      const res = await client.get(attack);
      assert.equal(res.status, 404);
      assert.equal(res.text(), "Not Found");
    });
  }

  it("404s every attack from a hand-built scope, with and without raw_path", async () => {
    for (const attack of ATTACKS) {
      let decoded: string;
      try {
        decoded = decodeURIComponent(attack);
      } catch {
        decoded = attack;
      }
      const withRaw = await raw(files, decoded, attack);
      assert.equal(withRaw.status, 404, `raw ${attack}`);
      const withoutRaw = await raw(files, decoded, null);
      assert.equal(withoutRaw.status, 404, `path-only ${attack}`);
      assert.ok(!withoutRaw.body.includes(SECRET));
    }
  });

  it("keeps traversal out under a mount point too", async () => {
    const mounted = new TestClient(mount("/static", files));
    assert.equal((await mounted.get("/static/hello.txt")).text(), HELLO);
    for (const attack of ATTACKS) {
      const res = await mounted.get(`/static${attack}`);
      assert.equal(res.status, 404, attack);
    }
    // An encoded separator right after the prefix: the mount matches the decoded path, and
    // StaticFiles, reading the raw one, refuses the segment "static/hello.txt".
    assert.equal((await mounted.get("/static%2fhello.txt")).status, 404);
    assert.equal((await mounted.get("/static%2f..%2fsecret.txt")).status, 404);
    // A root_path that does not prefix the path is not a way up either.
    assert.equal((await raw(files, "/../secret.txt", "/../secret.txt", "/static")).status, 404);
  });

  it("follows links out of the root only with followSymlinks", async () => {
    const following = new TestClient(
      new StaticFiles({ directory: tree.root, followSymlinks: true }),
    );
    assert.equal((await following.get("/out-link.txt")).text(), SECRET);
    assert.equal((await following.get("/out-dir/secret.txt")).text(), SECRET);
    // Even then, `..` and encoded separators stay refused.
    for (const attack of ["/../secret.txt", "/%2e%2e/secret.txt", "/..%2fsecret.txt"]) {
      assert.equal((await following.get(attack)).status, 404, attack);
    }
  });

  it("never serves the secret, whatever pieces a path is made of (fuzz)", async () => {
    const piece = fc.constantFrom(
      "..",
      "%2e%2e",
      "%2E.",
      ".",
      "%2f",
      "%5c",
      "\\",
      "%00",
      "secret.txt",
      "public",
      "public-other",
      "out-dir",
      "docs",
      "",
      "/",
      "%252e%252e",
    );
    await fc.assert(
      fc.asyncProperty(fc.array(piece, { maxLength: 8 }), fc.boolean(), async (pieces, slash) => {
        const path = `/${pieces.join(slash ? "/" : "")}`;
        const res = await client.get(path);
        assert.ok(!res.text().includes(SECRET), path);
        assert.ok(res.status === 200 || res.status === 404, `${path}: ${res.status}`);
      }),
      { numRuns: 400 },
    );
  });
});
