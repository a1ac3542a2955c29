/** Shared helpers of the IMAP codec tests. */
import {
  type IMAPParserLimits,
  type IMAPResponse,
  type LiteralChunkSink,
  type LiteralStreamInfo,
  ResponseParser,
} from "../../../../src/mail/imap/codec/index.js";

export interface ParseOptions {
  limits?: Partial<IMAPParserLimits>;
  streamLiteral?: (info: LiteralStreamInfo) => LiteralChunkSink | undefined;
}

/** Parses `input` delivered as the given chunks (cut at the given offsets). */
export function parseChunks(
  input: string | Uint8Array,
  cuts: readonly number[] = [],
  options: ParseOptions = {},
): IMAPResponse[] {
  const bytes = typeof input === "string" ? Buffer.from(input, "utf8") : input;
  const out: IMAPResponse[] = [];
  const parser = new ResponseParser({ ...options, onResponse: (r) => out.push(r) });
  let last = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    parser.push(bytes.subarray(last, cut));
    last = cut;
  }
  parser.push(bytes.subarray(last));
  return out;
}

/** Parses a text of responses in one chunk; returns the single response it holds. */
export function parseOne(input: string, options: ParseOptions = {}): IMAPResponse {
  const out = parseChunks(input, [], options);
  if (out.length !== 1) throw new Error(`expected one response, got ${out.length}`);
  return out[0];
}

/** The member of the union whose `kind` admits K ("list" | "lsub" share one member). */
export type ResponseOf<K extends IMAPResponse["kind"]> = IMAPResponse extends infer R
  ? R extends { kind: infer Kinds }
    ? K extends Kinds
      ? R
      : never
    : never
  : never;

/** Narrows a response to a kind (fails the test otherwise). */
export function as<K extends IMAPResponse["kind"]>(response: IMAPResponse, kind: K): ResponseOf<K> {
  if (response.kind !== kind) throw new Error(`expected ${kind}, got ${response.kind}`);
  return response as ResponseOf<K>;
}
