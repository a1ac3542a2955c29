/**
 * `mtaio mqtt pub|sub …`: reads the command line, runs the command, and turns every failure
 * into one line on stderr and an exit code (see exit-codes.ts). Returns the exit code; the
 * caller (src/cli.ts) exits with it.
 */
import { parsePubArgs, parseSubArgs } from "./args.js";
import { ExitCode as Codes, describeFailure, type ExitCode } from "./exit-codes.js";
import type { CommandIO } from "./io.js";
import { runPub } from "./pub.js";
import { runSub } from "./sub.js";
import { MQTT_USAGE, PUB_USAGE, SUB_USAGE } from "./usage.js";

export type { CommandIO } from "./io.js";

export async function runMqttCommand(argv: readonly string[], io: CommandIO): Promise<ExitCode> {
  const [command, ...rest] = argv;
  if (command === undefined) {
    io.stderr.write(`mtaio mqtt: no command given\n\n${MQTT_USAGE}`);
    return Codes.USAGE;
  }
  if (command === "--help" || command === "help") return help(io, MQTT_USAGE);
  if (command !== "pub" && command !== "sub") {
    io.stderr.write(`mtaio mqtt: unknown command '${command}'\n\n${MQTT_USAGE}`);
    return Codes.USAGE;
  }
  const usage = command === "pub" ? PUB_USAGE : SUB_USAGE;
  let quiet = rest.includes("--quiet");
  try {
    if (command === "pub") {
      const parsed = parsePubArgs(rest);
      if (parsed.help) return help(io, usage);
      quiet = parsed.config.quiet;
      return await runPub(parsed.config, io);
    }
    const parsed = parseSubArgs(rest);
    if (parsed.help) return help(io, usage);
    quiet = parsed.config.quiet;
    return await runSub(parsed.config, io);
  } catch (error) {
    const failure = describeFailure(error);
    if (!quiet) {
      const hint =
        failure.code === Codes.USAGE ? ` (mtaio mqtt ${command} --help lists the options)` : "";
      io.stderr.write(`mtaio mqtt ${command}: ${failure.message}${hint}\n`);
    }
    return failure.code;
  }
}

function help(io: CommandIO, usage: string): ExitCode {
  io.stdout.write(usage);
  return Codes.OK;
}
