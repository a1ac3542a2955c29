/**
 * One measurement in a fresh process (so CPU time and RSS belong to one library and one
 * scenario). Invoked by run.ts:
 *   worker.ts <library> <scenario> <payloadBytes> <count> <brokerPort>
 * Prints one JSON line with the result. For "inbound" it prints {"ready":true} once subscribed
 * and waits for run.ts to flood the topic.
 */
import { randomBytes } from "node:crypto";
import { type BenchClient, connectClient, type LibraryName, type QoSLevel } from "./libraries.js";

/** "soak" is QoS 1 for many more messages, sampling RSS along the way (is it flat?). */
export type Scenario = "qos0" | "qos1" | "qos2" | "inbound" | "soak";

export interface WorkerResult {
  library: LibraryName;
  scenario: Scenario;
  size: number;
  count: number;
  received: number;
  seconds: number;
  cpuMicros: number;
  /** The user and system (kernel) parts of cpuMicros. */
  userMicros?: number;
  systemMicros?: number;
  peakRssBytes: number;
  /** RSS after 10 %, 50 % and 100 % of the messages (soak only). */
  rssCheckpoints?: number[];
  /** Mosquitto's CPU time during the run (filled in by run.ts). */
  brokerCpuMicros?: number;
}

const WINDOW = 1000;
const [library, scenario, sizeText, countText, portText] = process.argv.slice(2) as [
  LibraryName,
  Scenario,
  string,
  string,
  string,
];
const size = Number(sizeText);
const count = Number(countText);
const port = Number(portText);
const topic = `bench/${scenario}/${process.pid}`;
const payload = randomBytes(size);

let peakRss = process.memoryUsage.rss();
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
}, 20);

/** Runs `publishOne` for 0..n-1 with at most WINDOW unfinished at any time. */
function windowed(
  n: number,
  publishOne: (i: number) => Promise<unknown>,
  onDone?: (done: number) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let next = 0;
    let inflight = 0;
    let done = 0;
    const pump = () => {
      while (inflight < WINDOW && next < n) {
        inflight++;
        publishOne(next++).then(() => {
          inflight--;
          done++;
          onDone?.(done); // (not `onDone?.(++done)`: a skipped call skips its arguments too)
          if (done === n) resolve();
          else pump();
        }, reject);
      }
    };
    pump();
  });
}

/** Resolves when `n` messages arrived; `onFirst` runs at the first one. */
function counter(client: BenchClient, n: number, onFirst?: () => void): Promise<number> {
  return new Promise((resolve) => {
    let received = 0;
    client.onMessage(() => {
      if (received === 0) onFirst?.();
      if (++received === n) resolve(received);
    });
  });
}

const rssCheckpoints: number[] = [];

async function main(): Promise<void> {
  let received = count;
  let started: bigint;
  let cpu: NodeJS.CpuUsage;
  if (scenario === "qos0") {
    // Firehose: one client publishes, another subscribes; done when the subscriber has all.
    const subscriber = await connectClient(library, port, `sub-${process.pid}`);
    const publisher = await connectClient(library, port, `pub-${process.pid}`);
    await subscriber.subscribe(topic, 0);
    const all = counter(subscriber, count);
    cpu = process.cpuUsage();
    started = process.hrtime.bigint();
    await windowed(count, () => publisher.publish(topic, payload, 0));
    received = await all;
    await Promise.all([publisher.close(), subscriber.close()]);
  } else if (scenario === "qos1" || scenario === "qos2" || scenario === "soak") {
    // In-flight window of WINDOW; done when every PUBACK / PUBCOMP is in.
    const qos: QoSLevel = scenario === "qos2" ? 2 : 1;
    const publisher = await connectClient(library, port, `pub-${process.pid}`);
    const marks = new Set([Math.round(count * 0.1), Math.round(count * 0.5), count]);
    cpu = process.cpuUsage();
    started = process.hrtime.bigint();
    await windowed(
      count,
      () => publisher.publish(topic, payload, qos),
      scenario === "soak"
        ? (done) => {
            if (marks.has(done)) rssCheckpoints.push(process.memoryUsage.rss());
          }
        : undefined,
    );
    await publisher.close();
  } else {
    // Inbound flood: run.ts publishes with a raw socket; we only receive.
    const subscriber = await connectClient(library, port, `sub-${process.pid}`);
    await subscriber.subscribe(`bench/inbound/flood`, 0);
    // The clock starts at the first message, not while run.ts connects its flooder.
    cpu = process.cpuUsage();
    started = process.hrtime.bigint();
    const all = counter(subscriber, count, () => {
      started = process.hrtime.bigint();
    });
    process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
    received = await all;
    await subscriber.close();
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const used = process.cpuUsage(cpu);
  clearInterval(sampler);
  const result: WorkerResult = {
    library,
    scenario,
    size,
    count,
    received,
    seconds,
    cpuMicros: used.user + used.system,
    userMicros: used.user,
    systemMicros: used.system,
    peakRssBytes: peakRss,
    ...(scenario === "soak" ? { rssCheckpoints } : {}),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
