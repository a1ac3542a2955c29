/**
 * A small table-driven tokenizer for mosquitto-style command lines. node:util `parseArgs`
 * cannot express two things `mosquitto_pub` / `mosquitto_sub` users rely on: `-D` takes three
 * (or, for user-property, four) arguments, and an option's value may start with a dash
 * (`-m -1`, `-P -secret`). Pure: argv in, values out, MQTTError `MQTT_CLI_USAGE` on mistakes.
 */
import { usageError } from "./exit-codes.js";

/**
 * `flag`: no value; `value`: one value, the last one given wins; `list`: one value, repeatable;
 * `property`: the `-D command identifier value` triple (user-property takes name and value).
 */
export type OptionKind = "flag" | "value" | "list" | "property";

export interface OptionSpec {
  long: string;
  short?: string;
  kind: OptionKind;
}

export interface Tokens {
  flags: Set<string>;
  values: Map<string, string>;
  lists: Map<string, string[]>;
  /** Each `-D`, as given: [command, identifier, value] or [command, "user-property", name, value]. */
  properties: string[][];
}

export function tokenize(argv: readonly string[], specs: readonly OptionSpec[]): Tokens {
  const byLong = new Map(specs.map((spec) => [spec.long, spec]));
  const byShort = new Map(specs.filter((s) => s.short).map((spec) => [spec.short, spec]));
  const tokens: Tokens = { flags: new Set(), values: new Map(), lists: new Map(), properties: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    let spec: OptionSpec | undefined;
    let inline: string | undefined;
    if (arg.startsWith("--") && arg.length > 2) {
      const eq = arg.indexOf("=");
      const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      if (eq >= 0) inline = arg.slice(eq + 1);
      spec = byLong.get(name);
      if (!spec) throw usageError(`unknown option --${name}`);
    } else if (arg.startsWith("-") && arg.length === 2) {
      spec = byShort.get(arg[1]);
      if (!spec) throw usageError(`unknown option ${arg}`);
    } else {
      throw usageError(`unexpected argument '${arg}' (options start with - or --)`);
    }
    const label = spec.short ? `-${spec.short}/--${spec.long}` : `--${spec.long}`;
    const take = (): string => {
      if (inline !== undefined) {
        const value = inline;
        inline = undefined;
        return value;
      }
      i++;
      if (i >= argv.length) throw usageError(`${label} needs a value`);
      return argv[i];
    };
    switch (spec.kind) {
      case "flag":
        if (inline !== undefined) throw usageError(`${label} takes no value`);
        tokens.flags.add(spec.long);
        break;
      case "value":
        tokens.values.set(spec.long, take());
        break;
      case "list": {
        const list = tokens.lists.get(spec.long) ?? [];
        list.push(take());
        tokens.lists.set(spec.long, list);
        break;
      }
      case "property": {
        if (inline !== undefined) throw usageError(`${label} takes its values as separate words`);
        const count = argv[i + 2] === "user-property" ? 4 : 3;
        if (i + count >= argv.length) {
          throw usageError(
            `${label} needs ${count === 4 ? "command user-property name value" : "command identifier value"}`,
          );
        }
        tokens.properties.push(argv.slice(i + 1, i + 1 + count));
        i += count;
        break;
      }
    }
  }
  return tokens;
}
