import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CORPUS } from "./corpus.js";
import { parseChunks } from "./helpers.js";

function wireBytes(wire: string): Buffer {
  // the corpus spells raw bytes as \xNN in latin1 text
  return Buffer.from(wire, "latin1");
}

describe("corpus of server responses", () => {
  for (const entry of CORPUS) {
    it(`${entry.name}: parses whole and at every split point alike`, () => {
      const bytes = wireBytes(entry.wire);
      const whole = parseChunks(bytes);
      assert.equal(whole.length, entry.responses);
      entry.check?.(whole);
      for (let cut = 1; cut < bytes.length; cut++) {
        assert.deepEqual(parseChunks(bytes, [cut]), whole, `split at ${cut}`);
      }
      const bytewise = Array.from({ length: bytes.length - 1 }, (_, i) => i + 1);
      assert.deepEqual(parseChunks(bytes, bytewise), whole, "one byte per chunk");
    });
  }
});
