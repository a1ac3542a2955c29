/** Runs `mtaio mqtt …` as a user would (node + tsx on src/cli.ts) and the mosquitto clients. */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { after } from "node:test";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const cli = fileURLToPath(new URL("../../../src/cli.ts", import.meta.url));

export interface Run {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  exit: Promise<number | null>;
}

const children = new Set<ChildProcess>();
after(() => {
  for (const child of children) child.kill("SIGKILL");
});

function start(command: string, args: string[], stdin?: string | Uint8Array): Run {
  const child = spawn(command, args, {
    cwd: root,
    stdio: [stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    env: { ...process.env, PATH: `${process.env.PATH ?? ""}:/usr/sbin:/sbin` },
  });
  children.add(child);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout?.on("data", (chunk: Buffer) => out.push(chunk));
  child.stderr?.on("data", (chunk: Buffer) => err.push(chunk));
  if (stdin !== undefined) child.stdin?.end(stdin);
  return {
    child,
    stdout: () => Buffer.concat(out).toString("utf8"),
    stderr: () => Buffer.concat(err).toString("utf8"),
    exit: once(child, "close").then(([code]) => {
      children.delete(child);
      return code as number | null;
    }),
  };
}

/** `mtaio mqtt <args>`; `stdin` is written and closed when given. */
export function mtaio(args: string[], stdin?: string | Uint8Array): Run {
  return start(process.execPath, ["--import", "tsx", cli, "mqtt", ...args], stdin);
}

export function mosquittoSub(args: string[]): Run {
  return start("mosquitto_sub", args);
}

export function mosquittoPub(args: string[], stdin?: string): Run {
  return start("mosquitto_pub", args, stdin);
}

/** Runs to the end; rejects (with its output) if it takes longer than `ms`. */
export async function finished(run: Run, ms = 20_000): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      run.child.kill("SIGKILL");
      reject(new Error(`still running after ${ms} ms\n${run.stdout()}\n${run.stderr()}`));
    }, ms);
  });
  try {
    return await Promise.race([run.exit, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Repeats `action` until `run` exits: a subscriber started with -C 1 cannot tell us when its
 * SUBSCRIBE went through, so the publisher keeps trying until the first message arrives.
 */
export async function repeatUntilExit(
  run: Run,
  action: () => Promise<unknown>,
  ms = 20_000,
): Promise<number | null> {
  let done = false;
  const exit = run.exit.finally(() => {
    done = true;
  });
  const deadline = Date.now() + ms;
  while (!done && Date.now() < deadline) {
    await action();
    await Promise.race([exit, new Promise((resolve) => setTimeout(resolve, 200))]);
  }
  return finished(run, 1000);
}
