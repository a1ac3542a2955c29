import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { IMAPError } from "../../../../src/errors.js";
import { ResponseParser } from "../../../../src/mail/imap/codec/index.js";
import { as, parseChunks, parseOne } from "./helpers.js";

describe("IMAP response parser: status, codes, continuation (RFC 9051 §7.1)", () => {
  it("parses the greeting with a CAPABILITY code", () => {
    const r = as(
      parseOne("* OK [CAPABILITY IMAP4rev2 imap4rev1 LITERAL+] Dovecot ready.\r\n"),
      "status",
    );
    assert.equal(r.status, "OK");
    assert.equal(r.text, "Dovecot ready.");
    assert.deepEqual(r.code, {
      name: "CAPABILITY",
      capabilities: ["IMAP4REV2", "IMAP4REV1", "LITERAL+"],
    });
  });

  it("parses tagged responses of every status, with and without text", () => {
    assert.deepEqual(parseOne("a001 OK LOGIN completed\r\n"), {
      kind: "tagged",
      tag: "a001",
      status: "OK",
      text: "LOGIN completed",
    });
    assert.deepEqual(parseOne("A2 no [TRYCREATE] No such mailbox\r\n"), {
      kind: "tagged",
      tag: "A2",
      status: "NO",
      code: { name: "TRYCREATE" },
      text: "No such mailbox",
    });
    assert.deepEqual(parseOne("A3 BAD\r\n"), {
      kind: "tagged",
      tag: "A3",
      status: "BAD",
      text: "",
    });
  });

  it("parses untagged BYE and PREAUTH, and tolerates a bare LF", () => {
    const [bye, pre] = parseChunks(
      "* BYE Autologout; idle for too long\n* PREAUTH IMAP4rev2 server logged in as Smith\r\n",
    );
    assert.deepEqual(bye, { kind: "status", status: "BYE", text: "Autologout; idle for too long" });
    assert.equal(as(pre, "status").status, "PREAUTH");
  });

  it("parses the numeric, modseq and flag-list codes", () => {
    const code = (line: string) => as(parseOne(line), "status").code;
    assert.deepEqual(code("* OK [UIDVALIDITY 3857529045] UIDs valid\r\n"), {
      name: "UIDVALIDITY",
      value: 3857529045,
    });
    assert.deepEqual(code("* OK [UIDNEXT 4392] Predicted next UID\r\n"), {
      name: "UIDNEXT",
      value: 4392,
    });
    assert.deepEqual(code("* OK [UNSEEN 12] Message 12 is first unseen\r\n"), {
      name: "UNSEEN",
      value: 12,
    });
    assert.deepEqual(code("* OK [HIGHESTMODSEQ 715194045007] Highest\r\n"), {
      name: "HIGHESTMODSEQ",
      value: 715194045007n,
    });
    assert.deepEqual(code("* OK [PERMANENTFLAGS (\\Deleted \\Seen \\*)] Limited\r\n"), {
      name: "PERMANENTFLAGS",
      flags: ["\\Deleted", "\\Seen", "\\*"],
    });
    assert.deepEqual(code("* OK [PERMANENTFLAGS ()] No permanent flags permitted\r\n"), {
      name: "PERMANENTFLAGS",
      flags: [],
    });
    assert.deepEqual(
      code("* OK [NOMODSEQ] Sorry, this mailbox format doesn't support modsequences\r\n"),
      { name: "NOMODSEQ" },
    );
    assert.deepEqual(code("* NO [ALERT] System shutdown in 10 minutes\r\n"), { name: "ALERT" });
  });

  it("parses UIDPLUS (RFC 4315) and CONDSTORE MODIFIED (RFC 7162) codes", () => {
    const tagged = (line: string) => as(parseOne(line), "tagged").code;
    assert.deepEqual(tagged("A003 OK [APPENDUID 38505 3955] APPEND completed\r\n"), {
      name: "APPENDUID",
      uidValidity: 38505,
      uids: "3955",
    });
    assert.deepEqual(tagged("A004 OK [COPYUID 38505 304,319:320 3956:3958] Done\r\n"), {
      name: "COPYUID",
      uidValidity: 38505,
      source: "304,319:320",
      destination: "3956:3958",
    });
    assert.deepEqual(tagged("d105 OK [MODIFIED 7,9] Conditional STORE failed\r\n"), {
      name: "MODIFIED",
      set: "7,9",
    });
  });

  it("keeps unknown codes as name + raw text, and a malformed known code as text", () => {
    const a = as(parseOne('* NO [BADCHARSET (UTF-8 "x]y")] unsupported\r\n'), "status");
    assert.deepEqual(a.code, { name: "BADCHARSET", text: '(UTF-8 "x]y")' });
    assert.equal(a.text, "unsupported");
    const b = as(parseOne("* OK [x-weird] hi\r\n"), "status");
    assert.deepEqual(b.code, { name: "X-WEIRD" });
    const c = as(parseOne("* OK [UIDVALIDITY abc] broken\r\n"), "status");
    assert.equal(c.code, undefined);
    assert.equal(c.text, "[UIDVALIDITY abc] broken");
  });

  it("parses continuations, with text, base64 and nothing", () => {
    assert.deepEqual(parseOne("+ Ready for additional command text\r\n"), {
      kind: "continuation",
      text: "Ready for additional command text",
    });
    assert.deepEqual(parseOne("+ YGgGCSqGSIb3EgECAgIBAAD/////6jcyG4GE3KkTzmeTxPv4Ww==\r\n"), {
      kind: "continuation",
      text: "YGgGCSqGSIb3EgECAgIBAAD/////6jcyG4GE3KkTzmeTxPv4Ww==",
    });
    assert.deepEqual(parseOne("+\r\n"), { kind: "continuation", text: "" });
  });

  it("keeps UTF-8 in response text (RFC 9051 §9 resp-text)", () => {
    assert.equal(as(parseOne("* OK Grüße\r\n"), "status").text, "Grüße");
  });
});

describe("IMAP response parser: mailbox-data and message-data (RFC 9051 §7.2-7.5)", () => {
  it("CAPABILITY and ENABLED are upper-cased", () => {
    assert.deepEqual(parseOne("* CAPABILITY IMAP4rev2 STARTTLS AUTH=GSSAPI XPIG-LATIN\r\n"), {
      kind: "capability",
      capabilities: ["IMAP4REV2", "STARTTLS", "AUTH=GSSAPI", "XPIG-LATIN"],
    });
    assert.deepEqual(parseOne("* ENABLED CondStore QRESYNC\r\n"), {
      kind: "enabled",
      capabilities: ["CONDSTORE", "QRESYNC"],
    });
  });

  it("EXISTS, RECENT, EXPUNGE, FLAGS", () => {
    const [a, b, c, d] = parseChunks(
      "* 23 EXISTS\r\n* 5 RECENT\r\n* 44 EXPUNGE\r\n* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded)\r\n",
    );
    assert.deepEqual(a, { kind: "exists", count: 23 });
    assert.deepEqual(b, { kind: "recent", count: 5 });
    assert.deepEqual(c, { kind: "expunge", seq: 44 });
    assert.deepEqual(d, {
      kind: "flags",
      flags: ["\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft", "$Forwarded"],
    });
  });

  it("LIST and LSUB: NIL delimiter, literal and atom names, RFC 5258 extended data", () => {
    assert.deepEqual(parseOne('* LIST (\\Noselect) "/" ~/Mail/foo\r\n'), {
      kind: "list",
      flags: ["\\Noselect"],
      delimiter: "/",
      name: "~/Mail/foo",
    });
    assert.deepEqual(parseOne('* LIST () NIL "INBOX"\r\n'), {
      kind: "list",
      flags: [],
      delimiter: null,
      name: "INBOX",
    });
    assert.deepEqual(parseOne('* LSUB () "." {7}\r\nmy"box]\r\n'), {
      kind: "lsub",
      flags: [],
      delimiter: ".",
      name: 'my"box]',
    });
    assert.deepEqual(
      parseOne('* LIST (\\HasChildren \\Subscribed) "/" "Foo" ("CHILDINFO" ("SUBSCRIBED"))\r\n'),
      {
        kind: "list",
        flags: ["\\HasChildren", "\\Subscribed"],
        delimiter: "/",
        name: "Foo",
        childInfo: ["SUBSCRIBED"],
      },
    );
    const renamed = as(parseOne('* LIST () "/" "NewName" ("OLDNAME" ("OldName"))\r\n'), "list");
    assert.equal(renamed.oldName, "OldName");
    const special = as(parseOne('* LIST (\\HasNoChildren \\Sent) "/" "&ZeVnLIqe-"\r\n'), "list");
    assert.equal(special.name, "&ZeVnLIqe-"); // raw wire name
  });

  it("STATUS values are bigints under upper-cased keys", () => {
    assert.deepEqual(
      parseOne("* STATUS blurdybloop (MESSAGES 231 uidnext 44292 HIGHESTMODSEQ 7011231777)\r\n"),
      {
        kind: "status-response",
        mailbox: "blurdybloop",
        attributes: { MESSAGES: 231n, UIDNEXT: 44292n, HIGHESTMODSEQ: 7011231777n },
      },
    );
  });

  it("SEARCH with and without results and the CONDSTORE MODSEQ suffix", () => {
    assert.deepEqual(parseOne("* SEARCH 2 84 882\r\n"), { kind: "search", numbers: [2, 84, 882] });
    assert.deepEqual(parseOne("* SEARCH\r\n"), { kind: "search", numbers: [] });
    assert.deepEqual(parseOne("* SEARCH 2 5 6 7 11 12 18 19 20 23 (MODSEQ 917162500)\r\n"), {
      kind: "search",
      numbers: [2, 5, 6, 7, 11, 12, 18, 19, 20, 23],
      modseq: 917162500n,
    });
  });

  it("ESEARCH (RFC 4731)", () => {
    assert.deepEqual(parseOne('* ESEARCH (TAG "A282") MIN 2 COUNT 3\r\n'), {
      kind: "esearch",
      uid: false,
      tag: "A282",
      min: 2,
      count: 3,
    });
    assert.deepEqual(parseOne('* ESEARCH (TAG "A283") UID ALL 2,10:11 MAX 11 MODSEQ 33\r\n'), {
      kind: "esearch",
      uid: true,
      tag: "A283",
      all: "2,10:11",
      max: 11,
      modseq: 33n,
    });
    assert.deepEqual(parseOne('* ESEARCH (TAG "A284")\r\n'), {
      kind: "esearch",
      uid: false,
      tag: "A284",
    });
  });

  it("NAMESPACE (RFC 2342) with extensions and NIL", () => {
    assert.deepEqual(
      parseOne(
        '* NAMESPACE (("" "/")("#mh/" "/" "X-PARAM" ("FLAG1" "FLAG2"))) NIL (("#shared/" NIL))\r\n',
      ),
      {
        kind: "namespace",
        personal: [
          { prefix: "", delimiter: "/" },
          { prefix: "#mh/", delimiter: "/" },
        ],
        otherUsers: null,
        shared: [{ prefix: "#shared/", delimiter: null }],
      },
    );
  });

  it("ID (RFC 2971) and VANISHED (RFC 7162)", () => {
    assert.deepEqual(parseOne('* ID ("name" "Cyrus" "version" "1.5" "os" NIL)\r\n'), {
      kind: "id",
      params: { name: "Cyrus", version: "1.5", os: null },
    });
    assert.deepEqual(parseOne("* ID NIL\r\n"), { kind: "id", params: null });
    assert.deepEqual(parseOne("* VANISHED (EARLIER) 41,43:116,118,120:211,214:540\r\n"), {
      kind: "vanished",
      earlier: true,
      uids: "41,43:116,118,120:211,214:540",
    });
    assert.deepEqual(parseOne("* VANISHED 405,407,410\r\n"), {
      kind: "vanished",
      earlier: false,
      uids: "405,407,410",
    });
  });

  it("keeps unknown untagged responses, literals included, as text", () => {
    assert.deepEqual(parseOne('* QUOTAROOT INBOX ""\r\n'), {
      kind: "unknown",
      name: "QUOTAROOT",
      text: 'INBOX ""',
    });
    assert.deepEqual(parseOne("* 3 XFOO (bar)\r\n"), {
      kind: "unknown",
      name: "XFOO",
      text: "3 XFOO (bar)",
    });
    const r = as(parseOne("* METADATA INBOX (/private/comment {3}\r\nabc)\r\n"), "unknown");
    assert.equal(r.text, "INBOX (/private/comment {3}\r\nabc)");
  });
});

describe("IMAP response parser: framing", () => {
  it("emits responses synchronously, in order, from one push", () => {
    const seen: string[] = [];
    const parser = new ResponseParser({ onResponse: (r) => seen.push(r.kind) });
    parser.push(Buffer.from("* 1 EXISTS\r\n* 0 RECENT\r\nA1 OK done\r\n* 2 EX"));
    assert.deepEqual(seen, ["exists", "recent", "tagged"]);
    assert.equal(parser.buffered, 6);
    parser.push(Buffer.from("ISTS\r\n"));
    assert.deepEqual(seen, ["exists", "recent", "tagged", "exists"]);
    assert.equal(parser.buffered, 0);
  });

  it("reads {n}, {n+}, {n-} and ~{n} literals with CR/LF and NUL inside", () => {
    const r = as(
      parseOne(
        "* 7 FETCH (BODY[1] {4}\r\na\r\nb BINARY[2] ~{3}\r\n\0\x01\x02 RFC822.HEADER {2+}\r\nhi BODY[3] {0}\r\n)\r\n",
      ),
      "fetch",
    );
    const s = r.attributes.sections!;
    assert.deepEqual(s["BODY[1]"], new Uint8Array(Buffer.from("a\r\nb")));
    assert.deepEqual(s["BINARY[2]"], new Uint8Array([0, 1, 2]));
    assert.deepEqual(s["RFC822.HEADER"], new Uint8Array(Buffer.from("hi")));
    assert.deepEqual(s["BODY[3]"], new Uint8Array(0));
  });

  it("gives the same responses for every single split point", () => {
    const text =
      "* OK [CAPABILITY IMAP4rev1] hi\r\n* 1 FETCH (UID 9 BODY[] {12}\r\nhello\r\nworld FLAGS (\\Seen))\r\n+ go\r\n" +
      '* LIST () "/" {3}\r\na}b\r\nA1 OK [APPENDUID 1 2] done\r\n';
    const whole = parseChunks(text);
    assert.equal(whole.length, 5);
    const bytes = Buffer.from(text);
    for (let cut = 0; cut <= bytes.length; cut++) {
      assert.deepEqual(parseChunks(bytes, [cut]), whole, `split at ${cut}`);
    }
  });

  it("the parser keeps no reference to a pushed chunk (the caller may reuse it)", () => {
    const out = [] as unknown[];
    const parser = new ResponseParser({ onResponse: (r) => out.push(r) });
    const chunk = Buffer.from("* 1 FETCH (BODY[] {5}\r\nab");
    parser.push(chunk);
    chunk.fill(0x21);
    parser.push(Buffer.from("cde)\r\n"));
    const r = as(out[0] as never, "fetch");
    assert.deepEqual(r.attributes.sections!["BODY[]"], new Uint8Array(Buffer.from("abcde")));
  });

  it("big literals come out whole for any split, and outlive the chunks they came in", () => {
    // Bodies of a few KB take the path that copies a response once into a buffer of its own;
    // the second response has two of them and a rest of the line longer than the room kept.
    const body = (n: number, seed: number) =>
      Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) % 256));
    const keywords = Array.from({ length: 90 }, (_, i) => `kw${i}`).join(" ");
    const bytes = Buffer.concat([
      Buffer.from("* 1 FETCH (UID 1 BODY[] {3000}\r\n"),
      body(3000, 1),
      Buffer.from(")\r\n* 2 FETCH (BODY[HEADER] {1500}\r\n"),
      body(1500, 2),
      Buffer.from(" BODY[TEXT] {70000}\r\n"),
      body(70000, 3),
      Buffer.from(` FLAGS (${keywords}))\r\nA1 OK done\r\n`),
    ]);
    const whole = parseChunks(bytes);
    assert.equal(whole.length, 3);
    const first = as(whole[0], "fetch").attributes.sections!;
    assert.deepEqual(first["BODY[]"], new Uint8Array(body(3000, 1)));
    const second = as(whole[1], "fetch").attributes;
    assert.deepEqual(second.sections!["BODY[HEADER]"], new Uint8Array(body(1500, 2)));
    assert.deepEqual(second.sections!["BODY[TEXT]"], new Uint8Array(body(70000, 3)));
    assert.equal(second.flags?.length, 90);
    for (let cut = 0; cut <= bytes.length; cut += 97) {
      assert.deepEqual(parseChunks(bytes, [cut]), whole, `split at ${cut}`);
    }
    let seed = 5;
    for (let round = 0; round < 20; round++) {
      const cuts: number[] = [];
      for (let k = 0; k < 12; k++) {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        cuts.push(seed % bytes.length);
      }
      // Each chunk is a fresh copy, overwritten once pushed, as a socket may reuse its buffer.
      const out: unknown[] = [];
      const parser = new ResponseParser({ onResponse: (r) => out.push(r) });
      let last = 0;
      for (const cut of [...cuts, bytes.length].sort((a, b) => a - b)) {
        const chunk = Buffer.from(bytes.subarray(last, cut));
        parser.push(chunk);
        chunk.fill(0x21);
        last = cut;
      }
      assert.deepEqual(out, whole, `cuts ${cuts.join(",")}`);
    }
  });

  it("many big literals in one response come out whole", () => {
    // After the first, what is held outweighs each next literal: those are held as pieces.
    const parts: Buffer[] = [Buffer.from("* 3 FETCH (UID 3")];
    for (let k = 1; k <= 6; k++) {
      parts.push(Buffer.from(` BODY[${k}] {2000}\r\n`), Buffer.alloc(2000, 0x40 + k));
    }
    parts.push(Buffer.from(")\r\n"));
    const bytes = Buffer.concat(parts);
    const whole = parseChunks(bytes);
    const sections = as(whole[0], "fetch").attributes.sections!;
    for (let k = 1; k <= 6; k++) {
      assert.deepEqual(sections[`BODY[${k}]`], new Uint8Array(2000).fill(0x40 + k));
    }
    for (let cut = 0; cut <= bytes.length; cut += 61) {
      assert.deepEqual(parseChunks(bytes, [cut, cut + 1500, cut + 4100]), whole, `cut ${cut}`);
    }
  });

  it("a grammar error is an IMAP_PARSE_ERROR, and the parser stays dead", () => {
    const parser = new ResponseParser({ onResponse: () => {} });
    const bad = () => parser.push(Buffer.from("* 1 FETCH (UID x)\r\n"));
    assert.throws(
      bad,
      (e: unknown) =>
        e instanceof IMAPError &&
        e.code === "IMAP_PARSE_ERROR" &&
        /expected a number/.test(e.message),
    );
    assert.throws(
      () => parser.push(Buffer.from("* 1 EXISTS\r\n")),
      (e: unknown) => e instanceof IMAPError && e.code === "IMAP_PARSE_ERROR",
    );
    assert.throws(
      () => new ResponseParser({ onResponse: () => {} }).push(Buffer.from("A1 MAYBE\r\n")),
      IMAPError,
    );
  });

  it("an exception from onResponse reaches the caller unchanged", () => {
    const boom = new RangeError("boom");
    const parser = new ResponseParser({
      onResponse: () => {
        throw boom;
      },
    });
    assert.throws(
      () => parser.push(Buffer.from("* 1 EXISTS\r\n")),
      (e) => e === boom,
    );
  });
});

describe("IMAP response parser: hostile keys", () => {
  it("a server's __proto__ keys stay plain keys (ID, BODYSTRUCTURE parameters)", () => {
    const id = as(parseOne('* ID ("__proto__" NIL "name" "x")\r\n'), "id");
    assert.equal(Object.getPrototypeOf(id.params), Object.prototype);
    assert.deepEqual(Object.keys(id.params!), ["__proto__", "name"]);
    const f = as(
      parseOne(
        '* 1 FETCH (BODYSTRUCTURE ("text" "plain" ("__proto__" "x" "charset" "utf-8") NIL NIL "7bit" 1 1))\r\n',
      ),
      "fetch",
    );
    const params = f.attributes.bodyStructure!.parameters;
    assert.equal(Object.getPrototypeOf(params), Object.prototype);
    assert.deepEqual(Object.keys(params), ["__proto__", "charset"]);
  });
});
