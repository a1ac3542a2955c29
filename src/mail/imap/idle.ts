/**
 * `idle()`: mailbox events as they happen. With IDLE (RFC 2177) the server pushes them; the
 * command is ended with DONE and sent again before `idleRefreshMs` (servers may drop a client
 * idle for 30 minutes), and ended early whenever another command is waiting, so a command
 * awaited inside the `for await` loop runs and IDLE resumes after it. Without IDLE, NOOP
 * polls (RFC 9051 §6.1.2).
 */
import type { CommandResult } from "./connection.js";
import { imapError } from "./errors.js";
import type { IMAPSession } from "./session.js";
import type { MailboxEvent } from "./types.js";

export interface IdleTimes {
  /** IDLE is ended and sent again after this long. */
  refreshMs: number;
  /** Without IDLE, NOOP asks this often. */
  pollMs: number;
}

export async function* idleEvents(
  session: IMAPSession,
  times: IdleTimes,
  signal: AbortSignal | undefined,
): AsyncGenerator<MailboxEvent> {
  if (!session.mailbox.info) {
    throw imapError("IMAP_NO_MAILBOX", "idle() needs a selected mailbox (selectMailbox first)");
  }
  const events: MailboxEvent[] = [];
  let wake: (() => void) | undefined;
  const notify = () => {
    const waiting = wake;
    wake = undefined;
    waiting?.();
  };
  const unlisten = session.mailbox.listen((event) => {
    events.push(event);
    notify();
  });
  const onAbort = () => notify();
  signal?.addEventListener("abort", onAbort);
  const useIdle = session.has("IDLE");
  let round: IdleRound | undefined;
  try {
    while (!signal?.aborted) {
      if (events.length > 0) {
        yield events.shift() as MailboxEvent;
        continue;
      }
      if (!round || round.finished) {
        round = useIdle
          ? startIdle(session, times.refreshMs, notify)
          : startPoll(session, times.pollMs, notify);
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      if (round.failure !== undefined) throw round.failure;
    }
  } finally {
    unlisten();
    signal?.removeEventListener("abort", onAbort);
    if (round && !round.finished) await round.stop();
  }
}

interface IdleRound {
  finished: boolean;
  failure: unknown;
  stop(): Promise<void>;
}

function startIdle(session: IMAPSession, refreshMs: number, notify: () => void): IdleRound {
  let sendDone: (() => void) | undefined;
  let stopRequested = false;
  const connection = session.connection;
  const requestStop = () => {
    stopRequested = true;
    sendDone?.();
    sendDone = undefined;
  };
  const timer = setTimeout(requestStop, refreshMs);
  const round: IdleRound = {
    finished: false,
    failure: undefined,
    stop: async () => {
      requestStop();
      await done.catch(() => {});
    },
  };
  const done: Promise<CommandResult> = session.run({
    name: "IDLE",
    exclusive: true,
    timeoutMs: 0,
    onContinuation: (_text, send) => {
      sendDone = () => send("DONE");
      // From now on a command queued behind IDLE ends it; one queued already ends it now.
      connection.onBlocked = requestStop;
      if (stopRequested || connection.pending > 1) requestStop();
    },
  });
  done
    .then(
      () => {},
      (error: unknown) => {
        round.failure = error;
      },
    )
    .finally(() => {
      clearTimeout(timer);
      if (connection.onBlocked === requestStop) connection.onBlocked = undefined;
      round.finished = true;
      notify();
    });
  return round;
}

function startPoll(session: IMAPSession, pollMs: number, notify: () => void): IdleRound {
  let timer: NodeJS.Timeout | undefined;
  const round: IdleRound = {
    finished: false,
    failure: undefined,
    stop: async () => {
      clearTimeout(timer);
      round.finished = true;
    },
  };
  timer = setTimeout(() => {
    session.run({ name: "NOOP" }).then(
      () => {
        round.finished = true;
        notify();
      },
      (error: unknown) => {
        round.failure = error;
        round.finished = true;
        notify();
      },
    );
  }, pollMs);
  return round;
}
