import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Response, TestClient, type TestResponse } from "../../../../src/asgi/app/index.js";
import { SessionMiddleware, sessionOf } from "../../../../src/asgi/app/middleware/session.js";
import type { Scope } from "../../../../src/asgi/types.js";
import { ASGIError } from "../../../../src/errors.js";
import { appOf } from "./helpers.js";

/** /login stores a user, /me reads the session, /logout clears it. */
function sessionApp(options: ConstructorParameters<typeof SessionMiddleware>[1]) {
  const app = appOf((request) => {
    const session = sessionOf(request);
    // request.session is the same object as sessionOf(request).
    assert.equal(request.session, session);
    if (request.path === "/login") {
      session.user = "alice";
      session.visits = 1;
    } else if (request.path === "/logout") {
      for (const key of Object.keys(session)) delete session[key];
    } else if (request.path === "/big") {
      session.blob = "x".repeat(5000);
    }
    return Response.json({ ...session });
  });
  app.addMiddleware(SessionMiddleware, options);
  return new TestClient(app);
}

/** The `name=value` part of the response's session Set-Cookie line. */
function cookieOf(response: TestResponse, name = "session"): string {
  const line = response.getAll("set-cookie").find((value) => value.startsWith(`${name}=`));
  assert.ok(line, "no session cookie set");
  return line.split(";")[0] as string;
}

describe("SessionMiddleware", () => {
  it("round-trips a session through a signed cookie with safe defaults", async () => {
    const client = sessionApp({ secretKey: "k1" });
    const login = await client.get("/login");
    const line = login.getAll("set-cookie")[0] ?? "";
    assert.match(line, /^session=[\w-]+\.[0-9a-z]+\.[\w-]+; Path=\/; Max-Age=1209600/);
    assert.match(line, /; Secure/);
    assert.match(line, /; HttpOnly/);
    assert.match(line, /; SameSite=Lax/);
    const me = await client.get("/me", { headers: { cookie: cookieOf(login) } });
    assert.deepEqual(me.json(), { user: "alice", visits: 1 });
  });

  it("gives an empty session for a tampered, foreign or malformed cookie", async () => {
    const client = sessionApp({ secretKey: "k1" });
    const cookie = cookieOf(await client.get("/login"));
    const [payload, issued, signature] = cookie.slice("session=".length).split(".");
    const forgedPayload = Buffer.from(JSON.stringify({ user: "admin" })).toString("base64url");
    const foreign = cookieOf(await sessionApp({ secretKey: "other" }).get("/login"));
    const tampered = [
      `session=${forgedPayload}.${issued}.${signature}`,
      `session=${payload}.${issued}.${(signature ?? "").slice(0, -2)}AA`,
      `session=${payload}.${Number.parseInt(issued ?? "", 36) + 1}.${signature}`,
      foreign,
      "session=garbage",
      "session=a.b.c.d",
    ];
    for (const value of tampered) {
      const response = await client.get("/me", { headers: { cookie: value } });
      assert.deepEqual(response.json(), {}, value);
      // The bad cookie is expired so the browser stops sending it.
      assert.match(response.getAll("set-cookie")[0] ?? "", /^session=; .*Max-Age=0/);
    }
  });

  it("rotates keys: old cookies still verify and come back signed with the new key", async () => {
    const old = cookieOf(await sessionApp({ secretKey: "old" }).get("/login"));
    const rotated = sessionApp({ secretKey: ["new", "old"] });
    const response = await rotated.get("/me", { headers: { cookie: old } });
    assert.deepEqual(response.json(), { user: "alice", visits: 1 });
    const resigned = cookieOf(response);
    assert.notEqual(resigned, old);
    const newOnly = sessionApp({ secretKey: "new" });
    const check = await newOnly.get("/me", { headers: { cookie: resigned } });
    assert.deepEqual(check.json(), { user: "alice", visits: 1 });
    const stale = await newOnly.get("/me", { headers: { cookie: old } });
    assert.deepEqual(stale.json(), {});
  });

  it("gives a websocket scope the handshake's session, and leaves lifespan alone", async () => {
    let seen: unknown;
    const middleware = new SessionMiddleware(
      async (scope) => {
        seen = scope.type === "lifespan" ? "lifespan" : { ...sessionOf(scope) };
      },
      { secretKey: "k" },
    );
    const websocket = {
      type: "websocket",
      headers: [["cookie", `other=1; session=${middleware.encode({ user: "alice" })}`]],
    } as unknown as Scope;
    const noEvents = async () => ({ type: "http.disconnect" }) as const;
    const sent: unknown[] = [];
    await middleware.call(websocket, noEvents, async (event) => {
      sent.push(event);
    });
    assert.deepEqual(seen, { user: "alice" });
    assert.deepEqual(sent, []);
    await middleware.call(
      { type: "lifespan", asgi: { version: "3.0", spec_version: "2.0" } },
      noEvents,
      async () => {},
    );
    assert.equal(seen, "lifespan");
  });

  it("refuses a cookie older than maxAge", () => {
    const middleware = new SessionMiddleware(async () => {}, { secretKey: "k", maxAge: 60 });
    const issued = Date.UTC(2026, 0, 1);
    const value = middleware.encode({ a: 1 }, issued);
    assert.deepEqual(middleware.decode(value, issued + 59_000), { a: 1 });
    assert.equal(middleware.decode(value, issued + 61_000), undefined);
    const forever = new SessionMiddleware(async () => {}, { secretKey: "k", maxAge: null });
    assert.deepEqual(forever.decode(forever.encode({ a: 1 }, 0), Date.now()), { a: 1 });
  });

  it("deletes the cookie when the app empties the session, and sets none when unused", async () => {
    const client = sessionApp({ secretKey: "k1", sessionCookie: "sid", httpsOnly: false });
    const login = await client.get("/login");
    assert.doesNotMatch(login.getAll("set-cookie")[0] ?? "", /Secure/);
    const logout = await client.get("/logout", { headers: { cookie: cookieOf(login, "sid") } });
    assert.match(logout.getAll("set-cookie")[0] ?? "", /^sid=; Path=\/; Max-Age=0/);
    const anonymous = await client.get("/me");
    assert.deepEqual(anonymous.getAll("set-cookie"), []);
  });

  it("refuses a session too large for a cookie instead of letting browsers drop it", async () => {
    const client = sessionApp({ secretKey: "k1" });
    // The error reaches the server, which answers 500; no truncated cookie is ever sent.
    await assert.rejects(
      client.get("/big"),
      (error) => error instanceof ASGIError && error.code === "ASGI_SESSION_TOO_LARGE",
    );
  });

  it("fails clearly on bad options and without the middleware", async () => {
    const isOption = (error: unknown) =>
      error instanceof ASGIError && error.code === "ASGI_INVALID_MIDDLEWARE_OPTION";
    assert.throws(() => new SessionMiddleware(async () => {}, { secretKey: "" }), isOption);
    assert.throws(() => new SessionMiddleware(async () => {}, { secretKey: [] }), isOption);
    assert.throws(
      () => new SessionMiddleware(async () => {}, { secretKey: "k", sessionCookie: "a b" }),
      isOption,
    );
    assert.throws(
      () => new SessionMiddleware(async () => {}, { secretKey: "k", maxAge: 1.5 }),
      isOption,
    );
    const bare = appOf((request) => Response.json(request.session));
    const response = await new TestClient(bare).get("/");
    assert.equal(response.status, 500);
    assert.throws(
      () => sessionOf({ type: "lifespan", asgi: { version: "3.0", spec_version: "2.0" } }),
      (error) => error instanceof ASGIError && error.code === "ASGI_NO_SESSION",
    );
  });
});
