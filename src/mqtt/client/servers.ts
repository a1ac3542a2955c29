/**
 * Several brokers for one client (a cluster, or a primary/backup pair): which member the next
 * connection attempt goes to. The list is walked in rounds; a round tries every member once,
 * and the reconnect backoff applies only between rounds, so a dead member costs one failed
 * attempt, not a backoff delay.
 */
import type { Endpoint } from "./options.js";

/** `"in-order"`: the list as given; `"random"`: a new shuffle every round. */
export type ServerOrder = "in-order" | "random";

export class ServerList {
  private round: Endpoint[];
  private position = 0;

  constructor(
    private readonly endpoints: readonly Endpoint[],
    private readonly order: ServerOrder = "in-order",
    private readonly random: () => number = Math.random,
  ) {
    this.round = this.arrange(undefined);
  }

  get size(): number {
    return this.endpoints.length;
  }

  /** The member the current (or next) attempt goes to. */
  get current(): Endpoint {
    return this.round[this.position];
  }

  /** Moves to the next member; true when that begins a new round. */
  next(): boolean {
    if (this.position + 1 < this.round.length) {
      this.position++;
      return false;
    }
    this.round = this.arrange(this.current);
    this.position = 0;
    return true;
  }

  /**
   * A connection to the current member succeeded: when it is lost, the next attempt begins a
   * new round that tries this member last (it has just failed us).
   */
  connected(): void {
    this.round = this.arrange(this.current);
    this.position = this.round.length - 1;
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
