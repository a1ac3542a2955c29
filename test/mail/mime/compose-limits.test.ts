/**
 * RFC 5322 §2.1.1: no line may exceed 998 octets. Whatever a caller passes is either folded,
 * encoded so it can be folded, or refused with a MailError before any byte — never written as
 * one over-long line.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MailError } from "../../../src/errors.js";
import { Attachment, MailMessage } from "../../../src/mail/mime/index.js";
import type { MailMessageInit } from "../../../src/mail/mime/types.js";
import { checkWireFormat, pythonParseAll } from "./compose-helpers.js";

/** BUG 3 of /tmp/mtaio-mime-bugs.md (render.ts) is FIXED: these run as ordinary tests. */
const TODO_BUG3: string | undefined = undefined;

/** BUG 4 of /tmp/mtaio-mime-bugs.md (render.ts) is FIXED: this runs as an ordinary test. */
const TODO_BUG4: string | undefined = undefined;

const LONG = "x".repeat(1200);

function message(extra: MailMessageInit): MailMessage {
  return new MailMessage({ sender: "a@example.test", recipients: "b@example.test", ...extra });
}

function isMailError(code: string): (e: unknown) => boolean {
  return (e) => e instanceof MailError && e.code === code;
}

describe("MIME composition: the 998-octet line limit", () => {
  it("folds or encodes long caller text so every line stays within the limits", async () => {
    const spaced = "word ".repeat(400);
    const messages = [
      message({ subject: LONG }),
      message({ subject: spaced }),
      message({ headers: { "X-Long": LONG, "X-Spaced": spaced } }),
      message({ recipients: [{ name: LONG, address: "b@example.test" }] }),
      message({ recipients: [{ name: "n", address: "b@example.test", group: spaced }] }),
      message({ recipients: Array.from({ length: 80 }, (_, i) => `r${i}@example.test`) }),
      message({
        textContent: "t",
        attachments: [new Attachment({ filename: LONG, content: "x" })],
      }),
      message({
        textContent: "t",
        attachments: [
          new Attachment({ content: "x", contentType: `application/x-test; x-long=${LONG}` }),
        ],
      }),
      message({ sender: `"${"y ".repeat(120)}"@example.test` }),
    ];
    const rendered: Uint8Array[] = [];
    for (const [i, m] of messages.entries()) {
      const bytes = await m.toBytes();
      assert.doesNotThrow(() => checkWireFormat(bytes), `message ${i}`);
      rendered.push(bytes);
    }
    const py = await pythonParseAll(rendered);
    assert.equal(py[0].subject, LONG);
    assert.equal(py[1].subject, spaced);
    assert.equal(py[2].extra["X-Long"], LONG);
    assert.equal(py[3].to?.[0].mailboxes[0].name.replace(/ /g, ""), LONG);
    assert.equal(py[5].to?.length, 80);
    assert.equal(py[6].parts[1].filename, LONG);
    assert.equal(py[6].parts[1].typeName?.replace(/ /g, ""), LONG);
    assert.equal(py[7].parts[1].contentType, "application/x-test");
    assert.match(Buffer.from(rendered[7]).toString("latin1"), /x-long\*0\*=utf-8''x{10}/);
  });

  it("refuses what cannot be folded: long type names and domain literals", () => {
    const cases: [string, MailMessageInit, string][] = [
      [
        "a 1200-character subtype",
        { attachments: [new Attachment({ content: "x", contentType: `application/${LONG}` })] },
        "MAIL_INVALID_HEADER",
      ],
      [
        "a 200-character parameter name",
        {
          attachments: [
            new Attachment({ content: "x", contentType: `text/plain; ${"p".repeat(200)}=1` }),
          ],
        },
        "MAIL_INVALID_HEADER",
      ],
      ["a 1200-character domain literal", { sender: `a@[${LONG}]` }, "MAIL_INVALID_ADDRESS"],
      [
        "a 300-character domain",
        { sender: `a@${"abcdefghi.".repeat(30)}test` },
        "MAIL_INVALID_ADDRESS",
      ],
      ["a 64-character label", { sender: `a@${"l".repeat(64)}.test` }, "MAIL_INVALID_ADDRESS"],
      [
        "a 300-character local part",
        { sender: `${"l".repeat(300)}@example.test` },
        "MAIL_INVALID_ADDRESS",
      ],
      [
        "a 77-character header name",
        { headers: { [`X-${"n".repeat(75)}`]: "v" } },
        "MAIL_INVALID_HEADER",
      ],
    ];
    for (const [what, init, code] of cases) {
      assert.throws(() => message(init).render(), isMailError(code), what);
    }
  });

  it("refuses a 1200-character Content-ID", { todo: TODO_BUG3 }, () => {
    const m = message({
      htmlContent: "<img src=cid:x>",
      attachments: [new Attachment({ content: "x", contentId: LONG })],
    });
    assert.throws(() => m.render(), isMailError("MAIL_INVALID_HEADER"));
  });

  it("refuses a 1200-character Message-ID", { todo: TODO_BUG3 }, () => {
    assert.throws(
      () => message({ messageId: `<${LONG}@example.test>` }).render(),
      isMailError("MAIL_INVALID_HEADER"),
    );
  });

  it("refuses dates outside 1900–9999 (RFC 5322 §3.3)", { todo: TODO_BUG4 }, () => {
    const years = [-1, 50, 1899, 12000];
    for (const year of years) {
      const date = new Date(Date.UTC(2000, 0, 1));
      date.setUTCFullYear(year);
      assert.throws(
        () => message({ date }).render(),
        isMailError("MAIL_INVALID_HEADER"),
        String(year),
      );
    }
    assert.throws(
      () => message({ date: new Date(Number.NaN) }).render(),
      isMailError("MAIL_INVALID_HEADER"),
    );
  });
});
