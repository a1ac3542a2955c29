/**
 * The ASGI lifespan protocol (lifespan spec 2.0): one long-running call of the app with a
 * `lifespan` scope, fed `lifespan.startup` and later `lifespan.shutdown`.
 *
 * In `"auto"` mode an app that raises before answering startup (or returns at once) is taken
 * to not support lifespan, as uvicorn does; in `"on"` mode that is a startup failure.
 */
import { ASGIError } from "../../errors.js";
import type { ASGIApp, LifespanScope, ReceiveEvent, SendEvent } from "../types.js";
import type { LifespanMode, ServerLogger } from "./options.js";

export const ASGI_VERSION = Object.freeze({ version: "3.0", spec_version: "2.4" } as const);

type Outcome = { ok: true } | { ok: false; message: string; unsupported: boolean };

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

function unexpected(type: string, where: string): ASGIError {
  return new ASGIError(`Unexpected ASGI message '${type}' ${where}`, {
    code: "ASGI_UNEXPECTED_MESSAGE",
  });
}

export class Lifespan {
  /** Shared with the lifespan call and copied into each request's scope (state extension). */
  readonly state: Record<string, unknown> = {};
  /** True once startup completed; false when lifespan is off or unsupported by the app. */
  supported = false;

  private readonly startupOutcome = deferred<Outcome>();
  private readonly shutdownOutcome = deferred<Outcome>();
  private readonly shutdownSignal = deferred<void>();
  private appTask: Promise<void> = Promise.resolve();

  constructor(
    private readonly app: ASGIApp,
    private readonly mode: LifespanMode,
    private readonly logger: ServerLogger,
  ) {}

  /** Runs startup; rejects with `ASGI_LIFESPAN_STARTUP_FAILED` if the app reports failure. */
  async startup(): Promise<void> {
    if (this.mode === "off") return;
    let phase: "startup" | "running" | "done" = "startup";
    const scope: LifespanScope = { type: "lifespan", asgi: { ...ASGI_VERSION }, state: this.state };
    let startupSent = false;
    const receive = async (): Promise<ReceiveEvent> => {
      if (!startupSent) {
        startupSent = true;
        return { type: "lifespan.startup" };
      }
      await this.shutdownSignal.promise;
      return { type: "lifespan.shutdown" };
    };
    const send = async (event: SendEvent): Promise<void> => {
      const type = event.type;
      if (type === "lifespan.startup.complete" || type === "lifespan.startup.failed") {
        if (phase !== "startup") throw unexpected(type, "after startup was answered");
        phase = "running";
        this.startupOutcome.resolve(
          type === "lifespan.startup.complete"
            ? { ok: true }
            : { ok: false, message: event.message ?? "", unsupported: false },
        );
      } else if (type === "lifespan.shutdown.complete" || type === "lifespan.shutdown.failed") {
        if (phase !== "running") throw unexpected(type, "before startup was answered");
        phase = "done";
        this.shutdownOutcome.resolve(
          type === "lifespan.shutdown.complete"
            ? { ok: true }
            : { ok: false, message: event.message ?? "", unsupported: false },
        );
      } else {
        throw unexpected(String(type), "on a lifespan scope");
      }
    };
    this.appTask = (async () => {
      try {
        await this.app(scope, receive, send);
        const returned = { ok: false, message: "the app returned", unsupported: true } as const;
        this.startupOutcome.resolve(returned);
        this.shutdownOutcome.resolve(returned);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        if (phase === "startup") {
          if (this.mode === "on") this.logger.error("Exception in ASGI lifespan startup", error);
          this.startupOutcome.resolve({ ok: false, message, unsupported: true });
        } else {
          this.logger.error("Exception in ASGI lifespan", error);
        }
        this.shutdownOutcome.resolve({ ok: false, message, unsupported: false });
      }
    })();
    const outcome = await this.startupOutcome.promise;
    if (outcome.ok) {
      this.supported = true;
      return;
    }
    // uvicorn's "auto": an app that raises on a lifespan scope simply does not speak lifespan.
    if (outcome.unsupported && this.mode === "auto") return;
    throw new ASGIError(
      `ASGI lifespan startup failed${outcome.message ? `: ${outcome.message}` : ""}`,
      { code: "ASGI_LIFESPAN_STARTUP_FAILED" },
    );
  }

  /** Runs shutdown; a failure is logged, not thrown (the server is going away anyway). */
  async shutdown(): Promise<void> {
    if (!this.supported) return;
    this.supported = false;
    this.shutdownSignal.resolve();
    const outcome = await this.shutdownOutcome.promise;
    if (!outcome.ok && !outcome.unsupported) {
      this.logger.error(
        `ASGI lifespan shutdown failed${outcome.message ? `: ${outcome.message}` : ""}`,
      );
    }
    await this.appTask;
  }
}
