/**
 * The codec against a real Dovecot: commands built with the encoder (literals, mUTF-7 names,
 * compiled SEARCH) go over a raw socket, every byte back goes through the ResponseParser in
 * the chunks the socket delivers, and the parsed values are checked against what was stored.
 */
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import {
  type CommandPart,
  compileSearch,
  decodeMailboxName,
  type EncodeOptions,
  encodeMailboxName,
  encodeString,
  type IMAPResponse,
  joinCommandParts,
  type LiteralStreamInfo,
  ResponseParser,
} from "../../../../src/mail/imap/codec/index.js";
import { serverSkip } from "../../../servers/common.js";
import { type DovecotIMAP, startDovecotIMAP } from "../../../servers/dovecot-imap.js";
import { as } from "./helpers.js";

const USER = "codec";
const PASSWORD = 'pa ss"word';

/** A minimal command runner: tags, literals (waits for "+" unless non-synchronizing). */
class Wire {
  private readonly parser: ResponseParser;
  private queue: IMAPResponse[] = [];
  private waiting: (() => void) | null = null;
  private failure: unknown = null;
  private tag = 0;
  readonly streamed = new Map<string, Buffer[]>();

  constructor(private readonly socket: Socket) {
    this.parser = new ResponseParser({
      onResponse: (r) => {
        this.queue.push(r);
        this.waiting?.();
      },
      streamLiteral: (info: LiteralStreamInfo) => {
        if (info.item !== "BODY[]") return undefined;
        const chunks: Buffer[] = [];
        this.streamed.set(`${info.seq}`, chunks);
        return (chunk) => {
          if (chunk !== null) chunks.push(Buffer.from(chunk));
        };
      },
    });
    socket.on("data", (chunk: Buffer) => {
      try {
        this.parser.push(chunk);
      } catch (error) {
        this.failure = error;
        this.waiting?.();
      }
    });
  }

  async next(): Promise<IMAPResponse> {
    while (this.queue.length === 0) {
      if (this.failure) throw this.failure;
      await new Promise<void>((resolve) => {
        this.waiting = resolve;
      });
      this.waiting = null;
    }
    return this.queue.shift()!;
  }

  /** Sends a command; returns the untagged responses and the tagged one. */
  async run(parts: CommandPart[]): Promise<{ untagged: IMAPResponse[]; done: IMAPResponse }> {
    const tag = `c${++this.tag}`;
    const untagged: IMAPResponse[] = [];
    let pending = `${tag} `;
    for (const part of parts) {
      if (typeof part === "string") {
        pending += part;
        continue;
      }
      const sync = !part.nonSync;
      this.socket.write(`${pending}{${part.literal.length}${sync ? "" : "+"}}\r\n`);
      pending = "";
      if (sync) {
        for (;;) {
          const r = await this.next();
          if (r.kind === "continuation") break;
          if (r.kind === "tagged") throw new Error(`refused literal: ${JSON.stringify(r)}`);
          untagged.push(r);
        }
      }
      this.socket.write(part.literal);
    }
    this.socket.write(`${pending}\r\n`);
    for (;;) {
      const r = await this.next();
      if (r.kind === "tagged" && r.tag === tag) return { untagged, done: r };
      untagged.push(r);
    }
  }

  async ok(parts: CommandPart[]): Promise<IMAPResponse[]> {
    const { untagged, done } = await this.run(parts);
    assert.equal(as(done, "tagged").status, "OK", JSON.stringify(done));
    return untagged;
  }
}

const MIXED =
  "From: =?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <juergen@example.test>\r\n" +
  "To: Team: alice@example.test, Bob <bob@example.test>;, carol@example.test\r\n" +
  "Subject: =?UTF-8?B?R3LDvMOfZSBhdXMgS8O2bG4=?=\r\n" +
  "Date: Mon, 7 Dec 2026 10:11:12 +0100\r\n" +
  "Message-ID: <mixed-1@example.test>\r\n" +
  "In-Reply-To: <parent@example.test>\r\n" +
  "MIME-Version: 1.0\r\n" +
  'Content-Type: multipart/mixed; boundary="outer"\r\n' +
  "\r\n" +
  "--outer\r\n" +
  'Content-Type: multipart/alternative; boundary="inner"\r\n' +
  "\r\n" +
  "--inner\r\n" +
  "Content-Type: text/plain; charset=utf-8\r\n" +
  "Content-Transfer-Encoding: 8bit\r\n" +
  "\r\n" +
  "Grüße\r\nzwei\r\n" +
  "--inner\r\n" +
  "Content-Type: text/html; charset=utf-8\r\n" +
  "\r\n" +
  "<p>hi</p>\r\n" +
  "--inner--\r\n" +
  "--outer\r\n" +
  "Content-Type: application/pdf; name*0*=utf-8''%E2%82%AC%20rates; name*1=.pdf\r\n" +
  "Content-Disposition: attachment; filename*=utf-8''%E2%82%AC%20rates.pdf\r\n" +
  "Content-Transfer-Encoding: base64\r\n" +
  "Content-Language: de\r\n" +
  "\r\n" +
  "JVBERi0xLjQKJcOkw7zDtsOfCg==\r\n" +
  "--outer\r\n" +
  "Content-Type: message/rfc822\r\n" +
  "\r\n" +
  "From: inner@example.test\r\n" +
  "Subject: inner subject\r\n" +
  "\r\n" +
  "inner body\r\n" +
  "--outer--\r\n";

const PLAIN = "From: nobody\r\nSubject: plain\r\n\r\nbody\r\n";

describe("IMAP codec against Dovecot", { skip: serverSkip("dovecot", "dovecot-imapd") }, () => {
  let server: DovecotIMAP;
  let socket: Socket;
  let wire: Wire;
  const options: EncodeOptions = { literalPlus: false, literalMinus: false, utf8: false };

  before(async () => {
    server = await startDovecotIMAP({ [USER]: PASSWORD });
    socket = connect(server.imapPort, server.host);
    await new Promise((resolve) => socket.once("connect", resolve));
    wire = new Wire(socket);
  });
  after(async () => {
    socket?.destroy();
    await server?.stop();
  });

  it("greets, logs in with a quoted password, lists capabilities", async () => {
    const greeting = as(await wire.next(), "status");
    assert.equal(greeting.status, "OK");
    assert.equal(greeting.code?.name, "CAPABILITY");
    await wire.ok(
      joinCommandParts(
        ["LOGIN"],
        encodeString(USER, options, "astring"),
        encodeString(PASSWORD, options, "astring"),
      ),
    );
    const [cap] = await wire.ok(["CAPABILITY"]);
    const caps = as(cap, "capability").capabilities;
    assert.ok(caps.includes("IMAP4REV1") && caps.includes("LITERAL+"));
  });

  it("creates mailboxes with modified UTF-7 names and lists them back", async () => {
    for (const name of ["Entwürfe", "台北/日本語", "Tom & Jerry", "Sent Items"]) {
      await wire.ok(joinCommandParts(["CREATE"], encodeMailboxName(name, options)));
    }
    const listed = (await wire.ok(['LIST "" "*"'])).map((r) => as(r, "list"));
    const names = listed.map((l) => decodeMailboxName(l.name, false)).sort();
    for (const name of [
      "Entwürfe",
      "台北",
      "台北/日本語",
      "Tom & Jerry",
      "Sent Items",
      "INBOX",
      "Sent",
    ]) {
      assert.ok(names.includes(name), `${name} in ${names.join(", ")}`);
    }
    assert.ok(listed.every((l) => l.delimiter === "/"));
    assert.ok(listed.find((l) => l.name === "Sent")?.flags.includes("\\HasNoChildren"));
    const [ns] = await wire.ok(["NAMESPACE"]);
    assert.deepEqual(as(ns, "namespace").personal, [{ prefix: "", delimiter: "/" }]);
  });

  it("appends with literals and gets APPENDUID; STATUS counts them", async () => {
    for (const message of [MIXED, PLAIN]) {
      const { done } = await wire.run(
        joinCommandParts(
          ["APPEND"],
          encodeMailboxName("Entwürfe", options),
          ["(\\Seen $Work)"],
          [{ literal: Buffer.from(message), nonSync: false }],
        ),
      );
      const tagged = as(done, "tagged");
      assert.equal(tagged.status, "OK");
      assert.equal(tagged.code?.name, "APPENDUID");
    }
    const [status] = await wire.ok(
      joinCommandParts(["STATUS"], encodeMailboxName("Entwürfe", options), [
        "(MESSAGES UIDNEXT UNSEEN)",
      ]),
    );
    const s = as(status, "status-response");
    assert.equal(decodeMailboxName(s.mailbox, false), "Entwürfe");
    assert.equal(s.attributes.MESSAGES, 2n);
    assert.equal(s.attributes.UNSEEN, 0n);
  });

  it("parses Dovecot's ENVELOPE and BODYSTRUCTURE of a nested MIME message", async () => {
    const selected = await wire.ok(
      joinCommandParts(["SELECT"], encodeMailboxName("Entwürfe", options)),
    );
    assert.ok(selected.some((r) => r.kind === "exists" && r.count === 2));
    const fetched = await wire.ok([
      "FETCH 1:* (UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODYSTRUCTURE BODY.PEEK[HEADER.FIELDS (SUBJECT)] BINARY.PEEK[1.1] BODY.PEEK[])",
    ]);
    const [first, second] = fetched.map((r) => as(r, "fetch"));
    const a = first.attributes;
    assert.deepEqual(a.flags?.filter((f) => f !== "\\Recent").sort(), ["$Work", "\\Seen"]);
    assert.equal(a.size, Buffer.byteLength(MIXED));
    assert.ok(a.internalDate instanceof Date);
    const env = a.envelope!;
    assert.equal(env.subject, "Grüße aus Köln");
    assert.deepEqual(env.from, [{ name: "Jürgen Müller", address: "juergen@example.test" }]);
    assert.deepEqual(env.to, [
      { group: "Team" },
      { address: "alice@example.test", group: "Team" },
      { name: "Bob", address: "bob@example.test", group: "Team" },
      { address: "carol@example.test" },
    ]);
    assert.equal(env.messageId, "<mixed-1@example.test>");
    assert.equal(env.inReplyTo, "<parent@example.test>");
    const bs = a.bodyStructure!;
    assert.equal(bs.type, "multipart");
    assert.equal(bs.subtype, "mixed");
    assert.equal(bs.parameters.boundary, "outer");
    const [alt, pdf, rfc822] = bs.childNodes!;
    assert.equal(alt.subtype, "alternative");
    assert.deepEqual(
      alt.childNodes!.map((c) => [c.part, c.type, c.subtype, c.parameters.charset]),
      [
        ["1.1", "text", "plain", "utf-8"],
        ["1.2", "text", "html", "utf-8"],
      ],
    );
    assert.equal(alt.childNodes![0].lines, 1); // the CRLF before a boundary belongs to the boundary (RFC 2046 §5.1.1);
    assert.equal(pdf.part, "2");
    assert.equal(pdf.parameters.name, "€ rates.pdf");
    assert.deepEqual(pdf.disposition, {
      type: "attachment",
      parameters: { filename: "€ rates.pdf" },
    });
    assert.deepEqual(pdf.language, ["de"]);
    assert.equal(pdf.encoding, "base64");
    assert.equal(rfc822.part, "3");
    assert.equal(rfc822.envelope?.subject, "inner subject");
    assert.equal(rfc822.body?.part, "3.1");
    assert.equal(rfc822.body?.type, "text");
    const sections = a.sections!;
    assert.equal(
      Buffer.from(sections["BODY[HEADER.FIELDS (SUBJECT)]"] as Uint8Array).toString(),
      "Subject: =?UTF-8?B?R3LDvMOfZSBhdXMgS8O2bG4=?=\r\n\r\n",
    );
    assert.equal(
      Buffer.from(sections["BINARY[1.1]"] as Uint8Array).toString(),
      "Grüße\r\nzwei", // without the CRLF that belongs to the boundary
    );
    // BODY[] went through the streaming sink, whole and exact
    assert.deepEqual(sections["BODY[]"], { streamed: true, size: Buffer.byteLength(MIXED) });
    assert.equal(Buffer.concat(wire.streamed.get(`${first.seq}`)!).toString(), MIXED);
    assert.equal(second.attributes.bodyStructure?.part, "1");
    assert.equal(second.attributes.envelope?.subject, "plain");
    // Dovecot fills a missing host in
    assert.deepEqual(second.attributes.envelope?.from, [{ address: "nobody@MISSING_DOMAIN" }]);
  });

  it("searches with compiled criteria, non-ASCII text as a CHARSET UTF-8 literal", async () => {
    const query = compileSearch({ subject: "Grüße", seen: true }, options);
    assert.equal(query.charset, true);
    const [hit] = await wire.ok(joinCommandParts(["UID SEARCH CHARSET UTF-8"], query.parts));
    assert.equal(as(hit, "search").numbers.length, 1);
    const none = compileSearch(
      { or: [{ from: "nobody@nowhere.test" }, { keyword: "$Nope" }] },
      options,
    );
    const [miss] = await wire.ok(joinCommandParts(["SEARCH"], none.parts));
    assert.deepEqual(as(miss, "search").numbers, []);
    const [all] = await wire.ok(
      joinCommandParts(
        ["SEARCH"],
        compileSearch({ all: true, header: { "Message-ID": "<mixed-1@example.test>" } }, options)
          .parts,
      ),
    );
    assert.deepEqual(as(all, "search").numbers, [1]);
  });

  it("reports a malformed command's BAD and survives", async () => {
    const { done } = await wire.run(["FETCH"]);
    assert.equal(as(done, "tagged").status, "BAD");
    await wire.ok(["NOOP"]);
  });
});
