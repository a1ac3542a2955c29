import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { normalizeAddresses } from "../../../src/mail/mime/address.js";
import { Attachment, MailMessage } from "../../../src/mail/mime/index.js";
import { headerFields } from "../../../src/mail/mime/parse/index.js";
import { encodeText } from "../../../src/mail/mime/text-part.js";
import type { AddressInput, RenderOptions } from "../../../src/mail/mime/types.js";

const lf = (text: string): string => text.replace(/\r\n|\r|\n/g, "\n");

/** What parse must give back for a text body: a single-part 7bit/8bit body gains a final break. */
function expectedText(text: string, singlePart: boolean, options: RenderOptions): string {
  const encoding = encodeText(
    text,
    options.eightBit === true || options.smtputf8 === true,
  ).encoding;
  const raw = encoding === "7bit" || encoding === "8bit";
  const normal = lf(text);
  return singlePart && raw && !normal.endsWith("\n") ? `${normal}\n` : normal;
}

const list = (v: AddressInput | AddressInput[] | undefined): AddressInput[] =>
  v === undefined ? [] : Array.isArray(v) ? v : [v];

/** Renders, parses, and compares every field with what was put in. */
async function roundTrip(message: MailMessage, options: RenderOptions = {}): Promise<MailMessage> {
  const bytes = await message.toBytes(options);
  const parsed = MailMessage.parse(bytes);
  assert.equal(parsed.subject, message.subject);
  assert.deepEqual(parsed.sender, normalizeAddresses(list(message.sender), "sender")[0]);
  assert.deepEqual(parsed.recipients, normalizeAddresses(message.recipients, "to"));
  assert.deepEqual(parsed.cc, normalizeAddresses(message.cc, "cc"));
  assert.deepEqual(parsed.bcc, [], "Bcc is never written, so never parsed back");
  assert.deepEqual(parsed.replyTo, normalizeAddresses(message.replyTo, "replyTo"));
  assert.equal(parsed.messageId, message.messageId);
  assert.equal(parsed.date?.getTime(), Math.floor((message.date as Date).getTime() / 1000) * 1000);
  const inlineRelated = (a: Attachment): boolean =>
    message.htmlContent !== undefined && a.inline && a.contentId !== undefined;
  const singlePart =
    message.attachments.length === 0 &&
    (message.textContent === undefined || message.htmlContent === undefined);
  if (message.textContent === undefined && message.htmlContent === undefined) {
    // An empty message is rendered as an empty text/plain part.
    if (message.attachments.length === 0) assert.equal(parsed.textContent, "\n");
    else assert.equal(parsed.textContent, undefined);
  } else if (message.textContent === undefined) assert.equal(parsed.textContent, undefined);
  else assert.equal(parsed.textContent, expectedText(message.textContent, singlePart, options));
  if (message.htmlContent === undefined) assert.equal(parsed.htmlContent, undefined);
  else {
    const relatedAlone = !message.attachments.some(inlineRelated);
    assert.equal(
      parsed.htmlContent,
      expectedText(message.htmlContent, singlePart && relatedAlone, options),
    );
  }
  // Inline images with a Content-ID sit with the HTML (multipart/related), before the others.
  const expected = [
    ...message.attachments.filter(inlineRelated),
    ...message.attachments.filter((a) => !inlineRelated(a)),
  ];
  assert.equal(parsed.attachments.length, expected.length);
  for (const [i, want] of expected.entries()) {
    const got = parsed.attachments[i];
    assert.equal(got.filename, want.filename);
    assert.equal(got.contentType, want.contentType);
    assert.equal(got.contentId, want.contentId);
    assert.equal(got.inline, want.inline);
    assert.deepEqual(await got.bytes(), new Uint8Array(await want.bytes()));
  }
  const extra = Object.fromEntries(Object.entries(message.headers));
  assert.deepEqual({ ...parsed.headers }, extra);
  // Parsing the re-rendered message gives the same again (a parsed message renders).
  const again = MailMessage.parse(await parsed.toBytes(options));
  assert.equal(again.subject, parsed.subject);
  assert.deepEqual(again.recipients, parsed.recipients);
  assert.equal(again.textContent, parsed.textContent);
  return parsed;
}

const png = new Uint8Array(5000).map((_, i) => (i * 7) % 256);

describe("MailMessage.parse(render()) round trip", () => {
  for (const options of [{}, { eightBit: true }, { smtputf8: true }] as RenderOptions[]) {
    const tag = JSON.stringify(options);
    it(`text only ${tag}`, async () => {
      await roundTrip(
        new MailMessage({
          subject: "Hello",
          sender: "a@example.com",
          recipients: "b@example.com",
          textContent: "Hi there,\nbye",
        }),
        options,
      );
    });
    it(`text only ending in a line break, long lines, trailing spaces ${tag}`, async () => {
      await roundTrip(
        new MailMessage({
          subject: "x",
          sender: "a@example.com",
          textContent: `${"long ".repeat(400)}\ntrailing   \n.dot\nFrom here\n`,
        }),
        options,
      );
    });
    it(`html only ${tag}`, async () => {
      await roundTrip(
        new MailMessage({ sender: "a@example.com", htmlContent: "<p>héllo</p>" }),
        options,
      );
    });
    it(`alternative with a Japanese subject and names ${tag}`, async () => {
      const parsed = await roundTrip(
        new MailMessage({
          subject: "テストメッセージ",
          sender: '"Doe, John" <j@x.org>',
          recipients: ["recipient@example.com", "山田 太郎 <taro@example.jp>"],
          cc: [{ name: 'He said "hi", then left', address: "q@example.org" }],
          replyTo: "Support Team <support@example.org>",
          textContent: "mtaioからこんにちは\n",
          htmlContent: "<h1>mtaioからこんにちは</h1>",
        }),
        options,
      );
      assert.equal(parsed.subject, "テストメッセージ");
      assert.deepEqual(parsed.sender, { name: "Doe, John", address: "j@x.org" });
    });
    it(`related with an inline image, mixed with attachments ${tag}`, async () => {
      const message = new MailMessage({
        subject: "Report",
        sender: "a@example.com",
        recipients: ["Team: x@example.com, y@example.com;", "z@example.com"],
        textContent: "see attached",
        htmlContent: '<img src="cid:logo">',
        headers: { "X-Mailer": "mtaio test", Keywords: ["one", "two"] },
      });
      message.attachments.push(new Attachment({ filename: "報告書 2026.txt", content: "hello\n" }));
      message.attachments.push(
        new Attachment({
          filename: "logo.png",
          content: png,
          contentType: "image/png",
          contentId: "logo",
        }),
      );
      message.attachments.push(
        new Attachment({
          filename: `a very long file name ${"ü".repeat(80)}.csv`,
          content: "a,b\n1,2\n",
          contentType: "text/csv; charset=utf-8",
        }),
      );
      message.attachments.push(new Attachment({ filename: "", content: new Uint8Array(0) }));
      const parsed = await roundTrip(message, options);
      assert.deepEqual(
        parsed.recipients.map((r) => typeof r !== "string" && r.group),
        ["Team", "Team", undefined],
      );
    });
    it(`attachments only, no body ${tag}`, async () => {
      const message = new MailMessage({ sender: "a@example.com" });
      message.attachments.push(new Attachment({ filename: "data.bin", content: png }));
      await roundTrip(message, options);
    });
    it(`nothing at all ${tag}`, async () => {
      await roundTrip(new MailMessage({ sender: "a@example.com" }), options);
    });
  }

  it("keeps the raw header list of a parsed message", async () => {
    const message = new MailMessage({
      subject: "=?x",
      sender: "a@example.com",
      headers: { "X-A": "1" },
    });
    const parsed = await roundTrip(message);
    const fields = headerFields(parsed);
    assert.ok(fields);
    assert.deepEqual(
      fields.map((f) => f.name),
      [
        "From",
        "Subject",
        "Date",
        "Message-ID",
        "MIME-Version",
        "X-A",
        "Content-Type",
        "Content-Transfer-Encoding",
      ],
    );
    assert.equal(headerFields(message), undefined);
  });

  it("property: any message mtaio renders parses back to the same fields", async () => {
    const text = fc.string({ unit: "grapheme", maxLength: 300 });
    const headerText = fc
      .string({ unit: "grapheme", maxLength: 120 })
      .map((s) => s.replace(/[\r\n\0]/g, ""));
    const local = fc
      .stringMatching(/^[a-z0-9]([a-z0-9.+_-]{0,10}[a-z0-9])?$/)
      .filter((s) => !s.includes(".."));
    const address = fc.record(
      {
        name: headerText.filter((s) => s.trim() === s && !/\s\s/.test(s)),
        address: fc
          .tuple(local, fc.constantFrom("example.com", "x.org"))
          .map(([l, d]) => `${l}@${d}`),
        group: fc.constantFrom("Team", "Ünïcode Group", 'a "quoted", group:;'),
      },
      { requiredKeys: ["address"] },
    );
    const attachment = fc
      .record({
        filename: headerText,
        content: fc.uint8Array({ maxLength: 300 }),
        contentType: fc.constantFrom(
          "application/octet-stream",
          "image/png",
          "text/plain; charset=utf-8",
        ),
        contentId: fc.option(fc.stringMatching(/^[a-z0-9]{1,8}@x$/), { nil: undefined }),
      })
      // An inline text/plain part without a file name reads as body text, by design: skip it.
      .filter(
        (a) =>
          !(a.filename === "" && a.contentId !== undefined && a.contentType.startsWith("text/")),
      )
      .map((init) => new Attachment(init));
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          subject: headerText,
          sender: address,
          recipients: fc.array(address, { maxLength: 4 }),
          cc: fc.array(address, { maxLength: 2 }),
          textContent: fc.option(text, { nil: undefined }),
          htmlContent: fc.option(text, { nil: undefined }),
          attachments: fc.array(attachment, { maxLength: 3 }),
        }),
        fc.constantFrom<RenderOptions>({}, { eightBit: true }, { smtputf8: true }),
        async (init, options) => {
          await roundTrip(new MailMessage(init), options);
        },
      ),
      { numRuns: 300 },
    );
  });
});
