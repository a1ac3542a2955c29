import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import { MailMessage } from "../../../src/mail/mime/index.js";
import type { MailAddress } from "../../../src/mail/mime/types.js";
import { serverSkip } from "../../servers/common.js";

const generator = new URL("./python_generate.py", import.meta.url).pathname;

interface PythonAttachment {
  filename: string;
  contentType: string;
  contentId: string | null;
  sha256?: string;
  innerSubject?: string;
}
interface PythonMessage {
  raw: string;
  subject: string;
  from: MailAddress[];
  to: MailAddress[];
  cc: MailAddress[];
  replyTo: MailAddress[];
  messageId: string;
  date: string;
  text: string | null;
  html: string | null;
  attachments: PythonAttachment[];
}

const sha = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");
/** Fields in a fixed order, so deepEqual compares values and not key order. */
const boxes = (list: unknown[]): MailAddress[] =>
  (list as MailAddress[]).map(({ name, address, group }) => ({
    address,
    ...(name === undefined ? {} : { name }),
    ...(group === undefined ? {} : { group }),
  }));

describe("MailMessage.parse reads messages written by Python's email package", {
  skip: serverSkip("/usr/bin/python3", "python3"),
}, () => {
  it("agrees with Python's own parser field by field", async () => {
    const r = spawnSync("/usr/bin/python3", [generator], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    const cases = JSON.parse(r.stdout) as PythonMessage[];
    assert.equal(cases.length, 6);
    for (const expected of cases) {
      const m = MailMessage.parse(Buffer.from(expected.raw, "base64"));
      const what = expected.subject;
      assert.equal(m.subject, expected.subject);
      assert.deepEqual(boxes([m.sender]), boxes(expected.from), what);
      assert.deepEqual(boxes(m.recipients), boxes(expected.to), what);
      assert.deepEqual(boxes(m.cc), boxes(expected.cc), what);
      assert.deepEqual(boxes(m.replyTo), boxes(expected.replyTo), what);
      assert.equal(m.messageId, expected.messageId);
      assert.equal(m.date?.toISOString().replace(".000", ""), expected.date);
      assert.equal(m.textContent ?? null, expected.text, what);
      assert.equal(m.htmlContent ?? null, expected.html, what);
      assert.equal(m.attachments.length, expected.attachments.length, what);
      for (const [i, want] of expected.attachments.entries()) {
        const got = m.attachments[i];
        assert.equal(got.filename, want.filename, what);
        assert.equal(got.contentType.split(";")[0], want.contentType, what);
        assert.equal(got.contentId ?? null, want.contentId, what);
        const bytes = await got.bytes();
        if (want.innerSubject !== undefined) {
          assert.equal(MailMessage.parse(bytes).subject, want.innerSubject);
          assert.equal(MailMessage.parse(bytes).textContent, "I am embedded\n");
        } else assert.equal(sha(bytes), want.sha256, `${what}: ${want.filename}`);
      }
    }
  });
});
