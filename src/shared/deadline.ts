/**
 * Bounding a wait by a timeout and an AbortSignal, shared by the protocol clients (MQTT, SMTP,
 * IMAP). It lives outside the protocol folders so none of them imports another; each passes a
 * factory that turns the failure into its own typed error (`MQTT_TIMEOUT`, `SMTP_ABORTED`, …).
 */

/** Why a bounded wait ended without its operation settling. */
export type DeadlineFailure = "timeout" | "aborted";

/**
 * Builds the error a bounded wait rejects with. `cause` is the signal's reason for "aborted"
 * and undefined for "timeout".
 */
export type DeadlineErrorFactory = (kind: DeadlineFailure, cause?: unknown) => Error;

/** setTimeout fires at once for delays above 2^31 - 1 ms; longer deadlines are capped there. */
const LONGEST_TIMER_MS = 2 ** 31 - 1;

/**
 * Runs `start` until it settles, `timeoutMs` passes (0, a negative or a non-finite value means
 * no timeout) or `signal` aborts. `start` receives resolve/reject and returns a cleanup, which
 * runs exactly once however the promise settles (also when `start` settles synchronously), and
 * every timer and listener is removed then, so long-lived connections do not accumulate them.
 * A signal that is already aborted rejects at once and `start` is never called.
 */
export function withDeadline<T>(
  timeoutMs: number,
  signal: AbortSignal | undefined,
  error: DeadlineErrorFactory,
  start: (resolve: (value: T) => void, reject: (reason: unknown) => void) => () => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal?.aborted) {
      reject(error("aborted", signal.reason));
      return;
    }
    let done = false;
    let cleanup: () => void = () => {};
    const settle = (outcome: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      cleanup();
      outcome();
    };
    const onAbort = () => settle(() => reject(error("aborted", signal?.reason)));
    const timer =
      timeoutMs > 0 && Number.isFinite(timeoutMs)
        ? setTimeout(
            () => settle(() => reject(error("timeout"))),
            Math.min(timeoutMs, LONGEST_TIMER_MS),
          )
        : undefined;
    signal?.addEventListener("abort", onAbort, { once: true });
    cleanup = start(
      (value) => settle(() => resolve(value)),
      (reason) => settle(() => reject(reason)),
    );
    if (done) cleanup();
  });
}
