/**
 * A cross-process lock for a FileStore: the file `<store>.lock`, created with O_CREAT|O_EXCL
 * ("wx") and holding "<pid> <token>". Two processes appending to one log would interleave
 * records and break QoS 2's exactly-once, so the second one gets MQTT_STORE_LOCKED instead.
 *
 * - Held by a live process (this one included, through another FileStore instance): locked.
 * - Left by a dead process (kill -9, crash): stale, taken over. Liveness is `kill(pid, 0)`;
 *   EPERM means the process exists but belongs to someone else, so it counts as alive.
 * - A lock file without a whole "<pid> <token>" line is a writer caught between creating and
 *   writing it; it counts as held until it is a few seconds old (then its writer is gone).
 * The lock is released by close() and, as a courtesy, when the process exits normally.
 */

import { randomBytes } from "node:crypto";
import { closeSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from "node:fs";
import { MQTTError } from "../../errors.js";

/** How old an unreadable lock file must be before it counts as abandoned. */
const UNREADABLE_GRACE_MS = 5000;

export class StoreLock {
  readonly path: string;
  private content: string | undefined;
  private readonly onExit = () => this.release();

  constructor(storePath: string) {
    this.path = `${storePath}.lock`;
  }

  get held(): boolean {
    return this.content !== undefined;
  }

  /** Takes the lock or throws MQTTError MQTT_STORE_LOCKED (or MQTT_STORE_ERROR). */
  acquire(): void {
    if (this.content !== undefined) return;
    const content = `${process.pid} ${randomBytes(8).toString("hex")}\n`;
    // A few rounds: a stale lock removed here may be re-created by a racing process.
    for (let round = 0; round < 5; round++) {
      if (this.create(content)) {
        this.content = content;
        process.once("exit", this.onExit);
        return;
      }
      const found = this.read();
      if (found === undefined) continue; // removed meanwhile: try again
      const pid = ownerPid(found);
      if (pid !== undefined ? isAlive(pid) : this.recentlyCreated()) throw this.lockedError(pid);
      this.removeIf(found);
    }
    throw this.lockedError(undefined);
  }

  /** Removes the lock file if it is still ours. */
  release(): void {
    const content = this.content;
    if (content === undefined) return;
    this.content = undefined;
    process.removeListener("exit", this.onExit);
    this.removeIf(content);
  }

  /** O_EXCL create; false when the file exists already. */
  private create(content: string): boolean {
    let fd: number;
    try {
      fd = openSync(this.path, "wx", 0o644);
    } catch (error) {
      if (errorCode(error) === "EEXIST") return false;
      throw new MQTTError(`cannot create the lock file ${this.path}`, {
        code: "MQTT_STORE_ERROR",
        cause: error,
      });
    }
    try {
      writeSync(fd, content);
    } finally {
      closeSync(fd);
    }
    return true;
  }

  private read(): string | undefined {
    try {
      return readFileSync(this.path, "utf8");
    } catch (error) {
      if (errorCode(error) === "ENOENT") return undefined;
      throw new MQTTError(`cannot read the lock file ${this.path}`, {
        code: "MQTT_STORE_ERROR",
        cause: error,
      });
    }
  }

  private recentlyCreated(): boolean {
    try {
      return Date.now() - statSync(this.path).mtimeMs < UNREADABLE_GRACE_MS;
    } catch {
      return false;
    }
  }

  /** Unlinks the lock file only if it still holds `content` (narrows the takeover race). */
  private removeIf(content: string): void {
    if (this.read() !== content) return;
    try {
      unlinkSync(this.path);
    } catch (error) {
      if (errorCode(error) !== "ENOENT") {
        throw new MQTTError(`cannot remove the lock file ${this.path}`, {
          code: "MQTT_STORE_ERROR",
          cause: error,
        });
      }
    }
  }

  private lockedError(pid: number | undefined): MQTTError {
    const who =
      pid === process.pid
        ? "another FileStore in this process"
        : pid !== undefined
          ? `process ${pid}`
          : "another process";
    return new MQTTError(
      `the store is in use by ${who} (lock file ${this.path}); two clients must not share a FileStore`,
      { code: "MQTT_STORE_LOCKED" },
    );
  }
}

/** The pid of a whole "<pid> <token>\n" line, else undefined. */
function ownerPid(content: string): number | undefined {
  const match = /^(\d+) [0-9a-f]+\n$/.exec(content);
  if (!match) return undefined;
  const pid = Number(match[1]);
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) === "EPERM";
  }
}

function errorCode(error: unknown): string | undefined {
  return error instanceof Error && "code" in error ? String(error.code) : undefined;
}
