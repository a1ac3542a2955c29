import { MQTTError } from "../../errors.js";

/**
 * A promise bounded by an AbortSignal and a timeout (0 = none). `start` gets resolve/reject and
 * returns its cleanup, which runs however the promise settles.
 */
export function withDeadline<T>(
  signal: AbortSignal | undefined,
  timeout: number,
  what: string,
  start: (resolve: (value: T) => void, reject: (error: Error) => void) => () => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let done = false;
    let cleanup: () => void = () => {};
    let timer: NodeJS.Timeout | undefined;
    const finish = (error: Error | undefined, value?: T) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      cleanup();
      if (error) reject(error);
      else resolve(value as T);
    };
    const onAbort = () =>
      finish(new MQTTError(`${what} aborted`, { code: "MQTT_ABORTED", cause: signal?.reason }));
    if (signal?.aborted) return onAbort();
    signal?.addEventListener("abort", onAbort, { once: true });
    if (timeout > 0) {
      timer = setTimeout(
        () =>
          finish(new MQTTError(`${what} timed out after ${timeout} ms`, { code: "MQTT_TIMEOUT" })),
        timeout,
      );
    }
    cleanup = start(
      (value) => finish(undefined, value),
      (error) => finish(error),
    );
    if (done) cleanup();
  });
}
