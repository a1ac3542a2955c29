/**
 * Several brokers for one client (a cluster, or a primary/backup pair): which member the next
 * connection attempt goes to. The list is walked in rounds; a round tries every member once,
 * and the reconnect backoff applies only between rounds, so a dead member costs one failed
 * attempt, not a backoff delay.
 *
 * Two things bend the walk:
 * - Server redirection (MQTT 5 §4.11, see redirect.ts): a member that answers "use another
 *   server" (0x9C) or "server moved" (0x9D) sends the attempt on a detour to the servers it
 *   names; "moved" also puts the first of them in the member's place for later rounds.
 * - Refusals another attempt cannot fix (bad credentials, banned, …): such a member is left
 *   out of later rounds until a connection succeeds; when every member has refused, there is
 *   nobody left to try.
 */
import { MQTTError } from "../../errors.js";
import type { Endpoint } from "./options.js";
import type { ServerRedirect } from "./redirect.js";

/** `"in-order"`: the list as given; `"random"`: a new shuffle every round. */
export type ServerOrder = "in-order" | "random";

/** How a server is named in errors: `mqtt://host:port`. */
export function serverLabel(endpoint: Endpoint): string {
  const host = endpoint.host.includes(":") ? `[${endpoint.host}]` : endpoint.host;
  return `${endpoint.protocol}://${host}:${endpoint.port}`;
}

interface Detour {
  targets: Endpoint[];
  index: number;
  /** Set by a redirecting DISCONNECT while connected: taken by the next move, not before. */
  pending: boolean;
}

export class ServerList {
  private readonly endpoints: Endpoint[];
  private round: Endpoint[];
  private position = 0;
  private detour: Detour | undefined;
  /** Redirections followed since the list last moved on by itself, and where they came from. */
  private hops: string[] = [];
  /** Members that refused in a way another attempt cannot fix, with their refusal. */
  private readonly refusals = new Map<Endpoint, { server: string; error: Error }>();

  constructor(
    endpoints: readonly Endpoint[],
    private readonly order: ServerOrder = "in-order",
    private readonly random: () => number = Math.random,
  ) {
    this.endpoints = [...endpoints];
    this.round = this.arrange(undefined);
  }

  get size(): number {
    return this.endpoints.length;
  }

  /** The server the current (or next) attempt goes to: a member, or a redirection's target. */
  get current(): Endpoint {
    const detour = this.detour;
    return detour && !detour.pending ? detour.targets[detour.index] : this.round[this.position];
  }

  /** Moves to the next member not known to refuse; true when that begins a new round. */
  next(): boolean {
    if (this.detour?.pending) {
      // A redirecting DISCONNECT named where to go; go there at once.
      this.detour.pending = false;
      return false;
    }
    this.detour = undefined;
    this.hops = [];
    let newRound = false;
    for (let tries = 0; tries < this.endpoints.length; tries++) {
      newRound = this.step() || newRound;
      if (!this.refusals.has(this.round[this.position])) break;
    }
    return newRound;
  }

  /**
   * A connection to the current server succeeded: when it is lost, the next attempt begins a
   * new round that tries this member last (it has just failed us). Refusals are forgotten: the
   * cluster may have been fixed meanwhile.
   */
  connected(): void {
    this.round = this.arrange(this.round[this.position]);
    this.position = this.round.length - 1;
    this.refusals.clear();
  }

  /**
   * Follows a redirection from the current server: the next attempt goes to its first target
   * (the others are tried in turn by `nextTarget()`). With `pending` (a DISCONNECT while
   * connected) the detour starts at the next move. Returns an MQTTError `MQTT_REDIRECT_LOOP`
   * instead when `limit` redirections in a row have not led to a server that kept us.
   */
  redirect(
    redirect: ServerRedirect,
    limit: number,
    { pending = false, cause }: { pending?: boolean; cause?: unknown } = {},
  ): MQTTError | undefined {
    const from = serverLabel(this.current);
    if (this.hops.length >= limit) {
      const chain = [...this.hops, from, redirect.reference].join(" → ");
      return new MQTTError(
        `the servers redirected the client more than ${limit} times in a row (${chain}); they are probably redirecting in a loop`,
        { code: "MQTT_REDIRECT_LOOP", reasonCode: redirect.reasonCode, cause },
      );
    }
    this.hops.push(from);
    if (redirect.moved) {
      // 0x9D: the member lives elsewhere now; later rounds go to the new address directly.
      const member = this.round[this.position];
      const target = redirect.targets[0];
      const at = this.endpoints.indexOf(member);
      if (at >= 0) this.endpoints[at] = target;
      this.round[this.position] = target;
      const refusal = this.refusals.get(member);
      this.refusals.delete(member);
      if (refusal) this.refusals.set(target, refusal);
    }
    this.detour = { targets: redirect.targets, index: 0, pending };
    return undefined;
  }

  /** The redirection's next target, when the current one failed; false when none is left. */
  nextTarget(): boolean {
    const detour = this.detour;
    if (!detour || detour.pending || detour.index + 1 >= detour.targets.length) return false;
    detour.index++;
    return true;
  }

  /**
   * The current server refused in a way another attempt cannot fix: its member is left out of
   * later rounds. Returns the error to stop with once every member has refused: the refusal
   * itself with one member, else one error naming each member's refusal.
   */
  refuse(error: Error): Error | undefined {
    this.refusals.set(this.round[this.position], { server: serverLabel(this.current), error });
    if (this.refusals.size < this.endpoints.length) return undefined;
    if (this.endpoints.length === 1) return error;
    return noServerAnswered([...this.refusals.values()]);
  }

  /** One step through the round, or into a new one; true when a new round begins. */
  private step(): boolean {
    if (this.position + 1 < this.round.length) {
      this.position++;
      return false;
    }
    this.round = this.arrange(this.round[this.position]);
    this.position = 0;
    return true;
  }

  /** One round: every member once, `last` (the member that just failed, if any) at the end. */
  private arrange(last: Endpoint | undefined): Endpoint[] {
    const list = [...this.endpoints];
    if (this.order === "random") {
      // Fisher–Yates: each order equally likely, so a fleet of clients spreads over the cluster.
      for (let i = list.length - 1; i > 0; i--) {
        const j = Math.floor(this.random() * (i + 1));
        [list[i], list[j]] = [list[j], list[i]];
      }
    }
    const at = last === undefined ? -1 : list.indexOf(last);
    if (at < 0) return list;
    if (this.order === "random") {
      list.splice(at, 1);
      list.push(last as Endpoint);
      return list;
    }
    // In order, continuing after `last`: A, B, C after losing A is B, C, A.
    return [...list.slice(at + 1), ...list.slice(0, at + 1)];
  }
}

/**
 * Every member failed: one error naming each member's failure. When all failed alike (every
 * one refused, say) the code is that failure's, and so is the reason code when they share it.
 */
export function noServerAnswered(failures: Array<{ server: string; error: Error }>): MQTTError {
  const errors = failures.map((f) => f.error);
  const first = errors[0];
  const sameCode =
    first instanceof MQTTError &&
    errors.every((e) => e instanceof MQTTError && e.code === first.code);
  const sameReason =
    sameCode && errors.every((e) => (e as MQTTError).reasonCode === first.reasonCode);
  return new MQTTError(
    `no server accepted the connection: ${failures.map((f) => `${f.server}: ${f.error.message}`).join("; ")}`,
    {
      code: sameCode ? first.code : "MQTT_CONNECTION_FAILED",
      reasonCode: sameReason ? first.reasonCode : undefined,
      cause: new AggregateError(errors, "every server failed"),
    },
  );
}
