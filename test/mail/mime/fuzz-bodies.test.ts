/**
 * Property-based tests (fast-check) of body encoding through `MailMessage.render()`: random
 * unicode text (long lines, lone CR/LF, trailing blanks, `From `, dots, `=`, NUL and other
 * controls) and random attachment bytes arriving in random chunk sizes. The output is split
 * and decoded by a *strict* decoder written here (independent of src/): exact QP (`=XX`
 * upper-case, `=` CRLF soft breaks, lines ≤ 76, no trailing blanks), exact base64 lines of
 * 76, raw 7bit/8bit only when allowed. A sample also goes through Python's email package.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { Attachment, MailMessage } from "../../../src/mail/mime/index.js";
import { checkWireFormat, pythonParseAll, sha256, unexpectedDefects } from "./compose-helpers.js";
import { wellFormed } from "./fuzz-arbitraries.js";

const RUNS = Number(process.env.FUZZ_RUNS ?? 120);

const TEXT_PIECES = [
  "\n",
  "\r",
  "\r\n",
  "\n\n",
  " ",
  "\t",
  " \n",
  "\t\r\n",
  "From ",
  "\nFrom me",
  "\n.",
  ".\n",
  "=",
  "=3D",
  "=\n",
  "x".repeat(75),
  "y".repeat(76),
  "z".repeat(77),
  "w".repeat(1000),
  "é",
  "日本語のテキスト",
  "😀",
  "\u0000",
  "\u0001",
  "\u007f",
  "\u0085",
  "\ufeff",
  "--=_mtaio_",
];

const text = fc
  .array(
    fc.oneof(
      fc.constantFrom(...TEXT_PIECES),
      fc.string({ unit: "grapheme-ascii", maxLength: 30 }),
      fc.string({ unit: "binary", maxLength: 6 }),
    ),
    { maxLength: 30 },
  )
  .map((pieces) => wellFormed(pieces.join("")));

/** Bytes, plus the sizes of the chunks a stream will deliver them in. */
const chunkedBytes = fc
  .tuple(
    fc.uint8Array({ maxLength: 3000 }),
    fc.array(fc.integer({ min: 1, max: 200 }), { minLength: 1, maxLength: 10 }),
  )
  .map(([bytes, sizes]) => {
    const chunks: Uint8Array[] = [];
    let i = 0;
    let k = 0;
    while (i < bytes.length) {
      const n = sizes[k++ % sizes.length];
      chunks.push(bytes.slice(i, i + n));
      i += n;
    }
    return { bytes, chunks };
  });

const sample = fc.record({
  text,
  html: fc.option(text, { nil: undefined }),
  attachment: fc.option(chunkedBytes, { nil: undefined }),
  eightBit: fc.boolean(),
});
type Sample = typeof sample extends fc.Arbitrary<infer T> ? T : never;

function build(s: Sample): MailMessage {
  const attachments =
    s.attachment === undefined
      ? []
      : [
          new Attachment({
            filename: "data.bin",
            content: (async function* (chunks: Uint8Array[]) {
              yield* chunks;
            })(s.attachment.chunks),
          }),
        ];
  return new MailMessage({
    sender: "a@example.test",
    recipients: "b@example.test",
    textContent: s.text,
    htmlContent: s.html,
    attachments,
  });
}

interface Leaf {
  type: string;
  cte: string;
  /** Decoded body bytes. */
  bytes: Buffer;
}

const HEX = "0123456789ABCDEF";

/** Strict QP (RFC 2045 §6.7): fails on anything our encoder should never write. */
function strictQP(body: string): Buffer {
  const out: number[] = [];
  const lines = body.split("\r\n");
  lines.forEach((line, n) => {
    assert.ok(line.length <= 76, `QP line of ${line.length}`);
    assert.ok(!/[ \t]$/.test(line), `QP line ends in a blank: ${JSON.stringify(line)}`);
    assert.ok(/^[\t -~]*$/.test(line), `QP line with a raw byte: ${JSON.stringify(line)}`);
    let soft = false;
    for (let i = 0; i < line.length; i++) {
      const c = line[i];
      if (c !== "=") {
        out.push(c.charCodeAt(0));
        continue;
      }
      if (i === line.length - 1) {
        soft = true;
        break;
      }
      const hi = HEX.indexOf(line[i + 1]);
      const lo = HEX.indexOf(line[i + 2]);
      assert.ok(hi >= 0 && lo >= 0, `bad QP escape in ${JSON.stringify(line)}`);
      out.push(hi * 16 + lo);
      i += 2;
    }
    if (!soft && n < lines.length - 1) out.push(0x0d, 0x0a);
  });
  return Buffer.from(out);
}

/** Strict base64 body: lines of exactly 76 but the last, each with CRLF. */
function strictBase64(body: string): Buffer {
  if (body === "") return Buffer.alloc(0);
  assert.ok(body.endsWith("\r\n"), "base64 body must end with CRLF");
  const lines = body.slice(0, -2).split("\r\n");
  lines.forEach((line, i) => {
    assert.match(line, /^[A-Za-z0-9+/]+={0,2}$/);
    if (i < lines.length - 1) assert.equal(line.length, 76);
    else assert.ok(line.length <= 76 && line.length % 4 === 0);
  });
  return Buffer.from(lines.join(""), "base64");
}

function headerValue(head: string, name: string): string {
  const m = new RegExp(`^${name}:(.*(?:\\r\\n[ \\t].*)*)`, "im").exec(head);
  return m ? m[1].replace(/\r\n/g, "").trim() : "";
}

/** Splits an entity (latin1 string) into leaves, checking the multipart framing strictly. */
function leaves(entity: string, out: Leaf[] = []): Leaf[] {
  const end = entity.indexOf("\r\n\r\n");
  assert.ok(end >= 0);
  const head = entity.slice(0, end + 2);
  const body = entity.slice(end + 4);
  const type = headerValue(head, "Content-Type");
  const boundary = /boundary="([^"]+)"/.exec(type)?.[1];
  if (boundary !== undefined) {
    assert.ok(body.startsWith(`--${boundary}\r\n`), "multipart body must open with its delimiter");
    const pieces = body.slice(boundary.length + 4).split(`\r\n--${boundary}`);
    const last = pieces.pop();
    assert.equal(last, "--\r\n");
    for (const piece of pieces) {
      const child = piece.startsWith("\r\n") ? piece.slice(2) : piece;
      leaves(child, out);
    }
    return out;
  }
  const cte = headerValue(head, "Content-Transfer-Encoding").toLowerCase();
  let bytes: Buffer;
  if (cte === "quoted-printable") bytes = strictQP(body);
  else if (cte === "base64") bytes = strictBase64(body);
  else {
    assert.ok(cte === "7bit" || cte === "8bit", `unexpected CTE ${cte}`);
    bytes = Buffer.from(body, "latin1");
    if (cte === "7bit") assert.ok(!/[^\0-\x7f]/.test(body), "8-bit byte in a 7bit part");
    assert.ok(!/[\0]|\r(?!\n)|(?<!\r)\n/.test(body), "NUL or bare CR/LF in a raw part");
  }
  out.push({ type: type.split(";")[0].toLowerCase(), cte, bytes });
  return out;
}

const crlf = (t: string): string => t.replace(/\r\n|\r|\n/g, "\r\n");

/** The bytes a part must decode to (a raw body that ends the message gets a final CRLF). */
function expectedLeaves(s: Sample): [string, Buffer][] {
  const out: [string, Buffer][] = [["text/plain", Buffer.from(crlf(s.text))]];
  if (s.html !== undefined) out.push(["text/html", Buffer.from(crlf(s.html))]);
  if (s.attachment !== undefined)
    out.push(["application/octet-stream", Buffer.from(s.attachment.bytes)]);
  return out;
}

describe("fuzz: body encoding (text parts, streamed attachments)", () => {
  it("every part decodes, with a strict decoder, to exactly the given text or bytes", async () => {
    await fc.assert(
      fc.asyncProperty(sample, async (s) => {
        const bytes = await build(s).toBytes({ eightBit: s.eightBit });
        checkWireFormat(bytes, { eightBit: s.eightBit });
        const got = leaves(Buffer.from(bytes).toString("latin1"));
        const expected = expectedLeaves(s);
        assert.deepEqual(
          got.map((l) => l.type),
          expected.map(([t]) => t),
        );
        got.forEach((leaf, i) => {
          const want = expected[i][1];
          // A raw (7bit/8bit) body that ends the message gets the CRLF the message must end with.
          const last = got.length === 1 && (leaf.cte === "7bit" || leaf.cte === "8bit");
          const needsCrlf = last && !want.toString("latin1").endsWith("\r\n");
          assert.deepEqual(
            leaf.bytes,
            needsCrlf ? Buffer.concat([want, Buffer.from("\r\n")]) : want,
          );
          if (leaf.cte === "8bit") assert.ok(s.eightBit, "8bit without 8BITMIME");
          if (leaf.type === "application/octet-stream") assert.equal(leaf.cte, "base64");
        });
      }),
      { numRuns: RUNS, includeErrorInReport: true },
    );
  });

  it("30 random bodies decode in Python's email package to the same text and bytes", async () => {
    const samples = fc.sample(sample, { numRuns: 30, seed: 0x626f6479 });
    const rendered: Uint8Array[] = [];
    for (const s of samples) rendered.push(await build(s).toBytes({ eightBit: s.eightBit }));
    const parsed = await pythonParseAll(rendered);
    samples.forEach((s, i) => {
      const py = parsed[i];
      const where = `sample ${i}: ${JSON.stringify({ ...s, attachment: s.attachment?.bytes.length })}`;
      assert.deepEqual(unexpectedDefects(py.defects), [], where);
      const textPart = py.parts[0];
      const single = py.parts.length === 1 && (textPart.cte === "7bit" || textPart.cte === "8bit");
      const want = crlf(s.text).replace(/\r\n/g, "\n");
      assert.equal(textPart.text, single && !want.endsWith("\n") ? `${want}\n` : want, where);
      if (s.html !== undefined)
        assert.equal(py.parts[1].text, crlf(s.html).replace(/\r\n/g, "\n"), where);
      if (s.attachment !== undefined) {
        assert.equal(py.parts[py.parts.length - 1].sha256, sha256(s.attachment.bytes), where);
      }
    });
  });
});
