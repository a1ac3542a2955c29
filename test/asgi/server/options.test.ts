import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { serve } from "../../../src/asgi/server/index.js";
import { resolveOptions } from "../../../src/asgi/server/options.js";
import { textApp } from "./helpers.js";

describe("serve() options", () => {
  it("fills in the documented defaults", () => {
    const options = resolveOptions({}, 4);
    assert.equal(options.host, "127.0.0.1");
    assert.equal(options.port, 8000);
    assert.equal(options.workers, 1);
    assert.equal(options.bodyLimit, 1024 * 1024);
    assert.equal(options.lifespan, "auto");
    assert.equal(resolveOptions({ workers: "auto" }, 4).workers, 4);
  });

  it("keeps headersTimeout within requestTimeout", () => {
    assert.equal(resolveOptions({ requestTimeout: 5000 }, 1).headersTimeout, 5000);
    assert.throws(
      () => resolveOptions({ requestTimeout: 5000, headersTimeout: 9000 }, 1),
      RangeError,
    );
  });

  it("rejects nonsense before binding anything", async () => {
    for (const options of [
      { port: -1 },
      { port: 70000 },
      { port: 1.5 },
      { workers: 0 },
      { bodyLimit: Number.NaN },
      { lifespan: "sometimes" as "on" },
    ]) {
      await assert.rejects(serve(textApp("x"), options), RangeError, JSON.stringify(options));
    }
    await assert.rejects(serve("not an app" as unknown as Parameters<typeof serve>[0]), TypeError);
  });

  it("rejects when the port is taken", async () => {
    await using first = await serve(textApp("x"), { port: 0, lifespan: "off" });
    await assert.rejects(serve(textApp("y"), { port: first.port, lifespan: "off" }), {
      code: "EADDRINUSE",
    });
  });

  it("accepts an object with an asgi callable (an ASGIApplication) as well as a callable", async () => {
    class App {
      text = "from this";
      async asgi(...[scope, , send]: Parameters<ReturnType<typeof textApp>>): Promise<void> {
        if (scope.type !== "http") throw new Error("no lifespan");
        await send({ type: "http.response.start", status: 200 });
        await send({ type: "http.response.body", body: Buffer.from(this.text) });
      }
    }
    await using handle = await serve(new App(), { port: 0 });
    assert.equal(await (await fetch(handle.url)).text(), "from this");
  });
});
