/**
 * The parse corpus (test/mail/mime/corpus/, written by make_corpus.py): one message per defect
 * class of issue 21, in the styles of the mailers that send them. Each is checked against its
 * expected fields (expected.json), and against Python's email package (policy.default) field by
 * field: where Python is right the two must agree; where expected.json says Python differs (and
 * why), the test checks that it still does, so a note never outlives its reason.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { MailMessage } from "../../../src/mail/mime/index.js";
import type { AddressInput } from "../../../src/mail/mime/types.js";
import { serverSkip } from "../../servers/common.js";

const dir = new URL("./corpus/", import.meta.url).pathname;
const oracle = new URL("./python_corpus.py", import.meta.url).pathname;

interface Box {
  name?: string;
  address: string;
}
interface Fields {
  subject: string;
  from: Box[];
  to: Box[];
  cc: Box[];
  replyTo: Box[];
  date: string | null;
  text: string | null;
  html: string | null;
  attachments: { filename: string; contentType: string; sha256?: string }[];
}
interface Fixture {
  expect: Fields;
  pythonDiffers?: Partial<Record<keyof Fields, string>>;
  nested?: Pick<Fields, "subject" | "from" | "date" | "text">;
}

const expected = JSON.parse(readFileSync(`${dir}expected.json`, "utf8")) as Record<string, Fixture>;
const files = readdirSync(dir)
  .filter((f) => f.endsWith(".eml"))
  .sort();

/** Addresses in a fixed key order, the name only when there is one. */
function boxes(list: readonly (AddressInput | Box | undefined)[]): Box[] {
  return list
    .filter((b): b is Box => typeof b === "object" && b !== null)
    .map(({ name, address }) => (name ? { name, address } : { address }));
}

function fields(m: MailMessage): Fields {
  return {
    subject: m.subject,
    from: boxes([m.sender]),
    to: boxes(m.recipients),
    cc: boxes(m.cc),
    replyTo: boxes(m.replyTo),
    date: m.date?.toISOString() ?? null,
    text: m.textContent ?? null,
    html: m.htmlContent ?? null,
    attachments: m.attachments.map((a) => ({
      filename: a.filename,
      contentType: a.contentType,
      sha256: createHash("sha256")
        .update(a.content as Uint8Array)
        .digest("hex"),
    })),
  };
}

/** The fields Python can be compared on: attachments by name and payload hash only. */
function comparable(f: Fields, key: keyof Fields): unknown {
  if (key === "attachments") {
    return f.attachments.map((a) => ({
      filename: a.filename || "",
      sha256: a.contentType === "message/rfc822" ? undefined : a.sha256,
    }));
  }
  const value = f[key];
  return Array.isArray(value) ? boxes(value as Box[]) : value;
}

describe("parse corpus: real-world defect classes", () => {
  it("has a fixture with expectations for every message, and the reverse", () => {
    assert.ok(files.length >= 20);
    assert.deepEqual(files, Object.keys(expected).sort());
  });

  for (const file of files) {
    it(`${file}: decodes to the expected fields`, () => {
      const fixture = expected[file];
      const m = MailMessage.parse(readFileSync(dir + file));
      assert.deepEqual(fields(m), fixture.expect);
      if (fixture.nested) {
        const inner = m.attachments.find((a) => a.contentType === "message/rfc822");
        assert.ok(inner, "an embedded message");
        const nested = fields(inner.message());
        assert.deepEqual(
          { subject: nested.subject, from: nested.from, date: nested.date, text: nested.text },
          fixture.nested,
        );
      }
    });
  }

  it("agrees with Python's email where Python is right, and differs only where noted", {
    skip: serverSkip("/usr/bin/python3", "python3"),
  }, () => {
    const r = spawnSync("/usr/bin/python3", [oracle, ...files.map((f) => dir + f)], {
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
    });
    assert.equal(r.status, 0, r.stderr);
    const python = JSON.parse(r.stdout) as Record<string, Fields>;
    const keys: (keyof Fields)[] = [
      ...["subject", "from", "to", "cc", "replyTo", "date", "text", "html"],
      "attachments",
    ] as (keyof Fields)[];
    let agreed = 0;
    for (const file of files) {
      const fixture = expected[file];
      const ours = fixture.expect;
      const theirs = python[file];
      const py: Fields = {
        ...theirs,
        attachments: theirs.attachments.map((a) => ({ ...a, filename: a.filename ?? "" })),
      };
      for (const key of keys) {
        const note = fixture.pythonDiffers?.[key];
        const what = `${file} ${key}${note ? ` (noted: ${note})` : ""}`;
        if (note) assert.notDeepEqual(comparable(py, key), comparable(ours, key), what);
        else {
          assert.deepEqual(comparable(py, key), comparable(ours, key), what);
          agreed++;
        }
      }
    }
    // Most fields of most messages agree: the notes are the exception.
    assert.ok(agreed > files.length * keys.length * 0.8, `only ${agreed} fields agree`);
  });
});
