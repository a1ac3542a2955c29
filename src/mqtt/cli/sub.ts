/**
 * `mtaio mqtt sub`: connect, subscribe to every -t filter, print messages as they arrive
 * until -C messages were printed, -W seconds passed, SIGINT/SIGTERM, or the connection ends.
 */
import { MQTTError } from "../../errors.js";
import type { MQTTClient } from "../client/client.js";
import type { MQTTMessage } from "../client/message.js";
import type { SubscribeOptions } from "../client/options.js";
import { assertTopicFilter, topicMatches } from "../client/topic-match.js";
import type { SubConfig } from "./args.js";
import { closeClient, connectClient } from "./connect.js";
import { ExitCode, timeoutError } from "./exit-codes.js";
import { formatMessage } from "./format.js";
import { type CommandIO, write } from "./io.js";

/** Why reading stopped, when it was not the message count. */
type Ending = { kind: "stopped" } | { kind: "timeout" } | { kind: "lost"; error: Error };

export async function runSub(config: SubConfig, io: CommandIO): Promise<ExitCode> {
  for (const filter of [...config.topics, ...config.filterOut]) assertTopicFilter(filter);
  let ending: Ending | undefined;
  const reading = new AbortController();
  const end = (why: Ending) => {
    ending ??= why;
    reading.abort();
  };
  // Listening starts before CONNECT: a resumed session (-c) sends what was queued for us right
  // after the CONNACK, and retained messages follow the SUBACK at once.
  let stream: AsyncIterableIterator<MQTTMessage> | undefined;
  const client = await connectClient(config, (c) => {
    stream = c.messages(undefined, { signal: reading.signal });
  });
  const messages = stream!;
  let brokerError: Error | undefined;
  const removers = [
    client.on("error", (error) => {
      brokerError ??= error;
    }),
    client.on("offline", ({ error }) => {
      end({
        kind: "lost",
        error:
          brokerError ??
          new MQTTError(`the connection was lost${error ? `: ${error.message}` : ""}`, {
            code: "MQTT_CONNECTION_LOST",
            cause: error,
          }),
      });
    }),
  ];
  const onStop = () => end({ kind: "stopped" });
  io.stop?.addEventListener("abort", onStop, { once: true });
  // -W counts from the moment the connection is up, as in mosquitto_sub.
  const timer =
    config.timeout === undefined
      ? undefined
      : setTimeout(() => end({ kind: "timeout" }), config.timeout * 1000);
  try {
    await subscribe(client, config, io, reading.signal);
    if (config.exitAfterSubscribe) return ExitCode.OK;
    await printMessages(messages, config, io);
  } catch (error) {
    if (!(error instanceof MQTTError && error.code === "MQTT_ABORTED" && ending)) throw error;
  } finally {
    clearTimeout(timer);
    io.stop?.removeEventListener("abort", onStop);
    for (const remove of removers) remove();
    await messages.return?.();
    await closeClient(client, config);
  }
  switch (ending?.kind) {
    case "lost":
      throw ending.error;
    case "timeout":
      throw timeoutError(`no more messages within -W ${config.timeout} s`);
    default:
      return ExitCode.OK;
  }
}

async function subscribe(
  client: MQTTClient,
  config: SubConfig,
  io: CommandIO,
  signal: AbortSignal,
): Promise<void> {
  const options: SubscribeOptions = { qos: config.qos, signal };
  if (config.retainAsPublished) options.retainAsPublished = true;
  const properties = config.properties.subscribe;
  if (properties.subscriptionIdentifier !== undefined)
    options.subscriptionIdentifier = properties.subscriptionIdentifier;
  if (properties.userProperties) options.userProperties = properties.userProperties;
  // When every filter is refused this rejects (MQTT_SUBSCRIBE_FAILED); a partial refusal is
  // worth a warning but not an exit, as with mosquitto_sub.
  const results = await client.subscribe(config.topics, options);
  for (const result of results) {
    if (result.qos === undefined && !config.quiet) {
      io.stderr.write(
        `mtaio mqtt sub: warning: the broker refused "${result.topic}" (reason 0x${result.reasonCode.toString(16)})\n`,
      );
    }
  }
}

async function printMessages(
  stream: AsyncIterableIterator<MQTTMessage>,
  config: SubConfig,
  io: CommandIO,
): Promise<void> {
  let printed = 0;
  for await (const message of stream) {
    if (config.filterOut.some((filter) => topicMatches(filter, message.topic))) continue;
    if (config.noRetained && message.retain) continue;
    if (config.retainedOnly && !message.retain) return;
    await write(io.stdout, formatMessage(message, config, new Date()));
    printed++;
    if (config.count !== undefined && printed >= config.count) return;
  }
}
