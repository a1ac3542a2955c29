import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type IMAPResponse,
  type LiteralStreamInfo,
  ResponseParser,
} from "../../../../src/mail/imap/codec/index.js";
import { as, parseChunks } from "./helpers.js";

describe("streamLiteral: FETCH literals through a sink", () => {
  it("is not asked while `streaming` says no: the literals are buffered as usual", () => {
    let streaming = false;
    const offered: string[] = [];
    const out: IMAPResponse[] = [];
    const parser = new ResponseParser({
      onResponse: (r) => out.push(r),
      streamLiteral: (info) => {
        offered.push(info.item);
        return () => {};
      },
      streaming: () => streaming,
    });
    parser.push(Buffer.from("* 1 FETCH (BODY[] {3}\r\nabc)\r\n"));
    streaming = true;
    parser.push(Buffer.from("* 2 FETCH (BODY[] {3}\r\nxyz)\r\n"));
    assert.deepEqual(offered, ["BODY[]"]);
    assert.deepEqual(as(out[0], "fetch").attributes.sections, {
      "BODY[]": new Uint8Array(Buffer.from("abc")),
    });
    assert.deepEqual(as(out[1], "fetch").attributes.sections, {
      "BODY[]": { streamed: true, size: 3 },
    });
  });

  it("offers BODY[...] and BINARY[...] literals with seq, item and size; the value marks them streamed", () => {
    const offered: LiteralStreamInfo[] = [];
    const got: string[] = [];
    const text =
      "* 12 FETCH (UID 3 BODY[HEADER.FIELDS (Subject)]<0> {4}\r\nabcd BINARY[1.2] ~{3}\r\nxyz X-OTHER {2}\r\nqq RFC822 {1}\r\nr)\r\n";
    const bytes = Buffer.from(text);
    for (let cut = 0; cut <= bytes.length; cut++) {
      offered.length = 0;
      got.length = 0;
      let current = "";
      const [r] = parseChunks(bytes, [cut], {
        streamLiteral: (info) => {
          offered.push(info);
          return (chunk) => {
            if (chunk === null) {
              got.push(current);
              current = "";
            } else current += Buffer.from(chunk).toString();
          };
        },
      });
      assert.deepEqual(offered, [
        { seq: 12, item: "BODY[HEADER.FIELDS (SUBJECT)]", size: 4 },
        { seq: 12, item: "BINARY[1.2]", size: 3 },
      ]);
      assert.deepEqual(got, ["abcd", "xyz"], `split at ${cut}`);
      const a = as(r, "fetch").attributes;
      assert.equal(a.uid, 3);
      assert.deepEqual(a.sections, {
        "BODY[HEADER.FIELDS (SUBJECT)]": { streamed: true, size: 4 },
        "BINARY[1.2]": { streamed: true, size: 3 },
        RFC822: new Uint8Array(Buffer.from("r")),
      });
      assert.deepEqual(a.extra, { "X-OTHER": new Uint8Array(Buffer.from("qq")) });
    }
  });

  it("declining (undefined) buffers the literal as usual", () => {
    const [r] = parseChunks("* 1 FETCH (BODY[] {3}\r\nabc)\r\n", [], {
      streamLiteral: () => undefined,
    });
    assert.deepEqual(as(r, "fetch").attributes.sections, {
      "BODY[]": new Uint8Array(Buffer.from("abc")),
    });
  });

  it("streams a 100 MB literal in chunks with flat memory, past maxLiteralSize/maxResponseSize", () => {
    const SIZE = 100 * 1024 * 1024;
    const CHUNK = 64 * 1024;
    const chunk = Buffer.alloc(CHUNK);
    let received = 0;
    let sum = 0;
    let ended = false;
    let maxHeld = 0;
    const responses: IMAPResponse[] = [];
    const parser = new ResponseParser({
      limits: { maxLiteralSize: 1024, maxResponseSize: 4096 },
      onResponse: (r) => responses.push(r),
      streamLiteral: () => (part) => {
        if (part === null) ended = true;
        else {
          received += part.length;
          for (let i = 0; i < part.length; i += 4096) sum = (sum + part[i]) % 65521;
        }
      },
    });
    parser.push(Buffer.from(`* 5 FETCH (UID 77 BODY[] {${SIZE}}\r\n`));
    let expectedSum = 0;
    for (let sent = 0; sent < SIZE; sent += CHUNK) {
      const value = (sent / CHUNK) % 251;
      chunk.fill(value);
      for (let i = 0; i < CHUNK; i += 4096) expectedSum = (expectedSum + value) % 65521;
      parser.push(chunk);
      maxHeld = Math.max(maxHeld, parser.buffered);
    }
    assert.equal(ended, true);
    parser.push(Buffer.from(" FLAGS (\\Seen))\r\n"));
    assert.equal(received, SIZE);
    assert.equal(sum, expectedSum);
    assert.ok(maxHeld < 100, `held ${maxHeld} bytes while streaming`);
    const a = as(responses[0], "fetch").attributes;
    assert.deepEqual(a.sections, { "BODY[]": { streamed: true, size: SIZE } });
    assert.deepEqual(a.flags, ["\\Seen"]);
    assert.equal(a.uid, 77);
  });
});

describe("streamLiteral: callback failures", () => {
  it("an exception from a sink or from streamLiteral reaches the caller unchanged, and the parser is dead", () => {
    const boom = new Error("disk full");
    const sinkThrows = new ResponseParser({
      onResponse: () => {},
      streamLiteral: () => () => {
        throw boom;
      },
    });
    assert.throws(
      () => sinkThrows.push(Buffer.from("* 1 FETCH (BODY[] {3}\r\nabc)\r\n")),
      (e) => e === boom,
    );
    assert.throws(
      () => sinkThrows.push(Buffer.from("* 1 EXISTS\r\n")),
      (e) => e === boom,
    );
    const askThrows = new ResponseParser({
      onResponse: () => {},
      streamLiteral: () => {
        throw boom;
      },
    });
    assert.throws(
      () => askThrows.push(Buffer.from("* 1 FETCH (BODY[] {3}\r\n")),
      (e) => e === boom,
    );
  });
});
