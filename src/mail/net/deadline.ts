import type { NetErrorFactory } from "./errors.js";

/**
 * Runs `start` (which receives a `fail` callback and returns a cleanup) until it settles, a
 * timeout passes or `signal` aborts. Whatever happens, every timer and listener is removed, so
 * long-lived connections do not accumulate them.
 */
export function withDeadline<T>(
  timeoutMs: number,
  signal: AbortSignal | undefined,
  error: NetErrorFactory,
  what: string,
  start: (resolve: (value: T) => void, reject: (reason: unknown) => void) => () => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal?.aborted) {
      reject(error("aborted", `${what}: aborted`, signal.reason));
      return;
    }
    let done = false;
    let cleanup: () => void = () => {};
    const finish = () => {
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      cleanup();
    };
    const onAbort = () => {
      if (done) return;
      finish();
      reject(error("aborted", `${what}: aborted`, signal?.reason));
    };
    const timer =
      timeoutMs > 0 && Number.isFinite(timeoutMs)
        ? setTimeout(() => {
            if (done) return;
            finish();
            reject(error("timeout", `${what}: no answer within ${timeoutMs} ms`));
          }, timeoutMs)
        : undefined;
    signal?.addEventListener("abort", onAbort, { once: true });
    cleanup = start(
      (value) => {
        if (done) return;
        finish();
        resolve(value);
      },
      (reason) => {
        if (done) return;
        finish();
        reject(reason);
      },
    );
    if (done) cleanup();
  });
}
