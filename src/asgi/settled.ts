/**
 * The one already-fulfilled promise that mtaio's server returns from `send()` when it has
 * handled the event before returning (every event but a streamed chunk that waits for
 * `drain`). Code that gets this very object back knows the send is over and may go on at
 * once instead of awaiting it: a whole response then costs no microtask at all. Any other
 * promise (another server, a middleware with its own async `send`) is awaited as usual.
 * Internal: not exported from the package.
 */
export const SETTLED: Promise<void> = Promise.resolve();
