/**
 * Address fields as senders really write them (RFC 5322 §3.4 and the obsolete syntax of §4.4,
 * plus common mistakes): read what the sender meant, as the major mail readers do, and never
 * glue words into a local part nobody wrote. Python's email gets several of these wrong
 * (`"Big Bug bb"@bug.com`, drops the second of two space-separated addresses).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MailError } from "../../../src/errors.js";
import { parseAddressList } from "../../../src/mail/mime/address-parse.js";
import { MailMessage } from "../../../src/mail/mime/index.js";

const lenient = (text: string): unknown => parseAddressList(text, false);

describe("lenient address parsing of received headers", () => {
  it("several addresses separated only by spaces", () => {
    assert.deepEqual(lenient("a@example.com b@example.org"), [
      { address: "a@example.com" },
      { address: "b@example.org" },
    ]);
    // Words after an angle address with no address of their own are not a mailbox.
    assert.deepEqual(lenient("<j@x.org> Joe, k@y.org"), [
      { address: "j@x.org" },
      { address: "k@y.org" },
    ]);
    assert.deepEqual(lenient("Ann <a@x.org> Bob <b@y.org>"), [
      { name: "Ann", address: "a@x.org" },
      { name: "Bob", address: "b@y.org" },
    ]);
  });

  it("a bare phrase with the address at its end is a display name", () => {
    assert.deepEqual(lenient("Big Bug bb@bug.com"), [{ name: "Big Bug", address: "bb@bug.com" }]);
    assert.deepEqual(lenient('"Big Bug" bb@bug.com, c@d.org'), [
      { name: "Big Bug", address: "bb@bug.com" },
      { address: "c@d.org" },
    ]);
    // Words no address follows carry nothing: no made-up local part.
    assert.deepEqual(lenient("undisclosed recipients"), []);
  });

  it("`Name <>` keeps the name with the null address", () => {
    assert.deepEqual(lenient("Mail Delivery System <>"), [
      { name: "Mail Delivery System", address: "" },
    ]);
  });

  it("a comment after a bare address is the name; obsolete CFWS around @ and dots", () => {
    assert.deepEqual(lenient("bb@bug.com (Big Bug)"), [{ name: "Big Bug", address: "bb@bug.com" }]);
    assert.deepEqual(lenient("john . doe @ example . com"), [{ address: "john.doe@example.com" }]);
    assert.deepEqual(lenient("Joe <j@x.org> (work), k@y.org"), [
      { name: "Joe", address: "j@x.org" },
      { address: "k@y.org" },
    ]);
  });

  it("an encoded-word holding specials stays one word of the display name", () => {
    assert.deepEqual(lenient("=?utf-8?Q?Doe=2C_J.?= <j@x.org>"), [
      { name: "Doe, J.", address: "j@x.org" },
    ]);
  });

  it("strict parsing (a caller's input) still refuses what is not one address", () => {
    for (const text of ["Big Bug bb@bug.com", "Name <>", "a@x.org b@y.org"]) {
      assert.throws(
        () => parseAddressList(text, true),
        (e: unknown) => e instanceof MailError && e.code === "MAIL_INVALID_ADDRESS",
        text,
      );
    }
  });
});

describe("address fields of parsed messages", () => {
  it("obsolete `From  :` with whitespace before the colon (RFC 5322 §4.5)", () => {
    const m = MailMessage.parse(
      "From  : Joe Bloggs <joe@example.com>\r\nTo\t: Big Bug bb@bug.com\r\nSubject : hi\r\n\r\nbody\r\n",
    );
    assert.deepEqual(m.sender, { name: "Joe Bloggs", address: "joe@example.com" });
    assert.deepEqual(m.recipients, [{ name: "Big Bug", address: "bb@bug.com" }]);
    assert.equal(m.subject, "hi");
  });

  it("a bounce's From: with the null address", () => {
    const m = MailMessage.parse("From: MAILER-DAEMON <>\r\nTo: a@x.org\r\n\r\nx");
    assert.deepEqual(m.sender, { name: "MAILER-DAEMON", address: "" });
  });
});
