/**
 * `mtaio mqtt pub`: connect, publish one message (-m, -f, -s, -n; --repeat times) or one per
 * line of stdin (-l), wait until each QoS flow completes, disconnect.
 */
import { readFile } from "node:fs/promises";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import type { MQTTClient } from "../client/client.js";
import type { PublishOptions } from "../client/options.js";
import { assertTopicName } from "../client/topic-match.js";
import type { PubConfig } from "./args.js";
import { closeClient, connectClient } from "./connect.js";
import { ExitCode, usageError } from "./exit-codes.js";
import type { CommandIO } from "./io.js";

export async function runPub(config: PubConfig, io: CommandIO): Promise<ExitCode> {
  assertTopicName(config.topic);
  if (config.will) assertTopicName(config.will.topic);
  // A payload that comes from a file or all of stdin is read first: a missing file is a
  // usage error, not a connection that opens for nothing.
  const payload = await wholePayload(config, io.stdin);
  const client = await connectClient(config);
  try {
    const options: PublishOptions = { qos: config.qos, retain: config.retain };
    if (config.protocolVersion === 5 && Object.keys(config.properties.publish).length > 0) {
      options.properties = config.properties.publish;
    }
    if (payload !== undefined) {
      for (let n = 0; n < config.repeat; n++) {
        if (n > 0 && config.repeatDelay > 0) await sleep(config.repeatDelay * 1000);
        await client.publish(config.topic, payload, options);
      }
    } else {
      await publishLines(client, config.topic, options, io.stdin);
    }
  } finally {
    await closeClient(client, config);
  }
  return ExitCode.OK;
}

async function wholePayload(config: PubConfig, stdin: Readable): Promise<Uint8Array | undefined> {
  const source = config.source;
  switch (source.kind) {
    case "message":
      return new TextEncoder().encode(source.text);
    case "null":
      return new Uint8Array(0);
    case "file":
      try {
        return await readFile(source.path);
      } catch (error) {
        throw usageError(`-f: cannot read ${source.path}: ${(error as Error).message}`);
      }
    case "stdin": {
      const chunks: Uint8Array[] = [];
      for await (const chunk of stdin) chunks.push(chunk as Uint8Array);
      return concat(chunks);
    }
    case "lines":
      return undefined;
  }
}

/** -l: one message per line (LF or CRLF), blank lines skipped, as mosquitto_pub -l does. */
async function publishLines(
  client: MQTTClient,
  topic: string,
  options: PublishOptions,
  stdin: Readable,
): Promise<void> {
  const lines = createInterface({ input: stdin, crlfDelay: Number.POSITIVE_INFINITY });
  for await (const line of lines) {
    if (line.length === 0) continue;
    await client.publish(topic, line, options);
  }
}

function concat(chunks: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const chunk of chunks) length += chunk.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
