/** What each client of the IMAP benchmark implements (imapflow.ts, floor.ts, mtaio.ts). */

export type ScenarioName = "envelope" | "bodies" | "attachment";

/** The server and the mailbox a worker runs one scenario against. */
export interface BenchTarget {
  host: string;
  port: number;
  user: string;
  password: string;
  mailbox: string;
  /** Messages in the mailbox. */
  messages: number;
  /** Decoded size of the attachment (part 2 of message UID 1) in the `attachment` scenario. */
  attachmentBytes: number;
}

/** The work a run did, checked against the other clients' (the floor reports raw bytes only). */
export interface WorkDone {
  /** Messages handled: envelopes read (`envelope`), bodies parsed to text (`bodies`). */
  messages: number;
  /** Bytes delivered to the caller: decoded text (`bodies`), attachment bytes (`attachment`). */
  bytes: number;
}

export interface PreparedRun {
  /** The measured part: fetch and hand over everything the scenario asks for. */
  run(): Promise<WorkDone>;
  /** Logs out (not measured). */
  close(): Promise<void>;
}

export interface BenchClient {
  /** Connects (plaintext), logs in and selects `target.mailbox`; none of it is measured. */
  prepare(scenario: ScenarioName, target: BenchTarget): Promise<PreparedRun>;
}
